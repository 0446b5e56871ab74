"""``Poses``: the people found in one frame, the one type every stage after the model speaks.

The model's output becomes a ``Poses`` in exactly one place, :meth:`Poses.from_ultralytics`.
Keypoints the model is not sure of become NaN there: Ultralytics reports invisible
keypoints at (0, 0), and a (0, 0) read as a real point corrupts every angle downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: COCO-17 keypoint names in model order.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
UNTRACKED = -1


@dataclass(frozen=True)
class Poses:
    """N people in one frame, K = 17 COCO keypoints each.

    Attributes:
        xyxy: (N, 4) float32, person box corners x1, y1, x2, y2 in pixels of the upright frame.
        confidence: (N,) float32, person-box confidence in [0, 1].
        keypoints: (N, K, 2) float32, keypoint x, y in pixels; NaN where missing.
        keypoint_confidence: (N, K) float32, keypoint confidence in [0, 1].
        track_id: (N,) int64, the tracker's id per person, ``UNTRACKED`` (-1) before tracking.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    keypoints: np.ndarray
    keypoint_confidence: np.ndarray
    track_id: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        expected = {
            "xyxy": ((n, 4), np.floating),
            "confidence": ((n,), np.floating),
            "keypoints": ((n, NUM_KEYPOINTS, 2), np.floating),
            "keypoint_confidence": ((n, NUM_KEYPOINTS), np.floating),
            "track_id": ((n,), np.integer),
        }
        for name, (shape, kind) in expected.items():
            value = getattr(self, name)
            if not isinstance(value, np.ndarray):
                raise TypeError(f"Poses.{name} must be a numpy array, got {type(value).__name__}")
            if value.shape != shape:
                raise ValueError(f"Poses.{name} must have shape {shape} for {n} people, got {value.shape}")
            if not np.issubdtype(value.dtype, kind):
                raise TypeError(f"Poses.{name} must have a {kind.__name__} dtype, got {value.dtype}")

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Poses:
        """Select people by boolean mask, index array or slice."""
        if isinstance(index, int | np.integer):
            index = [int(index)]
        return Poses(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            keypoints=self.keypoints[index],
            keypoint_confidence=self.keypoint_confidence[index],
            track_id=self.track_id[index],
        )

    @classmethod
    def empty(cls) -> Poses:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros((0,), np.float32),
            keypoints=np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            keypoint_confidence=np.zeros((0, NUM_KEYPOINTS), np.float32),
            track_id=np.zeros((0,), np.int64),
        )

    def with_track_ids(self, track_id: np.ndarray) -> Poses:
        return Poses(self.xyxy, self.confidence, self.keypoints, self.keypoint_confidence,
                     np.asarray(track_id, dtype=np.int64))

    @classmethod
    def from_ultralytics(cls, result: Any, keypoint_confidence: float) -> Poses:
        """Convert one ``ultralytics.engine.results.Results`` of a pose model (the PyTorch backend)."""
        boxes = result.boxes
        if boxes is None or len(boxes) == 0 or result.keypoints is None:
            return cls.empty()
        data = result.keypoints.data.cpu().numpy().astype(np.float32)  # (N, K, 3): x, y, conf
        head = np.concatenate([boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy()[:, None]], axis=1)
        return cls.from_rows(np.concatenate([head.astype(np.float32), data.reshape(len(data), -1)], axis=1),
                             keypoint_confidence)

    @classmethod
    def from_rows(cls, rows: np.ndarray, keypoint_confidence: float) -> Poses:
        """The one conversion of pose-model output: ``rows`` (N, 5 + 3K) in frame px, each
        ``x1, y1, x2, y2, box confidence`` then ``x, y, confidence`` per keypoint.

        Keypoints whose confidence is below ``keypoint_confidence`` become NaN.
        """
        if len(rows) == 0:
            return cls.empty()
        if rows.ndim != 2 or rows.shape[1] != 5 + 3 * NUM_KEYPOINTS:
            raise ValueError(
                f"Pose model gives {rows.shape[1:]} values per person; FormWatch needs a box, its confidence and "
                f"COCO-17 keypoints ({5 + 3 * NUM_KEYPOINTS}). Use a COCO pose model such as yolo11n-pose.pt."
            )
        rows = rows.astype(np.float32)
        data = rows[:, 5:].reshape(len(rows), NUM_KEYPOINTS, 3)
        kp_conf = np.ascontiguousarray(data[:, :, 2])
        points = data[:, :, :2].copy()
        points[kp_conf < keypoint_confidence] = np.nan
        return cls(np.ascontiguousarray(rows[:, :4]), np.ascontiguousarray(rows[:, 4]), points, kp_conf,
                   np.full(len(rows), UNTRACKED, np.int64))


def keypoint_distances(reference: Poses, other: Poses) -> np.ndarray:
    """Per-keypoint distances (px) between the people of two readings of one frame (two engines,
    two precisions), people paired one to one by nearest box centre; NaN where either keypoint is
    missing. Flat: (pairs * K,)."""
    from scipy.optimize import linear_sum_assignment

    if not len(reference) or not len(other):
        return np.empty(0)
    centre_a = (reference.xyxy[:, :2] + reference.xyxy[:, 2:]) / 2
    centre_b = (other.xyxy[:, :2] + other.xyxy[:, 2:]) / 2
    rows, cols = linear_sum_assignment(np.linalg.norm(centre_a[:, None] - centre_b[None], axis=2))
    return np.asarray(np.linalg.norm(reference.keypoints[rows] - other.keypoints[cols], axis=2).ravel())
