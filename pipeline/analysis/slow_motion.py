"""Which part of a clip is slowed down: a speed ramp slows the part after it, not the clip.

Gravity (:mod:`pipeline.analysis.gravity`) or held pictures say *that* a clip is slowed and by
how much; the slowed runners' own steps say *where*. A runner whose contacts keep a slowed
rhythm was slowed from one step before her first contact to one step after her last: a step
was run into the first landing and out of the last. Where the same runner is seen for longer
than that without a slowed step (the real-time run-up before a ramp, a paused screen), those
frames are not counted as slowed. Elsewhere the slowed part reaches out to the ends of its shot
(an editor changes speed at a cut or with a ramp, and nobody seen is no evidence either way),
never across a hard cut: a slow-motion replay after a real-time shot is its own part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SlowedRunner:
    """A runner whose gait shows slow motion: the frames she is seen on, [first, last], and the
    video frames of her contacts, sorted."""

    first_frame: int
    last_frame: int
    contact_frames: np.ndarray


def _evidence(runner: SlowedRunner) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """([first, last] frames of her slowed steps, one step either side, within the frames she is
    seen on; [first, last] spans where she is seen without a slowed step for longer than that).
    With fewer than two contacts no step length is known: the whole time she is seen."""
    first, last, contacts = runner.first_frame, runner.last_frame, np.sort(runner.contact_frames)
    if len(contacts) < 2:
        return (first, last), []
    step = float(np.median(np.diff(contacts)))
    start = max(first, int(np.floor(contacts[0] - step)))
    stop = min(last, int(np.ceil(contacts[-1] + step)))
    unslowed = [span for span in ((first, start - 1), (stop + 1, last)) if span[1] >= span[0]]
    return (start, stop), unslowed


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching [first, last] spans joined, in order."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def slowed_ranges(runners: Sequence[SlowedRunner], shots: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """[first, last] frames of each slowed part of a clip, in order.

    Args:
        runners: the runners whose gait shows slow motion.
        shots: [first, last] frames of each continuous shot, covering the clip.
    """
    evidence, unslowed = [], []
    for runner in runners:
        seen, not_slowed = _evidence(runner)
        evidence.append(seen)
        unslowed += not_slowed
    ranges = []
    for shot_first, shot_last in shots:
        inside = [(max(a, shot_first), min(b, shot_last)) for a, b in evidence if a <= shot_last and b >= shot_first]
        blocks = [(a, b) for a, b in unslowed if a <= shot_last and b >= shot_first]
        for first, last in _merge(inside):  # out to the shot's ends, up to frames seen not slowed
            start = max([shot_first, *(min(b, first - 1) + 1 for a, b in blocks if a < first)])
            stop = min([shot_last, *(max(a, last + 1) - 1 for a, b in blocks if b > last)])
            ranges.append((start, stop))
    return _merge(ranges)
