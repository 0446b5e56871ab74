"""``formwatch``: the command line. Parses flags, validates settings once, runs the flow."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pipeline.config import WEIGHTS_ENV, ConfigError, describe_settings, load_settings

EPILOG = f"""\
Settings come from the defaults (see `formwatch config`), then --config FILE, then
{WEIGHTS_ENV} (a weights path), then the flags given here. Runs on Prefect's embedded
local mode unless PREFECT_API_URL points at a Prefect server.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formwatch", description="Per-runner form analysis of running footage.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="detect and track every person in the footage; write Parquet",
        description="Run the annotate_footage flow over video files and folders (searched "
        "recursively for mp4, mov, m4v, avi, mkv and webm, any letter case).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("sources", nargs="+", metavar="SOURCE", help="a video file or a folder of videos")
    run.add_argument("--out", default="output", metavar="DIR",
                     help="output folder for the Parquet datasets (default: %(default)s)")
    run.add_argument("--config", metavar="FILE", help="YAML file overriding the default settings")
    run.add_argument("--weights", metavar="PATH", help="pose weights file (setting model.weights)")
    run.add_argument("--start", type=float, metavar="SECONDS",
                     help="analyse each video from this time (setting video.start_s)")
    run.add_argument("--end", type=float, metavar="SECONDS",
                     help="stop analysing each video at this time (setting video.end_s)")
    run.add_argument("--device", metavar="DEVICE",
                     help="torch device: auto, cpu, 0, cuda:1 ... (setting model.device)")
    run.add_argument("--tracker", choices=["botsort", "bytetrack"], help="setting tracking.tracker")
    run.add_argument("--no-clips", action="store_true",
                     help="write no annotated or highlight clips (setting render.clips), for stats-only runs")
    run.add_argument("--blur-faces", choices=["none", "others", "all"],
                     help="faces to blur in clips (setting render.blur_faces; default: others)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars, even on a terminal")

    stats = commands.add_parser(
        "stats", help="print a per-runner summary of an output folder",
        description="Per person and video: activity, time on screen, steps, cadence, camera view and "
        "the form faults flagged, read from DIR's Parquet datasets.",
    )
    stats.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")
    stats.add_argument("--runners-only", action="store_true", help="leave out walkers and standing people")

    report = commands.add_parser(
        "report", help="write DIR/report.html from an output folder",
        description="Write the self-contained HTML report (every video, runner, fault, plot and clip) of DIR. "
        "`formwatch run` writes it too; this re-writes it, e.g. after runs into the same folder.",
    )
    report.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")

    config = commands.add_parser(
        "config", help="show every setting with its value, unit and meaning",
        description="Print every setting after applying --config FILE, with unit and meaning.",
    )
    config.add_argument("--config", metavar="FILE", help="YAML file overriding the default settings")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "video": {"start_s": args.start, "end_s": args.end},
        "model": {"weights": args.weights, "device": args.device},
        "tracking": {"tracker": args.tracker},
        "render": {"clips": False if args.no_clips else None, "blur_faces": args.blur_faces},
    }


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, _overrides(args))
    for source in args.sources:
        if not Path(source).exists():
            raise FileNotFoundError(f"Source {source!r} is neither a video file nor a folder.")
    from pipeline.pose_model import resolve_weights

    # Resolved here, before Prefect starts, so missing weights give one line, not a failed run.
    weights = resolve_weights(settings.model.weights)
    settings = settings.model_copy(update={"model": settings.model.model_copy(update={"weights": str(weights)})})
    from flows.annotate import annotate_footage
    from pipeline.progress import ProgressReporter, RichProgressReporter, use_reporter

    show = sys.stderr.isatty() and not args.no_progress
    reporter = RichProgressReporter() if show else ProgressReporter()
    with use_reporter(reporter):
        if isinstance(reporter, RichProgressReporter):
            with reporter:
                summary = annotate_footage(args.sources, args.out, settings)
        else:
            summary = annotate_footage(args.sources, args.out, settings)
    print(f"{summary['ok']} of {summary['videos']} videos processed, {summary['failed']} failed. "
          f"Results: {Path(args.out).resolve()}")
    if summary["videos"]:
        print(f"Report: {(Path(args.out) / 'report.html').resolve()}")
    return 0 if summary["videos"] else 1


def _stats(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from pipeline.analysis.faults import DEVIATIONS
    from pipeline.stats import runner_summaries

    summaries = runner_summaries(args.out, runners_only=args.runners_only)
    table = Table(title=f"FormWatch: {Path(args.out).resolve()}", show_lines=False)
    for heading in ("video", "id", "activity", "seconds", "steps", "cadence (spm)", "view", "faults flagged"):
        table.add_column(heading, overflow="fold")
    for s in summaries:
        cadence = f"{s.cadence_spm:.0f}" if s.cadence_spm is not None else "-"
        faults = "; ".join(s.faults) if s.faults else ("none" if s.activity == "running" else "-")
        if s.activity == "running" and s.unmeasured:
            faults = "not measurable" if not s.faults and s.unmeasured == len(DEVIATIONS) else \
                f"{faults} ({s.unmeasured} not measurable)"
        table.add_row(s.video, str(s.track_id), s.activity, f"{s.seconds_visible:.1f}", str(s.steps), cadence,
                      s.view, faults)
    Console(width=None if sys.stdout.isatty() else 160).print(table)  # pipes and files get full rows
    runners = sum(s.activity == "running" for s in summaries)
    print(f"{len(summaries)} people, {runners} running. Columns and units: docs/SCHEMAS.md")
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipeline.report import write_report

    print(f"Report: {write_report(args.out)}")
    return 0


def _config(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    width = max(len(name) for name, *_ in describe_settings(settings))
    for name, value, unit, meaning in describe_settings(settings):
        unit_text = f" [{unit}]" if unit else ""
        print(f"{name:<{width}}  {value}{unit_text}\n{'':<{width}}  {meaning}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The embedded Prefect server would phone home and log an ERROR on every offline run.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from pipeline.pose_model import WeightsNotFoundError

    try:
        return {"run": _run, "stats": _stats, "report": _report, "config": _config}[args.command](args)
    except (ConfigError, WeightsNotFoundError, FileNotFoundError) as exc:
        print(f"formwatch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("formwatch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
