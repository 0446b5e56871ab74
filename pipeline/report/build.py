"""Assemble the report: load the datasets, make thumbnails and charts, render, write atomically."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import quote

import jinja2
import numpy as np
from markupsafe import Markup

from pipeline.analysis.settings import AnalysisSettings
from pipeline.coach.names import active_names, read_names
from pipeline.outputs import dataset_file, write_text_atomic
from pipeline.poses import Poses
from pipeline.render.annotators import SkeletonAnnotator
from pipeline.render.measure import draw_measurement
from pipeline.render.people import format_value
from pipeline.report.athletes import write_athlete_pages
from pipeline.report.data import Contact, Fault, Person, VideoReport, load_videos, stills
from pipeline.report.svg import dot_chart
from pipeline.report.template import PAGE
from pipeline.report.thumbs import write_thumbnails

REPORT_NAME = "report.html"
ASSETS_DIR = "report_assets"
STILL_HEIGHT_PX = 320  # runner stills, shown 240 px tall


def _relative(out_dir: Path, path: Path) -> str | None:
    """URL of ``path`` relative to the report, or None when the file does not exist."""
    if not path.is_file():
        return None
    return quote(path.relative_to(out_dir).as_posix())


def step_interval_series(contacts: list[Contact]) -> tuple[list[float], list[float]]:
    """(time of each contact after the first in s, interval since the previous contact in s)."""
    times = [c.time_s for c in contacts]
    return times[1:], [b - a for a, b in zip(times, times[1:], strict=False)]


def _series(contacts: list[Contact], attribute: str) -> tuple[list[float], list[float]]:
    """(contact times in s, values) of the contacts where ``attribute`` was measured."""
    pairs = [(c.time_s, getattr(c, attribute)) for c in contacts if getattr(c, attribute) is not None]
    return [t for t, _ in pairs], [v for _, v in pairs]


def runner_charts(person: Person, settings: AnalysisSettings) -> list[Markup]:
    """Inline SVG charts of a runner's contacts: step interval, overstride and shank angle with thresholds."""
    charts = []
    xs, ys = step_interval_series(person.contacts)
    if xs:
        charts.append(dot_chart(xs, ys, "Step interval", "s", "s"))
    xs, ys = _series(person.contacts, "overstride_leg_lengths")
    if xs:
        charts.append(dot_chart(xs, ys, "Overstride at contact", "s", "leg lengths", settings.overstride_leg_lengths))
    xs, ys = _series(person.contacts, "shank_angle_deg")
    if xs:
        charts.append(dot_chart(xs, ys, "Shank angle at contact", "s", "deg", settings.shank_angle_max_deg))
    return [Markup(chart) for chart in charts]  # built with every text escaped


def _person_context(person: Person) -> dict:
    row = person.row
    return {"track_id": person.track_id, "is_runner": person.is_runner, "activity": row["activity"],
            "seconds_visible": row["seconds_visible"], "steps": row["steps"], "cadence_spm": row["cadence_spm"],
            "view": row["view"]}


def _runner_context(out_dir: Path, video: VideoReport, person: Person, thumbnails: dict[int, Path],
                    settings: AnalysisSettings, names: dict) -> dict:
    clip = out_dir / "clips" / video.video_id / f"runner_{person.track_id}.mp4"
    thumb = thumbnails.get(person.track_id)
    named = names.get((video.video_id, person.track_id))
    flagged = sorted((f for f in person.faults if f.flagged and f.cue), key=lambda f: -(f.fraction_flagged or 0))
    return {**_person_context(person), "faults": person.faults, "charts": runner_charts(person, settings),
            "clip": _relative(out_dir, clip), "thumbnail": _relative(out_dir, thumb) if thumb else None,
            "athlete": named["athlete"] if named else None, "proposed": bool(named and not named["confirmed"]),
            "flagged": flagged}


def others_line(people: list[Person]) -> str:
    """The people who are not running, in one line: ``41 others: 12 walking, 3 standing, 26 too small or
    too brief to judge``; empty when everyone runs."""
    others = [p for p in people if not p.is_runner]
    if not others:
        return ""
    words = {"walking": "walking", "standing": "standing", "unknown": "too small or too brief to judge"}
    counts = Counter(words.get(p.row["activity"], p.row["activity"]) for p in others)
    order = [w for w in words.values() if w in counts] + sorted(set(counts) - set(words.values()))
    return f"{len(others)} other{'s' * (len(others) != 1)}: " + ", ".join(f"{counts[w]} {w}" for w in order)


def slow_motion_line(row: dict) -> str | None:
    """What the report says of a video's speed: None in real time; else how much slower (when
    measured) and, where only part of it is slowed (a speed ramp, a replay), which seconds."""
    if not row.get("slow_motion_suspected"):
        return None
    factor, fps = row.get("slow_motion_factor"), row.get("fps") or 0.0
    words = f"slow motion, about {factor:.1f}x slower" if factor else "probably slow motion"
    ranges = row.get("slow_motion_ranges") or []
    slowed = sum(last - first + 1 for first, last in ranges)
    total = (row.get("frames") or 0) + (row.get("frames_lost") or 0)
    if ranges and fps > 0 and slowed < total:
        words += " from " + ", ".join(f"{first / fps:.1f} to {(last + 1) / fps:.1f} s" for first, last in ranges)
    return words


def _top_fault(person: Person) -> Fault | None:
    """The runner's most often flagged fault with a worst frame, or None."""
    flagged = [f for f in person.faults if f.flagged and f.worst_frame is not None]
    return max(flagged, key=lambda f: f.fraction_flagged or 0, default=None)


def _thumbnails(out_dir: Path, video: VideoReport) -> dict[int, Path]:
    """Runner stills of ``video``: at the worst frame of the runner's top flagged fault (its measurement
    drawn, for overstride and shank angle) or mid-way through. Those written since the video's
    ``videos/`` row are kept, so a report over a year of nights decodes only the new videos."""
    assets, row_file = out_dir / ASSETS_DIR, dataset_file(out_dir, "videos", video.video_id)
    since = row_file.stat().st_mtime if row_file.is_file() else float("inf")
    runners = {p.track_id: p for p in video.people if p.is_runner}
    kept = {rid: assets / f"{video.video_id}_{rid}.jpg" for rid in runners}
    kept = {rid: t for rid, t in kept.items() if t.is_file() and t.stat().st_mtime >= since}
    top = {rid: _top_fault(p) for rid, p in runners.items() if rid not in kept}
    worst = {rid: f.worst_frame for rid, f in top.items() if f and f.worst_frame is not None}
    found = stills(out_dir, video, worst) if top else {}

    def draw(still: np.ndarray, rid: int, transform: tuple[float, float, float]) -> None:
        keypoints, fault = found[rid][2], top.get(rid)
        if keypoints is None or fault is None:
            return
        left, top_px, scale = transform
        points = ((keypoints - (left, top_px)) * scale).astype(np.float32)
        SkeletonAnnotator(thickness=1, radius=2).annotate(still, Poses(
            np.zeros((1, 4), np.float32), np.ones(1, np.float32), points[None],
            np.isfinite(points[None, :, 0]).astype(np.float32), np.array([rid])))
        draw_measurement(still, points, fault.name, format_value(fault.value, fault.unit))

    boxes = {rid: (frame, box) for rid, (frame, box, _) in found.items()}
    # detections' frame is the decoded frame index; the container fps only turns it into read_frames' time
    return kept | write_thumbnails(video.row["path"], video.row["fps"] or 0.0, boxes, assets, video.video_id, draw,
                                   STILL_HEIGHT_PX)


def _video_context(out_dir: Path, video: VideoReport, settings: AnalysisSettings, names: dict) -> dict:
    row = video.row
    thumbnails = _thumbnails(out_dir, video)
    return {
        "video_id": video.video_id, "name": video.name, "path": row["path"], "status": row["status"],
        "failed": row["status"] == "failed",
        "error": row["error"], "fps": row["fps"], "duration_s": row["duration_s"],
        "slow_motion": slow_motion_line(row),
        "annotated": _relative(out_dir, out_dir / "clips" / video.video_id / "annotated.mp4"),
        "people": [_person_context(p) for p in video.people], "others": others_line(video.people),
        "runners": [_runner_context(out_dir, video, p, thumbnails, settings, names)
                    for p in video.people if p.is_runner],
    }


def render_report(out_dir: str | Path, settings: AnalysisSettings | None = None) -> str:
    """The report page of ``out_dir`` as HTML text (thumbnails are written as a side effect)."""
    out_dir = Path(out_dir)
    settings = settings or AnalysisSettings()
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    names = active_names(read_names(out_dir))
    videos = [_video_context(out_dir, v, settings, names) for v in load_videos(out_dir)]
    athletes = write_athlete_pages(out_dir, out_dir / ASSETS_DIR, settings)
    return env.from_string(PAGE).render(videos=videos, out_dir=str(out_dir), athletes=athletes)


def write_report(out_dir: str | Path, settings: AnalysisSettings | None = None) -> Path:
    """Write ``out_dir/report.html`` from the Parquet datasets of ``out_dir`` and return its path.

    The file appears whole (temporary file + rename). Thresholds in the charts come from
    ``settings`` (default: ``AnalysisSettings()``). Raises FileNotFoundError when ``out_dir``
    holds no videos/ results.
    """
    out_dir = Path(out_dir)
    page = render_report(out_dir, settings)
    return write_text_atomic(page, out_dir / REPORT_NAME)
