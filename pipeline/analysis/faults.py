"""Form faults of docs/FORM_CUES.md, each measured only where the camera view supports it.

The faults themselves (views, keypoints, thresholds, plausible ranges) are the registry in
:mod:`pipeline.analysis.registry`. Every fault gives one :class:`Deviation` per runner: the
median over strides (or over ground contacts) with its 90 % confidence interval, the fraction
of strides beyond the threshold, how many strides were measured, the worst frame, and the
drift from the first to the last third of the time on screen. When a fault cannot be measured
its value is null and ``reason`` says why: ``not_running``, ``view``, ``occluded``,
``implausible`` (the pose mostly reads values no body can show), ``low_confidence`` (too
uncertain to judge) or ``too_few_strides``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from pipeline.analysis.gait import Gait
from pipeline.analysis.geometry import (
    ANKLES,
    EARS,
    ELBOWS,
    HIPS,
    KNEES,
    NOSE,
    SHOULDERS,
    WRISTS,
    angle_from_vertical,
    elbow_angle,
    nanmean_points,
)
from pipeline.analysis.registry import DEVIATIONS, FAULTS, PRIOR_STRIDES, STEP, STRIDE, FaultSpec
from pipeline.analysis.settings import AnalysisSettings
from pipeline.analysis.tracks import TrackSeries
from pipeline.analysis.view import FRONT, SIDE, deproject_sagittal, midline_keypoints

__all__ = ["DEVIATIONS", "Deviation", "RunnerContext", "measure_faults"]


@dataclass(frozen=True)
class RunnerContext:
    """What the fault measures need about one runner.

    Attributes:
        track: the cleaned track, T frames.
        views: (T,) int8 view code per frame.
        direction: +1 when the runner faces image right in side views, -1 left, 0 unknown.
        gait: contacts and strides.
        is_runner: False gives every fault the reason ``inactive_reason``.
        inactive_reason: 'not_running' (walking, standing) or 'too_few_strides' (unknown).
        stretch: (T,) sagittal de-projection factor (1 from the side), NaN where the view is too
            far from the side for side-view faults; None: side frames only, unstretched.
        midline_stretch: (3, T) the same factor through every oblique frame, for the faults read
            on the body's midline (``FaultSpec.midline``): for the typical runner's build, then the
            widest and the narrowest (:func:`pipeline.analysis.view.midline_stretches`); None:
            ``stretch``.
    """

    track: TrackSeries
    views: np.ndarray
    direction: float
    gait: Gait
    is_runner: bool
    inactive_reason: str = "not_running"
    stretch: np.ndarray | None = None
    midline_stretch: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _stretch(self, midline: bool, build: int = 0) -> np.ndarray | None:
        return self.midline_stretch[build] if midline and self.midline_stretch is not None else self.stretch

    def supports(self, spec: FaultSpec) -> np.ndarray:
        """(T,) bool: frames whose view can measure ``spec``."""
        stretch = self._stretch(spec.midline)
        if spec.sagittal and stretch is not None:
            return np.isfinite(stretch) | np.isin(self.views, [v for v in spec.views if v != SIDE])
        return np.isin(self.views, spec.views)

    def sagittal_keypoints(self, midline: bool = False, build: int = 0) -> np.ndarray:
        """(T, K, 2) keypoints de-projected into the sagittal plane (NaN where not measurable).

        ``midline``: through every oblique frame, for the faults read on the body's midline; in
        the frames beyond ``stretch``'s a left/right pair counts only where both its points are
        seen (one alone is off the midline). ``build``: which of ``midline_stretch``'s three."""
        kp = self.track.keypoints
        stretch = self._stretch(midline, build)
        if stretch is None:
            return np.where((self.views == SIDE)[:, None, None], kp, np.nan)
        if midline and self.midline_stretch is not None:
            beyond = ~np.isfinite(self.stretch) if self.stretch is not None else np.ones(len(kp), bool)
            kp = np.where(beyond[:, None, None], midline_keypoints(kp, (SHOULDERS, HIPS, EARS)), kp)
        return deproject_sagittal(kp, stretch)


@dataclass(frozen=True)
class Measure:
    """A fault as the analysis applies it: its registry spec, the thresholds from the settings
    (a value below ``low`` or above ``high`` is faulty; infinite where the fault has no bound on
    that side) and ``flag_fraction``, the fraction of strides that must be faulty."""

    spec: FaultSpec
    low: float
    high: float
    flag_fraction: float

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def unit(self) -> str:
        return self.spec.unit

    @property
    def keypoints(self) -> tuple[int, ...]:
        return self.spec.keypoints

    def excess(self, values: np.ndarray) -> np.ndarray:
        """How far ``values`` are beyond the threshold (> 0 means faulty)."""
        return np.maximum(self.low - values, values - self.high)

    def beyond(self, low: float, high: float) -> bool:
        """Whether every value in [low, high] is faulty, beyond one and the same threshold."""
        return bool(high < self.low or low > self.high)

    def within(self, low: float, high: float) -> bool:
        """Whether every value in [low, high] is normal."""
        return bool(self.low <= low and high <= self.high)


def measure(spec: FaultSpec, settings: AnalysisSettings) -> Measure:
    """``spec`` with its thresholds read from ``settings``."""
    low = getattr(settings, spec.low) if spec.low else -np.inf
    high = getattr(settings, spec.high) if spec.high else np.inf
    fraction = getattr(settings, spec.flag_fraction) if spec.flag_fraction else settings.min_flagged_fraction
    return Measure(spec, float(low), float(high), fraction)


@dataclass(frozen=True)
class Deviation:
    """One row of the deviations table (without video and track ids).

    ``value_low``/``value_high`` bound the 90 % confidence interval of ``value`` (see
    :func:`median_interval`); they are kept when the interval is too wide to judge.
    """

    deviation: str
    unit: str
    value: float | None = None
    flagged: bool | None = None
    fraction_flagged: float | None = None
    strides_measured: int = 0
    reason: str | None = None
    worst_frame: int | None = None
    first_third: float | None = None
    drift: float | None = None
    value_low: float | None = None
    value_high: float | None = None


#: Samples that reduce the frames of a gait cycle (a stride) or half of one (a step), as
#: opposed to one frame at an event (a contact, a mid-stance).
CYCLE_SAMPLES = (STRIDE, STEP)

#: Bootstrap resamples for a verdict's confidence interval, and its two-sided level.
BOOTSTRAP_SAMPLES = 500
CONFIDENCE = 0.90


def pooled_sd(values: np.ndarray, spec: FaultSpec) -> tuple[float, int]:
    """(SD, degrees of freedom) of one runner's samples on a prior of the fault's typical
    stride-to-stride spread: the pooled ``(ν0·σ0² + (n−1)·s²) / (ν0 + n − 1)`` of the registry's
    ``stride_sd`` σ0 (weight ``PRIOR_STRIDES`` ν0) and the samples' own variance s², the
    conjugate normal estimate."""
    n = len(values)
    own = float(np.var(values, ddof=1)) if n > 1 else 0.0
    dof = PRIOR_STRIDES + n - 1
    return float(np.sqrt((PRIOR_STRIDES * spec.stride_sd**2 + (n - 1) * own) / dof)), dof


def prior_half_width(values: np.ndarray, spec: FaultSpec) -> float:
    """Half-width of the 90 % interval of the median of N samples, on a prior of the fault's
    typical stride-to-stride spread (:func:`pooled_sd`): Student's t on its degrees of freedom,
    widened by sqrt(π/2) for a median rather than a mean. One stride gives a wide interval (t on
    2 dof), ten strides one that the runner's own spread decides.
    """
    sd, dof = pooled_sd(values, spec)
    t = float(special.stdtrit(dof, 0.5 + CONFIDENCE / 2))  # Student's t quantile
    return t * sd * float(np.sqrt(np.pi / 2 / len(values)))


def fraction_lower_bound(flagged: int, n: int) -> float:
    """One-sided lower bound of the fraction of faulty strides at the two-sided ``CONFIDENCE``
    level (Clopper-Pearson, exact for few strides: one faulty stride of one gives 0.05)."""
    if flagged == 0:
        return 0.0
    return float(special.betaincinv(flagged, n - flagged + 1, (1 - CONFIDENCE) / 2))  # beta quantile


def median_interval(values: np.ndarray, spec: FaultSpec, seed: int = 0) -> tuple[float, float]:
    """90 % interval of the median of ``values``: the union of a bootstrap over them and the
    median ± :func:`prior_half_width`, whichever is wider on each side (a bootstrap over a
    few strides is too narrow; the prior's t-interval assumes a symmetric spread)."""
    rng = np.random.default_rng(seed)
    draws = values[rng.integers(0, len(values), size=(BOOTSTRAP_SAMPLES, len(values)))]
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(np.median(draws, axis=1), [tail, 100 - tail])
    median = float(np.median(values))
    half = prior_half_width(values, spec)
    return min(float(low), median - half), max(float(high), median + half)


def decided(measure: Measure, values: np.ndarray, low: float, high: float) -> bool:
    """Whether the verdict is settled either way at the ``CONFIDENCE`` level, however wide the
    interval [low, high] of the median of ``values``.

    A fault judged on its median: the whole interval is normal, or beyond one threshold. A
    fault judged on the fraction of faulty strides (``flag_fraction``, e.g. 30 % of steps
    crossing the midline): faulty when the exact lower bound of that fraction is above it;
    normal when even the runner's (1 − flag_fraction) quantile stays normal, i.e. the interval
    widened by that many of the runner's pooled SDs (:func:`pooled_sd`) on each side.

    One sample settles it only where that sample is itself a reduction over the frames of a
    stride or step (at least half of them seen, :func:`frame_fault`): its interval is then the
    prior's t-interval on 2 degrees of freedom, the spread of one stride, and no single frame
    decides it. One contact or mid-stance is one frame at a detected moment: a contact dated
    early (the elite runner's, 44 frames before the labelled landing) would settle the verdict
    unchecked, so events need two.
    """
    if len(values) < 2 and measure.spec.sample not in CYCLE_SAMPLES:
        return False
    if not measure.spec.flag_fraction:
        return measure.within(low, high) or measure.beyond(low, high)
    if fraction_lower_bound(int(np.sum(measure.excess(values) > 0)), len(values)) > measure.flag_fraction:
        return True
    spread = float(special.ndtri(1.0 - measure.flag_fraction)) * pooled_sd(values, measure.spec)[0]
    return measure.within(low - spread, high + spread)


def _gate(
    ctx: RunnerContext,
    measure: Measure,
    rows: np.ndarray,
    values: np.ndarray,
    settings: AnalysisSettings,
) -> str | None:
    """Why the fault cannot be measured at the given track rows, or None if it can.

    The runner's size is no gate: a small runner's keypoint jitter widens the verdict's
    confidence interval, which decides in :func:`summarise`.
    """
    if not ctx.is_runner:
        return ctx.inactive_reason
    supported = ctx.supports(measure.spec)[rows]
    if not supported.any():
        return "view"
    finite = np.isfinite(values[supported])
    if finite.mean() < 0.5:
        return "occluded"
    low, high = measure.spec.plausible
    seen = values[supported][finite]
    if np.mean((seen < low) | (seen > high)) > 0.5:
        return "implausible"
    confidence = ctx.track.keypoint_confidence[rows][supported][:, list(measure.keypoints)]
    if confidence.mean() < settings.min_keypoint_confidence:
        return "low_confidence"
    return None


def _drift(times: np.ndarray, values: np.ndarray, span: float) -> tuple[float | None, float | None]:
    """(median of the first third of the time on screen, last third's median minus it)."""
    first = values[(times < span / 3) & np.isfinite(values)]
    last = values[(times >= 2 * span / 3) & np.isfinite(values)]
    if not len(first) or not len(last):
        return None, None
    return float(np.median(first)), float(np.median(last) - np.median(first))


def summarise(
    ctx: RunnerContext,
    measure: Measure,
    samples: np.ndarray,
    rows: np.ndarray,
    worst_rows: np.ndarray,
    worst_values: np.ndarray,
    settings: AnalysisSettings,
    systematic: tuple[float, float] = (0.0, 0.0),
) -> Deviation:
    """Verdict from N per-stride (or per-contact) samples at track rows ``rows``.

    The value is the median; its 90 % interval is :func:`median_interval` (a bootstrap over
    the samples, widened to a t-interval on the fault's measured stride-to-stride spread where
    few strides are seen). A fault is flagged only when more than ``flag_fraction`` of the
    samples are faulty *and* that holds across the interval (the whole interval of the median
    is beyond the threshold, or, for faults judged by the fraction of strides, the exact lower
    bound of that fraction is above it). An interval wider than the fault's ``resolution`` is
    too uncertain to judge, unless the verdict is settled either way all the same
    (:func:`decided`: elbows flared 0.5-0.7 shoulder widths against a 0.35 threshold, wrists
    0.15-0.65 away from the midline); otherwise the value is null with reason
    'low_confidence'. So a single stride is judged on its prior interval (the fault's
    stride-to-stride spread on 2 degrees of freedom), never by a bootstrap with no width: where
    that interval is narrow next to the resolution (elbow angle, shrugging), or settles the
    verdict all the same; a single contact only in the first case. ``worst_rows``/``worst_values``
    are the candidate frames for the worst moment. ``systematic`` (below, above) widens the
    interval by an error the samples cannot show, in the fault's unit (for a head pitch read
    from the front: the camera's unknown height and the head's shape).
    """
    measured = np.isfinite(samples)
    count = int(measured.sum())
    if count < settings.min_strides:
        return Deviation(measure.name, measure.unit, strides_measured=count, reason="too_few_strides")
    values = samples[measured]
    low, high = median_interval(values, measure.spec, seed=ctx.track.track_id)
    low, high = low - systematic[0], high + systematic[1]
    if (high - low) / 2 > measure.spec.resolution and not decided(measure, values, low, high):
        return Deviation(measure.name, measure.unit, strides_measured=count, reason="low_confidence",
                         value_low=low, value_high=high)
    faulty = measure.excess(values) > 0
    fraction = float(faulty.mean())
    if measure.spec.flag_fraction:
        beyond = fraction_lower_bound(int(faulty.sum()), count) > measure.flag_fraction
    else:
        beyond = measure.beyond(low, high)
    excess = measure.excess(worst_values)
    worst = worst_rows[np.nanargmax(np.where(np.isfinite(excess), excess, -np.inf))]
    first, drift = _drift(rows[measured].astype(float), values, float(len(ctx.track)))
    return Deviation(
        measure.name,
        measure.unit,
        value=float(np.median(values)),
        flagged=bool(fraction > measure.flag_fraction and beyond),
        fraction_flagged=fraction,
        strides_measured=count,
        worst_frame=int(ctx.track.frames[worst]),
        first_third=first,
        drift=drift,
        value_low=low,
        value_high=high,
    )


def frame_fault(
    ctx: RunnerContext,
    measure: Measure,
    values: np.ndarray,
    settings: AnalysisSettings,
    systematic: tuple[np.ndarray, np.ndarray] | None = None,
) -> Deviation:
    """A fault from a (T,) per-frame signal, reduced per gait cycle (per step for ``STEP``
    faults; the spec's ``reduce``) over its supported, plausible frames.

    A cycle is sampled when at least half its frames give a value and its keypoints are seen
    with ``min_keypoint_confidence`` on average: a runner turning away or passing behind someone
    for one cycle loses that cycle, not the verdict. The gate reads the usable cycles (or, with
    none, all of them, to say why), so it reads the running, not a sprinter's seconds in the
    blocks or a walk before the start. ``systematic``: (T,) errors below and above each frame's
    value that the samples cannot show (:func:`summarise`); their medians over the sampled
    cycles' frames widen the interval. A median, not the largest: where the frames carrying an
    error are the fewer (a runner seen mostly from the side, a stride from the front), shifting
    their samples moves the median only among the others', whose spread the interval holds."""
    # a step swings one arm forward: per-step faults read the steps, the rest whole cycles
    cycles = ctx.gait.step_spans if measure.spec.sample == STEP else ctx.gait.cycles
    supported = ctx.supports(measure.spec)
    masked = measure.spec.possible(np.where(supported, values, np.nan))
    confidence = ctx.track.keypoint_confidence[:, list(measure.keypoints)].mean(axis=1)
    samples = np.full(len(cycles), np.nan)
    reduce = np.max if measure.spec.reduce == "max" else np.median
    for s, (start, stop) in enumerate(cycles):
        chunk = masked[start:stop]
        seen = confidence[start:stop][supported[start:stop]]
        if np.isfinite(chunk).sum() >= 0.5 * len(chunk) and seen.mean() >= settings.min_keypoint_confidence:
            samples[s] = reduce(chunk[np.isfinite(chunk)])
    in_cycles = np.zeros(len(values), bool)
    for start, stop in cycles[np.isfinite(samples)] if np.isfinite(samples).any() else cycles:
        in_cycles[start:stop] = True
    rows = np.flatnonzero(in_cycles) if in_cycles.any() else np.arange(len(values))
    reason = _gate(ctx, measure, rows, values[rows], settings)
    if reason is not None:
        return Deviation(measure.name, measure.unit, reason=reason)
    candidates = np.flatnonzero(in_cycles & np.isfinite(masked))
    widen = (0.0, 0.0)
    if systematic is not None and len(candidates):
        widen = (float(np.nanmedian(systematic[0][candidates])), float(np.nanmedian(systematic[1][candidates])))
    return summarise(ctx, measure, samples, cycles[:, 0], candidates, masked[candidates], settings, widen)


def event_fault(
    ctx: RunnerContext,
    measure: Measure,
    rows: np.ndarray,
    values: np.ndarray,
    settings: AnalysisSettings,
) -> Deviation:
    """A fault from one value per event (ground contact, mid-stance) at track rows ``rows``."""
    if len(rows) == 0:
        return Deviation(measure.name, measure.unit,
                         reason=ctx.inactive_reason if not ctx.is_runner else "too_few_strides")
    reason = _gate(ctx, measure, rows, values, settings)
    if reason is not None:
        return Deviation(measure.name, measure.unit, reason=reason)
    samples = measure.spec.possible(np.where(ctx.supports(measure.spec)[rows], values, np.nan))
    return summarise(ctx, measure, samples, rows, rows, samples, settings)


# --- per-frame signals, (T, K, 2) pixels -> (T,) ------------------------------------------


def head_pitch(kp: np.ndarray) -> np.ndarray:
    """Angle of the ear->nose line below the horizontal, degrees (positive: looking down)."""
    ear = nanmean_points(kp, EARS)
    nose = kp[:, NOSE]
    return np.degrees(np.arctan2(nose[:, 1] - ear[:, 1], np.abs(nose[:, 0] - ear[:, 0])))


#: Ear->nose distance over the ear-to-ear distance, for reading the head's pitch from the front.
#: Measured on the shared clips' runners (OpenVINO keypoints, analysis 2026.12.13): the ear->nose
#: line, seen whole from the side, is 0.20-0.25 torso lengths (median 0.23; beach, track pan,
#: elite, treadmill and a group-jog runner side on), the ears from the front 0.29-0.36 torso
#: lengths apart (median 0.32; 30 runners of 5 clips), so 0.72. Each spreads about 11 % either
#: way between runners, so one runner's ratio is taken as ``EAR_NOSE_SPREAD`` either way.
EAR_NOSE_OVER_EAR_WIDTH = 0.72
EAR_NOSE_SPREAD = 0.15


def front_head_pitch(kp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T,) head pitch read from the front, degrees, and (T,) its errors below and above from
    the head's shape.

    The same angle :func:`head_pitch` reads from the side (ear->nose line below the horizontal),
    from how far the nose sits below the line between the ears: that drop is
    ``D * sin(pitch)`` with ``D`` the ear->nose distance, ``EAR_NOSE_OVER_EAR_WIDTH`` times the
    ears' distance apart. The drop is taken square to the ear line, so a head tilted sideways
    reads the same. NaN where an ear or the nose is missing, or the drop exceeds ``D`` (a misread
    face). The errors are how far the angle moves for a head ``EAR_NOSE_SPREAD`` longer (below)
    or shorter (above) than typical. The pitch is read against the camera's line of sight: a
    camera above the head adds its angle of view, which the caller allows for
    (``front_camera_height_allowance_deg``).
    """
    left, right, nose = kp[:, EARS[0]], kp[:, EARS[1]], kp[:, NOSE]
    across = right - left
    across = np.where(across[:, :1] < 0, -across, across)  # left to right in the image
    width = np.hypot(across[:, 0], across[:, 1])
    below = nose - (left + right) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        sine = (across[:, 0] * below[:, 1] - across[:, 1] * below[:, 0]) / width**2 / EAR_NOSE_OVER_EAR_WIDTH
        sine = np.where((width > 0) & (np.abs(sine) <= 1.0), sine, np.nan)
        pitch = np.degrees(np.arcsin(sine))
        size = np.abs(pitch)
        longer = size - np.degrees(np.arcsin(np.abs(sine) / (1.0 + EAR_NOSE_SPREAD)))
        shorter = np.degrees(np.arcsin(np.clip(np.abs(sine) / (1.0 - EAR_NOSE_SPREAD), 0.0, 1.0))) - size
    # a longer head than typical puts the true angle nearer level, a shorter one further from it
    return pitch, np.where(sine >= 0, longer, shorter), np.where(sine >= 0, shorter, longer)


def neck_flexion(kp: np.ndarray, direction: float) -> np.ndarray:
    """Angle between the trunk line (mid-hip -> mid-shoulder) and the neck line (mid-shoulder ->
    mid-ear), degrees, positive with the head carried forward of the trunk."""
    shoulders, ears = nanmean_points(kp, SHOULDERS), nanmean_points(kp, EARS)
    return angle_from_vertical(ears, shoulders, direction) - trunk_lean(kp, direction)


def _frontal_frame(kp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T,) body midline x, shoulder width (px) and the image sign of the runner's left."""
    left, right = kp[:, SHOULDERS[0], 0], kp[:, SHOULDERS[1], 0]
    midline = (nanmean_points(kp, SHOULDERS)[:, 0] + nanmean_points(kp, HIPS)[:, 0]) / 2
    width = np.abs(left - right)
    return midline, np.where(width > 0, width, np.nan), np.sign(left - right)


def arm_crossing(kp: np.ndarray) -> np.ndarray:
    """Largest distance of a wrist past the body midline toward the other side, in shoulder
    widths (negative: the wrist stays on its own side)."""
    midline, width, left_sign = _frontal_frame(kp)
    left = (midline - kp[:, WRISTS[0], 0]) * left_sign / width
    right = (kp[:, WRISTS[1], 0] - midline) * left_sign / width
    return np.fmax(left, right)


def elbow_flare(kp: np.ndarray) -> np.ndarray:
    """Largest lateral distance of an elbow outside its shoulder, in shoulder widths."""
    _, width, left_sign = _frontal_frame(kp)
    left = (kp[:, ELBOWS[0], 0] - kp[:, SHOULDERS[0], 0]) * left_sign / width
    right = (kp[:, SHOULDERS[1], 0] - kp[:, ELBOWS[1], 0]) * left_sign / width
    return np.fmax(left, right)


def trunk_lean(kp: np.ndarray, direction: float) -> np.ndarray:
    """Mid-hip -> mid-shoulder angle from vertical, degrees, positive forward."""
    return angle_from_vertical(nanmean_points(kp, SHOULDERS), nanmean_points(kp, HIPS), direction)


def shoulder_drop(kp: np.ndarray) -> np.ndarray:
    """Ear height above the shoulder line / torso length (small: shrugged), the height taken
    along the trunk (mid-hip -> mid-shoulder): the vertical distance of ``FORM_CUES.md`` for an
    upright runner, and still the shrug, not the lean, for a sprinter leaning 45 deg out of
    the blocks (where the vertical distance shrinks with the lean's cosine)."""
    shoulders, hips = nanmean_points(kp, SHOULDERS), nanmean_points(kp, HIPS)
    trunk = shoulders - hips
    above = nanmean_points(kp, EARS) - shoulders
    return np.einsum("ij,ij->i", above, trunk) / np.einsum("ij,ij->i", trunk, trunk)


# --- contact events ------------------------------------------------------------------------


def contact_geometry(kp: np.ndarray, gait: Gait, direction: float) -> tuple[np.ndarray, np.ndarray]:
    """(N,) overstride (landing ankle ahead of the mid-hip, leg lengths) and (N,) shank angle
    from vertical (degrees, positive with the ankle ahead of the knee) at each contact."""
    rows = gait.contact_index
    ankle = kp[rows, np.asarray(ANKLES)[gait.contact_foot]]
    knee = kp[rows, np.asarray(KNEES)[gait.contact_foot]]
    hip = nanmean_points(kp, HIPS)[rows]
    overstride = (ankle[:, 0] - hip[:, 0]) * direction / gait.leg_scale_px[rows]
    shank = np.degrees(np.arctan2((ankle[:, 0] - knee[:, 0]) * direction, ankle[:, 1] - knee[:, 1]))
    return overstride, shank


def mid_stance_rows(kp: np.ndarray, gait: Gait) -> np.ndarray:
    """(N,) track row after each contact (within half a stride) where the stance ankle passes
    under the mid-hip (smallest horizontal offset)."""
    hip_x = nanmean_points(kp, HIPS)[:, 0]
    half = (
        max(int(gait.stride_period_frames / 2), 1) if np.isfinite(gait.stride_period_frames) else 1
    )
    rows = []
    for row, foot in zip(gait.contact_index, gait.contact_foot, strict=True):
        stop = min(row + half, len(kp))
        offset = np.abs(kp[row:stop, ANKLES[foot], 0] - hip_x[row:stop])
        rows.append(row + int(np.nanargmin(offset)) if np.isfinite(offset).any() else row)
    return np.asarray(rows, dtype=np.int64)


def pose_lean(kp: np.ndarray, gait: Gait, direction: float) -> tuple[np.ndarray, np.ndarray]:
    """(N,) mid-stance rows and whole-body lean there: stance ankle -> mid-shoulder angle from
    vertical, degrees, positive forward (the Pose Method's 'fall')."""
    rows = mid_stance_rows(kp, gait)
    ankle = kp[rows, np.asarray(ANKLES)[gait.contact_foot]]
    return rows, angle_from_vertical(nanmean_points(kp, SHOULDERS)[rows], ankle, direction)


# --- the faults ----------------------------------------------------------------------------


def _measures(settings: AnalysisSettings) -> dict[str, Measure]:
    return {name: measure(spec, settings) for name, spec in FAULTS.items()}


def _shrug_drift_flag(result: Deviation, settings: AnalysisSettings) -> Deviation:
    """Shrugging is also flagged when the ratio falls by more than shrug_max_drop_fraction
    from the first third of the time on screen to the last."""
    if result.first_third is None or result.drift is None or result.first_third <= 0:
        return result
    dropped = -result.drift > settings.shrug_max_drop_fraction * result.first_third
    if dropped and not result.flagged:
        return Deviation(**{**result.__dict__, "flagged": True})
    return result


def measure_faults(ctx: RunnerContext, settings: AnalysisSettings) -> list[Deviation]:
    """Every fault of FORM_CUES.md for one runner, in ``DEVIATIONS`` order.

    Side-view faults read the keypoints de-projected into the sagittal plane, so oblique frames
    near the side count too (``RunnerContext.stretch``). Looking down is also read from the front
    (:func:`front_head_pitch`), its interval widened by the camera's unknown height and the
    head's shape.
    """
    m = _measures(settings)
    kp, sagittal = ctx.track.keypoints, ctx.sagittal_keypoints()
    midline = [ctx.sagittal_keypoints(midline=True, build=b) for b in range(3)]
    front = ctx.views == FRONT
    front_pitch, nearer_level, further = front_head_pitch(kp)
    camera = settings.front_camera_height_allowance_deg
    pitch, (below, above) = _over_builds(head_pitch, midline)
    found = {
        "looking_down": frame_fault(
            ctx, m["looking_down"], np.where(front, front_pitch, pitch), settings,
            systematic=(np.where(front, camera + nearer_level, below), np.where(front, camera + further, above))),
        "elbow_angle": frame_fault(ctx, m["elbow_angle"], elbow_angle(sagittal), settings),
        "arm_crossing": frame_fault(ctx, m["arm_crossing"], arm_crossing(kp), settings),
        "elbow_flare": frame_fault(ctx, m["elbow_flare"], elbow_flare(kp), settings),
        "shrugged_shoulders": _shrug_drift_flag(
            frame_fault(ctx, m["shrugged_shoulders"], shoulder_drop(kp), settings), settings
        ),
    }
    side_names = ("neck_flexion", "trunk_lean", "overstride", "shank_angle", "pose_method_lean")
    if ctx.direction == 0 and ctx.is_runner and ctx.supports(FAULTS["trunk_lean"]).any():
        found |= {n: Deviation(n, m[n].unit, reason="low_confidence") for n in side_names}
    else:
        found |= _side_faults(ctx, m, sagittal, midline, settings)
    return [found[name] for name in DEVIATIONS]


def _over_builds(
    signal: Callable[[np.ndarray], np.ndarray], builds: list[np.ndarray]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(T,) ``signal`` of the typical build's keypoints, and how far below and above it the
    widest and narrowest builds' readings fall (the ``systematic`` of :func:`frame_fault`)."""
    nominal, *others = (signal(kp) for kp in builds)
    with np.errstate(invalid="ignore"):
        low, high = np.fmin(*others), np.fmax(*others)
        return nominal, (np.clip(nominal - low, 0.0, None), np.clip(high - nominal, 0.0, None))


def _side_faults(
    ctx: RunnerContext, m: dict[str, Measure], kp: np.ndarray, midline: list[np.ndarray], settings: AnalysisSettings
) -> dict[str, Deviation]:
    """The faults seen from the side, from (T, K, 2) sagittal-plane keypoints ``kp`` (and
    ``midline``, through every oblique frame for each of three builds, for the faults read on
    the body's midline)."""
    gait, direction = ctx.gait, ctx.direction
    overstride, shank = contact_geometry(kp, gait, direction)
    lean_rows, lean = pose_lean(kp, gait, direction)
    trunk, trunk_spread = _over_builds(lambda k: trunk_lean(k, direction), midline)
    return {
        "neck_flexion": frame_fault(ctx, m["neck_flexion"], neck_flexion(kp, direction), settings),
        "trunk_lean": frame_fault(ctx, m["trunk_lean"], trunk, settings, systematic=trunk_spread),
        "overstride": event_fault(ctx, m["overstride"], gait.contact_index, overstride, settings),
        "shank_angle": event_fault(ctx, m["shank_angle"], gait.contact_index, shank, settings),
        "pose_method_lean": event_fault(ctx, m["pose_method_lean"], lean_rows, lean, settings),
    }
