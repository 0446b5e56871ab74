"""Overlay annotators: small classes, settings in ``__init__``, ``annotate(frame, poses, ...) -> frame``.

Each annotator draws on ``frame`` ((H, W, 3) uint8 BGR, pixel coordinates of the upright
frame) in place and returns it, so they chain. People come as :class:`~pipeline.poses.Poses`
whose ``track_id`` is the id shown (the stitched ``runner_id``); missing keypoints are NaN
and are skipped, never drawn at (0, 0). Text sits in chips placed beside the person's box,
never over the body.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import cv2
import numpy as np

from pipeline.analysis.geometry import EARS, ELBOWS, EYES, HIPS, NOSE, SHOULDERS, WRISTS, interior_angle
from pipeline.poses import Poses

#: COCO-17 limbs as (keypoint index, keypoint index) pairs.
SKELETON: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)
#: BGR colours given to runner ids in turn (id modulo the length): distinct on grass and tarmac.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (255, 144, 30), (0, 165, 255), (60, 200, 60), (200, 80, 220), (0, 215, 255),
    (255, 255, 0), (80, 80, 255), (180, 105, 255), (0, 255, 170), (255, 100, 160),
)
GREY = (150, 150, 150)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX
FACE = (NOSE, *EYES, *EARS)
_FAR = 1e5  # cv2 needs int coordinates; anything further off-frame is clamped to this


def colour_for(track_id: int) -> tuple[int, int, int]:
    """The palette colour (BGR) of an id."""
    return PALETTE[int(track_id) % len(PALETTE)]


def _check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame must be an (H, W, 3) uint8 BGR array, got {getattr(frame, 'shape', frame)!r}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")


def _pt(xy: np.ndarray) -> tuple[int, int]:
    x, y = np.clip(xy, -_FAR, _FAR)
    return int(round(x)), int(round(y))


def _runner_mask(poses: Poses, is_runner: np.ndarray | None) -> np.ndarray:
    if is_runner is None:
        return np.ones(len(poses), bool)
    mask = np.asarray(is_runner, bool)
    if mask.shape != (len(poses),):
        raise ValueError(f"is_runner must have shape ({len(poses)},), got {mask.shape}")
    return mask


class Chips:
    """Text chips: filled rectangles with text, measured and drawn at a top-left corner."""

    def __init__(self, font_scale: float = 0.5, thickness: int = 1, padding_px: int = 3) -> None:
        _check_positive(font_scale=font_scale, thickness=thickness)
        if padding_px < 0:
            raise ValueError(f"padding_px must be >= 0, got {padding_px!r}")
        self.font_scale, self.thickness, self.padding = font_scale, thickness, padding_px

    def size(self, text: str) -> tuple[int, int]:
        """(width, height) in px of the chip holding ``text``."""
        (w, h), baseline = cv2.getTextSize(text, FONT, self.font_scale, self.thickness)
        return w + 2 * self.padding, h + baseline + 2 * self.padding

    def draw(self, frame: np.ndarray, text: str, x: int, y: int, background: tuple[int, int, int],
             foreground: tuple[int, int, int] = WHITE) -> None:
        """Draw the chip with its top-left corner at (x, y) px."""
        w, h = self.size(text)
        cv2.rectangle(frame, (x, y), (x + w - 1, y + h - 1), background, cv2.FILLED)
        (_, text_h), _ = cv2.getTextSize(text, FONT, self.font_scale, self.thickness)
        origin = (x + self.padding, y + self.padding + text_h)
        cv2.putText(frame, text, origin, FONT, self.font_scale, foreground, self.thickness, cv2.LINE_AA)


class SkeletonAnnotator:
    """COCO-17 limbs and joints, coloured per id; non-runners thin and grey."""

    def __init__(self, thickness: int = 2, radius: int = 3, faint_colour: tuple[int, int, int] = GREY) -> None:
        _check_positive(thickness=thickness, radius=radius)
        self.thickness, self.radius, self.faint_colour = thickness, radius, faint_colour

    def annotate(self, frame: np.ndarray, poses: Poses, is_runner: np.ndarray | None = None) -> np.ndarray:
        """Draw each person's skeleton; ``is_runner`` (N,) bool, None: everyone is a runner."""
        _check_frame(frame)
        runner = _runner_mask(poses, is_runner)
        seen = np.isfinite(poses.keypoints).all(axis=2)  # (N, K)
        pixels = np.rint(np.clip(np.nan_to_num(poses.keypoints), -_FAR, _FAR)).astype(np.int64).tolist()
        for i in range(len(poses)):
            kp, ok = pixels[i], seen[i]
            colour = colour_for(poses.track_id[i]) if runner[i] else self.faint_colour
            thickness = self.thickness if runner[i] else max(1, self.thickness // 2)
            for a, b in SKELETON:
                if ok[a] and ok[b]:
                    cv2.line(frame, kp[a], kp[b], colour, thickness, cv2.LINE_AA)
            if runner[i]:
                for k in np.flatnonzero(ok):
                    cv2.circle(frame, kp[k], self.radius, colour, cv2.FILLED, cv2.LINE_AA)
        return frame


class LabelAnnotator:
    """The id in a chip just above the box; below the box when there is no room above."""

    def __init__(self, font_scale: float = 0.5, thickness: int = 1, padding_px: int = 3, gap_px: int = 2) -> None:
        self.chips = Chips(font_scale, thickness, padding_px)
        self.gap = gap_px

    def position(self, box: np.ndarray, size: tuple[int, int], frame_shape: tuple[int, ...]) -> tuple[int, int]:
        """Top-left (x, y) px of a chip of ``size`` (w, h) for ``box`` (x1, y1, x2, y2): above the
        box top, else below its bottom, else at the frame top; x clamped to the frame."""
        (w, h), (height, width) = size, frame_shape[:2]
        x1, y1, _, y2 = (int(round(v)) for v in np.clip(box, -_FAR, _FAR))
        x = min(max(x1, 0), max(width - w, 0))
        if y1 - self.gap - h >= 0:
            return x, y1 - self.gap - h
        if y2 + self.gap + h <= height:
            return x, y2 + self.gap
        return x, 0

    def annotate(self, frame: np.ndarray, poses: Poses, is_runner: np.ndarray | None = None,
                 labels: Sequence[str] | None = None) -> np.ndarray:
        """Label each person with ``labels[i]`` (default ``#<id>``); non-runners' chips are grey."""
        _check_frame(frame)
        runner = _runner_mask(poses, is_runner)
        for i in range(len(poses)):
            text = labels[i] if labels is not None else f"#{int(poses.track_id[i])}"
            x, y = self.position(poses.xyxy[i], self.chips.size(text), frame.shape)
            background = colour_for(poses.track_id[i]) if runner[i] else GREY
            self.chips.draw(frame, text, x, y, background, BLACK)
        return frame


class BadgeAnnotator:
    """Fault badges: chips stacked beside the box (right of it, else left), never over it."""

    def __init__(self, font_scale: float = 0.45, thickness: int = 1, padding_px: int = 3, gap_px: int = 4,
                 colour: tuple[int, int, int] = (40, 40, 210)) -> None:
        self.chips = Chips(font_scale, thickness, padding_px)
        self.gap, self.colour = gap_px, colour

    def position(self, box: np.ndarray, sizes: list[tuple[int, int]], frame_shape: tuple[int, ...],
                 taken: Sequence[np.ndarray] = ()) -> tuple[int, int]:
        """Top-left (x, y) px of a stack of chips of ``sizes`` beside ``box`` (x1, y1, x2, y2):
        right of it or left of it, clamped to the frame, whichever covers the least of ``taken``
        boxes (other people, badges already drawn) and, ten times worse, of ``box`` itself;
        right on a tie."""
        height, width = frame_shape[:2]
        stack_w, stack_h = max(w for w, _ in sizes), sum(h for _, h in sizes)
        x1, y1, x2, _ = (int(round(v)) for v in np.clip(box, -_FAR, _FAR))
        y = min(max(y1, 0), max(height - stack_h, 0))
        candidates = [min(max(x, 0), max(width - stack_w, 0)) for x in (x2 + self.gap, x1 - self.gap - stack_w)]
        rects = [np.array([x, y, x + stack_w, y + stack_h]) for x in candidates]
        covered = [10 * _overlap(rect, [box]) + _overlap(rect, taken) for rect in rects]
        return candidates[int(np.argmin(covered))], y

    def annotate(self, frame: np.ndarray, poses: Poses, badges: Mapping[int, Sequence[str]]) -> np.ndarray:
        """Draw ``badges[id]`` (texts, top to bottom) beside the box of each person with that id."""
        _check_frame(frame)
        taken = list(poses.xyxy)
        for i in range(len(poses)):
            texts = badges.get(int(poses.track_id[i]), ())
            if not texts:
                continue
            sizes = [self.chips.size(t) for t in texts]
            others = [b for j, b in enumerate(taken) if j != i]
            x, y = self.position(poses.xyxy[i], sizes, frame.shape, others)
            taken.append(np.array([x, y, x + max(w for w, _ in sizes), y + sum(h for _, h in sizes)], float))
            for text, (_, h) in zip(texts, sizes, strict=True):
                self.chips.draw(frame, text, x, y, self.colour)
                y += h
        return frame


def _overlap(rect: np.ndarray, boxes: Sequence[np.ndarray]) -> float:
    """Total area in px² of ``rect`` (x1, y1, x2, y2) covered by each of ``boxes`` (summed)."""
    if not len(boxes):
        return 0.0
    xyxy = np.asarray(boxes, np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(rect[2], xyxy[:, 2]) - np.maximum(rect[0], xyxy[:, 0]), 0, None)
    h = np.clip(np.minimum(rect[3], xyxy[:, 3]) - np.maximum(rect[1], xyxy[:, 1]), 0, None)
    return float(np.sum(w * h))


def elbow_angles(keypoints: np.ndarray) -> np.ndarray:
    """(N, 2) interior shoulder-elbow-wrist angle in degrees of the left and right arm of
    (N, 17, 2) keypoints; NaN where a point is missing."""
    return np.stack([interior_angle(keypoints[:, s], keypoints[:, e], keypoints[:, w])
                     for s, e, w in zip(SHOULDERS, ELBOWS, WRISTS, strict=True)], axis=1)


def trunk_angles(keypoints: np.ndarray) -> np.ndarray:
    """(N,) unsigned angle in degrees of the mid-hip -> mid-shoulder segment from vertical, of
    (N, 17, 2) keypoints; NaN unless both shoulders and both hips are present."""
    shoulder = keypoints[:, list(SHOULDERS)].mean(axis=1)
    hip = keypoints[:, list(HIPS)].mean(axis=1)
    return np.degrees(np.arctan2(np.abs(shoulder[:, 0] - hip[:, 0]), hip[:, 1] - shoulder[:, 1]))


class AngleAnnotator:
    """Elbow angles beside each elbow and the trunk angle beside the mid-hip, in degrees."""

    def __init__(self, font_scale: float = 0.45, thickness: int = 1, offset_px: int = 10,
                 colour: tuple[int, int, int] = WHITE) -> None:
        _check_positive(font_scale=font_scale, thickness=thickness, offset_px=offset_px)
        self.font_scale, self.thickness, self.offset, self.colour = font_scale, thickness, offset_px, colour

    def _text(self, frame: np.ndarray, text: str, anchor: np.ndarray, away: np.ndarray) -> None:
        """Text whose nearest corner is ``offset`` px from ``anchor`` in direction ``away``, kept in the frame."""
        (w, h), _ = cv2.getTextSize(text, FONT, self.font_scale, self.thickness)
        norm = float(np.hypot(*away))
        unit = away / norm if norm > 1e-6 else np.array([1.0, 0.0])
        x, y = anchor + unit * self.offset
        x = x if unit[0] >= 0 else x - w
        y = y + h if unit[1] >= 0 else y
        height, width = frame.shape[:2]
        org = _pt(np.array([np.clip(x, 0, max(width - w, 0)), np.clip(y, h, height - 1)]))
        cv2.putText(frame, text, org, FONT, self.font_scale, BLACK, self.thickness + 2, cv2.LINE_AA)
        cv2.putText(frame, text, org, FONT, self.font_scale, self.colour, self.thickness, cv2.LINE_AA)

    def annotate(self, frame: np.ndarray, poses: Poses, track_ids: Collection[int]) -> np.ndarray:
        """Draw the angles of the people whose id is in ``track_ids``, only where measured."""
        _check_frame(frame)
        chosen = np.isin(poses.track_id, list(track_ids))
        elbows, trunks = elbow_angles(poses.keypoints), trunk_angles(poses.keypoints)
        for i in np.flatnonzero(chosen):
            kp = poses.keypoints[i]
            for arm, (s, e, w) in enumerate(zip(SHOULDERS, ELBOWS, WRISTS, strict=True)):
                if np.isfinite(elbows[i, arm]):  # the text goes on the outside of the bend
                    self._text(frame, f"{elbows[i, arm]:.0f} deg", kp[e], kp[e] - (kp[s] + kp[w]) / 2)
            if np.isfinite(trunks[i]):
                hip = kp[list(HIPS)].mean(axis=0)
                shoulder = kp[list(SHOULDERS)].mean(axis=0)
                length = float(np.hypot(*(shoulder - hip)))
                cv2.line(frame, _pt(hip), _pt(hip - [0, length]), self.colour, 1, cv2.LINE_AA)
                side = -1.0 if shoulder[0] >= hip[0] else 1.0  # away from the lean, beyond the hips
                outer = kp[list(HIPS), 0].min() if side < 0 else kp[list(HIPS), 0].max()
                self._text(frame, f"trunk {trunks[i]:.0f} deg", np.array([outer, hip[1]]), np.array([side, 0.0]))
        return frame


def face_regions(poses: Poses, spread_scale: float = 1.2, box_fraction: float = 0.2,
                 min_half_px: float = 4.0) -> np.ndarray:
    """(N, 4) float boxes x1, y1, x2, y2 px around each head, not clipped to the frame.

    Centred on the mean of the face keypoints seen (nose, eyes, ears); half-size is
    ``spread_scale`` x the largest distance between them when two or more are seen, else
    ``box_fraction`` x the box width. Without face keypoints the region sits at the top
    centre of the box. Half-size is at least ``min_half_px``.
    """
    regions = np.zeros((len(poses), 4), np.float64)
    for i in range(len(poses)):
        points = poses.keypoints[i, list(FACE)]
        points = points[np.isfinite(points).all(axis=1)]
        x1, y1, x2, _ = poses.xyxy[i].astype(np.float64)
        half = box_fraction * (x2 - x1)
        if len(points) >= 2:
            half = spread_scale * float(np.max(np.linalg.norm(points[:, None] - points[None], axis=2)))
        half = max(half, min_half_px)
        centre = points.mean(axis=0) if len(points) else np.array([(x1 + x2) / 2, y1 + half])
        regions[i] = [centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half]
    return regions


class FaceBlurAnnotator:
    """Gaussian blur of the head region (see :func:`face_regions`) of chosen people."""

    def __init__(self, spread_scale: float = 1.2, box_fraction: float = 0.2, min_half_px: float = 4.0) -> None:
        _check_positive(spread_scale=spread_scale, box_fraction=box_fraction, min_half_px=min_half_px)
        self.spread_scale, self.box_fraction, self.min_half = spread_scale, box_fraction, min_half_px

    def annotate(self, frame: np.ndarray, poses: Poses, track_ids: Collection[int] | None = None) -> np.ndarray:
        """Blur the faces of people whose id is in ``track_ids`` (None: everyone)."""
        _check_frame(frame)
        height, width = frame.shape[:2]
        chosen = np.ones(len(poses), bool) if track_ids is None else np.isin(poses.track_id, list(track_ids))
        regions = face_regions(poses, self.spread_scale, self.box_fraction, self.min_half)
        for x1, y1, x2, y2 in regions[chosen]:
            left, top = max(int(np.floor(x1)), 0), max(int(np.floor(y1)), 0)
            right, bottom = min(int(np.ceil(x2)), width), min(int(np.ceil(y2)), height)
            if right - left < 2 or bottom - top < 2:
                continue
            frame[top:bottom, left:right] = _blur(frame[top:bottom, left:right], (x2 - x1) / 2)
        return frame


#: Faces are blurred at this many px across their half-size, then scaled back: the same look as a
#: full-size Gaussian of sigma half/2, at a cost that does not grow with the face (a face filling a
#: highlight crop took 10 ms a frame at full size).
_BLUR_HALF_PX = 8


def _blur(region: np.ndarray, half: float) -> np.ndarray:
    """``region`` Gaussian-blurred with sigma ``half`` / 2 px (a kernel of the face's size)."""
    height, width = region.shape[:2]
    shrink = max(1.0, half / _BLUR_HALF_PX)
    small = region if shrink == 1.0 else cv2.resize(
        region, (max(1, round(width / shrink)), max(1, round(height / shrink))), interpolation=cv2.INTER_AREA)
    small_half = half / shrink
    kernel = 2 * int(small_half) + 1
    blurred = cv2.GaussianBlur(small, (kernel, kernel), small_half / 2)
    return blurred if shrink == 1.0 else cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


class CaptionAnnotator:
    """Lines of text on a dark bar along the bottom of the frame, each shrunk to fit its width
    (``\n`` separates lines; the coach's cue goes first, the measurement under it)."""

    def __init__(self, font_scale: float = 0.6, thickness: int = 1, padding_px: int = 6) -> None:
        self.chips = Chips(font_scale, thickness, padding_px)

    def annotate(self, frame: np.ndarray, text: str) -> np.ndarray:
        """Draw ``text`` across the bottom of ``frame``, its last line lowest."""
        _check_frame(frame)
        height, width = frame.shape[:2]
        bottom = height
        for line in reversed(text.split("\n")):
            bottom -= self._line(frame, line, bottom, width)
        return frame

    def _line(self, frame: np.ndarray, text: str, bottom: int, width: int) -> int:
        """Draw one line whose bar ends at row ``bottom``; return the bar's height in px."""
        chips = self.chips
        w, _ = chips.size(text)
        if w > width:
            chips = Chips(chips.font_scale * width / w, chips.thickness, chips.padding)
        _, h = chips.size(text)
        top = max(0, bottom - h)
        bar = frame[top:bottom]
        bar[:] = (bar * 0.35).astype(np.uint8)
        (_, text_h), _ = cv2.getTextSize(text, FONT, chips.font_scale, chips.thickness)
        cv2.putText(frame, text, (chips.padding, top + chips.padding + text_h), FONT, chips.font_scale, WHITE,
                    chips.thickness, cv2.LINE_AA)
        return h
