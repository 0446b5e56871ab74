"""From one video's detections to its runners, contacts and form deviations.

stitch fragments -> per runner: clean signals -> view -> gait -> running? -> faults -> tables
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.analysis.faults import Deviation, RunnerContext, contact_geometry, measure_faults
from pipeline.analysis.gait import (
    FOOT_NAMES,
    INITIAL_CONTACT_ESTIMATED,
    MID_STANCE,
    STANCE_TO_MID,
    analyse_gait,
    bounce_under_noise,
    cycle_frames,
    flight_under_noise,
    leg_scale,
    shortest_stride_frames,
    spectral_period,
)
from pipeline.analysis.geometry import ANKLES, HIPS, SHOULDERS, leg_length, nanmean_points
from pipeline.analysis.gravity import GravityClock, gravity_clock
from pipeline.analysis.registry import FAULTS
from pipeline.analysis.running import (
    MIN_STEPS,
    Activity,
    classify_activity,
    keeps_rhythm,
    moves_in_real_time,
    not_slow_motion,
    possible_cadence,
    possible_flight,
    possible_oscillation,
)
from pipeline.analysis.settings import AnalysisSettings
from pipeline.analysis.signals import clean_track, stepping_span
from pipeline.analysis.slow_motion import SlowedRunner, slowed_ranges
from pipeline.analysis.stitching import stitch_tracks
from pipeline.analysis.tracks import TrackSeries, tracks_from_table
from pipeline.analysis.travel import Travel, longest_stride_frames, travel
from pipeline.analysis.view import (
    OBLIQUE,
    SIDE,
    UNKNOWN,
    VIEW_NAMES,
    camera_pitch_deg,
    dominant_view,
    facing_direction,
    frame_views,
    midline_stretches,
    sagittal_stretch,
    smoothed_shoulder_ratio,
    travel_lift,
    views_seen,
)
from pipeline.camera import warps_from_table
from pipeline.schemas import CONTACTS, DETECTIONS, DEVIATIONS, RUNNERS, build_table
from pipeline.shots import shot_spans


@dataclass(frozen=True)
class VideoAnalysis:
    """The analysis of one video.

    Attributes:
        runners, contacts, deviations: tables of ``schemas.RUNNERS``, ``CONTACTS``, ``DEVIATIONS``.
        id_map: tracker id -> runner id (stitched fragments share the smallest id).
        tracks_merged: fragments joined onto another (tracks in - runners out).
        slow_motion_suspected: any runner's gait shows the footage is slowed down.
        slow_motion_factor: how many times slower than real time, from gravity (the slow-motion
            runners' factors weighed by their steadiness, :func:`video_slow_motion_factor`), or
            from pictures held for k frames where gravity cannot tell; NaN when not slowed or
            not measurable.
        capture_fps: the frame rate used for time: the user's capture_fps, else the container's
            times slow_motion_factor when ``settings.use_slow_motion_factor``, else the container's.
        capture_fps_source: 'user', 'gravity', 'held_frames' or 'container'.
        slow_motion_ranges: [first, last] frames of each part seen slowed down
            (:mod:`pipeline.analysis.slow_motion`); empty when not slowed. The whole clip with held
            pictures (counted over the whole clip).
    """

    runners: pa.Table
    contacts: pa.Table
    deviations: pa.Table
    id_map: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    tracks_merged: int = 0
    slow_motion_suspected: bool = False
    slow_motion_factor: float = float("nan")
    capture_fps: float = float("nan")
    capture_fps_source: str = "container"
    slow_motion_ranges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class RunnerAnalysis:
    """Everything computed for one runner (stitched track)."""

    raw: TrackSeries
    context: RunnerContext
    activity: Activity
    swaps_repaired: int
    deviations: list[Deviation]
    clock: GravityClock = GravityClock.unmeasured()
    travel: Travel = Travel.unmeasured()


def keypoint_jitter(raw: TrackSeries, leg_px: float) -> float:
    """The pose model's noise on this person, in leg lengths: a robust standard deviation of
    the second differences of the raw shoulder and hip keypoints (the trunk moves smoothly, so
    frame-to-frame, what does not lie on a straight line is noise: a second difference of
    white noise has 6x its variance). inf when never seen twice in a row."""
    return _jitter(raw.keypoints[:, list((*SHOULDERS, *HIPS))], leg_px)


def hip_height_jitter(raw: TrackSeries, leg_px: float) -> float:
    """The noise of the mid-hip's height, the one signal the bounce is read from, in leg lengths,
    measured as :func:`keypoint_jitter` measures the trunk's. The model's two hips err nearly
    together (on the shared clips their raw heights' movements above 6 Hz correlate at 0.96), so
    their mean is about as noisy as one; measured, not assumed."""
    return _jitter(nanmean_points(raw.keypoints, HIPS)[:, 1], leg_px)


def _jitter(points: np.ndarray, leg_px: float) -> float:
    second = points[2:] - 2 * points[1:-1] + points[:-2]
    finite = second[np.isfinite(second)]
    if not len(finite) or not leg_px > 0:
        return float("inf")
    sigma = 1.4826 * np.median(np.abs(finite)) / np.sqrt(6.0)  # MAD -> sigma; var(d2) = 6 var(x)
    return float(sigma / leg_px)


def _stepping(track: TrackSeries, fps: float, settings: AnalysisSettings) -> tuple[int, int]:
    """[start, stop) rows where the cleaned track's legs move (see :func:`stepping_span`)."""
    ankles = track.keypoints[:, list(ANKLES)]
    stride = spectral_period([ankles[:, 0, 0] - ankles[:, 1, 0], ankles[:, 0, 1] - ankles[:, 1, 1]],
                             min_period=shortest_stride_frames(fps))
    scale = leg_scale(track.keypoints, int(round(fps)))
    return stepping_span(track.keypoints, scale, fps, settings.still_speed_fraction, stride)


def _within(keypoints: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    """(T, K, 2) ``keypoints`` with the rows outside [start, stop) missing."""
    out = np.full_like(keypoints, np.nan)
    out[span[0]:span[1]] = keypoints[span[0]:span[1]]
    return out


def analyse_runner(
    raw: TrackSeries, fps: float, settings: AnalysisSettings, video_fps: float | None = None,
    warps: np.ndarray | None = None,
) -> RunnerAnalysis:
    """Clean, view, gait, running verdict and faults of one track; ``fps`` is the real rate,
    ``video_fps`` the container's (how long the track is on screen; ``fps`` when not given);
    ``warps``: the camera's motion into each frame of the video
    (:func:`pipeline.camera.warps_from_table`), for the person's travel against the ground."""
    track, swapped = clean_track(raw, fps, settings)
    ratio = smoothed_shoulder_ratio(track.keypoints, fps)
    views = frame_views(track.keypoints, fps, settings, ratio)
    side = views == SIDE
    stretch = sagittal_stretch(ratio, settings)
    # faults read on the body's midline have no sideways offset to leak in: every oblique frame
    midline = midline_stretches(ratio, settings)
    direction = facing_direction(track.keypoints, np.isfinite(midline[0]))  # for the side-view faults
    sideways = np.isin(views, (SIDE, OBLIQUE))  # knee and elbow bend still read obliquely (see level)
    # the gait is read where the legs move (not a sprinter's seconds in the blocks); steps from
    # the foot's reach only where the runner is truly side-on: obliquely, the reach mixes with
    # the foot's travel toward the camera
    span = _stepping(track, fps, settings)
    pitch = camera_pitch_deg(track.keypoints, views)
    # flight and the limbs' bend only where the pitch cannot lift a step's depth into height:
    # obliquely from above, a walker's foot ahead of the other looks lifted and a knee bent
    # toward the camera looks more bent (with the pitch unknown, the pure side frames)
    lift = travel_lift(ratio, pitch)
    level = sideways & np.where(np.isfinite(lift), lift < settings.min_foot_lift_leg_lengths, side)
    stepping = _within(track.keypoints, span)
    # travel bounds the stride: no one steps longer than MAX_STEP_LEG_LENGTHS, so at a sprinter's
    # speed a "stride" of two seconds is the picture's drift (a pan, a zoom), not a stride
    moved = Travel.unmeasured() if warps is None else travel(
        stepping, track.frames, warps, leg_length(stepping), video_fps or fps, fps)
    gait = analyse_gait(stepping, fps, sideways, settings,
                        facing=facing_direction(track.keypoints, side), level_frames=level,
                        hip_noise_px=hip_height_jitter(raw, 1.0), max_stride_frames=longest_stride_frames(moved, fps))
    # the contacts' step counts only where they keep a rhythm (a misread contact falls anywhere)
    rhythmic = gait.steps >= MIN_STEPS and keeps_rhythm(gait.contact_index)
    contact_step = float(np.median(np.diff(gait.contact_index))) if rhythmic else float("nan")
    clock = gravity_clock(_within(raw.keypoints, span), gait.leg_scale_px, gait.stride_period_frames / 2, fps,
                          contact_step)
    jitter = keypoint_jitter(raw, gait.leg_length_px)
    side_on = bool(side.sum() >= 0.5 * sideways.sum())  # limbs seen mostly from the pure side
    least_bounce = bounce_under_noise(settings.running_min_oscillation_leg_lengths, gait.strides, len(track),
                                      hip_height_jitter(raw, gait.leg_length_px), fps, settings)
    least_flight = flight_under_noise(settings.min_flight_fraction, gait.swing_heights, gait.flight_frames,
                                      gait.leg_scale_px, gait.stride_period_frames, jitter, fps, settings)
    # seen side-on most of the time, a runner's travel crosses the picture (obliquely it may go
    # mostly toward the camera: a 400 m bend's sprinters read 0.7-2.5 leg lengths a second)
    lateral = bool(np.sum(side) > 0.5 * np.sum(views != UNKNOWN))
    activity = classify_activity(gait, len(track) / (video_fps or fps), settings, clock, jitter, side_on, least_bounce,
                                 least_flight, moved, lateral)
    inactive = "too_few_strides" if activity.label == "unknown" else "not_running"
    if pitch > settings.max_camera_pitch_deg:  # from above: cannot tell
        activity, inactive = Activity("unknown", False, activity.running_cues, activity.cues_measured, False), "view"
    context = RunnerContext(track, views, direction, gait, activity.is_runner, inactive, stretch, midline)
    return RunnerAnalysis(
        raw, context, activity, int(swapped.sum()), measure_faults(context, settings), clock, moved
    )


def _real_time_check(results: list[RunnerAnalysis], settings: AnalysisSettings) -> list[RunnerAnalysis]:
    """Slow motion slows everyone on screen at the same time: when another person seen during
    a slow 'running' gait walks or runs at a human cadence, it is a slow mover, not slow-motion
    footage. Only at the same time: a slowed replay after a real-time shot (tracks never cross a
    cut), or the slowed part after a speed ramp, is slowed whoever ran in real time before it."""
    movers = [(int(r.raw.frames[0]), int(r.raw.frames[-1])) for r in results
              if moves_in_real_time(r.activity, r.context.gait, settings)]
    if not movers:
        return results
    checked = []
    for r in results:
        first, last = int(r.raw.frames[0]), int(r.raw.frames[-1])
        if r.activity.slow_motion_suspected and any(a <= last and b >= first for a, b in movers):
            activity = not_slow_motion(r.activity)
            context = dataclasses.replace(r.context, is_runner=False, inactive_reason="not_running")
            r = dataclasses.replace(r, activity=activity, context=context,
                                    deviations=measure_faults(context, settings))
        checked.append(r)
    return checked


def _check_inputs(detections: pa.Table, fps: float, width: int, height: int) -> None:
    if isinstance(fps, bool) or not (
        isinstance(fps, numbers.Real) and math.isfinite(fps) and fps > 0
    ):
        raise ValueError(f"fps must be a positive finite number, got {fps!r}")
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not (isinstance(value, int | np.integer) and value > 0):
            raise ValueError(f"{name} must be a positive integer number of pixels, got {value!r}")
    optional = {"appearance"}  # absent from files before schema version 3
    missing = [n for n in DETECTIONS.names if n not in detections.column_names and n not in optional]
    if missing:
        raise ValueError(
            f"detections lacks the DETECTIONS columns {missing[:5]}"
            f"{'...' if len(missing) > 5 else ''}"
        )
    videos = detections.column("video_id").unique().to_pylist()
    if len(videos) > 1:
        raise ValueError(f"detections must hold one video, got video_id values {videos[:5]}")


def analyse_detections(
    detections: pa.Table, fps: float, width: int, height: int, settings: AnalysisSettings,
    shot_starts: tuple[int, ...] | list[int] = (),
    frames_per_picture: float = 1.0,
    span: tuple[int, int] | None = None,
) -> VideoAnalysis:
    """Runners, contacts and deviations of one video's DETECTIONS table.

    Args:
        detections: rows of ``pipeline.schemas.DETECTIONS`` for one video.
        fps: the container's frame rate (float); ``settings.capture_fps`` overrides it for time.
            Without one, a clip that gravity shows is slowed down k times is analysed again at
            ``fps * k`` (``use_slow_motion_factor``), so cadences and times are real.
        width, height: frame size in pixels (people leaving the frame are not extrapolated past it).
        shot_starts: first frame of each shot after the first (the ``videos`` column): fragments
            are never stitched across a hard cut.
        frames_per_picture: k when every picture is held for k frames (:mod:`pipeline.shots`):
            the slow-down factor where gravity says the clip is slowed (it counts exactly what
            gravity estimates: on the held sprint start gravity read 1.8 for 3), or where gravity
            cannot tell and the gait agrees: everyone seen stepping (at least ``MIN_STEPS``
            contacts) steps slower than anyone runs in real time (``slow_motion_max_cadence_spm``).
            A camera recording at 15 fps into a 30 fps file holds pictures too, but its people
            step at human cadences.
        span: [first, last] frames analysed, where the first shot starts and the last one ends
            (``slow_motion_ranges``); default the first and last detection's frame.
    """
    _check_inputs(detections, fps, width, height)
    shot_starts = tuple(int(f) for f in shot_starts)
    if span is None:
        frames = detections["frame"]
        span = (int(pc.min(frames).as_py()), int(pc.max(frames).as_py())) if detections.num_rows else (0, -1)
    shots = shot_spans(shot_starts, span)
    first = _analyse(detections, fps, width, height, settings, shot_starts)
    if settings.capture_fps:
        return dataclasses.replace(first, capture_fps=float(settings.capture_fps), capture_fps_source="user")
    factor, source = first.slow_motion_factor, "gravity"
    slow_ids: pa.Array | pa.ChunkedArray = pc.filter(first.runners["track_id"], first.runners["slow_motion_suspected"])
    if frames_per_picture >= 2:
        if math.isfinite(factor):  # gravity says slowed; the held pictures count by how much exactly
            factor, source = float(frames_per_picture), "held_frames"
        elif (slowed := _stepping_too_slowly(first.runners, settings)) is not None:
            factor, source, slow_ids = float(frames_per_picture), "held_frames", slowed
    if not (settings.use_slow_motion_factor and math.isfinite(factor)):
        return dataclasses.replace(first, slow_motion_ranges=_slowed_parts(first, shots))
    real = _analyse(detections, fps, width, height, settings.model_copy(update={"capture_fps": fps * factor}),
                    shot_starts)
    runners = real.runners.set_column(
        real.runners.schema.get_field_index("slow_motion_suspected"), RUNNERS.field("slow_motion_suspected"),
        pc.is_in(real.runners["track_id"], value_set=slow_ids),
    )
    real = dataclasses.replace(real, runners=runners, slow_motion_suspected=True, slow_motion_factor=factor,
                               capture_fps=fps * factor, capture_fps_source=source)
    if source == "held_frames":  # counted over the whole clip
        parts: tuple[tuple[int, int], ...] = ((shots[0][0], shots[-1][1]),) if shots else ()
    else:
        parts = _slowed_parts(real, shots)
    return _real_time_shots(first, dataclasses.replace(real, slow_motion_ranges=parts), shots)


def _real_time_shots(first: VideoAnalysis, slowed: VideoAnalysis, shots: list[tuple[int, int]]) -> VideoAnalysis:
    """``slowed`` (the clip analysed at the slowed rate), with the people of every shot that no
    slowed part reaches taken from ``first`` (analysed at the container's rate): a real-time
    race shot before a slowed replay keeps its real cadences. A track never crosses a cut, so a
    person's rows come whole from one pass; a shot a speed ramp slows in part stays slowed."""
    parts = slowed.slow_motion_ranges
    real_time = [(a, b) for a, b in shots if not any(lo <= b and hi >= a for lo, hi in parts)]
    if not real_time:
        return slowed

    def in_real_time(runners: pa.Table) -> np.ndarray:
        starts = runners["first_frame"].to_numpy()
        return np.any([(starts >= a) & (starts <= b) for a, b in real_time], axis=0)

    keep_first = first.runners["track_id"].filter(pa.array(in_real_time(first.runners)))
    keep_slowed = slowed.runners["track_id"].filter(pa.array(~in_real_time(slowed.runners)))

    def take(name: str) -> pa.Table:
        tables = [getattr(a, name).filter(pc.is_in(getattr(a, name)["track_id"], value_set=ids))
                  for a, ids in ((slowed, keep_slowed), (first, keep_first))]
        return pa.concat_tables(tables).sort_by("track_id")

    first_ids, slowed_ids = set(keep_first.to_pylist()), set(keep_slowed.to_pylist())
    id_map = {k: v for k, v in slowed.id_map.items() if v in slowed_ids}
    id_map |= {k: v for k, v in first.id_map.items() if v in first_ids}
    return dataclasses.replace(slowed, runners=take("runners"), contacts=take("contacts"),
                               deviations=take("deviations"), id_map=MappingProxyType(id_map),
                               tracks_merged=sum(k != v for k, v in id_map.items()))


def _slowed_parts(analysis: VideoAnalysis, shots: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The slowed parts of the clip (:func:`pipeline.analysis.slow_motion.slowed_ranges`) from the
    runners the analysis found slowed and their contacts."""
    if not analysis.slow_motion_suspected:
        return ()
    contacts = analysis.contacts.select(["track_id", "frame"]).to_pydict()
    frames_of: dict[int, list[int]] = {}
    for track_id, frame in zip(contacts["track_id"], contacts["frame"], strict=True):
        frames_of.setdefault(track_id, []).append(frame)
    slowed = analysis.runners.filter(pc.field("slow_motion_suspected"))
    runners = [SlowedRunner(r["first_frame"], r["last_frame"], np.asarray(frames_of.get(r["track_id"], []), np.int64))
               for r in slowed.select(["track_id", "first_frame", "last_frame"]).to_pylist()]
    return tuple(slowed_ranges(runners, shots))


def _stepping_too_slowly(runners: pa.Table, settings: AnalysisSettings) -> pa.Array | None:
    """Track ids of everyone seen stepping (``MIN_STEPS`` contacts or more) when all of them
    step slower than ``slow_motion_max_cadence_spm`` in video time; None when anyone steps at a
    human cadence or nobody is seen stepping."""
    rows = [r for r in runners.select(["track_id", "steps", "cadence_spm"]).to_pylist()
            if (r["steps"] or 0) >= MIN_STEPS and r["cadence_spm"] is not None]
    if not rows or max(r["cadence_spm"] for r in rows) >= settings.slow_motion_max_cadence_spm:
        return None
    return pa.array([r["track_id"] for r in rows], pa.int64())


def _analyse(
    detections: pa.Table, fps: float, width: int, height: int, settings: AnalysisSettings,
    shot_starts: tuple[int, ...] = (),
) -> VideoAnalysis:
    """One pass of the analysis with time at ``settings.capture_fps or fps``."""
    fps_used = float(settings.capture_fps or fps)
    video_id = detections.column("video_id")[0].as_py() if detections.num_rows else ""
    fragments = tracks_from_table(detections)
    stitched = stitch_tracks(fragments, fps_used, (width, height), settings, shot_starts)
    warps = warps_from_table(detections)
    results = _real_time_check(
        [analyse_runner(t, fps_used, settings, fps, warps)
         for t in tracks_from_table(detections, dict(stitched.id_map))],
        settings,
    )
    sources = _sources(stitched.id_map)
    slowed = [r for r in results if r.activity.slow_motion_suspected]
    return VideoAnalysis(
        runners=build_table(
            [_runner_row(video_id, r, fps_used, sources) for r in results], RUNNERS
        ),
        contacts=build_table(
            [row for r in results for row in _contact_rows(video_id, r, fps_used)], CONTACTS
        ),
        deviations=build_table(
            [
                _deviation_row(video_id, r.context.track.track_id, d)
                for r in results
                for d in r.deviations
            ],
            DEVIATIONS,
        ),
        id_map=MappingProxyType(dict(stitched.id_map)),
        tracks_merged=stitched.merged,
        slow_motion_suspected=bool(slowed),
        slow_motion_factor=video_slow_motion_factor([r.clock for r in slowed if math.isfinite(r.clock.factor)]),
        capture_fps=fps_used,
    )


def video_slow_motion_factor(clocks: list[GravityClock]) -> float:
    """The clip's slow-down factor from its slowed runners' clocks: their factors weighed by
    the inverse square of each one's relative spread (interquartile range over the crests), so
    a large, steady runner outweighs a tiny, jittery one. NaN without a clock."""
    if not clocks:
        return float("nan")
    factors = np.array([c.factor for c in clocks])
    spread = np.array([max(c.high - c.low, 1e-3 * c.factor) / c.factor if np.isfinite(c.high - c.low) else 1.0
                       for c in clocks])
    return float(np.average(factors, weights=1.0 / spread**2))


def _sources(id_map: Mapping[int, int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for source, runner in sorted(id_map.items()):
        out.setdefault(runner, []).append(source)
    return out


def _num(value: float | None) -> float | None:
    """A float for a table cell; NaN becomes null."""
    return None if value is None or not math.isfinite(value) else float(value)


def _quality(raw: TrackSeries) -> tuple[float | None, float | None]:
    """(mean keypoint confidence, fraction of keypoints present) over detected frames."""
    if not raw.present.any():
        return None, None
    confidence = raw.keypoint_confidence[raw.present]
    present = ~np.isnan(raw.keypoints[raw.present, :, 0])
    return float(confidence.mean()), float(present.mean())


def _runner_row(
    video_id: str, r: RunnerAnalysis, fps: float, sources: dict[int, list[int]]
) -> dict[str, Any]:
    ctx, gait, raw = r.context, r.context.gait, r.raw
    confidence, coverage = _quality(raw)
    sideways = ctx.stretch is not None and np.isfinite(ctx.stretch).any()
    facing = {1.0: "right", -1.0: "left"}.get(ctx.direction) if sideways else None
    ids = sources.get(raw.track_id, [raw.track_id])
    return {
        "video_id": video_id,
        "track_id": raw.track_id,
        "is_runner": r.activity.is_runner,
        "activity": r.activity.label,
        "slow_motion_suspected": r.activity.slow_motion_suspected,
        "source_track_ids": ids,
        "fragments_merged": len(ids) - 1,
        "first_frame": int(raw.frames[0]),
        "last_frame": int(raw.frames[-1]),
        "frames_detected": int(raw.present.sum()),
        "seconds_visible": float(raw.present.sum() / fps),
        "fps_used": fps,
        "steps": gait.steps,
        "strides": len(gait.strides),
        "cadence_spm": _num(possible_cadence(gait.cadence_spm)),
        "cadence_spectral_spm": _num(possible_cadence(gait.cadence_spectral_spm)),
        "step_asymmetry": _num(gait.step_asymmetry),
        "vertical_oscillation": _num(possible_oscillation(gait.vertical_oscillation)),
        # walking and standing keep a foot on the ground: a flight read on them is a misread
        "flight_fraction": None if r.activity.label in ("walking", "standing") else _num(possible_flight(gait)),
        "knee_min_angle_deg": _num(gait.knee_min_angle_deg),
        "arm_swing_deg": _num(gait.arm_swing_deg),
        "running_cues_met": r.activity.running_cues,
        "running_cues_measured": r.activity.cues_measured,
        "leg_length_px": _num(gait.leg_length_px),
        "ground_speed": _num(r.travel.ground),
        "view": dominant_view(ctx.views),
        "views_seen": views_seen(ctx.views),
        "facing": facing,
        "mean_keypoint_confidence": confidence,
        "keypoint_coverage": coverage,
        "swaps_repaired": r.swaps_repaired,
        "alternation_errors": gait.alternation_errors,
    }


def _contact_rows(video_id: str, r: RunnerAnalysis, fps: float) -> list[dict[str, Any]]:
    """One row per step. A runner's steps found from the hips' bounce are dated at the landing
    before the trough, half a stance earlier (``STANCE_TO_MID`` of a cycle); a walker's trough
    is its double support, when the leading foot lands, so it stays where it is."""
    ctx, gait = r.context, r.context.gait
    overstride, shank = contact_geometry(ctx.sagittal_keypoints(), gait, ctx.direction or np.nan)
    # a value no body shows at a contact is a misread pose: null, as in the verdicts
    overstride, shank = FAULTS["overstride"].possible(overstride), FAULTS["shank_angle"].possible(shank)
    sagittal = ctx.supports(FAULTS["overstride"])
    event, lead = gait.contact_event, 0
    if event == MID_STANCE and r.activity.is_runner:
        cycle = cycle_frames(gait.contact_index, gait.stride_period_frames)
        if np.isfinite(cycle):
            event, lead = INITIAL_CONTACT_ESTIMATED, int(round(STANCE_TO_MID * cycle))
    rows = []
    for i, (row, foot) in enumerate(zip(gait.contact_index, gait.contact_foot, strict=True)):
        side = sagittal[row]
        frame = max(int(ctx.track.frames[row]) - lead, int(ctx.track.frames[0]))
        rows.append(
            {
                "video_id": video_id,
                "track_id": ctx.track.track_id,
                "frame": frame,
                "time_s": frame / fps,
                "foot": FOOT_NAMES[foot],
                "step_index": i,
                "view": VIEW_NAMES[ctx.views[row]],
                "event": event,
                "overstride_leg_lengths": _num(overstride[i]) if side else None,
                "shank_angle_deg": _num(shank[i]) if side else None,
            }
        )
    return rows


def _deviation_row(video_id: str, track_id: int, d: Deviation) -> dict[str, Any]:
    return {
        "video_id": video_id,
        "track_id": track_id,
        "deviation": d.deviation,
        "value": _num(d.value),
        "unit": d.unit,
        "flagged": d.flagged,
        "fraction_flagged": _num(d.fraction_flagged),
        "strides_measured": d.strides_measured,
        "reason": d.reason,
        "worst_frame": d.worst_frame,
        "first_third_value": _num(d.first_third),
        "drift": _num(d.drift),
        "value_low": _num(d.value_low),
        "value_high": _num(d.value_high),
    }
