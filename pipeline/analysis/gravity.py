"""Gravity as a clock: how much a clip is slowed down, without trusting its cadence.

In a running stride's flight both feet are off the ground and the body is a projectile: its
centre of mass falls at g = 9.81 m/s^2 whatever the runner's speed, cadence or style. The
top of each bounce of the trunk is mid-flight, so a parabola fitted to the trunk's height
around each crest gives the body's downward acceleration in pixels per video frame squared.
The runner's own leg gives the metres: hip->knee + knee->ankle is about 0.49 of stature
(Drillis & Contini 1966 segment proportions), about 0.86 m for an adult. Footage slowed k
times shows that acceleration k^2 times smaller, so

    k = sqrt(g * leg_px / LEG_M / (curvature_px_per_frame^2 * fps^2)).

Only the crest is fitted: the central ``CREST_FRACTION`` of a step, well inside the flight
phase of running (flight is 30-50 % of a running step, Novacheck 1998), and the fit needs at
least ``MIN_FIT_SAMPLES`` frames, so a real-time 30 fps clip of a 180 steps/min runner (10
frames a step) is read from its 5 central frames. Those 5 frames must lie within one flight:
at a low frame rate they span more of the step than the flight (``MAX_FIT_STEPS``), take in
the stance, where the legs push the trunk up against gravity, and read a gentler curve, so a
real-time runner would read as slowed; there the clock is not measured. The trunk (mean of
shoulders and hips) is used raw, before the low-pass that would flatten the crest. Walkers have no flight: their
crest is an inverted pendulum's (about 0.3-0.5 g), so the clock is read only on gaits with
running kinematics (see :mod:`pipeline.analysis.running`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from pipeline.analysis.geometry import HIPS, SHOULDERS, nanmean_points

#: Standard gravity, m/s^2.
G = 9.81
#: Adult hip->knee->ankle length, m (0.49 of a 1.75 m stature; Drillis & Contini 1966).
LEG_M = 0.86
#: Fraction of a step, centred on the crest, that the parabola is fitted over.
CREST_FRACTION = 0.4
#: Fewest frames a crest fit takes (a parabola through 3 points fits noise exactly).
MIN_FIT_SAMPLES = 5
#: Widest fit, first to last frame, in steps: about the longest flight there is (56 % of a
#: sprint step: stance 22 % of the gait cycle, Novacheck 1998); wider, the fit takes in the
#: stance's push. Measured on four real-time side-view clips (treadmill, beach, sprint start,
#: snow park) with every 2nd, 3rd or 4th picture kept: fits spanning 0.37-0.56 of a step read
#: 0.93-1.04 times real time, 0.73-0.75 read 1.10-1.26, and 0.95-1.12 read 1.57-1.79.
MAX_FIT_STEPS = 0.6
#: Fewest crests a time scale is read from, counted in fitted frames: MIN_CRESTS short crests,
#: or fewer long ones (in strong slow motion one flight spans dozens of frames).
MIN_CRESTS = 3
#: The crests' median curvature must be this many standard errors above zero: peak-picking on
#: keypoint jitter alone also finds down-curved "crests", which would read as fast gravity.
MIN_SIGNIFICANCE = 2.0


@dataclass(frozen=True)
class GravityClock:
    """How much slower than real time a track's motion is, from its flight parabolas.

    Attributes:
        factor: k, video time / real time (1 = real time); NaN when not measurable.
        low, high: interquartile range of k over the crests.
        crests: crests fitted.
    """

    factor: float
    low: float
    high: float
    crests: int

    @classmethod
    def unmeasured(cls, crests: int = 0) -> GravityClock:
        return cls(float("nan"), float("nan"), float("nan"), crests)


def trunk_height_m(keypoints: np.ndarray, leg_px: np.ndarray) -> np.ndarray:
    """(T,) height of the trunk (mean of shoulders and hips) in metres, up positive, from raw
    (T, K, 2) keypoints and the (T,) leg length in pixels at each frame."""
    points = np.concatenate([nanmean_points(keypoints, SHOULDERS), nanmean_points(keypoints, HIPS)], axis=1)
    ys = points[:, 1::2]
    count = np.isfinite(ys).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(count > 0, np.nansum(ys, axis=1) / count, np.nan)
        return -y * LEG_M / leg_px


def _crest_half_width(step_frames: float) -> int:
    """Frames each side of a crest in its fit: ``CREST_FRACTION`` of a step, ``MIN_FIT_SAMPLES`` at least."""
    return max((MIN_FIT_SAMPLES - 1) // 2, int(round(CREST_FRACTION * step_frames / 2)))


def crest_curvatures(height_m: np.ndarray, step_frames: float) -> tuple[np.ndarray, np.ndarray]:
    """Downward acceleration at each crest of a (T,) height signal, m per frame^2 (positive
    when the body decelerates upward and falls, as in flight), and its standard error from the
    fit's residuals.

    Crests are maxima at least 0.6 steps apart; each is fitted by a parabola over the central
    ``CREST_FRACTION`` of a step (at least ``MIN_FIT_SAMPLES`` finite frames).
    """
    if not np.isfinite(step_frames) or step_frames <= 0:
        return np.zeros(0), np.zeros(0)
    half = _crest_half_width(step_frames)
    finite = np.isfinite(height_m)
    filled = np.where(finite, height_m, np.nanmin(height_m) if finite.any() else 0.0)
    peaks, _ = find_peaks(filled, distance=max(1, int(0.6 * step_frames)))
    curvature, error = [], []
    for p in peaks:
        lo, hi = p - half, p + half + 1
        if lo < 0 or hi > len(height_m) or not finite[lo:hi].all():
            continue
        t = np.arange(lo, hi, dtype=float) - p
        design = np.stack([t**2, t, np.ones_like(t)], axis=1)
        coef, residual, *_ = np.linalg.lstsq(design, height_m[lo:hi], rcond=None)
        dof = len(t) - 3
        sigma2 = float(residual[0]) / dof if len(residual) and dof > 0 else np.nan
        covariance = sigma2 * np.linalg.inv(design.T @ design)
        curvature.append(-2.0 * coef[0])
        error.append(2.0 * np.sqrt(covariance[0, 0]))
    return np.asarray(curvature, dtype=float), np.asarray(error, dtype=float)


def gravity_clock(
    keypoints: np.ndarray, leg_px: np.ndarray, step_frames: float, fps: float, contact_step_frames: float = np.nan
) -> GravityClock:
    """Slow-down factor of one track from its flight parabolas.

    Args:
        keypoints: (T, K, 2) raw keypoints in pixels (not low-passed), NaN where missing.
        leg_px: (T,) the runner's leg length in pixels at each frame.
        step_frames: the step period in video frames (half the spectral stride period).
        fps: the container's frame rate.
        contact_step_frames: the median interval between the track's contacts, frames (NaN:
            none). Either estimate can read a stride as a step; the fit must fit in a flight of
            the shorter, since a clock read over a stance flags real-time footage as slowed,
            while one not read only leaves the factor unmeasured.
    """
    if not (np.isfinite(step_frames) and step_frames > 0):
        return GravityClock.unmeasured()
    shortest = float(np.nanmin([step_frames, contact_step_frames]))
    if 2 * _crest_half_width(step_frames) > MAX_FIT_STEPS * shortest:  # too few frames a flight
        return GravityClock.unmeasured()
    curvature, error = crest_curvatures(trunk_height_m(keypoints, leg_px), step_frames)
    samples = len(curvature) * (2 * _crest_half_width(step_frames) + 1)
    if not len(curvature) or samples < MIN_FIT_SAMPLES * MIN_CRESTS:
        return GravityClock.unmeasured(len(curvature))
    # the fits' own errors, or the crests' scatter when there are enough crests to see it
    within = 1.0 / np.sqrt(np.nansum(1.0 / error**2)) if np.isfinite(error).any() else np.inf
    scatter = 1.2533 * np.std(curvature, ddof=1) / np.sqrt(len(curvature)) if len(curvature) >= 3 else 0.0
    if not np.median(curvature) > MIN_SIGNIFICANCE * max(within, scatter):
        return GravityClock.unmeasured(len(curvature))
    falling = curvature[curvature > 0]
    factors = np.sqrt(G / (falling * fps**2))
    q1, q3 = np.percentile(factors, [25, 75])
    median = np.sqrt(G / (np.median(curvature) * fps**2))
    return GravityClock(float(median), float(q1), float(q3), len(curvature))
