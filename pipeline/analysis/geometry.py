"""Keypoint indices and vectorised body geometry (angles in degrees, image y pointing down)."""

from __future__ import annotations

import numpy as np

from pipeline.poses import KEYPOINT_NAMES

KP = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
NOSE = KP["nose"]
EYES = (KP["left_eye"], KP["right_eye"])
EARS = (KP["left_ear"], KP["right_ear"])
SHOULDERS = (KP["left_shoulder"], KP["right_shoulder"])
ELBOWS = (KP["left_elbow"], KP["right_elbow"])
WRISTS = (KP["left_wrist"], KP["right_wrist"])
HIPS = (KP["left_hip"], KP["right_hip"])
KNEES = (KP["left_knee"], KP["right_knee"])
ANKLES = (KP["left_ankle"], KP["right_ankle"])
#: Keypoint groups that pose models swap left/right on side views: (left indices, right indices).
LEG_GROUP = (
    (KP["left_hip"], KP["left_knee"], KP["left_ankle"]),
    (KP["right_hip"], KP["right_knee"], KP["right_ankle"]),
)
ARM_GROUP = (
    (KP["left_shoulder"], KP["left_elbow"], KP["left_wrist"]),
    (KP["right_shoulder"], KP["right_elbow"], KP["right_wrist"]),
)


def nanmean_points(keypoints: np.ndarray, indices: tuple[int, ...]) -> np.ndarray:
    """(T, 2) mean of the given keypoints per frame, using whichever are present; NaN if none."""
    points = keypoints[:, list(indices), :]
    count = np.sum(~np.isnan(points[..., 0]), axis=1)
    total = np.nansum(points, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count[:, None] > 0, total / count[:, None], np.nan)


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T,) Euclidean distance between (T, 2) point arrays, NaN where either is missing."""
    return np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1])


def interior_angle(a: np.ndarray, vertex: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(T,) angle a-vertex-c in degrees in [0, 180], from (T, 2) points."""
    u, v = a - vertex, c - vertex
    dot = np.sum(u * v, axis=1)
    norm = np.hypot(u[:, 0], u[:, 1]) * np.hypot(v[:, 0], v[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arccos(np.clip(dot / norm, -1.0, 1.0)))


def angle_from_vertical(top: np.ndarray, bottom: np.ndarray, direction: float) -> np.ndarray:
    """(T,) angle of the bottom->top segment from vertical in degrees, positive when ``top`` is
    ahead of ``bottom`` in the direction of travel (``direction`` +1: image right, -1: left)."""
    dx = (top[:, 0] - bottom[:, 0]) * direction
    dy = bottom[:, 1] - top[:, 1]
    return np.degrees(np.arctan2(dx, dy))


def leg_length(keypoints: np.ndarray) -> float:
    """90th percentile over frames and sides of hip->knee + knee->ankle, in pixels (NaN if never
    seen): a high percentile, because a leg bent toward the camera looks shorter."""
    lengths = [
        distance(keypoints[:, hip], keypoints[:, knee])
        + distance(keypoints[:, knee], keypoints[:, ankle])
        for hip, knee, ankle in zip(HIPS, KNEES, ANKLES, strict=True)
    ]
    values = np.concatenate(lengths)
    values = values[np.isfinite(values)]
    return float(np.percentile(values, 90)) if len(values) else float("nan")


def torso_length(keypoints: np.ndarray) -> np.ndarray:
    """(T,) mid-shoulder to mid-hip distance in pixels."""
    return distance(nanmean_points(keypoints, SHOULDERS), nanmean_points(keypoints, HIPS))


def elbow_angle(kp: np.ndarray) -> np.ndarray:
    """Mean over the arms seen of the interior shoulder-elbow-wrist angle, degrees."""
    angles = np.stack(
        [
            interior_angle(kp[:, s], kp[:, e], kp[:, w])
            for s, e, w in zip(SHOULDERS, ELBOWS, WRISTS, strict=True)
        ],
        axis=1,
    )
    count = np.isfinite(angles).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.nansum(angles, axis=1) / count, np.nan)
