"""Peak memory of the whole per-video path against the video's length, in one invocation.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_memory.py [--clip CLIP] [--seconds T] [--backend NAME] [--imgsz PX]

Runs ``pipeline.process.process_video`` with ``render.clips`` on (decode, pose model, tracking,
analysis, Parquet writes, the annotated clip and the highlight reels) on the first T seconds of
the clip and on the first 4T seconds (``video.end_s``), each in a fresh Python process, and prints
each child's peak RSS (``ru_maxrss`` of that child, from ``os.wait4``) and the ratio 4T / T
(target <= 1.1: memory must not grow with the length of a video). A third child processes only
the first frame: its peak is the fixed cost (imports, the model, one frame), so the growth above
it, (4T - first frame) / (T - first frame), says how much of the per-video memory scales with length.

The default clip is the shared group jog (7-11 people a frame, 10.3 s). A clip shorter than 4T is
looped: its packets are copied back to back into a temporary file (no re-encoding, nothing written
outside the temporary folder), so later loops bring the same people back as new tracks.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FORMWATCH_SHARED", ROOT.parent / "shared"))
DEFAULT_CLIP = SHARED / "footage" / "group_jog_road_front.mp4"


def looped_clip(clip: Path, seconds: float, folder: Path) -> tuple[Path, int]:
    """``clip`` itself when it lasts ``seconds``, else a copy of its video packets repeated back to back
    (timestamps shifted, no re-encoding) in ``folder`` that does; and the number of loops."""
    import av

    from pipeline.video import probe_video

    info = probe_video(clip)
    duration = info.duration_s or info.frames_declared / info.fps
    if duration >= seconds:
        return clip, 1
    loops = math.ceil(seconds / duration)
    looped = folder / f"looped_{loops}x_{clip.name}"
    with av.open(str(clip)) as source, av.open(str(looped), "w") as target:
        stream = source.streams.video[0]
        out = target.add_stream_from_template(stream)
        frame_ticks = max(1, round(1 / (info.fps * stream.time_base)))
        offset = 0
        for _ in range(loops):
            source.seek(0)
            end = offset
            for packet in source.demux(stream):
                if packet.dts is None:  # the demuxer's flush packet
                    continue
                packet.pts += offset
                packet.dts += offset
                end = max(end, packet.pts, packet.dts)
                packet.stream = out
                target.mux(packet)
            offset = end + 4 * frame_ticks  # past the last pts, and past the reordered first dts of the next loop
    return looped, loops


def child(args: argparse.Namespace) -> None:
    """In the fresh process: one process_video with clips on; print its row's figures as JSON."""
    from pipeline.config import load_settings
    from pipeline.pose_model import resolve_weights
    from pipeline.process import process_video

    settings = load_settings(overrides={
        "video": {"end_s": args.end}, "render": {"clips": True},
        "model": {"backend": args.backend, "image_size": args.imgsz},
    })
    weights = resolve_weights(settings.model.weights)
    with tempfile.TemporaryDirectory() as out:
        row = process_video(args.clip, settings, out, weights)
    keys = ("status", "error", "frames", "fps", "people", "runners", "detections", "clips", "processing_s")
    print(json.dumps({k: row[k] for k in keys}))


def run_child(clip: Path, end_s: float, backend: str, imgsz: str) -> dict:
    """Process ``clip`` up to ``end_s`` in a fresh Python; its row's figures, wall time and peak RSS (bytes).

    The peak is this child's own ``ru_maxrss`` from ``os.wait4`` (RUSAGE_CHILDREN would give the
    largest of all children so far)."""
    command = [sys.executable, __file__, "--child", "--clip", str(clip), "--end", repr(end_s),
               "--backend", backend, "--imgsz", imgsz]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{stderr[-4000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    if result["status"] == "failed":
        raise RuntimeError(f"process_video failed: {result['error']}")
    result.update(wall_s=wall, peak_rss=usage.ru_maxrss * 1024)  # Linux: kilobytes
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default=str(DEFAULT_CLIP))
    parser.add_argument("--seconds", type=float, default=5.0, help="T: the short run's seconds of video; the long "
                        "run processes 4T")
    parser.add_argument("--backend", default="auto", choices=["torch", "openvino", "auto"],
                        help="model.backend")
    parser.add_argument("--imgsz", default="640", help="model.image_size: px (a multiple of 32) or auto")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--end", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.imgsz != "auto":
        args.imgsz = int(args.imgsz)
    if args.child:
        child(args)
        return

    memory = psutil.virtual_memory().total
    print(f"machine: {os.cpu_count()} CPUs, {memory / 2**30:.1f} GiB RAM; python {sys.version.split()[0]}")
    seconds = args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        clip, loops = looped_clip(Path(args.clip), 4 * seconds, Path(tmp))
        from pipeline.video import probe_video

        fps = probe_video(clip).fps
        print(f"clip {Path(args.clip).name}" + (f" looped {loops}x" if loops > 1 else "") +
              f", backend {args.backend}, imgsz {args.imgsz}, clips on; T = {seconds:g} s")
        runs = {"first frame": 0.5 / fps, "T": seconds, "4T": 4 * seconds}
        results = {name: run_child(clip, end_s, args.backend, str(args.imgsz)) for name, end_s in runs.items()}
    print("\n| run | video s | frames | detections | runners | clips | processing s | wall s | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {runs[name]:.2f} | {r['frames']} | {r['detections']} | {r['runners']} | {r['clips']} | "
              f"{r['processing_s']:.1f} | {r['wall_s']:.1f} | {r['peak_rss'] / 2**20:.0f} MiB |")
    base, short, long = (results[k]["peak_rss"] for k in ("first frame", "T", "4T"))
    print(f"\npeak RSS 4T / T = {long / short:.3f} (target <= 1.1)")
    if short > base:
        print(f"growth above the first-frame run: 4T {(long - base) / 2**20:.0f} MiB / T {(short - base) / 2**20:.0f} "
              f"MiB = {(long - base) / (short - base):.2f}x (1.0: no growth with length; 4.0: linear)")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # this worktree's pipeline, also in the children
    main()
