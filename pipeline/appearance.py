"""What a person's clothes look like: a small colour descriptor per detection.

Motion alone cannot tell two runners apart after one passes behind another in a pack, so
the offline stitching of track fragments also compares their colours. Each detection gets
two normalised colour histograms, one of the upper body (shoulders to hips: the shirt)
and one of the thighs (hips to knees: shorts or trousers), each of ``BINS`` bins: 8 hue
bins for coloured pixels and 4 brightness bins (black, dark grey, light grey, white) for
pixels with little colour. Hue is kept apart from brightness so a shadow or a camera's
exposure change moves a colour less than a change of shirt does.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.poses import KEYPOINT_NAMES, Poses

HUE_BINS, GREY_BINS = 8, 4
BINS = HUE_BINS + GREY_BINS
#: Values per detection: upper body, then thighs.
DIMENSIONS = 2 * BINS
_K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
_SHOULDERS = (_K["left_shoulder"], _K["right_shoulder"])
_HIPS = (_K["left_hip"], _K["right_hip"])
_KNEES = (_K["left_knee"], _K["right_knee"])
#: Pixels below this saturation (or value) count as grey, by brightness.
_MIN_SATURATION, _MIN_VALUE = 64, 48


def colour_histogram(pixels_hsv: np.ndarray) -> np.ndarray:
    """(BINS,) float32 histogram of (N, 3) OpenCV HSV pixels (H 0-179, S and V 0-255), summing
    to 1; NaN when there are no pixels."""
    if len(pixels_hsv) == 0:
        return np.full(BINS, np.nan, np.float32)
    h, s, v = (pixels_hsv[:, i].astype(np.int32) for i in range(3))
    grey = (s < _MIN_SATURATION) | (v < _MIN_VALUE)
    bins = np.where(grey, HUE_BINS + np.minimum(v * GREY_BINS // 256, GREY_BINS - 1), h * HUE_BINS // 180)
    counts = np.bincount(bins, minlength=BINS).astype(np.float32)
    return counts / counts.sum()


def _region(image_hsv: np.ndarray, top: np.ndarray, bottom: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(N, 3) pixels of the band between two keypoint pairs (e.g. shoulders and hips),
    trimmed by a fifth at each side so background and arms stay out; empty if unseen."""
    points = np.concatenate([top, bottom])
    if np.isnan(points).any():
        return np.zeros((0, 3), np.uint8)
    x1, x2 = points[:, 0].min(), points[:, 0].max()
    y1, y2 = top[:, 1].mean(), bottom[:, 1].mean()
    if y2 - y1 < 4:
        return np.zeros((0, 3), np.uint8)
    margin_x, margin_y = 0.2 * (x2 - x1), 0.1 * (y2 - y1)
    height, width = image_hsv.shape[:2]
    left = int(np.clip(max(x1 + margin_x, box[0]), 0, width))
    right = int(np.clip(min(x2 - margin_x, box[2]), 0, width))
    upper = int(np.clip(y1 + margin_y, 0, height))
    lower = int(np.clip(y2 - margin_y, 0, height))
    return image_hsv[upper:lower, left:right].reshape(-1, 3)


def describe(image_bgr: np.ndarray, poses: Poses) -> np.ndarray:
    """(N, DIMENSIONS) float32 descriptor of each person in ``poses`` on the BGR frame: the
    upper-body and thigh histograms; a region whose keypoints are missing is NaN."""
    out = np.full((len(poses), DIMENSIONS), np.nan, np.float32)
    if len(poses) == 0:
        return out
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    for n in range(len(poses)):
        kp, box = poses.keypoints[n], poses.xyxy[n]
        out[n, :BINS] = colour_histogram(_region(hsv, kp[list(_SHOULDERS)], kp[list(_HIPS)], box))
        out[n, BINS:] = colour_histogram(_region(hsv, kp[list(_HIPS)], kp[list(_KNEES)], box))
    return out


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Hellinger distance in [0, 1] between two (DIMENSIONS,) descriptors, averaged over the
    regions both show; NaN when they share none."""
    values = []
    for region in (slice(0, BINS), slice(BINS, DIMENSIONS)):
        p, q = a[region], b[region]
        if np.isfinite(p).all() and np.isfinite(q).all():
            values.append(np.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q))))))
    return float(np.mean(values)) if values else float("nan")
