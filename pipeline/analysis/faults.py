"""Form faults of docs/FORM_CUES.md, each measured only where the camera view supports it.

Every fault gives one :class:`Deviation` per runner: the median over strides (or over
ground contacts), the fraction of strides beyond the threshold, how many strides were
measured, the worst frame, and the drift from the first to the last third of the time on
screen. When a fault cannot be measured its value is null and ``reason`` says why:
``not_running``, ``view``, ``occluded``, ``low_confidence`` or ``too_few_strides``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
    torso_length,
)
from pipeline.analysis.settings import AnalysisSettings
from pipeline.analysis.tracks import TrackSeries
from pipeline.analysis.view import BACK, FRONT, OBLIQUE, SIDE

FRONTAL = (FRONT, BACK)


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
    """

    track: TrackSeries
    views: np.ndarray
    direction: float
    gait: Gait
    is_runner: bool
    inactive_reason: str = "not_running"


@dataclass(frozen=True)
class Measure:
    """A fault: its name and unit, the views that see it, the keypoints it needs, and
    ``excess``: how far (T,) values are beyond the threshold (> 0 means faulty)."""

    name: str
    unit: str
    views: tuple[int, ...]
    keypoints: tuple[int, ...]
    excess: Callable[[np.ndarray], np.ndarray]
    flag_fraction: float | None = None


@dataclass(frozen=True)
class Deviation:
    """One row of the deviations table (without video and track ids)."""

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


def _excess_above(limit: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda v: v - limit


def _excess_outside(low: float, high: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda v: np.maximum(low - v, v - high)


def _gate(
    ctx: RunnerContext,
    measure: Measure,
    rows: np.ndarray,
    values: np.ndarray,
    settings: AnalysisSettings,
) -> str | None:
    """Why the fault cannot be measured at the given track rows, or None if it can."""
    if not ctx.is_runner:
        return ctx.inactive_reason
    supported = np.isin(ctx.views[rows], measure.views)
    if not supported.any():
        return "view"
    if not ctx.gait.leg_length_px >= settings.min_leg_length_px:  # too small for pose precision
        return "low_confidence"
    if np.isfinite(values[supported]).mean() < 0.5:
        return "occluded"
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
) -> Deviation:
    """Verdict from N per-stride (or per-contact) samples at track rows ``rows``.

    ``worst_rows``/``worst_values`` are the candidate frames for the worst moment.
    """
    measured = np.isfinite(samples)
    count = int(measured.sum())
    if count < settings.min_strides:
        return Deviation(
            measure.name, measure.unit, strides_measured=count, reason="too_few_strides"
        )
    flags = measure.excess(samples[measured]) > 0
    fraction = float(flags.mean())
    limit = (
        settings.min_flagged_fraction if measure.flag_fraction is None else measure.flag_fraction
    )
    excess = measure.excess(worst_values)
    worst = worst_rows[np.nanargmax(np.where(np.isfinite(excess), excess, -np.inf))]
    first, drift = _drift(rows[measured].astype(float), samples[measured], float(len(ctx.track)))
    return Deviation(
        measure.name,
        measure.unit,
        value=float(np.median(samples[measured])),
        flagged=bool(fraction > limit),
        fraction_flagged=fraction,
        strides_measured=count,
        worst_frame=int(ctx.track.frames[worst]),
        first_third=first,
        drift=drift,
    )


def frame_fault(
    ctx: RunnerContext,
    measure: Measure,
    values: np.ndarray,
    reduce: Callable[[np.ndarray], float],
    settings: AnalysisSettings,
) -> Deviation:
    """A fault from a (T,) per-frame signal, reduced per stride over its supported frames."""
    rows = np.arange(len(values))
    reason = _gate(ctx, measure, rows, values, settings)
    if reason is not None:
        return Deviation(measure.name, measure.unit, reason=reason)
    masked = np.where(np.isin(ctx.views, measure.views), values, np.nan)
    samples = np.full(len(ctx.gait.strides), np.nan)
    for s, (start, stop) in enumerate(ctx.gait.strides):
        chunk = masked[start:stop]
        if np.isfinite(chunk).sum() >= 0.5 * len(chunk):
            samples[s] = reduce(chunk[np.isfinite(chunk)])
    in_strides = np.zeros(len(values), bool)
    for start, stop in ctx.gait.strides:
        in_strides[start:stop] = True
    candidates = rows[in_strides & np.isfinite(masked)]
    return summarise(
        ctx, measure, samples, ctx.gait.strides[:, 0], candidates, masked[candidates], settings
    )


def event_fault(
    ctx: RunnerContext,
    measure: Measure,
    rows: np.ndarray,
    values: np.ndarray,
    settings: AnalysisSettings,
) -> Deviation:
    """A fault from one value per event (ground contact, mid-stance) at track rows ``rows``."""
    if len(rows) == 0:
        reason = ctx.inactive_reason if not ctx.is_runner else "too_few_strides"
        return Deviation(measure.name, measure.unit, reason=reason)
    reason = _gate(ctx, measure, rows, values, settings)
    if reason is not None:
        return Deviation(measure.name, measure.unit, reason=reason)
    samples = np.where(np.isin(ctx.views[rows], measure.views), values, np.nan)
    return summarise(ctx, measure, samples, rows, rows, samples, settings)


# --- per-frame signals, (T, K, 2) pixels -> (T,) ------------------------------------------


def head_pitch(kp: np.ndarray) -> np.ndarray:
    """Angle of the ear->nose line below the horizontal, degrees (positive: looking down)."""
    ear = nanmean_points(kp, EARS)
    nose = kp[:, NOSE]
    return np.degrees(np.arctan2(nose[:, 1] - ear[:, 1], np.abs(nose[:, 0] - ear[:, 0])))


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
    """Vertical ear-shoulder distance / torso length (small: shrugged)."""
    ear_y = nanmean_points(kp, EARS)[:, 1]
    return (nanmean_points(kp, SHOULDERS)[:, 1] - ear_y) / torso_length(kp)


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


def _measures(s: AnalysisSettings) -> dict[str, Measure]:
    face = (NOSE, *EARS)
    arm = (*SHOULDERS, *ELBOWS, *WRISTS)
    trunk = (*SHOULDERS, *HIPS)
    leg = (*HIPS, *KNEES, *ANKLES)
    measures = [
        Measure("looking_down", "deg", (SIDE,), face, _excess_above(s.looking_down_deg)),
        Measure("neck_flexion", "deg", (SIDE,), (*EARS, *trunk), _excess_above(s.neck_flexion_max_deg)),
        Measure(
            "elbow_angle",
            "deg",
            (SIDE,),
            arm,
            _excess_outside(s.elbow_angle_min_deg, s.elbow_angle_max_deg),
        ),
        Measure(
            "arm_crossing",
            "shoulder widths",
            FRONTAL,
            (*arm, *HIPS),
            _excess_above(s.arm_crossing_shoulder_widths),
            s.arm_crossing_stride_fraction,
        ),
        Measure(
            "elbow_flare",
            "shoulder widths",
            FRONTAL,
            arm,
            _excess_above(s.elbow_flare_shoulder_widths),
        ),
        Measure(
            "trunk_lean",
            "deg",
            (SIDE,),
            trunk,
            _excess_outside(s.trunk_lean_min_deg, s.trunk_lean_max_deg),
        ),
        Measure(
            "shrugged_shoulders",
            "torso lengths",
            (SIDE, FRONT, BACK, OBLIQUE),
            (*EARS, *trunk),
            lambda v: s.shrug_min_ratio - v,
        ),
        Measure("overstride", "leg lengths", (SIDE,), leg, _excess_above(s.overstride_leg_lengths)),
        Measure("shank_angle", "deg", (SIDE,), leg, _excess_above(s.shank_angle_max_deg)),
        Measure(
            "pose_method_lean",
            "deg",
            (SIDE,),
            (*leg, *SHOULDERS),
            _excess_outside(s.pose_lean_min_deg, s.pose_lean_max_deg),
        ),
    ]
    return {m.name: m for m in measures}


#: Deviation names, in output order (one row per runner each).
DEVIATIONS: tuple[str, ...] = (
    "looking_down",
    "neck_flexion",
    "elbow_angle",
    "arm_crossing",
    "elbow_flare",
    "trunk_lean",
    "shrugged_shoulders",
    "overstride",
    "shank_angle",
    "pose_method_lean",
)

#: How each deviation is named to a coach (tables, badges, captions, the report).
FAULT_LABELS: dict[str, str] = {
    "looking_down": "Looking down", "neck_flexion": "Head forward", "elbow_angle": "Elbow angle",
    "arm_crossing": "Arms crossing",
    "elbow_flare": "Elbow flare", "trunk_lean": "Trunk lean", "shrugged_shoulders": "Shrugged shoulders",
    "overstride": "Overstride", "shank_angle": "Shank angle at contact", "pose_method_lean": "Pose Method lean",
}


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
    """Every fault of FORM_CUES.md for one runner, in ``DEVIATIONS`` order."""
    m = _measures(settings)
    kp = ctx.track.keypoints
    median = np.median
    found = {
        "looking_down": frame_fault(ctx, m["looking_down"], head_pitch(kp), median, settings),
        "elbow_angle": frame_fault(ctx, m["elbow_angle"], elbow_angle(kp), median, settings),
        "arm_crossing": frame_fault(ctx, m["arm_crossing"], arm_crossing(kp), np.max, settings),
        "elbow_flare": frame_fault(ctx, m["elbow_flare"], elbow_flare(kp), np.max, settings),
        "shrugged_shoulders": _shrug_drift_flag(
            frame_fault(ctx, m["shrugged_shoulders"], shoulder_drop(kp), median, settings), settings
        ),
    }
    side_names = ("neck_flexion", "trunk_lean", "overstride", "shank_angle", "pose_method_lean")
    if ctx.direction == 0 and ctx.is_runner and np.isin(ctx.views, (SIDE,)).any():
        found |= {n: Deviation(n, m[n].unit, reason="low_confidence") for n in side_names}
    else:
        found |= _side_faults(ctx, m, settings)
    return [found[name] for name in DEVIATIONS]


def _side_faults(
    ctx: RunnerContext, m: dict[str, Measure], settings: AnalysisSettings
) -> dict[str, Deviation]:
    kp, gait, direction = ctx.track.keypoints, ctx.gait, ctx.direction
    overstride, shank = contact_geometry(kp, gait, direction)
    lean_rows, lean = pose_lean(kp, gait, direction)
    return {
        "neck_flexion": frame_fault(
            ctx, m["neck_flexion"], neck_flexion(kp, direction), np.median, settings
        ),
        "trunk_lean": frame_fault(
            ctx, m["trunk_lean"], trunk_lean(kp, direction), np.median, settings
        ),
        "overstride": event_fault(ctx, m["overstride"], gait.contact_index, overstride, settings),
        "shank_angle": event_fault(ctx, m["shank_angle"], gait.contact_index, shank, settings),
        "pose_method_lean": event_fault(ctx, m["pose_method_lean"], lean_rows, lean, settings),
    }
