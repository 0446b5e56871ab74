"""Runner thumbnails: a crop of each runner's box at a mid frame, saved as a small JPEG."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from pipeline.video import DecodeDamage, VideoError, read_frames

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in px of the upright frame


def crop(image: np.ndarray, box: Box, height_px: int = 160, margin: float = 0.1) -> np.ndarray | None:
    """The box of ``image`` (H, W, 3) widened by ``margin`` of its size, resized to ``height_px`` tall.

    None when the box lies outside the image.
    """
    placed = crop_with_transform(image, box, height_px, margin)
    return placed[0] if placed else None


def crop_with_transform(image: np.ndarray, box: Box, height_px: int = 160,
                        margin: float = 0.1) -> tuple[np.ndarray, tuple[float, float, float]] | None:
    """:func:`crop` and its transform (left, top, scale): crop px = (frame px - (left, top)) x scale."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    h, w = image.shape[:2]
    left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
    right, bottom = min(w, int(x2 + dx) + 1), min(h, int(y2 + dy) + 1)
    if right <= left or bottom <= top:
        return None
    piece = image[top:bottom, left:right]
    scale = height_px / piece.shape[0]
    resized = cv2.resize(piece, (max(1, round(piece.shape[1] * scale)), height_px), interpolation=cv2.INTER_AREA)
    return resized, (left, top, scale)


def write_thumbnails(
    video_path: str | Path, fps: float, boxes: dict[int, tuple[int, Box]], assets: Path, prefix: str,
    draw: Callable[[np.ndarray, int, tuple[float, float, float]], None] | None = None, height_px: int = 160,
) -> dict[int, Path]:
    """Write ``assets/<prefix>_<runner id>.jpg`` for each runner of ``boxes`` (id -> (frame, box)),
    ``height_px`` tall; ``draw(crop, runner_id, (left, top, scale))`` draws on each crop when given
    (crop px = (frame px - (left, top)) x scale).

    Decodes the video once up to the last frame needed. Returns the files written; {} (with a
    log line) when the video is gone or cannot be decoded, so the report goes on without them.
    """
    video_path = Path(video_path)
    if not boxes or not fps:
        return {}
    if not video_path.is_file():
        log.info("report: %s is gone; runner thumbnails skipped", video_path)
        return {}
    wanted: dict[int, list[int]] = {}
    for runner_id, (frame_index, _) in boxes.items():
        wanted.setdefault(frame_index, []).append(runner_id)
    written: dict[int, Path] = {}
    first, last = min(wanted), max(wanted)
    try:
        for frame in read_frames(video_path, fps, start_s=first / fps, end_s=(last + 1) / fps,
                                 damage=DecodeDamage()):
            for runner_id in wanted.get(frame.index, []):
                written.update(_save(frame.image, boxes[runner_id][1], assets / f"{prefix}_{runner_id}.jpg", runner_id,
                                     height_px, draw))
    except VideoError as exc:
        log.warning("report: thumbnails of %s stopped: %s", video_path.name, exc)
    return written


def _save(image: np.ndarray, box: Box, path: Path, runner_id: int, height_px: int = 160,
          draw: Callable[[np.ndarray, int, tuple[float, float, float]], None] | None = None) -> dict[int, Path]:
    placed = crop_with_transform(image, box, height_px)
    if placed is None:
        return {}
    piece, transform = placed
    if draw:
        draw(piece, runner_id, transform)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", piece, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return {}
    path.write_bytes(data.tobytes())
    return {runner_id: path}
