"""Form faults: one known-answer row per fault and view, and a reason for every null."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from analysis_builders import RunnerSpec, analyse_spec, deviation
from scipy import stats

from pipeline.analysis import AnalysisSettings
from pipeline.analysis.faults import decided, fraction_lower_bound, measure, median_interval, prior_half_width
from pipeline.analysis.registry import DEVIATIONS, FAULTS, PRIOR_STRIDES

SIDES = ("side_right", "side_left")
FRONTAL = ("front", "back")

# (fault, builder knobs, expected median, tolerance, flagged, views)
CASES = [
    ("elbow_angle", {"elbow_angle_deg": 90.0}, 90.0, 3.0, False, SIDES),
    ("elbow_angle", {"elbow_angle_deg": 60.0}, 60.0, 3.0, True, SIDES),
    ("elbow_angle", {"elbow_angle_deg": 130.0}, 130.0, 3.0, True, SIDES),
    ("trunk_lean", {"trunk_lean_deg": 6.0}, 6.0, 2.0, False, SIDES),
    ("trunk_lean", {"trunk_lean_deg": 20.0}, 20.0, 2.0, True, SIDES),
    ("trunk_lean", {"trunk_lean_deg": -5.0}, -5.0, 2.0, True, SIDES),
    ("looking_down", {"head_pitch_deg": 12.0}, 12.0, 3.0, False, SIDES),
    ("looking_down", {"head_pitch_deg": 35.0}, 35.0, 3.0, True, SIDES),
    # from the front the verdict must hold beyond the camera-height allowance (10 deg) too
    ("looking_down", {"head_pitch_deg": 5.0}, 5.0, 1.5, False, ("front",)),
    ("looking_down", {"head_pitch_deg": 50.0}, 50.0, 1.5, True, ("front",)),
    ("neck_flexion", {"neck_flexion_deg": 8.0}, 8.0, 2.0, False, SIDES),
    ("neck_flexion", {"neck_flexion_deg": 30.0}, 30.0, 2.0, True, SIDES),
    ("overstride", {"overstride": 0.05}, 0.05, 0.02, False, SIDES),
    ("overstride", {"overstride": 0.28}, 0.28, 0.02, True, SIDES),
    ("arm_crossing", {"arm_crossing": -0.1}, -0.1, 0.03, False, FRONTAL),
    ("arm_crossing", {"arm_crossing": 0.25}, 0.25, 0.03, True, FRONTAL),
    ("elbow_flare", {"elbow_flare": 0.1}, 0.1, 0.03, False, FRONTAL),
    ("elbow_flare", {"elbow_flare": 0.5}, 0.5, 0.03, True, FRONTAL),
    ("shrugged_shoulders", {"ear_shoulder_ratio": 0.4}, 0.4, 0.02, False, (*SIDES, *FRONTAL)),
    ("shrugged_shoulders", {"ear_shoulder_ratio": 0.18}, 0.18, 0.02, True, (*SIDES, *FRONTAL)),
]
PARAMS = [
    pytest.param(
        fault, knobs, value, tol, flagged, view, id=f"{fault}-{list(knobs.values())[0]}-{view}"
    )
    for fault, knobs, value, tol, flagged, views in CASES
    for view in views
]


@pytest.mark.parametrize(("fault", "knobs", "value", "tol", "flagged", "view"), PARAMS)
def test_fault_value_and_flag(
    fault: str, knobs: dict, value: float, tol: float, flagged: bool, view: str
) -> None:
    analysis, _ = analyse_spec(RunnerSpec(view=view, noise_px=0.5, **knobs))
    row = deviation(analysis, fault)
    assert row["reason"] is None
    assert row["value"] == pytest.approx(value, abs=tol)
    assert row["flagged"] is flagged
    assert row["fraction_flagged"] == (1.0 if flagged else 0.0)
    assert row["strides_measured"] >= 3
    assert row["worst_frame"] is not None


@pytest.mark.parametrize("overstride", [0.0, 0.15, 0.3])
def test_shank_angle_at_contact_matches_the_geometry(overstride: float) -> None:
    # Measured at the end of the foot's forward reach, which comes about a frame before the
    # stick runner's touchdown; the shank is still swinging back then, by up to 8 degrees.
    analysis, truth = analyse_spec(RunnerSpec(overstride=overstride, noise_px=0.5))
    row = deviation(analysis, "shank_angle")
    assert truth.shank_angle_deg - 8.5 <= row["value"] <= truth.shank_angle_deg + 3.0
    assert row["flagged"] is (row["value"] > 10.0)
    contact = analysis.contacts.to_pylist()[3]
    assert contact["overstride_leg_lengths"] == pytest.approx(overstride, abs=0.02)


def test_overstride_worst_frame_is_a_contact() -> None:
    analysis, _ = analyse_spec(RunnerSpec(overstride=0.25, noise_px=0.5))
    assert (
        deviation(analysis, "overstride")["worst_frame"]
        in analysis.contacts.column("frame").to_pylist()
    )


def test_pose_method_lean_follows_the_trunk() -> None:
    upright = deviation(analyse_spec(RunnerSpec(trunk_lean_deg=2.0))[0], "pose_method_lean")
    leaning = deviation(analyse_spec(RunnerSpec(trunk_lean_deg=25.0))[0], "pose_method_lean")
    assert 0.0 < upright["value"] < leaning["value"]
    assert upright["flagged"] is False


VIEW_NULLS = {
    "front": (
        "elbow_angle",
        "neck_flexion",
        "trunk_lean",
        "overstride",
        "shank_angle",
        "pose_method_lean",
    ),
    "back": (
        "elbow_angle",
        "looking_down",
        "neck_flexion",
        "trunk_lean",
        "overstride",
        "shank_angle",
        "pose_method_lean",
    ),
    "side_right": ("arm_crossing", "elbow_flare"),
    # 50 deg off the side, past sagittal_max_shoulder_ratio's 45: the faults read on the body's
    # midline (head, neck, trunk) still are; a foot's or an elbow's sideways offset would leak
    # into the others
    "oblique_50": tuple(f for f in DEVIATIONS if f != "shrugged_shoulders" and not FAULTS[f].midline),
    # turned 35 deg from the camera, the fore-aft arm swing would read as flare and crossing
    "front_turned_35": tuple(f for f in DEVIATIONS if f != "shrugged_shoulders" and not FAULTS[f].midline),
}


@pytest.mark.parametrize(("view", "faults"), VIEW_NULLS.items(), ids=VIEW_NULLS.keys())
def test_faults_the_view_cannot_see_are_null_with_reason_view(view: str, faults: tuple) -> None:
    # the head level enough that from the front it is judged beyond the camera-height allowance
    analysis, _ = analyse_spec(RunnerSpec(view=view, elbow_angle_deg=140.0, head_pitch_deg=5.0))
    for fault in faults:
        row = deviation(analysis, fault)
        assert (row["value"], row["flagged"], row["reason"]) == (None, None, "view"), fault
    measured = set(DEVIATIONS) - set(faults)
    assert all(deviation(analysis, f)["reason"] is None for f in measured)


def test_occluded_arms_give_reason_occluded() -> None:
    hidden = ("left_wrist", "right_wrist")
    analysis, _ = analyse_spec(RunnerSpec(hidden=hidden))
    row = deviation(analysis, "elbow_angle")
    assert (row["value"], row["reason"]) == (None, "occluded")
    assert deviation(analysis, "trunk_lean")["reason"] is None


def test_low_confidence_keypoints_give_reason_low_confidence() -> None:
    analysis, _ = analyse_spec(RunnerSpec(keypoint_conf=0.4))
    row = deviation(analysis, "trunk_lean")
    assert (row["value"], row["reason"]) == (None, "low_confidence")


def test_a_clip_of_one_stride_is_judged_with_a_wide_interval() -> None:
    """One stride (1 s at 180 spm) gives a verdict, its interval several times a 9 s clip's;
    half a second (one step, no stride) gives none."""
    one, _ = analyse_spec(RunnerSpec(duration_s=1.0))
    many, _ = analyse_spec(RunnerSpec(duration_s=9.0))
    assert one.runners.column("strides").to_pylist() == [1]
    wide, narrow = deviation(one, "elbow_angle"), deviation(many, "elbow_angle")
    assert wide["value"] == pytest.approx(90.0, abs=1.0) and wide["strides_measured"] == 1
    assert wide["value_high"] - wide["value_low"] > 5 * (narrow["value_high"] - narrow["value_low"])
    short, _ = analyse_spec(RunnerSpec(duration_s=0.5))
    row = deviation(short, "elbow_angle")
    assert (row["value"], row["reason"]) == (None, "too_few_strides")


def test_every_null_value_has_a_reason() -> None:
    for spec in (RunnerSpec(view="front"), RunnerSpec(gait="stand"), RunnerSpec(duration_s=1.6)):
        for row in analyse_spec(spec)[0].deviations.to_pylist():
            assert (row["value"] is None) == (row["reason"] is not None)
            assert (row["flagged"] is None) == (row["reason"] is not None)


def test_shoulders_creeping_up_are_flagged_as_drift() -> None:
    analysis, _ = analyse_spec(RunnerSpec(duration_s=9.0, ear_shoulder_ratio=0.4, shrug_late=0.28))
    row = deviation(analysis, "shrugged_shoulders")
    assert row["value"] > AnalysisSettings().shrug_min_ratio  # the median alone would pass
    assert row["first_third_value"] == pytest.approx(0.4, abs=0.02)
    assert row["drift"] == pytest.approx(-0.12, abs=0.02)
    assert row["flagged"] is True


def test_steady_form_has_no_drift() -> None:
    analysis, _ = analyse_spec(RunnerSpec(duration_s=9.0, noise_px=0.5))
    for fault in ("elbow_angle", "trunk_lean", "overstride", "shrugged_shoulders"):
        assert deviation(analysis, fault)["drift"] == pytest.approx(0.0, abs=0.5)


def test_thresholds_come_from_the_settings() -> None:
    settings = AnalysisSettings(trunk_lean_max_deg=4.0)
    analysis, _ = analyse_spec(RunnerSpec(trunk_lean_deg=6.0), settings=settings)
    assert deviation(analysis, "trunk_lean")["flagged"] is True


def test_a_small_runner_is_judged_when_its_keypoints_are_steady() -> None:
    analysis, _ = analyse_spec(RunnerSpec(elbow_angle_deg=140.0, overstride=0.3, scale_px_per_m=80.0,
                                          noise_px=0.5))
    runner = analysis.runners.to_pylist()[0]
    assert runner["leg_length_px"] < 100 and runner["is_runner"]
    assert runner["cadence_spm"] == pytest.approx(180, rel=0.03)
    for fault in ("elbow_angle", "overstride"):
        row = deviation(analysis, fault)
        assert row["flagged"] is True
        assert row["value_low"] <= row["value"] <= row["value_high"]


def test_one_stride_gets_the_prior_t_interval() -> None:
    """One sample: Student's t on PRIOR_STRIDES dof times the fault's stride_sd, widened by
    sqrt(pi/2) for a median (2.920 x 4.2 deg x 1.2533 = 15.4 deg for looking down)."""
    spec = FAULTS["looking_down"]
    t = stats.t.ppf(0.95, PRIOR_STRIDES)
    assert t == pytest.approx(2.920, abs=1e-3)
    assert prior_half_width(np.array([20.0]), spec) == pytest.approx(t * spec.stride_sd * np.sqrt(np.pi / 2))
    assert prior_half_width(np.array([20.0]), spec) == pytest.approx(15.37, abs=0.01)


def test_many_strides_are_judged_by_their_own_spread() -> None:
    """Forty strides of SD 10 deg: the pooled variance is (2 x 4.2^2 + 39 x 100) / 41, so the
    half-width is t(41) x sqrt(var x pi/2 / 40) = 1.683 x 1.941 = 3.27 deg."""
    spec = FAULTS["looking_down"]
    values = 20.0 + 10.0 * stats.norm.ppf((np.arange(40) + 0.5) / 40)
    values = 20.0 + (values - 20.0) * 10.0 / np.std(values, ddof=1)
    pooled = (PRIOR_STRIDES * spec.stride_sd**2 + 39 * 100.0) / (PRIOR_STRIDES + 39)
    expected = stats.t.ppf(0.95, PRIOR_STRIDES + 39) * np.sqrt(pooled * np.pi / 2 / 40)
    assert prior_half_width(values, spec) == pytest.approx(expected)
    assert prior_half_width(values, spec) == pytest.approx(3.27, abs=0.01)


def test_the_interval_holds_the_median_is_seeded_and_never_narrower_than_the_prior() -> None:
    spec = FAULTS["elbow_angle"]
    steady = np.full(9, 100.0)
    half = prior_half_width(steady, spec)
    assert median_interval(steady, spec) == pytest.approx((100.0 - half, 100.0 + half))  # bootstrap: no width
    spread = np.array([70.0, 80.0, 90.0, 100.0, 110.0, 120.0, 130.0])
    low, high = median_interval(spread, spec, seed=3)
    assert low < 100.0 < high and high - low >= 2 * prior_half_width(spread, spec) - 1e-9
    assert median_interval(spread, spec, seed=3) == (low, high)


def test_the_fraction_of_faulty_strides_has_an_exact_lower_bound() -> None:
    """Clopper-Pearson at 90 % two-sided: 1 of 1 -> 0.05, 10 of 10 -> 0.05^(1/10) = 0.741."""
    assert fraction_lower_bound(0, 5) == 0.0
    assert fraction_lower_bound(1, 1) == pytest.approx(0.05)
    assert fraction_lower_bound(10, 10) == pytest.approx(0.05 ** 0.1)
    assert fraction_lower_bound(3, 10) < 0.3 < fraction_lower_bound(8, 10)


def test_a_wide_interval_is_judged_when_it_settles_the_verdict_either_way() -> None:
    """Trunk lean, normal 0-15 deg forward: an interval of 2-13 deg is normal throughout and
    21-35 deg faulty throughout, however wide; -3 to 9 deg straddles the 0 deg limit and
    -20 to 40 deg spans the whole band from both sides (faulty at both ends, normal between):
    neither settles anything. One stride settles it too (its sample is the median of the
    stride's frames, its interval the prior's t on 2 dof); one contact never does (one frame at
    a detected moment: shank angle -30 to -10 deg against its 10 deg limit stays undecided)."""
    lean = measure(FAULTS["trunk_lean"], AnalysisSettings())
    two = np.array([7.0, 8.0])
    assert decided(lean, two, 2.0, 13.0) and decided(lean, two, 21.0, 35.0)
    assert not decided(lean, two, -3.0, 9.0) and not decided(lean, two, -20.0, 40.0)
    assert not lean.beyond(-20.0, 40.0)  # faulty at both ends is not faulty throughout
    assert decided(lean, np.array([7.0]), 2.0, 13.0)
    assert not decided(lean, np.array([7.0]), -3.0, 9.0)
    shank = measure(FAULTS["shank_angle"], AnalysisSettings())
    assert not decided(shank, np.array([-20.0]), -30.0, -10.0)
    assert decided(shank, np.array([-20.0, -18.0]), -30.0, -10.0)


def test_arm_crossing_is_settled_by_the_fraction_of_steps() -> None:
    """Arms crossing is flagged when over 30 % of steps cross the midline by 0.1 shoulder widths.
    Wrists 0.3-0.45 short of it on 4 steps: even the runner's 70th-percentile step (interval +
    0.524 pooled SDs, here sqrt((2 x 0.075^2 + 3 x s^2) / 5)) stays clear of it: settled, normal.
    Wrists 0.05 short to 0.08 past: a third of her steps may well cross, not settled. 4 of 4 steps
    crossing: the fraction's exact lower bound (0.47) is over 0.3, settled whatever the interval."""
    crossing = measure(FAULTS["arm_crossing"], AnalysisSettings())
    clear = np.array([-0.45, -0.40, -0.35, -0.30])
    sd = np.sqrt((PRIOR_STRIDES * 0.075**2 + 3 * np.var(clear, ddof=1)) / (PRIOR_STRIDES + 3))
    assert -0.2 + stats.norm.ppf(0.7) * sd < 0.1  # the numbers the verdict rests on
    assert decided(crossing, clear, -0.6, -0.2)
    near = np.array([-0.05, 0.0, 0.05, 0.08])
    assert not decided(crossing, near, -0.1, 0.09)
    over = np.array([0.2, 0.3, 0.25, 0.4])
    assert fraction_lower_bound(4, 4) > 0.3 and decided(crossing, over, -0.1, 0.6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_tiny_jittery_runner_gets_no_false_verdict(seed: int) -> None:
    """Legs about 45 px with 8 px of keypoint jitter: nothing is flagged on a faultless runner,
    and whatever is too uncertain says so with an interval wider than the fault's resolution."""
    analysis, _ = analyse_spec(RunnerSpec(scale_px_per_m=50.0, noise_px=8.0, seed=seed, duration_s=3.0))
    for row in analysis.deviations.to_pylist():
        assert row["flagged"] is not True, row
        if row["reason"] == "low_confidence" and row["value_low"] is not None:
            assert (row["value_high"] - row["value_low"]) / 2 > FAULTS[row["deviation"]].resolution
def test_a_flag_needs_the_whole_interval_beyond_the_threshold() -> None:
    """Elbow angle 111 deg against a 110 deg limit: the median is over, the interval is not."""
    analysis, _ = analyse_spec(RunnerSpec(elbow_angle_deg=111.0, noise_px=3.0, scale_px_per_m=100.0, seed=3,
                                          duration_s=3.0))
    row = deviation(analysis, "elbow_angle")
    assert row["value"] > 110.0  # over the limit at face value...
    assert row["value_low"] < 110.0 < row["value_high"]  # ...but not beyond its uncertainty
    assert row["flagged"] is False


def test_a_value_no_running_body_shows_is_null_as_implausible() -> None:
    """A 70 deg trunk lean (beyond a sprint start's ~45-50 deg) is a misread pose, not a fault."""
    analysis, _ = analyse_spec(RunnerSpec(trunk_lean_deg=70.0))
    row = deviation(analysis, "trunk_lean")
    assert row["reason"] == "implausible" and row["value"] is None and row["flagged"] is None


def test_a_contact_no_running_body_shows_is_null_in_the_contacts_table() -> None:
    """A landing with the shank 54 deg from vertical (beyond the 40 deg a sprint's first steps
    reach) is a misread pose: the contacts table shows null, as the verdict does, never -119 deg;
    a 14 deg shank is shown as read."""
    steep, truth = analyse_spec(RunnerSpec(overstride=0.9, noise_px=0.5))
    assert truth.shank_angle_deg > FAULTS["shank_angle"].plausible[1]
    assert [c["shank_angle_deg"] for c in steep.contacts.to_pylist()] == [None] * steep.contacts.num_rows
    usual, truth = analyse_spec(RunnerSpec(overstride=0.5, noise_px=0.5))
    shanks = [c["shank_angle_deg"] for c in usual.contacts.to_pylist()]
    assert all(shank == pytest.approx(truth.shank_angle_deg, abs=3.5) for shank in shanks)
    spec = FAULTS["overstride"]
    assert np.array_equal(spec.possible(np.array([-0.5, -0.4, 0.1, 0.8, 0.81, np.nan])),
                          [np.nan, -0.4, 0.1, 0.8, np.nan, np.nan], equal_nan=True)


@pytest.mark.parametrize("name", list(FAULTS))
def test_every_fault_has_a_sourced_plausible_range_holding_its_thresholds(name: str) -> None:
    spec = FAULTS[name]
    settings = AnalysisSettings()
    low, high = spec.plausible
    assert low < high and spec.plausible_source and spec.resolution > 0
    for threshold in (spec.low, spec.high):
        if threshold:
            assert low < getattr(settings, threshold) < high


def test_an_oblique_runner_is_measured_in_her_sagittal_plane() -> None:
    """Seen 30 deg off the side, horizontal distances shrink by cos 30 deg: de-projected, the lean
    and the overstride read as from the side (uncorrected they would be 10.4 deg and 0.22)."""
    analysis, _ = analyse_spec(RunnerSpec(view="oblique_30", trunk_lean_deg=12.0, overstride=0.25))
    assert analysis.runners.column("view").to_pylist() == ["oblique"]
    assert deviation(analysis, "trunk_lean")["value"] == pytest.approx(12.0, abs=1.0)
    assert deviation(analysis, "overstride")["value"] == pytest.approx(0.25, abs=0.02)
    assert deviation(analysis, "elbow_angle")["value"] == pytest.approx(90.0, abs=3.0)


@pytest.mark.parametrize("view", ["oblique_50", "front_turned_35"])
def test_a_runner_seen_from_past_45_deg_gets_her_midline_faults_only(view: str) -> None:
    """50 and 55 deg off the side (shoulder ratios about 0.51 and 0.54, past
    ``sagittal_max_shoulder_ratio``): horizontal distances shrink by cos 50-55 deg, so the lean
    reads 7.8-6.9 deg uncorrected. The mid-hip, mid-shoulder,
    mid-ear and nose lie on the body's midline, so de-projected the lean and the head read as
    from the side; a foot or an elbow sits off it, its sideways offset leaking in as tan 50-55
    deg of it, so the overstride and the elbow angle stay unread, and the neck (mid-shoulder to
    mid-ear, a short line whose noise the stretch multiplies) too."""
    spec = RunnerSpec(view=view, trunk_lean_deg=12.0, head_pitch_deg=20.0, noise_px=0.5)
    analysis, _ = analyse_spec(spec)
    assert deviation(analysis, "trunk_lean")["value"] == pytest.approx(12.0, abs=1.5)
    assert deviation(analysis, "looking_down")["value"] == pytest.approx(20.0, abs=2.5)
    for fault in ("neck_flexion", "overstride", "shank_angle", "pose_method_lean", "elbow_angle"):
        assert deviation(analysis, fault)["reason"] == "view", fault


def test_a_midline_point_seen_on_one_side_only_is_not_read_far_round() -> None:
    """55 deg off the side with one ear never found: the other alone is off the midline (its
    sideways offset would leak in as tan 55 deg of it), so the head is not read there, and the
    trunk, whose hips and shoulders are seen in pairs, still is. From 30 deg off the side
    (within ``sagittal_max_shoulder_ratio``, where a sideways offset leaks in as tan 30 deg) the
    one ear still serves, as it did before midline faults were read further round."""
    far = analyse_spec(RunnerSpec(view="front_turned_35", trunk_lean_deg=12.0, hidden=("left_ear",)))[0]
    assert deviation(far, "trunk_lean")["value"] == pytest.approx(12.0, abs=1.5)
    assert (deviation(far, "looking_down")["value"], deviation(far, "looking_down")["reason"]) == (None, "occluded")
    near = analyse_spec(RunnerSpec(view="oblique_30", head_pitch_deg=20.0, hidden=("left_ear",)))[0]
    assert deviation(near, "looking_down")["value"] is not None


def test_arm_faults_are_read_once_per_step() -> None:
    """Each step swings one arm forward: the arm faults take one sample per step, twice the
    cycles the shrug is read on plus the step into the first contact and the one out of the
    last where the clip has them (4 s at 30 fps, 180 steps/min: contacts at frames 6, 16, ...
    116, 5 whole cycles from 6 to 106; the step into frame 6 would start before the clip, the
    step 106-116 is the one more), and still read the builder's arm carriage (wrists
    0.1 shoulder widths short of the midline, elbows 0.1 outside the shoulders) at each step's
    peak."""
    analysis, _ = analyse_spec(RunnerSpec(view="front", duration_s=4.0, noise_px=0.5))
    cycles = deviation(analysis, "shrugged_shoulders")["strides_measured"]
    for fault, value in (("arm_crossing", -0.1), ("elbow_flare", 0.1)):
        row = deviation(analysis, fault)
        assert row["strides_measured"] == 2 * cycles + 1, fault
        assert row["value"] == pytest.approx(value, abs=0.05), fault


def test_a_cycle_seen_with_low_confidence_is_left_out_not_the_verdict() -> None:
    """The runner turns away for her last second (every keypoint at 0.2 confidence): those
    cycles give no sample, the others still judge her trunk lean."""
    from analysis_builders import build_runner

    from pipeline.analysis import analyse_detections

    spec = RunnerSpec(duration_s=6.0, noise_px=0.5)
    table, _ = build_runner(spec)
    late = pc.greater_equal(table.column("frame"), int(5.0 * spec.fps))
    for name in table.column_names:
        if name.endswith("_conf") and name != "box_conf":
            index = table.column_names.index(name)
            table = table.set_column(index, name, pc.if_else(late, pa.scalar(0.2, table.schema.field(name).type),
                                                              table.column(name)))
    analysis = analyse_detections(table, spec.fps, 1280, 720, AnalysisSettings())
    whole, _ = analyse_spec(spec)
    row, all_seen = deviation(analysis, "trunk_lean"), deviation(whole, "trunk_lean")
    assert row["reason"] is None and row["value"] == pytest.approx(6.0, abs=1.0)
    assert 0 < row["strides_measured"] < all_seen["strides_measured"]


def _head(pitch_deg: float, roll_deg: float = 0.0, ear_nose: float = 0.72) -> np.ndarray:
    """(1, 17, 2) keypoints of a head seen from the front: ears 100 px apart, the nose
    ``ear_nose`` ear-widths from them at ``pitch_deg`` below level, the head rolled ``roll_deg``."""
    from pipeline.analysis.geometry import EARS, NOSE

    kp = np.full((1, 17, 2), np.nan)
    points = {EARS[0]: (50.0, 0.0), EARS[1]: (-50.0, 0.0), NOSE: (0.0, 100 * ear_nose * np.sin(np.radians(pitch_deg)))}
    roll = np.radians(roll_deg)
    turn = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    for index, xy in points.items():
        kp[0, index] = np.array([300.0, 200.0]) + turn @ np.asarray(xy)
    return kp


@pytest.mark.parametrize("roll", [0.0, 25.0, -25.0])
@pytest.mark.parametrize("pitch", [0.0, 15.0, 40.0, -10.0])
def test_front_head_pitch_reads_the_nose_drop_below_the_ears(pitch: float, roll: float) -> None:
    """Known answers: the nose's drop square to the ear line over 0.72 ear widths is the sine
    of the pitch, whatever the head's sideways tilt; the head-shape errors are those of a head
    15 % longer (toward level) and 15 % shorter (away from it)."""
    from pipeline.analysis.faults import EAR_NOSE_SPREAD, front_head_pitch

    value, nearer, further = (float(a[0]) for a in front_head_pitch(_head(pitch, roll)))
    assert value == pytest.approx(pitch, abs=1e-6)
    sine = abs(np.sin(np.radians(pitch)))
    longer = np.degrees(np.arcsin(sine / (1 + EAR_NOSE_SPREAD)))
    shorter = np.degrees(np.arcsin(sine / (1 - EAR_NOSE_SPREAD)))
    toward, away = abs(pitch) - longer, shorter - abs(pitch)
    assert (nearer, further) == pytest.approx((toward, away) if pitch >= 0 else (away, toward), abs=1e-6)


def test_front_head_pitch_is_nan_for_a_misread_face() -> None:
    from pipeline.analysis.faults import front_head_pitch

    # the nose further below the ears than the ear->nose distance: no head does that
    assert np.isnan(front_head_pitch(_head(90.0, ear_nose=0.9))[0]).all()
    one_ear = _head(10.0)
    one_ear[0, 3] = np.nan
    assert np.isnan(front_head_pitch(one_ear)[0]).all()


def test_looking_down_from_the_front_holds_beyond_the_camera_allowance() -> None:
    """35 deg is past the 25 deg threshold, but from the front a camera up to 10 deg above the
    eyes, with a head 15 % longer than typical, could show a 20 deg pitch as 35: no verdict. A
    user who knows the camera is at eye height (allowance 0) gets one; from the side the
    camera's height does not enter."""
    front = RunnerSpec(view="front", noise_px=0.5, head_pitch_deg=35.0)
    assert deviation(analyse_spec(front)[0], "looking_down")["reason"] == "low_confidence"
    level = AnalysisSettings(front_camera_height_allowance_deg=0.0)
    row = deviation(analyse_spec(front, settings=level)[0], "looking_down")
    assert (row["flagged"], row["reason"]) == (True, None)
    assert row["value"] == pytest.approx(35.0, abs=1.5)
    side = deviation(analyse_spec(RunnerSpec(noise_px=0.5, head_pitch_deg=35.0))[0], "looking_down")
    assert (side["flagged"], side["reason"]) == (True, None)
