"""Stitching fragments of one person, and never of two."""

from __future__ import annotations

import pytest
from analysis_builders import RunnerSpec, build_table

from pipeline.analysis import AnalysisSettings, analyse_detections

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
