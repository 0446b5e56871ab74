"""Signal clean-up: swap repair, gap filling and low-pass, frame by frame."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_builders import RunnerSpec, analyse_spec, build_runner

from pipeline.analysis.geometry import LEG_GROUP
from pipeline.analysis.signals import fill_short_gaps, lowpass, repair_group_swaps
from pipeline.analysis.tracks import TrackSeries, tracks_from_table

SWAPS = (40, 41, 42, 43, 44, 90, 131)


def test_swapped_legs_are_swapped_back_frame_by_frame() -> None:
    table, truth = build_runner(RunnerSpec(swaps=SWAPS))
    raw = tracks_from_table(table)[0].keypoints
    assert not np.allclose(raw[list(SWAPS)], truth.keypoints[list(SWAPS)])
    repaired, swapped = repair_group_swaps(raw, *LEG_GROUP, cost_ratio=0.5)
    np.testing.assert_allclose(repaired, truth.keypoints, atol=1e-3)
    assert np.flatnonzero(swapped).tolist() == list(SWAPS)


def test_no_swap_is_invented_on_a_clean_noisy_track() -> None:
    table, _ = build_runner(RunnerSpec(noise_px=1.0, view="side_left"))
    _, swapped = repair_group_swaps(
        tracks_from_table(table)[0].keypoints, *LEG_GROUP, cost_ratio=0.5
    )
    assert not swapped.any()


def test_contacts_alternate_after_swap_repair() -> None:
    analysis, truth = analyse_spec(RunnerSpec(swaps=SWAPS, noise_px=0.5))
    runner = analysis.runners.to_pylist()[0]
    feet = analysis.contacts.column("foot").to_pylist()
    assert runner["swaps_repaired"] == len(SWAPS)
    assert runner["alternation_errors"] == 0
    assert all(a != b for a, b in zip(feet, feet[1:], strict=False))
    frames = dict(zip(analysis.contacts.column("frame").to_pylist(), feet, strict=True))
    for foot, expected in truth.contact_frames.items():
        assert all(frames.get(int(round(f))) == foot for f in expected)


@pytest.mark.parametrize(
    ("values", "max_gap", "expected"),
    [
        ([0, 1, np.nan, np.nan, 4], 2, [0, 1, 2, 3, 4]),
        ([0, 1, np.nan, np.nan, 4], 1, [0, 1, np.nan, np.nan, 4]),
        ([np.nan, 1, 2, np.nan], 5, [np.nan, 1, 2, np.nan]),  # ends are never extrapolated
        ([0, np.nan, 2, np.nan, np.nan, np.nan, 6], 2, [0, 1, 2, np.nan, np.nan, np.nan, 6]),
    ],
)
def test_fill_short_gaps(values, max_gap, expected) -> None:
    np.testing.assert_array_equal(fill_short_gaps(np.array(values, float), max_gap), expected)


def test_gaps_in_a_track_are_filled_only_when_short() -> None:
    analysis, truth = analyse_spec(RunnerSpec(gaps=((50, 53), (100, 120))))
    frames = analysis.contacts.column("frame").to_pylist()
    expected = sorted(int(round(f)) for f in np.concatenate(list(truth.contact_frames.values())))
    lost = [f for f in expected if 100 <= f < 120]
    assert lost and frames == [f for f in expected if f not in lost]
    runner = analysis.runners.to_pylist()[0]
    assert runner["frames_detected"] == 180 - 3 - 20
    assert runner["seconds_visible"] == pytest.approx(157 / 30)


def test_lowpass_is_zero_phase_and_removes_high_frequencies() -> None:
    fps = 30.0
    t = np.arange(300) / fps
    slow = np.sin(2 * np.pi * 1.0 * t)
    out = lowpass(slow + 0.5 * np.sin(2 * np.pi * 12.0 * t), fps, 6.0, 2, 0.8)
    np.testing.assert_allclose(out[30:-30], slow[30:-30], atol=0.03)


def test_lowpass_never_filters_across_a_gap() -> None:
    values = np.concatenate([np.zeros(40), [np.nan] * 10, np.full(40, 100.0)])
    out = lowpass(values, 30.0, 5.0, 2, 0.8)
    assert np.isnan(out[40:50]).all()
    np.testing.assert_allclose(out[:40], 0.0, atol=1e-9)
    np.testing.assert_allclose(out[50:], 100.0, atol=1e-9)


def test_lowpass_cutoff_is_clipped_below_nyquist() -> None:
    values = np.sin(np.arange(100) * 0.3)
    out = lowpass(values, 10.0, 8.0, 2, 0.8)  # 8 Hz is above Nyquist (5 Hz): clipped to 4 Hz
    assert np.isfinite(out).all()


def test_track_series_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="TrackSeries.keypoints"):
        TrackSeries(
            1,
            np.arange(3),
            np.zeros((3, 5, 2)),
            np.zeros((3, 17)),
            np.zeros((3, 4)),
            np.ones(3, bool),
        )
    with pytest.raises(ValueError, match="consecutive"):
        TrackSeries(
            1,
            np.array([0, 2, 3]),
            np.zeros((3, 17, 2)),
            np.zeros((3, 17)),
            np.zeros((3, 4)),
            np.ones(3, bool),
        )


def test_the_gait_is_read_where_the_legs_move() -> None:
    """2 s still in the blocks, then 2 s of running at 3 steps/s: the bout starts at the start."""
    from pipeline.analysis.geometry import ANKLES, HIPS
    from pipeline.analysis.signals import stepping_span

    fps, t = 30.0, np.arange(120) / 30.0
    kp = np.zeros((120, 17, 2))
    kp[:, list(HIPS), 1] = 100.0
    swing = np.where(t >= 2.0, 40.0 * np.sin(2 * np.pi * 1.5 * (t - 2.0)), 0.0)
    kp[:, ANKLES[0], 0], kp[:, ANKLES[1], 0] = swing, -swing
    kp[:, list(ANKLES), 1] = 200.0
    kp += np.random.default_rng(0).normal(0, 0.3, kp.shape)  # a still body's jitter
    start, stop = stepping_span(kp, np.full(120, 100.0), fps, 0.25, 20.0)
    assert abs(start - 60) <= 8 and stop == 120
    steady = stepping_span(kp[60:], np.full(60, 100.0), fps, 0.25, 20.0)
    assert steady == (0, 60)  # running all along: the whole track
