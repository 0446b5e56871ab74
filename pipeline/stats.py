"""Per-runner summaries read back from an output folder's Parquet datasets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds

from pipeline.analysis.registry import FAULT_LABELS, FAULTS
from pipeline.coach.names import active_names, read_names
from pipeline.outputs import open_dataset


@dataclass(frozen=True)
class RunnerSummary:
    """One person of one video, as `formwatch stats` shows them."""

    video: str
    video_id: str
    track_id: int
    activity: str
    seconds_visible: float
    steps: int
    cadence_spm: float | None
    view: str
    faults: list[str]  # "Arms at about 90°, ... — Elbow angle 128 [121-134] deg (62% of strides). Drill: ..."
    unmeasured: int  # faults that could not be measured (null with a reason)
    athlete: str = ""  # the runner's name; "Lea?" when only proposed


def _dataset(out_dir: Path, name: str) -> ds.Dataset:
    folder = out_dir / name
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        raise FileNotFoundError(f"{folder} holds no results; run `formwatch run FOOTAGE --out {out_dir}` first.")
    return open_dataset(out_dir, name)


def fault_text(d: dict) -> str:
    """A flagged deviations row as a coach reads it: the cue first, then the measurement, then the drill."""
    label = FAULT_LABELS.get(d["deviation"], d["deviation"])
    share = f" ({d['fraction_flagged']:.0%} of strides)" if d["fraction_flagged"] is not None else ""
    interval = f" [{d['value_low']:.3g}-{d['value_high']:.3g}]" if d.get("value_low") is not None else ""
    measured = f"{label} {d['value']:.3g}{interval} {d['unit']}{share}"
    spec = FAULTS.get(d["deviation"])
    return f"{spec.cue} — {measured}. Drill: {spec.drill}" if spec and spec.cue else measured


def runner_summaries(out_dir: str | Path, runners_only: bool = False) -> list[RunnerSummary]:
    """Every person in every processed video, runners first, with their flagged faults."""
    out_dir = Path(out_dir)
    videos = {r["video_id"]: Path(r["path"]).name for r in _dataset(out_dir, "videos").to_table().to_pylist()}
    people = _dataset(out_dir, "runners").to_table().to_pylist()
    flagged: dict[tuple[str, int], list[str]] = {}
    unmeasured: dict[tuple[str, int], int] = {}
    for d in _dataset(out_dir, "deviations").to_table().to_pylist():
        key = (d["video_id"], d["track_id"])
        if d["flagged"]:
            flagged.setdefault(key, []).append(fault_text(d))
        elif d["flagged"] is None:
            unmeasured[key] = unmeasured.get(key, 0) + 1
    names = {k: r["athlete"] + ("" if r["confirmed"] else "?") for k, r in active_names(read_names(out_dir)).items()}
    rows = [
        RunnerSummary(
            video=videos.get(p["video_id"], p["video_id"]), video_id=p["video_id"], track_id=p["track_id"],
            activity=p["activity"],
            seconds_visible=p["seconds_visible"], steps=p["steps"], cadence_spm=p["cadence_spm"], view=p["view"],
            faults=flagged.get((p["video_id"], p["track_id"]), []),
            unmeasured=unmeasured.get((p["video_id"], p["track_id"]), 0),
            athlete=names.get((p["video_id"], p["track_id"]), ""),
        )
        for p in people
        if p["is_runner"] or not runners_only
    ]
    return sorted(rows, key=lambda r: (r.video, r.activity != "running", r.track_id))


def run_table(out_dir: str | Path, rows: list[dict]) -> list[dict]:
    """One row per person in the videos of one run (``rows``: their ``videos/`` rows), for the
    Prefect table artifact."""
    ids = {r["video_id"] for r in rows if r["status"] in ("ok", "partial")}
    people = [p for p in runner_summaries(out_dir) if p.video_id in ids] if ids else []
    return [{"video": p.video, "id": p.track_id, "athlete": p.athlete, "activity": p.activity,
             "seconds": round(p.seconds_visible, 1),
             "cadence_spm": None if p.cadence_spm is None else round(p.cadence_spm), "view": p.view,
             "faults": "; ".join(p.faults)} for p in people]


def run_markdown(out_dir: str | Path, rows: list[dict], report: str | Path | None) -> str:
    """A page linking the report and each video's clips, and naming the failures, of one run."""
    lines = [f"# FormWatch results\n\nOutput folder: `{Path(out_dir).resolve()}`\n"]
    if report:
        lines.append(f"Report: [{Path(report).name}]({Path(report).resolve().as_uri()})\n")
    for row in rows:
        name = Path(row["path"]).name
        if row["status"] == "failed":
            lines.append(f"- **{name}**: failed: {row['error']}")
            continue
        if row["status"] == "partial":
            lines.append(f"- **{name}**: partial: {row['error']}")
        clips = sorted((Path(out_dir) / "clips" / row["video_id"]).glob("*.mp4"))
        links = ", ".join(f"[{c.name}]({c.resolve().as_uri()})" for c in clips) or "no clips"
        lines.append(f"- **{name}**: {row['people']} people, {row['runners']} running; {links}")
    return "\n".join(lines)


def summary_markdown(out_dir: str | Path, rows: list[dict], skipped: list) -> str:
    """One run in figures: videos processed, skipped and failed, and the runners found.

    ``rows`` are the ``videos/`` rows of the videos processed; ``skipped`` the planned
    videos left alone (objects with ``path`` and ``reason``).
    """
    ok = [r for r in rows if r["status"] in ("ok", "partial")]
    failed = [r for r in rows if r["status"] == "failed"]
    lines = [
        "# FormWatch run summary\n",
        f"Output folder: `{Path(out_dir).resolve()}`\n",
        "| videos found | processed | skipped (unchanged) | failed | people found | runners found |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {len(rows) + len(skipped)} | {len(ok)} | {len(skipped)} | {len(failed)} | "
        f"{sum(r.get('people') or 0 for r in ok)} | {sum(r.get('runners') or 0 for r in ok)} |",
    ]
    if failed:
        lines += ["", "## Failed", *(f"- `{Path(r['path']).name}`: {r['error']}" for r in failed)]
    if ok:
        lines += ["", "## Processed",
                  *(f"- `{Path(r['path']).name}`: {r.get('runners') or 0} runners of {r.get('people') or 0} people, "
                    f"{r.get('processing_s') or 0:.1f} s" + (f" (partial: {r['error']})" if r["error"] else "")
                    for r in ok)]
    if skipped:
        lines += ["", "## Skipped", *(f"- `{Path(item.path).name}`: {item.reason}" for item in skipped)]
    return "\n".join(lines)
