"""The camera's own motion from one frame to the next, read on the background alone.

A camera that pans, zooms or tilts moves every still thing in the picture the same way.
BoT-SORT estimates that motion to carry its predicted boxes along (camera-motion compensation,
``gmc``), by sparse optical flow: corners found anywhere in the half-size frame, followed into
the next frame by Lucas-Kanade, and a shift, rotation and zoom fitted to them with RANSAC. On a
panned sprint the sprinters fill the frame and their corners outvote the track's: that estimate
follows the pack the camera follows, and the "camera" seems to stand still (it read the 100 m's
sprinters at 1.8-2.7 leg lengths a second against the ground, about 11 in truth).

:class:`CameraMotion` does BoT-SORT's estimate step for step (its answer to the tracker is the
same to the bit, so tracking is unchanged) and fits the motion a second time to the corners
that lay outside every person's box (grown by ``BOX_MARGIN`` of its height) in the frame they
were found in: the ground, the stands, the sky's edges. That second fit costs one RANSAC over a
few hundred points and is kept with the detections (``camera_*`` columns), from which the
analysis reads a person's speed against the ground (:mod:`pipeline.analysis.travel`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pyarrow as pa

#: Each person's box grows by this fraction of its height on every side before its corners are
#: left out: arms and feet reach outside the detector's box, and a corner on a limb moves with it.
BOX_MARGIN = 0.25
#: Fewer background corners followed than this and the motion is not measured (null in the
#: tables): a fit to a handful of points is as likely a person's as the ground's.
MIN_CORNERS = 8
#: The detections' columns that hold each frame's motion, in :func:`similarity_parts` order.
CAMERA_COLUMNS = ("camera_dx", "camera_dy", "camera_zoom", "camera_roll_deg")


def similarity_parts(warp: np.ndarray) -> tuple[float, float, float, float]:
    """(shift x px, shift y px, zoom, roll in degrees) of a 2x3 similarity ``[[a, -b, tx], [b, a, ty]]``."""
    a, b = float(warp[0, 0]), float(warp[1, 0])
    return float(warp[0, 2]), float(warp[1, 2]), float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)))


def similarity_warp(dx: np.ndarray, dy: np.ndarray, zoom: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """(N, 2, 3) warps from their parts (:func:`similarity_parts`); a NaN part gives a NaN warp."""
    angle = np.radians(roll_deg)
    a, b = zoom * np.cos(angle), zoom * np.sin(angle)
    warps = np.stack([np.stack([a, -b, dx], axis=-1), np.stack([b, a, dy], axis=-1)], axis=-2)
    warps[~np.isfinite(warps).all(axis=(-2, -1))] = np.nan  # one unknown part: the whole motion unknown
    return warps


def outside_boxes(points: np.ndarray, boxes: np.ndarray, scale: float) -> np.ndarray:
    """(N,) whether each of ``points`` (N, 1, 2), in a picture ``scale`` times the frame's size,
    lies outside every one of ``boxes`` (M, 4, frame pixels) grown by ``BOX_MARGIN`` of its height."""
    xy = points.reshape(-1, 2) / scale
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    grow = BOX_MARGIN * (boxes[:, 3] - boxes[:, 1])
    inside = ((xy[:, None, 0] >= boxes[:, 0] - grow) & (xy[:, None, 0] <= boxes[:, 2] + grow)
              & (xy[:, None, 1] >= boxes[:, 1] - grow) & (xy[:, None, 1] <= boxes[:, 3] + grow))
    return ~inside.any(axis=1)


class CameraMotion:
    """BoT-SORT's camera-motion estimate (a stand-in for its ``gmc``), which also keeps the
    motion of the background alone.

    Before each tracker update the caller sets :attr:`people` to that frame's boxes;
    :meth:`apply` (the tracker calls it) returns BoT-SORT's own 2x3 warp carrying the previous
    frame's pixels to this frame's, and :attr:`last` holds the background's, or None where it
    could not be measured (the first frame of a shot, fewer than ``MIN_CORNERS`` background
    corners followed).
    """

    method = "sparseOptFlow"

    def __init__(self) -> None:
        from ultralytics.trackers.utils.gmc import GMC

        own = GMC(method="sparseOptFlow")  # its settings, so that its answer is the same
        self.downscale = int(own.downscale)
        self.feature_params: dict[str, Any] = dict(own.feature_params)
        self.people = np.zeros((0, 4), np.float32)
        self.last: np.ndarray | None = None
        self.reset_params()

    def reset_params(self) -> None:
        """Forget the previous frame (a hard cut: nothing carries across it)."""
        self._previous: np.ndarray | None = None
        self._corners: np.ndarray | None = None
        self._people = np.zeros((0, 4), np.float32)
        self.last = None

    def apply(self, raw_frame: np.ndarray, detections: object = None) -> np.ndarray:
        """BoT-SORT's warp from the previous frame to ``raw_frame`` (identity where it has none);
        the background's into :attr:`last`."""
        height, width = raw_frame.shape[:2]
        frame = cv2.cvtColor(raw_frame, cv2.COLOR_BGR2GRAY) if raw_frame.ndim == 3 else raw_frame
        warp = np.eye(2, 3)
        if self.downscale > 1:
            frame = cv2.resize(frame, (width // self.downscale, height // self.downscale))
        corners = cv2.goodFeaturesToTrack(frame, mask=None, **self.feature_params)
        self.last = None
        if self._previous is not None and self._corners is not None:
            moved, status, _ = cv2.calcOpticalFlowPyrLK(self._previous, frame, self._corners, None)
            good = status.ravel().astype(bool)
            before, after = self._corners[good], moved[good]
            if before.shape[0] > 4:  # BoT-SORT's fit (its RANSAC is the default method)
                fitted = cv2.estimateAffinePartial2D(before, after)[0]
                if fitted is not None:
                    warp = fitted
                    warp[0, 2] *= self.downscale
                    warp[1, 2] *= self.downscale
            ground = outside_boxes(before, self._people, 1.0 / self.downscale)
            if ground.sum() >= MIN_CORNERS:
                fitted = cv2.estimateAffinePartial2D(before[ground], after[ground], method=cv2.RANSAC)[0]
                if fitted is not None:
                    fitted[:, 2] *= self.downscale
                    self.last = fitted
        self._previous, self._corners, self._people = frame, corners, np.asarray(self.people, np.float32)
        return warp


def warps_from_table(detections: pa.Table) -> np.ndarray:
    """(F, 2, 3) the camera's motion into each frame 0..F-1 of ``detections`` (the highest frame
    plus one), NaN where not measured, or where no row of that frame holds it (nobody seen,
    files before schema 7)."""
    if not detections.num_rows:
        return np.full((0, 2, 3), np.nan)
    frames = detections.column("frame").to_numpy()
    parts = np.full((int(frames.max()) + 1, 4), np.nan)
    if set(CAMERA_COLUMNS) <= set(detections.column_names):
        values = np.column_stack([detections.column(name).to_numpy(zero_copy_only=False).astype(float)
                                  for name in CAMERA_COLUMNS])
        parts[frames] = values
    return similarity_warp(*parts.T)


def carried(points: np.ndarray, frames: np.ndarray, steps: int, warps: np.ndarray) -> np.ndarray:
    """(N, 2) where the camera's motion alone carries ``points`` (N, 2), seen at ``frames``, over
    the next ``steps`` frames; NaN where a warp on the way is unknown or past the last frame."""
    out = np.asarray(points, float).copy()
    for k in range(1, steps + 1):
        index = frames + k
        inside = index < len(warps)
        warp = np.full((len(frames), 2, 3), np.nan)
        warp[inside] = warps[index[inside]]
        out = np.einsum("nij,nj->ni", warp[:, :, :2], out) + warp[:, :, 2]
    return out
