"""Hard cuts from the picture alone, on made frames with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.shots import (
    MIN_COLOUR_CHANGE,
    MIN_LAYOUT_CHANGE,
    ShotDetector,
    changes,
    frames_per_picture,
    shot_of,
    shot_spans,
    thumbnail,
)


def _scene(seed: int, width: int = 640, height: int = 360) -> np.ndarray:
    """A textured picture: smooth colour blobs, different for each seed."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(9, 16, 3)).astype(np.uint8)
    return np.repeat(np.repeat(small, height // 9, axis=0), width // 16, axis=1)


def _cuts(frames: list[np.ndarray]) -> list[int]:
    detector = ShotDetector()
    return [i for i, frame in enumerate(frames) if detector.update(frame)]


def test_a_switch_to_another_scene_is_a_cut_and_nothing_else_is() -> None:
    a, b = _scene(1), _scene(2)
    frames = [a] * 20 + [b] * 20 + [a] * 5
    assert _cuts(frames) == [20, 40]


def test_a_pan_is_not_a_cut() -> None:
    """The camera sweeping 8 px a frame moves the layout a little and keeps the colours."""
    wide = np.concatenate([_scene(3), _scene(4)], axis=1)
    frames = [np.ascontiguousarray(wide[:, x:x + 640]) for x in range(0, 400, 8)]
    assert _cuts(frames) == []


def test_a_flash_is_not_a_cut() -> None:
    """Exposure jumping by a third shifts every colour but keeps the layout: below the layout bar."""
    a = _scene(5)
    bright = np.clip(a.astype(np.int16) + 40, 0, 255).astype(np.uint8)
    colour, layout = changes(thumbnail(a), thumbnail(bright))
    assert colour > MIN_COLOUR_CHANGE and layout < MIN_LAYOUT_CHANGE
    assert _cuts([a] * 10 + [bright] * 3 + [a] * 10) == []


def test_the_first_frame_is_not_a_cut() -> None:
    assert ShotDetector().update(_scene(6)) is False


@pytest.mark.parametrize(("frames", "shots"), [([0, 75, 76, 149, 150, 400], [0, 0, 1, 1, 2, 2]), ([5], [0])])
def test_frames_fall_in_the_shot_that_starts_at_or_before_them(frames, shots) -> None:
    starts = [76, 150] if len(frames) > 1 else []
    assert shot_of(np.array(frames), starts).tolist() == shots


def test_shot_spans_cover_the_frames_read_cut_at_each_shot_start() -> None:
    """Cuts at 76 and 150 in frames 0-400; read from 100 only the second cut counts; a cut at
    the first frame read or outside the span starts nothing; nothing read, no shot."""
    assert shot_spans([76, 150], (0, 400)) == [(0, 75), (76, 149), (150, 400)]
    assert shot_spans([76, 150, 500], (100, 400)) == [(100, 149), (150, 400)]
    assert shot_spans([100], (100, 400)) == [(100, 400)]
    assert shot_spans([], (0, -1)) == []


def _changes(hold: int, pictures: int = 60, seed: int = 0, every: int = 0) -> np.ndarray:
    """Layout changes of a clip whose pictures are each shown ``hold`` frames (encoder noise on
    the repeats), or with one repeat every ``every`` frames (a frame-rate conversion)."""
    rng = np.random.default_rng(seed)
    moving = rng.uniform(0.02, 0.06, size=pictures * hold)
    noise = rng.uniform(0.0, 0.003, size=pictures * hold)
    index = np.arange(pictures * hold)
    repeat = (index % hold != 0) if hold > 1 else (index % every == every - 1) if every else np.zeros_like(index, bool)
    return np.where(repeat, noise, moving)


@pytest.mark.parametrize(("hold", "every", "expected"), [(1, 0, 1.0), (2, 0, 2.0), (3, 0, 3.0), (5, 0, 5.0),
                                                         (1, 6, 1.0)])
def test_pictures_held_k_frames_read_k(hold: int, every: int, expected: float) -> None:
    assert frames_per_picture(_changes(hold, every=every)) == expected


def test_a_still_picture_or_a_short_clip_holds_nothing() -> None:
    assert frames_per_picture(np.zeros(100)) == 1.0
    assert frames_per_picture(_changes(3, pictures=7)) == 1.0  # under MIN_HOLD_RUNS runs of 3
    assert frames_per_picture([]) == 1.0
