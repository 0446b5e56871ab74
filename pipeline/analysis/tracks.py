"""``TrackSeries``: one person's poses over time, the type every analysis stage speaks.

A track is resampled onto consecutive frame numbers: frames where the person was not
detected are rows of NaN, so index arithmetic is time arithmetic (index / fps seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pyarrow as pa

from pipeline.poses import KEYPOINT_NAMES, NUM_KEYPOINTS

_BOX_COLUMNS = ("box_x1", "box_y1", "box_x2", "box_y2")


@dataclass(frozen=True)
class TrackSeries:
    """T consecutive frames of one track, K = 17 COCO keypoints.

    Attributes:
        track_id: the runner's id (the tracker's, or the stitched one).
        frames: (T,) int64, consecutive frame indices (``frames[i] == frames[0] + i``).
        keypoints: (T, K, 2) float64, keypoint x, y in pixels; NaN where missing.
        keypoint_confidence: (T, K) float64, confidence in [0, 1]; 0 where absent.
        boxes: (T, 4) float64, person box x1, y1, x2, y2 in pixels; NaN where absent.
        present: (T,) bool, whether the tracker reported the person in that frame.
        appearance: (T, D) float32 clothing colour descriptors (``pipeline.appearance``), NaN
            where absent; None when the detections carry none (files before schema 3).
    """

    track_id: int
    frames: np.ndarray
    keypoints: np.ndarray
    keypoint_confidence: np.ndarray
    boxes: np.ndarray
    present: np.ndarray
    appearance: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = len(self.frames)
        expected = {
            "frames": ((t,), np.integer),
            "keypoints": ((t, NUM_KEYPOINTS, 2), np.floating),
            "keypoint_confidence": ((t, NUM_KEYPOINTS), np.floating),
            "boxes": ((t, 4), np.floating),
            "present": ((t,), np.bool_),
        }
        for name, (shape, kind) in expected.items():
            value = getattr(self, name)
            if not isinstance(value, np.ndarray):
                raise TypeError(
                    f"TrackSeries.{name} must be a numpy array, got {type(value).__name__}"
                )
            if value.shape != shape:
                raise ValueError(
                    f"TrackSeries.{name} must have shape {shape} for {t} frames, got {value.shape}"
                )
            if not np.issubdtype(value.dtype, kind):
                raise TypeError(
                    f"TrackSeries.{name} must have a {kind.__name__} dtype, got {value.dtype}"
                )
        if self.appearance is not None and (self.appearance.ndim != 2 or len(self.appearance) != t):
            raise ValueError(f"TrackSeries.appearance must have shape ({t}, D), got {self.appearance.shape}")
        if t and np.any(np.diff(self.frames) != 1):
            raise ValueError(
                f"TrackSeries.frames must be consecutive integers, got {self.frames[:10]}..."
            )

    def __len__(self) -> int:
        return len(self.frames)

    def replace(self, keypoints: np.ndarray) -> TrackSeries:
        """The same track with new (T, K, 2) keypoints."""
        return TrackSeries(
            self.track_id,
            self.frames,
            keypoints,
            self.keypoint_confidence,
            self.boxes,
            self.present,
            self.appearance,
        )


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


def track_from_rows(track_id: int, table: pa.Table) -> TrackSeries:
    """Build one TrackSeries from the DETECTIONS rows of one track (any order, no duplicates)."""
    frames = table.column("frame").to_numpy().astype(np.int64)
    if len(np.unique(frames)) != len(frames):
        raise ValueError(f"track_id {track_id} has several detections in one frame")
    first = int(frames.min())
    t = int(frames.max()) - first + 1
    rows = frames - first
    keypoints = np.full((t, NUM_KEYPOINTS, 2), np.nan)
    confidence = np.zeros((t, NUM_KEYPOINTS))
    boxes = np.full((t, 4), np.nan)
    present = np.zeros(t, bool)
    present[rows] = True
    for k, name in enumerate(KEYPOINT_NAMES):
        keypoints[rows, k, 0] = _column(table, f"{name}_x")
        keypoints[rows, k, 1] = _column(table, f"{name}_y")
        confidence[rows, k] = np.nan_to_num(_column(table, f"{name}_conf"))
    for j, name in enumerate(_BOX_COLUMNS):
        boxes[rows, j] = _column(table, name)
    return TrackSeries(
        track_id, np.arange(first, first + t, dtype=np.int64), keypoints, confidence, boxes, present,
        _appearance(table, rows, t),
    )


def _appearance(table: pa.Table, rows: np.ndarray, t: int) -> np.ndarray | None:
    """(T, D) descriptors at the track rows, NaN elsewhere; None without any (older files)."""
    if "appearance" not in table.column_names:
        return None
    column = table.column("appearance").combine_chunks()
    if column.null_count == len(column):
        return None
    size = column.type.list_size
    values = column.fill_null([float("nan")] * size) if column.null_count else column
    values = cast(pa.FixedSizeListArray, values)  # the detections schema's fixed-size list of float32
    out = np.full((t, size), np.nan, np.float32)
    out[rows] = values.flatten().to_numpy(zero_copy_only=False).reshape(-1, size)
    return out


def tracks_from_table(
    detections: pa.Table, id_map: dict[int, int] | None = None
) -> list[TrackSeries]:
    """Split a DETECTIONS table into one TrackSeries per track id, sorted by id.

    ``id_map`` maps tracker ids to runner ids (from stitching); rows of tracks mapped to the
    same runner become one series, with NaN rows in the gaps between fragments.
    """
    if detections.num_rows == 0:
        return []
    raw_ids = detections.column("track_id").to_numpy()
    ids = raw_ids if id_map is None else np.array([id_map.get(int(i), int(i)) for i in raw_ids])
    tracks = []
    for runner_id in np.unique(ids):
        mask = pa.array(ids == runner_id)
        tracks.append(track_from_rows(int(runner_id), detections.filter(mask)))
    return tracks
