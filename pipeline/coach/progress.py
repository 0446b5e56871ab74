"""Each named athlete's faults session by session, and whether they changed.

A session is one video in which a runner is the athlete by a confirmed name (a proposal never
counts). Per fault, a session's value is the ``deviations/`` row's median with its 90 %
interval ``[value_low, value_high]``; cadence and step asymmetry get theirs here, from the
``contacts/`` step times, by a bootstrap. Two sessions differ only when their
intervals do not overlap: then the change is ``better`` or ``worse`` in the direction of the
fault's threshold (the registry's ``low``/``high`` settings say which side is faulty), and
otherwise ``no measurable change``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow.parquet as pq

from pipeline.analysis.registry import FAULTS
from pipeline.analysis.settings import AnalysisSettings
from pipeline.coach.names import Runner, active_names, confirmed_runners, read_names
from pipeline.coach.sessions import session_dates
from pipeline.incremental import read_video_rows
from pipeline.outputs import COMMITTED_STATUSES, dataset_file, progress_file, write_table_atomic
from pipeline.schemas import PROGRESS, build_table

BETTER, WORSE, SAME, NOT_COMPARED = "better", "worse", "no measurable change", "not compared"
HIGHER, LOWER = "higher", "lower"
#: Gait metrics followed besides the faults: (name, unit, label).
GAIT_METRICS = {"cadence": ("steps/min", "Cadence"), "step_asymmetry": ("fraction", "Step asymmetry")}
BOOTSTRAP_SAMPLES = 1000
#: Steps longer than this many median steps are gaps (the runner hidden), not steps, as in the analysis.
GAP_STEPS = 1.5
MIN_STEPS = 4


@dataclass(frozen=True)
class Measure:
    """One metric of one session: ``value`` in ``unit`` with its 90 % interval; null with ``reason``."""

    value: float | None
    low: float | None
    high: float | None
    unit: str
    flagged: bool | None = None
    reason: str | None = None


def change(before: Measure, after: Measure, metric: str, thresholds: tuple[float | None, float | None]) -> str:
    """The verdict on ``before`` -> ``after``: BETTER / WORSE (intervals apart, judged by the fault's
    faulty side), HIGHER / LOWER for cadence, SAME when the intervals overlap, NOT_COMPARED when
    either has no value or no interval."""
    if (before.value is None or before.low is None or before.high is None
            or after.value is None or after.low is None or after.high is None):
        return NOT_COMPARED
    if after.low <= before.high and before.low <= after.high:
        return SAME
    rose = after.value > before.value
    if metric == "cadence":
        return HIGHER if rose else LOWER
    if metric == "step_asymmetry":
        return WORSE if rose else BETTER
    low, high = thresholds
    if low is not None and high is not None:  # two-sided: better is nearer the middle of the normal band
        middle = (low + high) / 2
        return BETTER if abs(after.value - middle) < abs(before.value - middle) else WORSE
    faulty_high = high is not None
    return WORSE if rose == faulty_high else BETTER


def thresholds(metric: str, settings: AnalysisSettings) -> tuple[float | None, float | None]:
    """(low, high) thresholds of fault ``metric`` from ``settings``, in its unit; (None, None) for gait metrics."""
    spec = FAULTS.get(metric)
    if spec is None:
        return None, None
    return (getattr(settings, spec.low) if spec.low else None, getattr(settings, spec.high) if spec.high else None)


def _interval(samples: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(samples, [5.0, 95.0])
    return float(low), float(high)


def step_intervals(times_s: np.ndarray, feet: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(step times in s, foot landing at the end of each) from contact times in s, gaps left out."""
    order = np.argsort(times_s)
    times, landing = np.asarray(times_s, float)[order], np.asarray(feet)[order]
    steps = np.diff(times)
    if steps.size == 0:
        return steps, landing[:0]
    keep = (steps > 0) & (steps <= GAP_STEPS * np.median(steps))
    return steps[keep], landing[1:][keep]


def gait_measures(times_s: np.ndarray, feet: list[str], seed: int = 0) -> dict[str, Measure]:
    """Cadence (steps/min) and step asymmetry (|left - right| mean step time / mean step time) of one
    runner's contacts, each with a 90 % bootstrap interval over the steps."""
    steps, landing = step_intervals(times_s, feet)
    rng = np.random.default_rng(seed)
    result = {"cadence": Measure(None, None, None, "steps/min", reason="too_few_strides"),
              "step_asymmetry": Measure(None, None, None, "fraction", reason="too_few_strides")}
    if steps.size >= MIN_STEPS:
        boot = rng.choice(steps, size=(BOOTSTRAP_SAMPLES, steps.size)).mean(axis=1)
        result["cadence"] = Measure(60.0 / steps.mean(), *_interval(60.0 / boot), "steps/min")
    left, right = steps[landing == "left"], steps[landing == "right"]
    if min(left.size, right.size) >= MIN_STEPS // 2:
        def asym(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.abs(a.mean(axis=-1) - b.mean(axis=-1)) / ((a.sum(axis=-1) + b.sum(axis=-1))
                                                               / (a.shape[-1] + b.shape[-1]))
        boot = asym(rng.choice(left, size=(BOOTSTRAP_SAMPLES, left.size)),
                    rng.choice(right, size=(BOOTSTRAP_SAMPLES, right.size)))
        result["step_asymmetry"] = Measure(float(asym(left, right)), *_interval(boot), "fraction")
    return result


def session_measures(out_dir: str | Path, video_id: str, track_id: int) -> dict[str, Measure]:
    """Every fault and gait metric of one runner of one video, read from its Parquet files."""
    out = Path(out_dir)
    deviations = pq.read_table(dataset_file(out, "deviations", video_id), filters=[("track_id", "=", track_id)])
    measures = {r["deviation"]: Measure(r["value"], r.get("value_low"), r.get("value_high"), r["unit"],
                                        r["flagged"], r["reason"]) for r in deviations.to_pylist()}
    contacts = pq.read_table(dataset_file(out, "contacts", video_id), columns=["track_id", "time_s", "foot"],
                             filters=[("track_id", "=", track_id)])
    feet = cast("list[str]", contacts.column("foot").to_pylist())  # non-null in the contacts schema
    gait = gait_measures(contacts.column("time_s").to_numpy(), feet)
    runner = pq.read_table(dataset_file(out, "runners", video_id), columns=["track_id", "cadence_spm"],
                           filters=[("track_id", "=", track_id)]).to_pylist()
    return measures | _as_reported(gait, runner[0]["cadence_spm"] if runner else None)


def _as_reported(gait: dict[str, Measure], cadence_spm: float | None) -> dict[str, Measure]:
    """The cadence as ``runners/`` reports it (from sub-frame contact times; the contacts' whole
    frames differ by a fraction of a step/min), its interval scaled alike, so every place that
    shows a runner's cadence shows one number."""
    m = gait["cadence"]
    if cadence_spm is None or m.value is None or m.low is None or m.high is None:
        return gait
    ratio = cadence_spm / m.value
    return gait | {"cadence": Measure(cadence_spm, m.low * ratio, m.high * ratio, m.unit)}


def video_runners(out_dir: str | Path, video_ids: list[str]) -> dict[str, list[Runner]]:
    """video_id -> its people now (track id and frame span), for re-finding named runners."""
    runners: dict[str, list[Runner]] = {}
    for video_id in video_ids:
        path = dataset_file(out_dir, "runners", video_id)
        if path.is_file():
            table = pq.read_table(path, columns=["track_id", "first_frame", "last_frame"])
            runners[video_id] = [Runner(video_id, r["track_id"], r["first_frame"], r["last_frame"])
                                 for r in table.to_pylist()]
    return runners


@dataclass(frozen=True)
class Session:
    """One session of an athlete: the video, the runner who is the athlete, the date and its source."""

    video_id: str
    track_id: int
    recorded_at: datetime
    date_source: str


def athlete_sessions(out_dir: str | Path, athlete: str) -> list[Session]:
    """The athlete's sessions, oldest first: videos (ok or partial) where a runner is confirmed as them;
    where several runners of a video are, the one with the most steps."""
    videos = {v: r for v, r in read_video_rows(out_dir).items() if r["status"] in COMMITTED_STATUSES}
    names = active_names(read_names(out_dir), video_runners(out_dir, list(videos)))
    keys = [k for k in confirmed_runners(names, athlete) if k[0] in videos]
    dates = session_dates(out_dir, {k[0]: videos[k[0]] for k in keys})
    chosen: dict[str, int] = {}
    for video_id, track_id in keys:
        chosen[video_id] = track_id if video_id not in chosen else _most_steps(out_dir, video_id,
                                                                                 [chosen[video_id], track_id])
    sessions = [Session(v, t, *dates[v]) for v, t in chosen.items()]
    return sorted(sessions, key=lambda s: (s.recorded_at, s.video_id))


def _most_steps(out_dir: str | Path, video_id: str, track_ids: list[int]) -> int:
    table = pq.read_table(dataset_file(out_dir, "runners", video_id), columns=["track_id", "steps"],
                          filters=[("track_id", "in", track_ids)]).to_pylist()
    return max(table, key=lambda r: r["steps"])["track_id"]


def athlete_progress(out_dir: str | Path, athlete: str, settings: AnalysisSettings | None = None) -> list[dict]:
    """Progress rows (schema :data:`PROGRESS`) of one athlete: per metric, one row per session."""
    settings = settings or AnalysisSettings()
    sessions = athlete_sessions(out_dir, athlete)
    measures = [session_measures(out_dir, s.video_id, s.track_id) for s in sessions]
    rows = []
    for metric in (*FAULTS, *GAIT_METRICS):
        bounds = thresholds(metric, settings)
        series = [m.get(metric, Measure(None, None, None, _unit(metric), reason="not_measured")) for m in measures]
        for index, (session, measure) in enumerate(zip(sessions, series, strict=True)):
            rows.append({
                "athlete": athlete, "metric": metric, "session": index + 1, "video_id": session.video_id,
                "track_id": session.track_id, "recorded_at": session.recorded_at, "date_source": session.date_source,
                "value": measure.value, "value_low": measure.low, "value_high": measure.high, "unit": measure.unit,
                "flagged": measure.flagged, "reason": measure.reason, "threshold_low": bounds[0],
                "threshold_high": bounds[1],
                "change": change(series[index - 1], measure, metric, bounds) if index else NOT_COMPARED,
                "change_since_first": change(series[0], measure, metric, bounds) if index else NOT_COMPARED,
            })
    return rows


def _unit(metric: str) -> str:
    return FAULTS[metric].unit if metric in FAULTS else GAIT_METRICS[metric][0]


def athletes(out_dir: str | Path) -> list[str]:
    """Every athlete with a confirmed name in ``out_dir``, alphabetically."""
    return sorted({r["athlete"] for r in active_names(read_names(out_dir)).values() if r["confirmed"]})


def write_progress(out_dir: str | Path, settings: AnalysisSettings | None = None) -> Path:
    """Write ``progress/progress.parquet``: every named athlete's progress rows. Returns its path."""
    rows = [row for name in athletes(out_dir) for row in athlete_progress(out_dir, name, settings)]
    path = progress_file(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_table_atomic(build_table(rows, PROGRESS), path)
