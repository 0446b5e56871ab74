"""One page per named athlete: the sessions and, per measured fault or gait metric, a chart of the
value with its 90 % interval session by session, the thresholds, and the verdicts on the change."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from pipeline.analysis.registry import FAULTS
from pipeline.analysis.settings import AnalysisSettings
from pipeline.coach.progress import GAIT_METRICS, NOT_COMPARED, athlete_progress, athletes
from pipeline.incremental import read_video_rows
from pipeline.outputs import compare_clip_file, write_text_atomic
from pipeline.report.svg import interval_chart
from pipeline.report.template import ATHLETE_PAGE


def _date(row: dict) -> str:
    return f"{row['recorded_at']:%Y-%m-%d}" + ("*" if row["date_source"] != "container" else "")


def _metric(out_dir: Path, athlete: str, name: str, rows: list[dict]) -> dict:
    """One metric's chart and verdicts (rows: its progress rows, by session)."""
    spec, last = FAULTS.get(name), rows[-1]
    label = spec.label if spec else GAIT_METRICS[name][1]
    chart = interval_chart([_date(r) for r in rows], [r["value"] for r in rows], [r["value_low"] for r in rows],
                           [r["value_high"] for r in rows], [r["flagged"] for r in rows], label, last["unit"],
                           (last["threshold_low"], last["threshold_high"]))
    clip = compare_clip_file(out_dir, athlete, name)
    return {"name": name, "label": label, "chart": Markup(chart),  # every text in it is escaped
            "latest": f"{last['value']:.3g} {last['unit']}" if last["value"] is not None else "not measured",
            "change": "–" if last["change"] == NOT_COMPARED else last["change"],
            "since_first": "–" if last["change_since_first"] == NOT_COMPARED else last["change_since_first"],
            "cue": spec.cue if spec and last["flagged"] else "", "drill": spec.drill if spec else "",
            "clip": "../" + quote(clip.relative_to(out_dir).as_posix()) if clip.is_file() else None}


def athlete_page(out_dir: Path, athlete: str, settings: AnalysisSettings) -> tuple[str, int]:
    """The HTML page of one athlete, and how many sessions it shows."""
    rows = athlete_progress(out_dir, athlete, settings)
    videos = read_video_rows(out_dir)
    sessions = {r["session"]: {"session": r["session"], "date": _date(r), "track_id": r["track_id"],
                               "video": Path(videos[r["video_id"]]["path"]).name} for r in rows}
    metrics = []
    for name in (*FAULTS, *GAIT_METRICS):
        mine = [r for r in rows if r["metric"] == name]
        if any(r["value"] is not None for r in mine):
            metrics.append(_metric(out_dir, athlete, name, mine))
    metrics.sort(key=lambda m: not m["cue"])  # what is still flagged first
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    page = env.from_string(ATHLETE_PAGE).render(athlete=athlete, sessions=list(sessions.values()), metrics=metrics)
    return page, len(sessions)


def athlete_file(assets: Path, athlete: str) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in "_".join(athlete.split()))
    return assets / f"athlete-{slug}.html"


def write_athlete_pages(out_dir: Path, assets: Path, settings: AnalysisSettings) -> list[dict]:
    """Write every named athlete's page under ``assets``; return [{name, href, sessions}] for the report."""
    links = []
    for athlete in athletes(out_dir):
        (page, count), path = athlete_page(out_dir, athlete, settings), athlete_file(assets, athlete)
        write_text_atomic(page, path)
        links.append({"name": athlete, "href": quote(path.relative_to(out_dir).as_posix()),
                      "sessions": count})
    return links
