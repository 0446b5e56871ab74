"""Gravity as a clock: known flights give known slow-down factors."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.geometry import HIPS, SHOULDERS
from pipeline.analysis.gravity import LEG_M, G, crest_curvatures, gravity_clock


def _bouncing_trunk(fps: float, slow: float, steps: int = 8, leg_px: float = 200.0, noise_px: float = 0.0,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """(T, 17, 2) keypoints of a trunk that flies ballistically for 40 % of each 0.33 s step and
    is pushed back up during stance (a spring), filmed at ``fps`` and played ``slow`` times slower."""
    step_s, flight_s = 1 / 3, 0.4 / 3
    t = np.arange(int(steps * step_s * slow * fps)) / (fps * slow)  # real time of each frame
    phase = np.mod(t, step_s)
    vy = G * flight_s / 2  # take-off speed of a flight of flight_s
    stance_s = step_s - flight_s
    flying = phase < flight_s
    rise = np.where(flying, vy * phase - G * phase**2 / 2,
                    -vy * stance_s / np.pi * np.sin(np.pi * (phase - flight_s) / stance_s))
    px_per_m = leg_px / LEG_M
    y = 400.0 - rise * px_per_m + np.random.default_rng(seed).normal(0, noise_px, len(t))
    kp = np.full((len(t), 17, 2), np.nan)
    for k in (*SHOULDERS, *HIPS):
        kp[:, k, 0] = 300.0
        kp[:, k, 1] = y - (150.0 if k in SHOULDERS else 0.0)
    step_frames = step_s * slow * fps
    return kp, np.full(len(t), leg_px), step_frames


@pytest.mark.parametrize(("fps", "slow"), [(30.0, 1.0), (60.0, 1.0), (30.0, 2.0), (30.0, 4.0), (25.0, 8.0)])
def test_the_flight_parabola_gives_the_slow_down_factor(fps: float, slow: float) -> None:
    kp, leg, step = _bouncing_trunk(fps, slow)
    clock = gravity_clock(kp, leg, step, fps)
    assert clock.factor == pytest.approx(slow, rel=0.2)
    assert clock.crests >= 3


@pytest.mark.parametrize("fps", [12.5, 15.0])
def test_too_few_frames_a_flight_give_no_factor(fps: float) -> None:
    """At 12.5-15 fps a step is 4-5 frames: a 5-frame parabola would take in the stance, where
    the legs push the trunk up, and read a real-time runner as 1.3-1.6x slowed."""
    kp, leg, step = _bouncing_trunk(fps, 1.0, steps=12)
    clock = gravity_clock(kp, leg, step, fps)
    assert np.isnan(clock.factor) and clock.crests == 0
    slowed = _bouncing_trunk(fps, 2.0, steps=12)  # the same footage slowed 2x: flights of 5 frames
    assert gravity_clock(*slowed, fps).factor == pytest.approx(2.0, rel=0.2)


def test_a_stride_read_as_a_step_does_not_widen_the_fit() -> None:
    """At 12.5 fps the spectrum of a short track can read a stride as a step (8 frames, not 4):
    its 5-frame fit would take in a stance and read 1.5x slowed. Contacts that keep a rhythm
    give the step too, and the fit must fit in a flight of the shorter."""
    kp, leg, step = _bouncing_trunk(12.5, 1.0, steps=16)
    assert gravity_clock(kp, leg, 2 * step, 12.5).factor > 1.4  # the failure this guards against
    assert np.isnan(gravity_clock(kp, leg, 2 * step, 12.5, contact_step_frames=step).factor)


def test_keypoint_jitter_on_a_small_runner_is_not_read_as_gravity() -> None:
    """Legs of 40 px with 3 px of jitter at 25 fps: the crests cannot be told from noise."""
    kp, leg, step = _bouncing_trunk(25.0, 1.0, leg_px=40.0, noise_px=3.0, seed=2)
    assert np.isnan(gravity_clock(kp, leg, step, 25.0).factor)


def test_an_unknown_step_period_gives_no_factor() -> None:
    kp, leg, _ = _bouncing_trunk(30.0, 1.0)
    assert np.isnan(gravity_clock(kp, leg, float("nan"), 30.0).factor)
    assert crest_curvatures(np.zeros(10), float("nan"))[0].size == 0
