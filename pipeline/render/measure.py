"""A fault's measurement drawn on a runner: overstride (the hip's vertical and the arrow to the leading
ankle), shank angle (the shank against the vertical) and trunk lean (the trunk against the vertical),
with the value in a chip."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.render.annotators import Chips

YELLOW = (0, 215, 255)
_SHOULDERS, _HIPS, _KNEES, _ANKLES = (5, 6), (11, 12), (13, 14), (15, 16)
#: Faults whose measurement can be drawn.
DRAWN = frozenset({"overstride", "shank_angle", "trunk_lean"})


def _pt(xy: tuple[float, float] | np.ndarray) -> tuple[int, int]:
    return int(round(float(xy[0]))), int(round(float(xy[1])))


def draw_measurement(image: np.ndarray, keypoints: np.ndarray, fault: str, text: str | None = None) -> bool:
    """Draw ``fault``'s measurement from ``keypoints`` ((17, 2) px of ``image``, NaN where unseen) and
    ``text`` (the value) near the hips. Returns False, drawing nothing, when the fault is not drawable
    or the hips or ankles are not seen."""
    hip = _middle(keypoints, _HIPS)
    ankles, knees = keypoints[list(_ANKLES)], keypoints[list(_KNEES)]
    if fault == "trunk_lean":
        return _trunk(image, hip, _middle(keypoints, _SHOULDERS), text)
    if fault not in DRAWN or hip is None or not np.isfinite(ankles).all():
        return False
    lead = int(np.argmax(np.abs(ankles[:, 0] - hip[0])))  # the ankle farther from under the hip
    thick = max(1, round(image.shape[0] / 240))
    if fault == "overstride":
        cv2.line(image, _pt(hip), _pt((hip[0], float(np.max(ankles[:, 1])))), YELLOW, thick, cv2.LINE_AA)
        cv2.arrowedLine(image, _pt((hip[0], ankles[lead, 1])), _pt(ankles[lead]), YELLOW, thick, cv2.LINE_AA)
    elif np.isfinite(knees[lead]).all():
        cv2.line(image, _pt(knees[lead]), _pt(ankles[lead]), YELLOW, 2 * thick, cv2.LINE_AA)
        cv2.line(image, _pt(knees[lead]), _pt((knees[lead][0], ankles[lead][1])), YELLOW, thick, cv2.LINE_AA)
    _chip(image, hip, text)
    return True


def _middle(keypoints: np.ndarray, pair: tuple[int, int]) -> np.ndarray | None:
    """Mean of the seen points of ``pair`` (px), or None when neither is seen."""
    seen = keypoints[list(pair)][np.isfinite(keypoints[list(pair)]).all(axis=1)]
    return seen.mean(axis=0) if len(seen) else None


def _trunk(image: np.ndarray, hip: np.ndarray | None, shoulder: np.ndarray | None, text: str | None) -> bool:
    """The trunk (mid-hip to mid-shoulder) and the vertical through the mid-hip, as long as the trunk."""
    if hip is None or shoulder is None:
        return False
    thick = max(1, round(image.shape[0] / 240))
    length = float(np.hypot(*(shoulder - hip)))
    cv2.line(image, _pt(hip), _pt(shoulder), YELLOW, 2 * thick, cv2.LINE_AA)
    cv2.line(image, _pt(hip), _pt((hip[0], hip[1] - length)), YELLOW, thick, cv2.LINE_AA)
    _chip(image, hip, text)
    return True


def _chip(image: np.ndarray, at: np.ndarray, text: str | None) -> None:
    """``text`` in a black chip centred under point ``at``, kept inside the image."""
    thick = max(1, round(image.shape[0] / 240))
    if text:
        chips = Chips(font_scale=max(0.35, image.shape[0] / 600), thickness=thick)
        width, height = chips.size(text)
        x, y = _pt(at)
        chips.draw(image, text, int(np.clip(x - width // 2, 0, max(0, image.shape[1] - width))),
                   int(np.clip(y, 0, max(0, image.shape[0] - height))), (0, 0, 0))
