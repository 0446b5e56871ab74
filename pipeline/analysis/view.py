"""Camera view of a runner per frame (side, front, back, oblique) and facing direction.

The view comes from the body itself: the shoulders' apparent width over the torso length
is small from the side and large from the front or back; the face (nose, eyes) is seen
from the front, only the ears from behind.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.analysis.geometry import (
    ANKLES,
    EARS,
    EYES,
    HIPS,
    KNEES,
    NOSE,
    SHOULDERS,
    nanmean_points,
    torso_length,
)
from pipeline.analysis.settings import AnalysisSettings

UNKNOWN, SIDE, FRONT, BACK, OBLIQUE = 0, 1, 2, 3, 4
#: View names by code, as written in the output tables.
VIEW_NAMES: tuple[str, ...] = ("unknown", "side", "front", "back", "oblique")


def shoulder_ratio(keypoints: np.ndarray) -> np.ndarray:
    """(T,) horizontal shoulder width / torso length; NaN where a shoulder or hip is missing."""
    width = np.abs(keypoints[:, SHOULDERS[0], 0] - keypoints[:, SHOULDERS[1], 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return width / torso_length(keypoints)


def _faces_camera(keypoints: np.ndarray) -> np.ndarray:
    """(T,) bool: the face (nose or an eye) is seen; without face or ears, the shoulder order
    decides (facing the camera puts the runner's left shoulder on the image right)."""
    face = ~np.isnan(keypoints[:, [NOSE, *EYES], 0]).all(axis=1)
    ears = ~np.isnan(keypoints[:, list(EARS), 0]).all(axis=1)
    left_on_right = keypoints[:, SHOULDERS[0], 0] > keypoints[:, SHOULDERS[1], 0]
    return np.where(face | ears, face, left_on_right)


def rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    """(T,) median of the finite values in a centred window of ``window`` frames (odd)."""
    half = max(window // 2, 0)
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # windows with nothing seen give NaN
        return np.nanmedian(sliding_window_view(padded, 2 * half + 1), axis=1)


#: Shoulder width / torso length of a runner seen square-on (measured 0.62-0.70; COCO shoulder
#: points sit inside the deltoids).
SQUARE_ON_RATIO = 0.66


def smoothed_shoulder_ratio(keypoints: np.ndarray, fps: float) -> np.ndarray:
    """(T,) shoulder ratio as a rolling median over half a second, so the shoulders' rotation
    with the arm swing does not flip the view every step."""
    return rolling_median(shoulder_ratio(keypoints), max(int(round(fps / 2)), 1))


def sagittal_stretch(ratio: np.ndarray, settings: AnalysisSettings) -> np.ndarray:
    """(T,) factor that undoes the foreshortening of the body's sagittal plane, NaN where the
    view is too far from the side to measure in it.

    The runner's yaw away from a pure side view, psi, shows in the shoulders:
    ratio = SQUARE_ON_RATIO * sin(psi). Horizontal distances in the sagittal plane (ankle
    ahead of the hip, a lean) shrink by cos(psi), so they are stretched back by 1 / cos(psi)
    up to ``sagittal_max_shoulder_ratio`` (about 45 deg: keypoint noise grows by at most 1.4x).
    """
    sin = np.clip(ratio / SQUARE_ON_RATIO, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stretch = 1.0 / np.sqrt(1.0 - sin**2)
    return np.where(ratio <= settings.sagittal_max_shoulder_ratio, stretch, np.nan)


def deproject_sagittal(keypoints: np.ndarray, stretch: np.ndarray) -> np.ndarray:
    """(T, K, 2) keypoints with horizontal offsets from the mid-hip stretched by (T,)
    ``stretch``; NaN in frames where it is NaN."""
    hip_x = nanmean_points(keypoints, HIPS)[:, 0]
    out = keypoints.copy()
    out[..., 0] = hip_x[:, None] + (keypoints[..., 0] - hip_x[:, None]) * stretch[:, None]
    return out


def frame_views(keypoints: np.ndarray, fps: float, settings: AnalysisSettings,
                ratio: np.ndarray | None = None) -> np.ndarray:
    """(T,) int8 view code per frame (UNKNOWN, SIDE, FRONT, BACK, OBLIQUE) from (T, K, 2).

    ``ratio``: the :func:`smoothed_shoulder_ratio`, computed when not given.
    """
    ratio = smoothed_shoulder_ratio(keypoints, fps) if ratio is None else ratio
    views = np.full(len(keypoints), UNKNOWN, np.int8)
    known = np.isfinite(ratio)
    frontal = known & (ratio >= settings.frontal_view_min_shoulder_ratio)
    views[known & (ratio <= settings.side_view_max_shoulder_ratio)] = SIDE
    views[known & (ratio > settings.side_view_max_shoulder_ratio) & ~frontal] = OBLIQUE
    facing = _faces_camera(keypoints)
    views[frontal & facing] = FRONT
    views[frontal & ~facing] = BACK
    return smooth_views(views, window=5)


def smooth_views(views: np.ndarray, window: int) -> np.ndarray:
    """(T,) majority vote of the known views in a centred window of ``window`` frames."""
    if len(views) == 0:
        return views
    start = (
        window - 1
    ) // 2  # np.convolve's "same" mode would lengthen series shorter than the window
    counts = np.stack(
        [
            np.convolve((views == code).astype(float), np.ones(window))[start : start + len(views)]
            for code in range(len(VIEW_NAMES))
        ],
        axis=1,
    )
    counts[:, UNKNOWN] = 0.0
    best = np.argmax(counts, axis=1).astype(np.int8)
    return np.where(counts.max(axis=1) > 0, best, UNKNOWN).astype(np.int8)


def dominant_view(views: np.ndarray) -> str:
    """Most frequent known view of a (T,) view-code array, 'unknown' if none."""
    known = views[views != UNKNOWN]
    if len(known) == 0:
        return VIEW_NAMES[UNKNOWN]
    return VIEW_NAMES[int(np.bincount(known, minlength=len(VIEW_NAMES)).argmax())]


def views_seen(views: np.ndarray, min_fraction: float = 0.1) -> list[str]:
    """Known views present in at least ``min_fraction`` of the frames with a known view."""
    known = views[views != UNKNOWN]
    if len(known) == 0:
        return []
    counts = np.bincount(known, minlength=len(VIEW_NAMES)) / len(known)
    return [VIEW_NAMES[c] for c in range(1, len(VIEW_NAMES)) if counts[c] >= min_fraction]


def facing_direction(keypoints: np.ndarray, mask: np.ndarray) -> float:
    """Direction the runner faces in side-view frames: +1 image right, -1 left, 0 unknown.

    The nose is ahead of the ears; without a face, knees bend forward of the hip-ankle line.

    Args:
        keypoints: (T, K, 2) pixels.
        mask: (T,) bool, frames to use (the side-view frames).
    """
    points = keypoints[mask]
    if len(points) == 0:
        return 0.0
    ahead = points[:, NOSE, 0] - nanmean_points(points, EARS)[:, 0]
    if np.isfinite(ahead).sum() < 3:
        line = (nanmean_points(points, HIPS) + nanmean_points(points, ANKLES)) / 2.0
        ahead = nanmean_points(points, KNEES)[:, 0] - line[:, 0]
    if np.isfinite(ahead).sum() < 3:
        return 0.0
    return float(np.sign(np.nanmedian(ahead)))
