"""The running verdict, rule by rule, on hand-made gait summaries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from analysis_builders import RunnerSpec, analyse_spec, deviation

from pipeline.analysis import AnalysisSettings
from pipeline.analysis.gait import Gait
from pipeline.analysis.running import Activity, classify_activity, kept_rhythm, moves_in_real_time, running_cues
from pipeline.analysis.travel import Travel

NAN = float("nan")
RUNNER = Gait(
    contact_index=np.arange(0, 200, 10),
    contact_time_s=np.arange(0, 200, 10) / 30.0,
    contact_foot=np.tile(np.array([0, 1], np.int8), 10),
    strides=np.zeros((0, 2), np.int64),
    cycles=np.zeros((0, 2), np.int64),
    step_spans=np.zeros((0, 2), np.int64),
    stride_period_frames=20.0,
    leg_length_px=200.0,
    leg_scale_px=np.full(200, 200.0),
    cadence_spm=180.0,
    cadence_spectral_spm=180.0,
    step_asymmetry=0.0,
    vertical_oscillation=0.09,
    flight_fraction=0.2,
    foot_lift=0.4,
    knee_min_angle_deg=60.0,
    arm_swing_deg=70.0,
    elbow_angle_deg=90.0,
    alternation_errors=0,
)
WALKER = replace(
    RUNNER,
    cadence_spm=110.0,
    vertical_oscillation=0.04,
    flight_fraction=0.0,
    knee_min_angle_deg=120.0,
    elbow_angle_deg=150.0,
)
FRONT = {"knee_min_angle_deg": NAN, "elbow_angle_deg": NAN}

CASES = {
    "runner": (RUNNER, {}, ("running", True, False)),
    "walker": (WALKER, {}, ("walking", False, False)),
    "runner with straight arms": (RUNNER, {"elbow_angle_deg": 160.0}, ("running", True, False)),
    # between running's 110 deg and walking's 115 the knee says neither (a treadmill runner's
    # 3-second half read 110.4 beside four running cues)
    "runner whose knee bends to 112 deg": (RUNNER, {"knee_min_angle_deg": 112.0}, ("running", True, False)),
    "knee straighter than any walker's swing": (RUNNER, {"knee_min_angle_deg": 130.0}, ("walking", False, False)),
    "bouncy walker with noisy flight": (
        WALKER,
        {"vertical_oscillation": 0.09, "flight_fraction": 0.3, "elbow_angle_deg": 90.0},
        ("walking", False, False),
    ),
    "front-view runner": (RUNNER, FRONT, ("running", True, False)),
    "front-view walker": (WALKER, FRONT, ("walking", False, False)),
    "shuffling jogger with flight": (
        RUNNER,
        {**FRONT, "vertical_oscillation": 0.03, "cadence_spm": 170.0},
        ("running", True, False),
    ),
    "slow motion": (RUNNER, {"cadence_spm": 18.0}, ("running", True, True)),
    "slow but not unanimous": (
        RUNNER,
        {"cadence_spm": 90.0, "elbow_angle_deg": 150.0},
        ("walking", False, False),
    ),
    "slow in front view: no knee to confirm": (
        RUNNER,
        {**FRONT, "cadence_spm": 45.0},
        ("walking", False, False),
    ),
    "slow walker": (WALKER, {"cadence_spm": 60.0}, ("walking", False, False)),
    "fast walker, straight knee": (WALKER, {"cadence_spm": 135.0}, ("walking", False, False)),
    "faster than any sprinter: steps misread": (RUNNER, {"cadence_spm": 350.0}, ("unknown", False, False)),
    # 20 steps: one fewer still reads 275 of 290, past any walker's (race walkers 190-210)
    "small sprinter seen obliquely, her bounce read low": (
        RUNNER, {**FRONT, "flight_fraction": NAN, "vertical_oscillation": 0.05, "cadence_spm": 290.0},
        ("running", True, False)),
    "the same cues at a brisk walk's cadence": (
        RUNNER, {**FRONT, "flight_fraction": NAN, "vertical_oscillation": 0.05, "cadence_spm": 150.0},
        ("walking", False, False)),
    "the same cues where one step fewer is a race walker's": (
        RUNNER, {**FRONT, "flight_fraction": NAN, "vertical_oscillation": 0.05, "cadence_spm": 225.0},
        ("walking", False, False)),
    # an official standing by the 100 m's track as the camera pans: three "steps" 5-6 frames
    # apart and a flight of 0.11 read from noise; one step fewer is a walker's cadence
    "three steps and a flight, nothing else running": (
        RUNNER, {"contact_index": np.array([20, 26, 31]), "cadence_spm": 265.0, "flight_fraction": 0.11,
                 "vertical_oscillation": 0.04, "knee_min_angle_deg": NAN, "elbow_angle_deg": 148.0},
        ("walking", False, False)),
    "twelve steps and the same flight": (
        RUNNER, {"contact_index": np.arange(20, 82, 5.6).astype(np.int64), "cadence_spm": 265.0,
                 "flight_fraction": 0.11, "vertical_oscillation": 0.04, "knee_min_angle_deg": NAN,
                 "elbow_angle_deg": 148.0},
        ("running", True, False)),
    # a man walking with his phone at the back of a group jog, seen from the front: three
    # "steps" at 152 and his hips read rising and falling 0.32 leg lengths, more than any
    # runner's bounce (a misread): nothing the view shows says running, so it is not
    "front-view walker whose hips read bouncing past any runner": (
        RUNNER, {**FRONT, "contact_index": np.array([438, 460, 480]), "cadence_spm": 152.0,
                 "flight_fraction": NAN, "vertical_oscillation": 0.32},
        ("unknown", False, False)),
    "too few steps, feet moving": (
        RUNNER,
        {"contact_index": np.array([3, 13])},
        ("unknown", False, False),
    ),
    "feet never lift": (
        RUNNER,
        {"contact_index": np.zeros(0, np.int64), "foot_lift": 0.01, "cadence_spm": NAN},
        ("standing", False, False),
    ),
}


@pytest.mark.parametrize(("gait", "changes", "expected"), CASES.values(), ids=CASES.keys())
def test_activity_rules(gait: Gait, changes: dict, expected: tuple) -> None:
    verdict = classify_activity(replace(gait, **changes), seconds=5.0, settings=AnalysisSettings())
    assert (verdict.label, verdict.is_runner, verdict.slow_motion_suspected) == expected


# an official by a panned track (the 100 m mirrored): three "steps" at 298 a minute and a flight
# of 0.16 read from noise, one step fewer still a runner's cadence; the pan carried the officials
# 3.5-11 leg lengths a second across the picture, against the ground they moved 0.2-0.9
OFFICIAL = replace(RUNNER, contact_index=np.array([149, 154, 159]), cadence_spm=298.0, flight_fraction=0.16,
                   vertical_oscillation=0.04, knee_min_angle_deg=NAN, elbow_angle_deg=148.0)
# a small sprinter seen obliquely: no cue the view can show, 18 steps at 215 a minute (one fewer
# is a race walker's)
SPRINTER = replace(RUNNER, **FRONT, contact_index=np.arange(0, 108, 6), cadence_spm=215.0, flight_fraction=NAN,
                   vertical_oscillation=NAN)
TRAVEL_CASES = {
    "standing while the camera pans: the steps and the flight are noise": (
        OFFICIAL, Travel(ground=0.4, picture=8.0), True, "walking"),
    "the same steps with the camera's motion unknown": (OFFICIAL, Travel.unmeasured(), True, "running"),
    "the same steps before a still camera (a treadmill)": (OFFICIAL, Travel(ground=0.4, picture=0.4), True,
                                                           "running"),
    "standing while panned, every running cue met: noise all the same": (
        RUNNER, Travel(ground=0.4, picture=8.0), True, "walking"),
    # from the front a runner comes toward the camera: her travel does not cross the picture
    "seen from the front while panned: travel toward the camera unseen": (
        RUNNER, Travel(ground=0.4, picture=8.0), False, "running"),
    "faster on the ground than any walker": (SPRINTER, Travel(ground=6.0, picture=1.2), True, "running"),
    # a 33 px side-on sprinter (the 100 m mirrored) whose knee read 144 deg at 228 steps a minute
    "faster than any walker, the small knee read straight": (
        replace(SPRINTER, knee_min_angle_deg=144.0), Travel(ground=8.3, picture=1.0), True, "running"),
    "the same knee at a walker's speed": (
        replace(SPRINTER, knee_min_angle_deg=144.0), Travel(ground=1.5, picture=1.0), True, "walking"),
    "at a walker's speed the same steps tell nothing": (SPRINTER, Travel(ground=1.5, picture=1.2), True, "unknown"),
    # 6 leg lengths a second at 100 steps a minute is 3.6 leg lengths a step: longer than anyone's
    "faster than any walker, at steps too long for anyone's": (
        replace(SPRINTER, cadence_spm=100.0), Travel(ground=6.0, picture=1.2), True, "unknown"),
}


@pytest.mark.parametrize(("gait", "moved", "lateral", "label"), TRAVEL_CASES.values(), ids=TRAVEL_CASES.keys())
def test_travel_against_the_ground(gait: Gait, moved: Travel, lateral: bool, label: str) -> None:
    verdict = classify_activity(gait, seconds=5.0, settings=AnalysisSettings(), moved=moved, lateral=lateral)
    assert verdict.label == label


def test_running_needs_a_second_of_footage() -> None:
    """Three contacts and a bounce in 0.6 s are a stride at most, as easily keypoint noise."""
    assert classify_activity(RUNNER, seconds=0.6, settings=AnalysisSettings()).label == "unknown"
    assert classify_activity(RUNNER, seconds=1.2, settings=AnalysisSettings()).label == "running"


def test_standing_needs_time_on_screen() -> None:
    still = replace(RUNNER, contact_index=np.zeros(0, np.int64), foot_lift=0.01, cadence_spm=NAN)
    assert classify_activity(still, seconds=0.5, settings=AnalysisSettings()).label == "unknown"


def test_a_straight_armed_runner_is_a_runner_with_a_fault() -> None:
    analysis, _ = analyse_spec(RunnerSpec(elbow_angle_deg=155.0, noise_px=0.5))
    assert analysis.runners.column("is_runner").to_pylist() == [True]
    row = deviation(analysis, "elbow_angle")
    assert row["flagged"] is True and row["value"] == pytest.approx(155.0, abs=3.0)


def test_a_real_time_walker_in_the_clip_rules_out_slow_motion() -> None:
    from analysis_builders import build_table

    from pipeline.analysis import analyse_detections

    slow_mover = RunnerSpec(cadence_spm=36.0, duration_s=12.0, noise_px=0.5, track_id=1)
    walker = RunnerSpec(gait="walk", cadence_spm=100.0, duration_s=12.0, noise_px=0.5, track_id=2,
                        origin_px=(300.0, 650.0), seed=1)
    alone = analyse_detections(build_table(slow_mover), 30.0, 1280, 720, AnalysisSettings())
    assert alone.slow_motion_suspected  # by itself it looks like a runner filmed in slow motion
    together = analyse_detections(build_table(slow_mover, walker), 30.0, 1280, 720, AnalysisSettings())
    assert not together.slow_motion_suspected
    people = {r["track_id"]: r for r in together.runners.to_pylist()}
    assert (people[1]["activity"], people[1]["is_runner"]) == ("walking", False)
    assert people[2]["activity"] == "walking"
    assert all(d["reason"] == "not_running" for d in together.deviations.to_pylist())


def test_a_slowed_replay_after_a_real_time_shot_is_slowed_and_only_it() -> None:
    """A broadcast's pattern: a shot in slow motion (a runner stepping at 36 a minute in video
    time), a cut at frame 400, then a shot in real time (a walker at 100 a minute). The walker is
    never on screen with the runner, so she does not rule the runner's slow motion out: the
    first shot is slowed (frames 0-399), its runner analysed at the slowed rate, and the walker's
    shot is analysed at the container's rate: walking, 100 steps a minute."""
    from analysis_builders import build_table

    from pipeline.analysis import analyse_detections

    slow_mover = RunnerSpec(cadence_spm=36.0, duration_s=12.0, noise_px=0.5, track_id=1)
    walker = RunnerSpec(gait="walk", cadence_spm=100.0, duration_s=12.0, noise_px=0.5, track_id=2,
                        origin_px=(300.0, 650.0), seed=1, first_frame=400)
    video = analyse_detections(build_table(slow_mover, walker), 30.0, 1280, 720, AnalysisSettings(),
                               shot_starts=(400,))
    assert video.slow_motion_suspected and video.slow_motion_ranges == ((0, 399),)
    people = {r["track_id"]: r for r in video.runners.to_pylist()}
    assert people[1]["is_runner"] and people[1]["slow_motion_suspected"]
    assert people[1]["fps_used"] == pytest.approx(30.0 * video.slow_motion_factor)
    assert (people[2]["activity"], people[2]["fps_used"]) == ("walking", 30.0)
    assert people[2]["cadence_spm"] == pytest.approx(100.0, rel=0.03)
    assert set(video.contacts["track_id"].to_pylist()) == {1, 2} and dict(video.id_map) == {1: 1, 2: 2}


def test_only_steps_that_keep_a_rhythm_show_the_clip_runs_in_real_time() -> None:
    """Someone stepping in real time rules slow motion out, but only when the steps keep a
    rhythm: 6 contacts 6-36 frames apart (a 60 px shape on a slowed screen recording, 'cadence'
    207) are noise, not a clock. Known answers: intervals 10 x 5 keep the rhythm; 6, 9, 13, 36, 7
    (median 9, within 30 %: 9 and 7) keep 2."""
    walking = Activity("walking", False, 2, 3, False)
    regular = replace(WALKER, contact_index=np.arange(0, 60, 10), cadence_spm=180.0)
    irregular = replace(regular, contact_index=np.array([181, 187, 196, 209, 245, 252]), cadence_spm=207.0)
    assert (kept_rhythm(regular.contact_index), kept_rhythm(irregular.contact_index)) == (5, 2)
    settings = AnalysisSettings()
    assert moves_in_real_time(walking, regular, settings)
    assert not moves_in_real_time(walking, irregular, settings)
    # a long noisy track keeps 5 intervals by chance, but not most of them
    noisy = replace(regular, contact_index=np.cumsum([0, 10, 10, 10, 10, 10, 3, 25, 4, 31, 2, 17]))
    assert kept_rhythm(noisy.contact_index) == 5 and not moves_in_real_time(walking, noisy, settings)


@pytest.mark.parametrize(
    ("changes", "side_on", "expected"),
    [
        # a sprinter seen obliquely: the knee projects straighter than it bends, the rhythm is a sprint
        ({"cadence_spm": 235.0, "knee_min_angle_deg": 125.0, "flight_fraction": 0.0}, False, "running"),
        # side-on the knee is seen as it is: a straight knee at a sprint rhythm is misread steps, not a sprinter
        ({"cadence_spm": 289.0, "knee_min_angle_deg": 166.0, "flight_fraction": 0.12}, True, "walking"),
        # a front-oblique sprinter: straight-looking knee and elbow, bounce, running rhythm
        ({"knee_min_angle_deg": 160.0, "elbow_angle_deg": 150.0, "flight_fraction": NAN}, False, "running"),
        # the same limbs seen from the pure side are real evidence of walking
        ({"knee_min_angle_deg": 160.0, "elbow_angle_deg": 150.0, "flight_fraction": NAN}, True, "walking"),
        # slow steps, flight and a bounce, but the knee seen only obliquely and straight: no sign of
        # a slowed runner (a group-jog fragment, 3 steps in 1.3 s, had flagged a real-time clip)
        ({"knee_min_angle_deg": 169.0, "elbow_angle_deg": NAN, "cadence_spm": 104.0, "flight_fraction": 0.07,
          "vertical_oscillation": 0.2, "contact_index": np.array([0, 35, 69])}, False, "walking"),
        # a brisk walker seen obliquely in a recompressed crowd: 138 steps a minute, a "flight" of
        # 0.06 (an ankle rising with the heel), a bounce of 0.058; flight is 0.1 of the time at the
        # slowest jog, so this is no flight
        ({"cadence_spm": 138.0, "flight_fraction": 0.06, "vertical_oscillation": 0.058, "knee_min_angle_deg": 173.0,
          "elbow_angle_deg": 158.0}, False, "walking"),
        # a bounce alone at a walking cadence is not running
        ({"knee_min_angle_deg": NAN, "elbow_angle_deg": NAN, "flight_fraction": NAN, "cadence_spm": 120.0},
         False, "walking"),
        # flight no runner can have at a distance cadence (a foot further away, seen from above)
        ({"knee_min_angle_deg": NAN, "elbow_angle_deg": NAN, "vertical_oscillation": NAN, "flight_fraction": 0.7,
          "cadence_spm": 170.0}, False, "unknown"),  # and with no cue left, the view cannot tell
    ],
)
def test_oblique_limbs_count_only_when_bent_and_flight_only_when_possible(changes, side_on, expected) -> None:
    verdict = classify_activity(replace(RUNNER, **changes), seconds=5.0, settings=AnalysisSettings(),
                                side_on=side_on)
    assert verdict.label == expected, verdict


@pytest.mark.parametrize(("cadence", "published"), [(180.0, 180.0), (300.0, 300.0), (360.0, None)])
def test_a_cadence_faster_than_anyone_steps_is_published_as_null(cadence: float, published: float | None) -> None:
    """Sprinters peak at 270-300 steps a minute: a stick runner at 300 keeps both cadences; one
    at 360, faster than any human, is a misread and shows neither (and is not called running)."""
    from pipeline.analysis.gait import MAX_HUMAN_CADENCE_SPM
    from pipeline.analysis.running import possible_cadence

    row = analyse_spec(RunnerSpec(cadence_spm=cadence, noise_px=0.5))[0].runners.to_pylist()[0]
    for column in ("cadence_spm", "cadence_spectral_spm"):
        assert row[column] == (None if published is None else pytest.approx(published, rel=0.01)), column
    assert (row["activity"] == "running") is (published is not None)
    assert possible_cadence(MAX_HUMAN_CADENCE_SPM) == MAX_HUMAN_CADENCE_SPM
    assert np.isnan(possible_cadence(MAX_HUMAN_CADENCE_SPM + 1.0))


@pytest.mark.parametrize(("changes", "flight", "oscillation"), [
    ({}, 0.2, 0.09),  # a distance runner: both as read
    ({"flight_fraction": 0.55, "vertical_oscillation": 0.31}, None, None),  # airborne too long, bouncing 27 cm
    ({"flight_fraction": 0.55, "cadence_spm": 240.0}, 0.55, 0.09),  # a sprinter can fly 0.55 of the time
    ({"flight_fraction": 0.65, "cadence_spm": 240.0}, None, 0.09),  # not 0.65
])
def test_gait_values_no_runner_shows_are_null(changes: dict, flight: float | None, oscillation: float | None) -> None:
    """Known answers: flight beyond what a runner can have at its cadence (0.5 under 220 steps
    a minute, 0.6 above) and a bounce above 0.3 leg lengths are misreads, NaN (null in the table)."""
    from pipeline.analysis.running import possible_flight, possible_oscillation

    gait = replace(RUNNER, **changes)
    read = {"flight": possible_flight(gait), "oscillation": possible_oscillation(gait.vertical_oscillation)}
    for name, expected in (("flight", flight), ("oscillation", oscillation)):
        assert np.isnan(read[name]) if expected is None else read[name] == expected, name


@pytest.mark.parametrize(("bounce", "least_bounce", "met"), [
    (0.09, 0.0, True),  # a steady runner: running's least reads as it is
    (0.09, 0.1, False),  # the same reading where 1 px of jitter makes running's least read 0.1
    (0.11, 0.1, True),
    (0.05, 0.0, False),
    (0.31, 0.0, None),  # more than any runner bounces (MAX_OSCILLATION_LEG_LENGTHS): a misread, no cue
])
def test_a_bounce_is_a_running_cue_only_past_what_noise_makes_of_running_s_least(
    bounce: float, least_bounce: float, met: bool | None
) -> None:
    gait = replace(RUNNER, **FRONT, flight_fraction=NAN, vertical_oscillation=bounce)
    assert running_cues(gait, AnalysisSettings(), least_bounce=least_bounce) == ([] if met is None else [met])
