"""Runner analysis on real clips from ../shared/footage (skipped where that folder is absent).

Each clip runs once per test session through the whole per-video pipeline (the ``processed``
fixture, shared with test_footage_accuracy.py on the same test worker), mostly at 480-640 px (these single subjects are
large) and only the seconds needed, to keep the suite short on a CPU.
"""

from __future__ import annotations

import pyarrow.dataset as ds
import pytest

# Its clips' runs are shared by its tests: keep them on one test worker, with the two tests of
# test_footage_accuracy.py that score the same runs (the others spread over both workers).
pytestmark = pytest.mark.xdist_group("footage_analysis")

_CLIPS = {  # clip: analysed span (s), inference size (px)
    # 15-20x slow motion: one stride takes ~10 s of footage, so the whole clip is needed
    "single_side_elite_slowmo.mp4": (0.0, None, 480),
    # the spans and sizes test_footage_accuracy.py scores: one run serves both
    "single_back_snow_park.mp4": (0.0, 6.0, "auto"),
    "single_front_in_place_indoor.mp4": (0.0, None, 640),
    "walkers_group_front_mall.mp4": (0.0, 4.0, 640),
    "two_people_walking_park.mp4": (0.0, None, 640),
    "single_side_beach_cuts.mp4": (0.0, 6.0, 640),
}


@pytest.fixture(scope="module")
def analysed(processed):
    def run(name: str) -> dict:
        start, end, size = _CLIPS[name]
        row, out = processed(name, start, end, size)
        tables = {t: ds.dataset(out / t).to_table().to_pylist() for t in ("runners", "contacts", "deviations")}
        return {"video": row, **tables}

    return run


def _main_person(result: dict) -> dict:
    return max(result["runners"], key=lambda r: r["frames_detected"])


@pytest.mark.parametrize(
    ("clip", "view"),
    [("single_side_elite_slowmo.mp4", "side"), ("single_back_snow_park.mp4", "back"),
     ("single_front_in_place_indoor.mp4", "front")],
)
def test_single_runners_get_the_right_view(analysed, clip, view):
    person = _main_person(analysed(clip))
    assert person["view"] == view
    assert person["is_runner"]


def test_running_in_place_is_running_with_a_running_cadence(analysed):
    # Hand count from frames 0-59: the same knee is highest at frames ~19, 39 and 58, a stride
    # of 19.5 frames at 29.93 fps = 184 steps/min.
    result = analysed("single_front_in_place_indoor.mp4")
    person = _main_person(result)
    assert person["activity"] == "running"
    assert person["cadence_spm"] == pytest.approx(184, rel=0.03)
    # the feet barely rise from the front: landings dated from the hips' bounce
    assert {c["event"] for c in result["contacts"]} == {"initial_contact_estimated"}


def test_back_view_runner_cadence_matches_the_hand_count(analysed):
    # Hand count from the hip bounce: 28 steps between frames 22 and 327 at 29.97 fps = 165 spm.
    result = analysed("single_back_snow_park.mp4")
    person = _main_person(result)
    assert person["cadence_spm"] == pytest.approx(165, rel=0.03)
    contacts = [c for c in result["contacts"] if c["track_id"] == person["track_id"]]
    assert len(contacts) >= 12  # 5 s at 165 spm is ~13 steps
    assert all(c["time_s"] == pytest.approx(c["frame"] / result["video"]["fps"]) for c in contacts)


def test_side_view_runner_cadence_matches_the_hand_count(analysed):
    # Hand count: landings at frames ~25.5, 33.5, 42.5, 50.5, 58.5 at 25 fps, 8.25 frames a step = 182 spm.
    person = _main_person(analysed("single_side_beach_cuts.mp4"))
    assert person["view"] == "side" and person["is_runner"]
    assert person["cadence_spm"] == pytest.approx(182, rel=0.03)


def test_slow_motion_clip_is_flagged_not_given_a_wrong_cadence(analysed):
    result = analysed("single_side_elite_slowmo.mp4")
    assert result["video"]["slow_motion_suspected"] is True
    assert _main_person(result)["slow_motion_suspected"] is True


def test_front_view_gets_no_elbow_angle_or_overstride(analysed):
    result = analysed("single_front_in_place_indoor.mp4")
    person = _main_person(result)
    rows = {d["deviation"]: d for d in result["deviations"] if d["track_id"] == person["track_id"]}
    for side_only in ("elbow_angle", "overstride", "trunk_lean"):
        assert rows[side_only]["value"] is None and rows[side_only]["reason"] == "view"
    assert rows["elbow_flare"]["value"] is not None  # a front view sees the arms' width


@pytest.mark.parametrize("clip", ["walkers_group_front_mall.mp4", "two_people_walking_park.mp4"])
def test_walkers_get_no_verdicts_and_every_null_has_a_reason(analysed, clip):
    result = analysed(clip)
    assert result["runners"], "the walkers are in the data"
    assert not any(r["is_runner"] for r in result["runners"])
    assert not any(d["flagged"] for d in result["deviations"])
    for d in result["deviations"]:
        assert (d["value"] is None) == (d["reason"] is not None)
    assert result["video"]["runners"] == 0
    assert result["video"]["slow_motion_suspected"] is False  # a slow walker is not slow motion
