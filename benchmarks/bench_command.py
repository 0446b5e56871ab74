"""The whole `formwatch run` command against the ten-line Ultralytics loop, each a fresh process.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_command.py [--clip CLIP] [--imgsz PX] [--end S] [--repeats N]

What a user times with a stopwatch: wall time from launch to exit, imports, model load,
Prefect's embedded server, the report and everything included, on the same clip, weights and
inference size (``model.image_size`` set to ``--imgsz`` in a config file). Three commands, in
interleaved rounds (best of ``--repeats`` counts; the machine is shared and noisy):

- the loop every user could write, ``YOLO(weights).track(clip, stream=True, persist=True,
  imgsz=..., tracker="botsort.yaml")`` on the PyTorch weights, writing nothing;
- ``formwatch run CLIP --out DIR --no-clips`` (Parquet only);
- ``formwatch run CLIP --out DIR`` (Parquet, clips and the report).

Each FormWatch run writes into a new folder, so nothing is skipped as already done. With
``--also CHECKOUT`` the two FormWatch commands of another checkout run in the same rounds. The
OpenVINO export is made before the first round (a one-off per machine, not part of a run).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FORMWATCH_SHARED", ROOT.parent / "shared"))
DEFAULT_CLIP = SHARED / "footage" / "track_100m_lowres_broadcast.mp4"

LOOP = """
import sys
from ultralytics import YOLO
model = YOLO(sys.argv[1], task="pose")
frames = 0
for result in model.track(sys.argv[2], stream=True, persist=True, imgsz=int(sys.argv[3]), tracker="botsort.yaml",
                          verbose=False):
    frames += 1
print(frames)
"""
#: ``formwatch`` as its console script runs it (``console_main``; ``main`` in checkouts before it).
FORMWATCH = ("import sys, flows.cli as cli; run = getattr(cli, 'console_main', None); "
             "sys.exit(run(sys.argv[1:]) if run else cli.main(sys.argv[1:]))")


def timed(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds from launch to exit, and CPU seconds of the command and every process it waited
    for (Prefect's server included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"{command[:4]} exited {done.returncode}:\n{done.stdout[-3000:]}")
    return seconds, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default=str(DEFAULT_CLIP))
    parser.add_argument("--imgsz", type=int, default=640, help="inference size (px), for every command")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="repeat the clip's video back to back until it lasts this long (start-up's share "
                             "shrinks with length; 0: the clip as it is)")
    parser.add_argument("--also", type=Path, metavar="CHECKOUT",
                        help="another FormWatch checkout (e.g. the previous commit's `git worktree`) whose two "
                             "commands run in the same rounds, with this one's environment")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench_memory import looped_clip  # benchmarks/bench_memory.py, beside this script

    from pipeline.config import load_settings
    from pipeline.pose_model import PoseEstimator, resolve_weights
    from pipeline.video import probe_video

    settings = load_settings(overrides={"model": {"image_size": args.imgsz}})
    weights = resolve_weights(settings.model.weights)
    estimator = PoseEstimator(settings.model, weights)  # the one-off export, outside the timings
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    python = sys.executable
    results: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as work:
        if args.seconds:
            args.clip = str(looped_clip(Path(args.clip), args.seconds, Path(work))[0])
        info = probe_video(args.clip)
        config = Path(work) / "bench.yaml"
        config.write_text(f"model:\n  image_size: {args.imgsz}\n")
        commands = {
            "Ultralytics loop, PyTorch (baseline)": [python, "-c", LOOP, str(weights), args.clip, str(args.imgsz)],
            "formwatch run --no-clips": [python, "-c", FORMWATCH, "run", args.clip, "--config", str(config),
                                         "--weights", str(weights), "--no-clips", "--no-progress", "--out"],
            "formwatch run (clips and report)": [python, "-c", FORMWATCH, "run", args.clip, "--config", str(config),
                                                 "--weights", str(weights), "--no-progress", "--out"],
        }
        places = dict.fromkeys(commands, (env, ROOT))
        if args.also:  # run from that checkout, so that its packages are the ones imported
            also = args.also.resolve()
            also_env = dict(env, PYTHONPATH=os.pathsep.join([str(also), *filter(None, [os.environ.get("PYTHONPATH")])]))
            for name in list(commands)[1:]:
                commands[f"{name}, {also.name}"] = [*commands[name]]
                places[f"{name}, {also.name}"] = (also_env, also)
        for round_ in range(args.repeats):
            for name, command in commands.items():
                if command[-1] == "--out":
                    command = [*command, str(Path(work) / f"out-{round_}-{len(results[name])}-{hash(name) % 997}")]
                results[name].append(timed(command, *places[name]))
    frames = info.frames_declared or round((info.duration_s or 0) * info.fps)
    print(f"clip {Path(args.clip).name} ({info.width}x{info.height}, {frames} frames), imgsz {args.imgsz}, "
          f"FormWatch backend {estimator.backend}, {os.cpu_count()} CPUs, best of {args.repeats} interleaved rounds")
    loop_rounds = [wall for wall, _ in next(iter(results.values()))]
    baseline = min(loop_rounds)
    print("\n| command | wall time (best) | throughput vs the loop (best) | per-round ratios | CPU s (median) |"
          "\n|---|---:|---:|---|---:|")
    for name, rounds in results.items():
        walls = [wall for wall, _ in rounds]
        ratios = ", ".join(f"{b / r:.2f}" for b, r in zip(loop_rounds, walls, strict=True))
        cpu = statistics.median(c for _, c in rounds)
        print(f"| {name} | {min(walls):.1f} s | {baseline / min(walls):.2f}x | {ratios} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
