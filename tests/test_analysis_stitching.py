"""Stitching fragments of one person, and never of two."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from analysis_builders import RunnerSpec, build_table

from pipeline import appearance
from pipeline.analysis import AnalysisSettings, analyse_detections
from pipeline.analysis.stitching import MAX_TORSO_PX, EndSize, Fragment, size_difference

BASE = {"travel": True, "pan_px_per_s": 250.0, "noise_px": 0.5}  # drifts right, stays in frame
FIRST = RunnerSpec(track_id=3, gaps=((80, 180),), **BASE)  # seen in frames 0-79


def _analyse(*specs: RunnerSpec, settings: AnalysisSettings | None = None):
    return analyse_detections(build_table(*specs), 30.0, 1280, 720, settings or AnalysisSettings())


def test_two_fragments_of_one_runner_become_one() -> None:
    analysis = _analyse(FIRST, RunnerSpec(track_id=7, gaps=((0, 95),), **BASE))  # gap of 0.5 s
    assert dict(analysis.id_map) == {3: 3, 7: 3}
    assert analysis.tracks_merged == 1
    (runner,) = analysis.runners.to_pylist()
    assert runner["source_track_ids"] == [3, 7] and runner["fragments_merged"] == 1
    assert (runner["first_frame"], runner["last_frame"]) == (0, 179)
    assert runner["cadence_spm"] == pytest.approx(180.0, rel=0.02)
    assert set(analysis.contacts.column("track_id").to_pylist()) == {3}


DIFFERENT = {
    "longer legs": {"leg_ratio": 1.3},
    "smaller body": {"body_scale": 0.8},
    "somewhere else": {"origin_px": (1150.0, 650.0)},
    "after too long a gap": {"first_frame": 150},
}


@pytest.mark.parametrize("change", DIFFERENT.values(), ids=DIFFERENT.keys())
def test_different_people_are_not_joined(change: dict) -> None:
    gaps = ((0, 95),) if "first_frame" not in change else ()
    second = RunnerSpec(track_id=7, gaps=gaps, **{**BASE, **change})
    analysis = _analyse(FIRST, second)
    assert dict(analysis.id_map) == {3: 3, 7: 7}
    assert analysis.tracks_merged == 0
    assert analysis.runners.num_rows == 2


def test_fragments_are_never_joined_across_a_cut() -> None:
    """The same two fragments that join above stay apart when a hard cut falls in the gap."""
    table = build_table(FIRST, RunnerSpec(track_id=7, gaps=((0, 95),), **BASE))
    for starts, expected in (((), {3: 3, 7: 3}), ((90,), {3: 3, 7: 7}), ((200,), {3: 3, 7: 3})):
        analysis = analyse_detections(table, 30.0, 1280, 720, AnalysisSettings(), shot_starts=starts)
        assert dict(analysis.id_map) == expected, starts


def test_fragments_that_overlap_in_time_are_never_joined() -> None:
    analysis = _analyse(FIRST, RunnerSpec(track_id=7, gaps=((0, 70),), **BASE))
    assert analysis.tracks_merged == 0


def test_gap_limit_comes_from_the_settings() -> None:
    second = RunnerSpec(track_id=7, gaps=((0, 95),), **BASE)
    analysis = _analyse(FIRST, second, settings=AnalysisSettings(stitch_max_gap_s=0.3))
    assert analysis.tracks_merged == 0


def test_three_fragments_chain_into_one() -> None:
    analysis = _analyse(
        RunnerSpec(track_id=5, gaps=((60, 180),), **BASE),
        RunnerSpec(track_id=2, gaps=((0, 70), (120, 180)), **BASE),
        RunnerSpec(track_id=9, gaps=((0, 130),), **BASE),
    )
    assert dict(analysis.id_map) == {2: 2, 5: 2, 9: 2}
    assert analysis.tracks_merged == 2


def _camera(table: pa.Table, shift_px: Callable[[np.ndarray], np.ndarray]) -> pa.Table:
    """The table as filmed by a camera that moves: every x shifted by ``shift_px(frame)``."""
    shift = shift_px(table.column("frame").to_numpy().astype(float))
    for name in table.column_names:
        if name.endswith("_x") or name in ("box_x1", "box_x2"):
            index = table.schema.get_field_index(name)
            moved = pc.add(table.column(name), pa.array(shift).cast(table.schema.field(name).type))
            table = table.set_column(index, table.schema.field(name), moved)
    return table


def test_a_pack_carries_a_hidden_runner_across_a_camera_swing() -> None:
    # Three runners in a pack, the same kit; the camera swings back during the middle one's
    # 1-s absence, so its own velocity at the gap would carry it ~330 px (1.6 box heights) on.
    small = {"noise_px": 0.5, "scale_px_per_m": 130.0}
    pack = [RunnerSpec(track_id=1, origin_px=(400.0, 650.0), **small),
            RunnerSpec(track_id=2, origin_px=(640.0, 650.0), gaps=((75, 105),), **small),
            RunnerSpec(track_id=3, origin_px=(880.0, 650.0), **small)]
    fragments = [pack[0], RunnerSpec(**{**pack[1].__dict__, "gaps": ((75, 180),)}),
                 RunnerSpec(**{**pack[1].__dict__, "track_id": 9, "gaps": ((0, 105),)}), pack[2]]
    table = build_table(*fragments).sort_by([("frame", "ascending"), ("track_id", "ascending")])
    swing = _camera(table, lambda f: 300.0 * np.sin(np.pi * np.clip(f - 60, 0, 60) / 60))
    analysis = analyse_detections(swing, 30.0, 1280, 720, AnalysisSettings())
    assert dict(analysis.id_map) == {1: 1, 2: 2, 3: 3, 9: 2}


@pytest.mark.parametrize(("second_hue", "joined"), [(0, True), (4, False)])
def test_clothes_must_match(second_hue: int, joined: bool) -> None:
    first = RunnerSpec(track_id=3, gaps=((80, 180),), shirt_hue=0, **BASE)  # red
    second = RunnerSpec(track_id=7, gaps=((0, 95),), shirt_hue=second_hue, **BASE)  # red, or blue
    analysis = _analyse(first, second)
    assert analysis.tracks_merged == int(joined)


def test_look_difference_of_known_descriptors() -> None:
    red, blue = np.zeros(appearance.DIMENSIONS), np.zeros(appearance.DIMENSIONS)
    red[[0, appearance.BINS]] = 1.0
    blue[[4, appearance.BINS]] = 1.0
    assert appearance.distance(red, red) == pytest.approx(0.0)
    assert appearance.distance(red, blue) == pytest.approx(np.sqrt(1.0) / 2)  # shirts differ, shorts alike
    half = red.copy()
    half[appearance.BINS:] = np.nan  # thighs unseen: the shirt alone decides
    assert appearance.distance(half, blue) == pytest.approx(1.0)


def test_a_runner_approaching_the_camera_keeps_her_id_when_hidden() -> None:
    # From 12 m at 3 m/s toward a fixed camera, hidden from 1.5 to 2.0 s: her torso grows from
    # 1.6x to 2.0x its first size across the gap, and faster every frame (1 / size falls in a
    # straight line), more than a size read as it is, or carried at its px/frame rate, allows.
    approach = {"view": "front", "approach_m_per_s": 3.0, "duration_s": 3.0, "noise_px": 0.5,
                "scale_px_per_m": 60.0, "origin_px": (640.0, 300.0)}
    first = RunnerSpec(track_id=3, gaps=((45, 90),), **approach)
    second = RunnerSpec(track_id=7, gaps=((0, 60),), **approach)
    analysis = _analyse(first, second)
    assert dict(analysis.id_map) == {3: 3, 7: 3}
    # someone 40 % smaller on the same path is not her: the tolerance (0.2) plus twice the noise
    # of sizes carried 1 s at a rate read from 0.5 px keypoint jitter (about 0.06 here) is less
    someone_else = RunnerSpec(track_id=7, gaps=((0, 60),), **{**approach, "body_scale": 0.6})
    assert _analyse(first, someone_else).tracks_merged == 0


def test_a_size_is_carried_as_its_inverse() -> None:
    # 100 px at frame 10, 1/size falling 1e-4 per frame: at frame 60, 1 / (0.01 - 0.005) = 200 px
    size = EndSize(torso=100.0, spread=0.01, frame=10.0, rate=-1e-4, rate_spread=1e-5)
    torso, error = size.at(60.0)
    assert torso == pytest.approx(200.0)
    assert error == pytest.approx(np.hypot(0.01, 1e-5 * 50 * 200))  # the rate's error grows with the span
    assert size.at(200.0)[0] == MAX_TORSO_PX  # she would have reached the camera
    unmeasured = EndSize(torso=100.0, spread=0.02, frame=10.0)
    assert unmeasured.at(60.0) == (100.0, 0.02)


def _fragment(track_id: int, start: int, end: int, start_size: EndSize, end_size: EndSize) -> Fragment:
    centre, still = np.array([200.0, 600.0]), np.zeros(2)
    return Fragment(track_id, start, end, centre, centre, still, still, 300.0, 300.0, start_size, end_size,
                    np.full(4, np.nan), None, None)


def test_a_size_carried_past_the_camera_leaves_the_other_direction_to_decide() -> None:
    """A jogger close to the camera and coming closer (torso 100 px, 1 / size falling 3e-4 a
    frame) would reach it within 34 frames: carried forward her size says nothing (an infinite
    error), and it had let the size gate pass a person a third her size starting 37 frames
    later in the distance (the group jog at 30 fps: a jogger who left the picture joined to a
    walker crossing the road). Carried backward at her rate, that person's 30 px would have been
    22.5 px when she was 100: 1.27 apart, against a tolerance of 0.2."""
    near = EndSize(torso=100.0, spread=0.01, frame=100.0, rate=-3e-4, rate_spread=1e-5)
    far = EndSize(torso=30.0, spread=0.02, frame=137.0)
    assert near.at(137.0)[1] == float("inf")
    a = _fragment(3, 40, 100, near, near)
    b = _fragment(7, 137, 160, far, far)
    difference, error = size_difference(a, b)
    assert difference == pytest.approx(abs(1 / (1 / 30 + 3e-4 * 37) - 100) / ((1 / (1 / 30 + 3e-4 * 37) + 100) / 2))
    assert np.isfinite(error) and difference - 2 * error > AnalysisSettings().stitch_max_proportion_difference
