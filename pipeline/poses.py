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
        """Convert one ``ultralytics.engine.results.Results`` of a pose model.

        Keypoints whose confidence is below ``keypoint_confidence`` become NaN.
        """
        boxes = result.boxes
        if boxes is None or len(boxes) == 0 or result.keypoints is None:
            return cls.empty()
        xyxy = boxes.xyxy.cpu().numpy().astype(np.float32)
        conf = boxes.conf.cpu().numpy().astype(np.float32)
        data = result.keypoints.data.cpu().numpy().astype(np.float32)  # (N, K, 3): x, y, conf
        if data.shape[1:] != (NUM_KEYPOINTS, 3):
            raise ValueError(
                f"Pose model gives keypoints of shape {data.shape[1:]}; FormWatch needs COCO-17 "
                f"({NUM_KEYPOINTS}, 3). Use a COCO pose model such as yolo11n-pose.pt."
            )
        kp_conf = data[:, :, 2]
        points = data[:, :, :2].copy()
        points[kp_conf < keypoint_confidence] = np.nan
        return cls(xyxy, conf, points, kp_conf, np.full(len(xyxy), UNTRACKED, np.int64))
