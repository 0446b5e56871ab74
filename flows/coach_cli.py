"""The coach's commands of ``formwatch``: athletes, name, rename, progress (printing only; the work
is in :mod:`pipeline.coach`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.analysis.registry import FAULTS
from pipeline.coach.names import NamingError, active_names, name_runner, read_names, rename_athlete, undo_name
from pipeline.coach.progress import (
    GAIT_METRICS,
    NOT_COMPARED,
    athlete_progress,
    athlete_sessions,
    athletes,
    write_progress,
)
from pipeline.coach.sources import find_runner, find_video, sync_names
from pipeline.config import load_settings
from pipeline.incremental import read_video_rows


def _require_results(out: str) -> dict[str, dict]:
    rows = read_video_rows(out)
    if not rows:
        raise FileNotFoundError(f"{Path(out) / 'videos'} holds no results; run `formwatch run FOOTAGE --out {out}` "
                                "first.")
    return rows


def athletes_command(args: argparse.Namespace) -> int:
    """Print each athlete with their sessions, then the pending proposals."""
    videos = _require_results(args.out)
    sync_names(args.out, load_settings(args.config).athletes)
    known = athletes(args.out)
    for athlete in known:
        sessions = athlete_sessions(args.out, athlete)
        dates = ", ".join(f"{s.recorded_at:%Y-%m-%d}" + ("*" if s.date_source == "file_mtime" else "")
                          for s in sessions)
        print(f"{athlete}: {len(sessions)} session{'s' * (len(sessions) != 1)}" + (f" ({dates})" if dates else ""))
    if not known:
        print(f'No athletes named yet: `formwatch name {args.out} VIDEO RUNNER_ID "Name"` names one.')
    elif any(s.date_source == "file_mtime" for a in known for s in athlete_sessions(args.out, a)):
        print("* no recording date in the file: its modification time is used")
    proposals = [r for r in active_names(read_names(args.out)).values() if not r["confirmed"]]
    for r in sorted(proposals, key=lambda r: (r["athlete"], r["video_id"])):
        video = Path(videos[r["video_id"]]["path"]).name if r["video_id"] in videos else r["video_id"]
        print(f"proposed: runner {r['track_id']} of {video} looks like {r['athlete']} (distance {r['distance']:.2f}); "
              f'confirm: formwatch name {args.out} {r["video_id"]} {r["track_id"]} "{r["athlete"]}"')
    return 0


def name_command(args: argparse.Namespace) -> int:
    """Name a runner, or undo its names."""
    videos = _require_results(args.out)
    if args.undo:
        video_id = find_video(args.video, videos)
        undone = undo_name(args.out, video_id, args.runner, args.athlete)
        print(f"Undid {undone} name{'s' * (undone != 1)} of runner {args.runner} of {video_id}.")
        return 0
    if not args.athlete:
        raise NamingError("give the athlete's name (or --undo)")
    print(name_runner(args.out, find_runner(args.out, args.video, args.runner), args.athlete))
    return 0


def rename_command(args: argparse.Namespace) -> int:
    _require_results(args.out)
    renamed = rename_athlete(args.out, args.old, args.new)
    if not renamed:
        raise NamingError(f"no runner is named {args.old!r}; known athletes: {', '.join(athletes(args.out)) or 'none'}")
    print(f"Renamed {args.old} to {args.new} on {renamed} runner{'s' * (renamed != 1)}.")
    return 0


def _athlete(out: str, given: str) -> str:
    """The stored spelling of athlete ``given`` (letter case ignored), or a NamingError listing them."""
    known = athletes(out)
    match = [a for a in known if a.casefold() == " ".join(given.split()).casefold()]
    if not match:
        raise NamingError(f"no athlete is named {given!r}; known athletes: {', '.join(known) or 'none'} "
                          f"(`formwatch name {out} VIDEO RUNNER_ID \"{given}\"` names one)")
    return match[0]


def _value(row: dict) -> str:
    if row["value"] is None:
        return f"- ({row['reason']})" if row["reason"] else "-"
    interval = f" [{row['value_low']:.3g}, {row['value_high']:.3g}]" if row["value_low"] is not None else ""
    return f"{row['value']:.3g}{interval} {row['unit']}"


def _threshold(row: dict) -> str:
    low, high = row["threshold_low"], row["threshold_high"]
    return " or ".join(part for part in (f"< {low:g}" if low is not None else "",
                                        f"> {high:g}" if high is not None else "") if part) or "-"


def progress_command(args: argparse.Namespace) -> int:
    """Print an athlete's progress table; write the progress dataset."""
    from rich.console import Console
    from rich.table import Table

    _require_results(args.out)
    settings = load_settings(args.config)
    sync_names(args.out, settings.athletes)
    athlete = _athlete(args.out, args.athlete)
    if args.fault and args.fault not in (*FAULTS, *GAIT_METRICS):
        raise NamingError(f"unknown fault {args.fault!r}; valid: {', '.join((*FAULTS, *GAIT_METRICS))}")
    rows = athlete_progress(args.out, athlete, settings.analysis)
    write_progress(args.out, settings.analysis)
    table = Table(title=f"{athlete}: {max((r['session'] for r in rows), default=0)} sessions")
    for heading in ("fault", "session", "date", "value [90% interval]", "faulty when", "flagged",
                    "change from previous", "since first"):
        table.add_column(heading, overflow="fold")
    for metric in (*FAULTS, *GAIT_METRICS):
        mine = [r for r in rows if r["metric"] == metric]
        if (args.fault and metric != args.fault) or (not args.all and not args.fault
                                                     and all(r["value"] is None for r in mine)):
            continue
        label = FAULTS[metric].label if metric in FAULTS else GAIT_METRICS[metric][1]
        for r in mine:
            date = f"{r['recorded_at']:%Y-%m-%d}" + ("*" if r["date_source"] == "file_mtime" else "")
            flagged = {True: "yes", False: "no", None: "-"}[r["flagged"]]
            table.add_row(label if r["session"] == 1 else "", str(r["session"]), date, _value(r), _threshold(r),
                          flagged, "" if r["change"] == NOT_COMPARED else r["change"],
                          "" if r["change_since_first"] == NOT_COMPARED else r["change_since_first"],
                          end_section=r is mine[-1])
        if any(r["flagged"] for r in mine) and metric in FAULTS:
            table.add_row("", "", "", f"[bold]{FAULTS[metric].cue}[/bold]. {FAULTS[metric].drill}", "", "", "", "",
                          end_section=True)
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    print("Better or worse: the two sessions' 90% intervals do not overlap; otherwise no measurable change."
          + (" * date from the file's modification time" if any(r["date_source"] == "file_mtime" for r in rows)
             else ""))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    """Write the first-vs-latest clip of one fault."""
    from pipeline.analysis.registry import fault
    from pipeline.coach.compare import render_compare

    _require_results(args.out)
    if not 1 <= args.slowmo <= 32 or not 64 <= args.size <= 2160:
        raise NamingError("--slowmo must be 1-32 and --size 64-2160 px")
    try:
        name = fault(args.fault).name
    except ValueError as exc:
        raise NamingError(str(exc)) from None
    result = render_compare(args.out, _athlete(args.out, args.athlete), name, args.slowmo, args.size)
    print(f"Clip: {result.path.resolve()} ({len(result.pairs)} frames; contacts {result.contacts[0]} of the first "
          f"session beside {result.contacts[1]} of the latest)")
    return 0
