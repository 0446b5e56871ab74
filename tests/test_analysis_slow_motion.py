"""Which part of a clip is slowed: known answers for the slowed runners' steps and the shots."""

from __future__ import annotations

import numpy as np

from pipeline.accuracy import range_iou
from pipeline.analysis.slow_motion import SlowedRunner, slowed_ranges


def runner(first: int, last: int, *contacts: int) -> SlowedRunner:
    return SlowedRunner(first, last, np.array(contacts, np.int64))


def test_a_speed_ramp_slows_the_part_after_it() -> None:
    """A runner seen from frame 0, in slowed steps of 36 frames from frame 62 to the end (270):
    slowed from one step before her first contact; the 26 frames before it, where she is seen
    without a slowed step, are not."""
    ramp = runner(0, 270, 62, 98, 134, 170, 206, 242)
    assert slowed_ranges([ramp], [(0, 270)]) == [(26, 270)]


def test_slow_motion_reaches_the_ends_of_the_shot_where_nobody_is_seen() -> None:
    """A runner who enters a slowed clip at frame 100 and leaves at 400: nobody is seen moving
    in real time before or after her, so the whole shot counts as slowed."""
    assert slowed_ranges([runner(100, 400, 150, 200, 250, 300, 350)], [(0, 492)]) == [(0, 492)]


def test_slow_motion_never_crosses_a_hard_cut() -> None:
    """A slow-motion replay after a real-time shot: only the replay's shot is slowed."""
    replay = runner(320, 560, 340, 400, 460, 520)
    assert slowed_ranges([replay], [(0, 299), (300, 599)]) == [(300, 599)]


def test_a_runner_seen_without_slowed_steps_bounds_another_runners_part() -> None:
    """Two slowed runners: one makes slowed steps over 200-300 only, seen from 0 (so 0-159 is
    not slowed: 40 frames a step); the other, seen 150-250 with one contact (no step length),
    counts over the frames she is seen on. The part runs from 160 to the shot's end."""
    late = runner(0, 300, 200, 240, 280)
    brief = runner(150, 250, 220)
    assert slowed_ranges([late, brief], [(0, 399)]) == [(150, 399)]
    assert slowed_ranges([late], [(0, 399)]) == [(160, 399)]


def test_no_slowed_runner_no_slowed_part() -> None:
    assert slowed_ranges([], [(0, 100)]) == []


def test_the_slowed_part_is_scored_by_its_frames() -> None:
    """Intersection over union of frames: [26, 270] found against [60, 270] labelled is 211 of
    245 frames."""
    assert range_iou([[26, 270]], [[60, 270]]) == 211 / 245
    assert range_iou([[0, 9], [20, 29]], [[0, 29]]) == 20 / 30
    assert range_iou([], []) == 0.0
