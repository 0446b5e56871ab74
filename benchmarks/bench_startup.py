"""Start-up share of a whole `formwatch run`: time before the first frame is inferred vs total time.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_startup.py [--clip CLIP] [--backend NAME] [--config FILE]
        [--end S] [--repeats N]

Runs ``formwatch run CLIP --out DIR --no-clips --no-progress`` as a fresh process (the console
script's entry point, ``flows.cli.main``, of this worktree) into a new temporary output folder,
with default settings unless --backend or --config says otherwise. The moment the first frame has
been through the pose model is taken from the ``inference`` checkpoint (``pipeline.checkpoints``,
the hook the crash tests pause at): the child wraps ``checkpoint`` to print a timestamp there
and go on. Start-up is everything before it: Python and library imports, settings and weights,
Prefect's embedded server and the flow's first tasks (cleaning, finding, hashing and planning),
the probe, the model load (and for OpenVINO the export-cache check) and the first inference.
Printed: start-up seconds, total seconds, and the share (target < 10 %), with the arrival time
of a few log lines that split the run (the last: the video done; the rest is athletes, report,
artifacts and the server's stop).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FORMWATCH_SHARED", ROOT.parent / "shared"))
DEFAULT_CLIP = SHARED / "footage" / "single_front_road_approach.mp4"  # 25 s, the longest shared clip

MARK = "bench-startup: first frame inferred at "
#: The child: ``formwatch`` itself, with the inference checkpoint timed (it is looked up when
#: pipeline modules are imported, so it is wrapped before any of them is).
LAUNCHER = f"""
import sys, time
import pipeline.checkpoints as checkpoints
real = checkpoints.checkpoint
seen = set()
def timed(point):
    if point not in seen:
        seen.add(point)
        if point == "inference":
            print({MARK!r} + repr(time.time()), file=sys.stderr, flush=True)
    real(point)
checkpoints.checkpoint = timed
from flows.cli import console_main
console_main(sys.argv[1:])
"""
#: Log lines whose arrival splits the start-up, in the order they come.
MILESTONES = {
    "Beginning flow run": "embedded Prefect server up, flow run begun",
    ": process (": "video planned (found, hashed)",
    " frames at ": "video processed (its videos/ row written)",
}


def one_run(command: list[str], out: Path) -> dict:
    """Run ``command`` (which writes to ``out``); the arrival of each milestone, the first frame and
    the end (s after launch), and the video's videos/ row."""
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    arrivals: dict[str, float] = {}
    first_frame = None
    tail: list[str] = []
    started_wall, started = time.time(), time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        for line in proc.stdout:
            now = time.perf_counter() - started
            tail = [*tail[-40:], line]
            if line.startswith(MARK):
                first_frame = float(line[len(MARK):]) - started_wall
            for key in MILESTONES:
                if key in line and key not in arrivals:
                    arrivals[key] = now
    total = time.perf_counter() - started
    if proc.returncode or first_frame is None:
        sys.exit(f"formwatch run exited {proc.returncode}, first frame {'not ' * (first_frame is None)}seen:\n"
                 + "".join(tail))
    import pyarrow.dataset as ds

    [row] = ds.dataset(out / "videos").to_table().to_pylist()
    return {"arrivals": arrivals, "first_frame": first_frame, "total": total, "row": row}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default=str(DEFAULT_CLIP))
    parser.add_argument("--backend", choices=["torch", "openvino", "auto"],
                        help="model.backend (default: the settings' default)")
    parser.add_argument("--config", help="a settings YAML passed to formwatch run")
    parser.add_argument("--end", type=float, help="formwatch run --end (default: the whole clip)")
    parser.add_argument("--repeats", type=int, default=1, help="runs, one after the other, each into a new folder")
    args = parser.parse_args()
    if args.backend and args.config:
        parser.error("give --backend or --config, not both")
    memory = psutil.virtual_memory().total
    print(f"machine: {os.cpu_count()} CPUs, {memory / 2**30:.1f} GiB RAM; python {sys.version.split()[0]}")

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        options = ["--no-clips", "--no-progress"]
        if args.backend:
            config = Path(tmp) / "backend.yaml"
            config.write_text(f"model:\n  backend: {args.backend}\n")
            options += ["--config", str(config)]
        elif args.config:
            options += ["--config", args.config]
        if args.end is not None:
            options += ["--end", str(args.end)]
        for k in range(args.repeats):
            out = Path(tmp) / f"out{k}"
            runs.append(one_run([sys.executable, "-c", LAUNCHER, "run", args.clip, "--out", str(out), *options], out))

    row = runs[0]["row"]
    print(f"clip {Path(args.clip).name}: {row['frames']} frames at {row['fps']:.2f} fps "
          f"({row['frames'] / row['fps']:.1f} s of video), {row['people']} people, status {row['status']}; "
          f"formwatch run --no-clips" + (f", backend {args.backend}" if args.backend else "")
          + (f", config {args.config}" if args.config else ""))
    names = " | ".join(f"run {k + 1}" for k in range(len(runs)))
    print(f"\n| s after launch | {names} |\n|---|" + "---:|" * len(runs))

    def line(label: str, values: list[float | None]) -> None:
        print(f"| {label} | " + " | ".join("" if v is None else f"{v:.1f}" for v in values) + " |")

    keys = list(MILESTONES)
    for key in keys[:2]:
        line(MILESTONES[key], [r["arrivals"].get(key) for r in runs])
    line("first frame through the pose model (start-up)", [r["first_frame"] for r in runs])
    for key in keys[2:]:
        line(MILESTONES[key], [r["arrivals"].get(key) for r in runs])
    line("command exited (total)", [r["total"] for r in runs])
    print()
    for k, r in enumerate(runs):
        start, total = r["first_frame"], r["total"]
        print(f"run {k + 1}: start-up {start:.1f} s, total {total:.1f} s, share {start / total:.1%} (target < 10%); "
              f"after start-up {(total - start) / r['row']['frames'] * 1000:.0f} ms/frame")


if __name__ == "__main__":
    main()
