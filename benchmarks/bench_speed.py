"""FormWatch's per-video path against the ten-line Ultralytics loop, in one invocation.

    .venv/bin/python benchmarks/bench_speed.py [--clip CLIP] [--seconds S] [--imgsz PX] [--backend NAME]

Runs on the same frames, weights and inference size:

- the baseline every user could write: ``YOLO(weights).track(clip, stream=True, persist=True,
  imgsz=..., tracker="botsort.yaml")`` on the PyTorch weights, writing nothing;
- with an exported backend, the same loop on the cached OpenVINO export (the engine's own share);
- FormWatch's pose model alone (decoding in its thread, the model as ``process_video`` drives it,
  nothing else): the ceiling of the per-video path on this machine, so a ratio under target shows
  whether the engine or the work around it is short;
- ``pipeline.process.process_video`` with ``render.clips`` off, then on.

Speeds are printed as ratios against the baseline measured in this process (timings on a shared
machine are noisy; compare ratios, not fps across runs). Peak RSS is the benchmark process's,
sampled once a frame: it includes every model loaded before, so it bounds each run's from above. The
per-stage breakdown of FormWatch times the library functions ``process_video`` calls (decode,
pose model, tracker, appearance, analysis, Parquet writes, clips) by wrapping them for the
clips-off run. Decoding and the pose model run in threads of their own, overlapped with the
tracker, so the stages' busy times add up to more than the wall time; the table says how much
the overlap hid. Model loading, the one-off
export and one warm-up frame per model happen before any timed run; setup time is reported apart.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

import pipeline.process as process
from pipeline import pose_model, tracking
from pipeline.config import Settings, load_settings
from pipeline.pose_model import PoseEstimator, openvino_export, openvino_export_dir, resolve_weights
from pipeline.stream import ahead, quick_switches
from pipeline.video import probe_video, read_frames

DEFAULT_CLIP = Path(__file__).resolve().parents[2] / "shared" / "footage" / "single_side_elite_slowmo.mp4"


class Meter:
    """Seconds per stage (outermost timed call only, so nested writes are not counted twice) and peak RSS."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.peak_rss = 0
        self._local = threading.local()  # stages run in threads of their own: nesting is per thread
        self._process = psutil.Process()

    def sample_rss(self) -> None:
        self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        started = time.perf_counter()
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self.seconds[name] += time.perf_counter() - started

    def timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return fn(*args, **kwargs)

        return wrapper

    def timed_frames(self, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        """Wrap ``read_frames``: time each decoded frame as 'decode' and sample RSS once a frame."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            frames = fn(*args, **kwargs)
            while True:
                self.sample_rss()
                with self.stage("decode"):
                    frame = next(frames, None)
                if frame is None:
                    return
                yield frame

        return wrapper


@contextlib.contextmanager
def instrumented(meter: Meter) -> Iterator[None]:
    """Wrap what ``pipeline.process`` calls with ``meter``'s timers; restore everything after."""
    patches = [
        (process, "read_frames", meter.timed_frames(process.read_frames)),
        (PoseEstimator, "batch", meter.timed("inference", PoseEstimator.batch)),  # PyTorch
        # OpenVINO: a frame goes in (letterbox, start) and comes out (wait, decode the boxes) in the pose thread
        (pose_model.OpenVinoPose, "submit", meter.timed("inference", pose_model.OpenVinoPose.submit)),
        (pose_model.OpenVinoPose, "collect", meter.timed("inference", pose_model.OpenVinoPose.collect)),
        (tracking.PoseTracker, "update", meter.timed("tracking", tracking.PoseTracker.update)),
        (process, "describe", meter.timed("appearance", process.describe)),
        (process, "analyse_detections", meter.timed("analysis", process.analyse_detections)),
        (process, "write_table_atomic", meter.timed("write", process.write_table_atomic)),
        (process, "render_clips", meter.timed("clips", process.render_clips)),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def first_frame(clip: str) -> Any:
    info = probe_video(clip)
    return next(read_frames(clip, info.fps, 0.0, None)).image


def bare_loop(model_path: str, clip: str, frames: int, imgsz: int, device: str) -> tuple[float, int]:
    """Seconds for the ten-line Ultralytics loop over the first ``frames`` frames (model loaded
    before the clock starts, as FormWatch's is), and peak RSS."""
    from ultralytics import YOLO

    model = YOLO(model_path, task="pose")
    model.predict(first_frame(clip), imgsz=imgsz, verbose=False, device=device)  # warm-up, as for FormWatch
    meter = Meter()
    started = time.perf_counter()
    done = 0
    for _result in model.track(clip, stream=True, persist=True, imgsz=imgsz, tracker="botsort.yaml",
                               verbose=False, device=device):
        meter.sample_rss()
        done += 1
        if done >= frames:
            break
    seconds = time.perf_counter() - started
    if done != frames:
        raise RuntimeError(f"the bare loop read {done} frames, expected {frames}")
    return seconds, meter.peak_rss


def engine_alone(clip: str, settings: Settings, weights: Path, frames: int) -> tuple[float, int]:
    """Seconds for decoding and FormWatch's pose model alone over the first ``frames`` frames, in
    the threads and order ``track_video`` uses (no tracker, appearance, analysis or writes), and
    peak RSS."""
    estimator = PoseEstimator(settings.model, weights)  # the process's cached engine: loaded already
    info = probe_video(clip)
    meter = Meter()
    started = time.perf_counter()
    done = 0
    with quick_switches():
        decoded = ahead(read_frames(clip, info.fps, settings.video.start_s, settings.video.end_s),
                        process.FRAMES_AHEAD, "decode")
        detected = ahead(process.posed_frames(decoded, estimator), process.FRAMES_AHEAD * estimator.batch_frames,
                         "pose")
        for _frame, _poses in detected:
            meter.sample_rss()
            done += 1
    seconds = time.perf_counter() - started
    if done != frames:
        raise RuntimeError(f"the pose model alone read {done} frames, expected {frames}")
    return seconds, meter.peak_rss


def formwatch(clip: str, settings: Settings, weights: Path, frames: int) -> tuple[float, int, Meter]:
    """Seconds of ``process_video`` (from its own videos/ row), peak RSS, and the stage meter."""
    meter = Meter()
    with tempfile.TemporaryDirectory() as out, instrumented(meter):
        row = process.process_video(clip, settings, out, weights)
    if row["status"] != "ok" or row["frames"] != frames:
        raise RuntimeError(f"process_video: status {row['status']}, {row['frames']} frames of {frames}: {row['error']}")
    return row["processing_s"], meter.peak_rss, meter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default=str(DEFAULT_CLIP))
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of video from the start")
    parser.add_argument("--imgsz", type=int, default=640, help="inference size (px), for all runs")
    parser.add_argument("--backend", default="auto", help="FormWatch's model.backend: auto | torch | openvino")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of all runs, interleaved; the best counts")
    parser.add_argument("--device", default="auto", help="model.device for every run: auto | cpu | 0 | cuda:1 ...")
    parser.add_argument("--half", action="store_true", help="FormWatch with model.half_precision (GPU)")
    parser.add_argument("--batch", type=int, default=0, help="FormWatch's model.batch_frames (0: auto)")
    args = parser.parse_args()
    settings = load_settings(overrides={
        "video": {"end_s": args.seconds},
        "model": {"image_size": args.imgsz, "backend": args.backend, "device": args.device,
                  "half_precision": args.half, "batch_frames": args.batch},
        "render": {"clips": False},
    })
    with_clips = settings.model_copy(update={"render": settings.render.model_copy(update={"clips": True})})
    weights = resolve_weights(settings.model.weights)
    info = probe_video(args.clip)
    frames = sum(1 for _ in read_frames(args.clip, info.fps, 0.0, args.seconds))

    cached = pose_model.openvino_available() and openvino_export_dir(weights, pose_model.export_cache_dir()).is_dir()
    started = time.perf_counter()
    estimator = PoseEstimator(settings.model, weights)  # export (first time) and load, outside the timings
    estimator(first_frame(args.clip))  # warm-up: OpenVINO compiles for an input shape on first use
    backend = estimator.backend
    setup_s = time.perf_counter() - started
    export = openvino_export(weights) if backend == "openvino" else None

    runs: dict[str, Callable[[], tuple[float, int, Meter | None]]] = {
        "Ultralytics loop, PyTorch (baseline)":
            lambda: (*bare_loop(str(weights), args.clip, frames, args.imgsz, estimator.device), None),
    }
    if export is not None:
        runs["Ultralytics loop, OpenVINO export"] = \
            lambda: (*bare_loop(str(export), args.clip, frames, args.imgsz, "cpu"), None)
    runs[f"FormWatch's pose model alone, {backend} (the ceiling)"] = \
        lambda: (*engine_alone(args.clip, settings, weights, frames), None)
    runs[f"FormWatch process_video, {backend}, clips off"] = lambda: formwatch(args.clip, settings, weights, frames)
    runs[f"FormWatch process_video, {backend}, clips on"] = lambda: formwatch(args.clip, with_clips, weights, frames)
    results: dict[str, list[tuple[float, int, Meter | None]]] = defaultdict(list)
    for _ in range(args.repeats):
        for name, run in runs.items():
            results[name].append(run())

    print(f"clip {Path(args.clip).name} ({info.width}x{info.height}), {frames} frames, imgsz {args.imgsz}, "
          f"weights {weights.name}, backend {backend}, device {estimator.device}, "
          f"half precision {settings.model.half_precision}, {estimator.batch_frames} frames a batch, "
          f"{os.cpu_count()} CPUs, "
          f"best of {args.repeats} interleaved rounds")
    how = "export found in the cache" if cached else "exported now, into"
    print(f"model setup before the runs: {setup_s:.1f} s" + (f" ({how} {export})" if export else ""))
    _print_runs(results, frames)
    _print_stages(results, frames)
    ceiling = min(seconds for seconds, _, _ in next(rounds for name, rounds in results.items() if "alone" in name))
    off = min(seconds for seconds, _, _ in next(rounds for name, rounds in results.items() if "clips off" in name))
    print(f"\nFormWatch clips off runs at {ceiling / off:.0%} of its pose model's own rate on this machine.")


def _print_runs(results: dict[str, list[tuple[float, int, Meter | None]]], frames: int) -> None:
    baseline = next(iter(results.values()))
    print("\n| run | fps (best) | speed vs baseline (best) | per-round ratios | peak RSS |\n|---|---:|---:|---:|---:|")
    for name, rounds in results.items():
        best = min(seconds for seconds, _, _ in rounds)
        ratios = ", ".join(f"{b[0] / r[0]:.2f}" for b, r in zip(baseline, rounds, strict=True))
        print(f"| {name} | {frames / best:.1f} | {min(s for s, _, _ in baseline) / best:.2f}x | {ratios} | "
              f"{max(rss for _, rss, _ in rounds) / 1e6:.0f} MB |")


def _print_stages(results: dict[str, list[tuple[float, int, Meter | None]]], frames: int) -> None:
    off, on = (min(rounds, key=lambda r: r[0]) for name, rounds in results.items() if "process_video" in name)
    seconds_off, _, meter = off
    stages = dict(meter.seconds)
    busy = sum(stages.values())
    print("\n| FormWatch stage (best clips-off run) | busy ms/frame | busy share of wall time |\n|---|---:|---:|")
    for name, seconds in stages.items():
        print(f"| {name} | {seconds / frames * 1000:.1f} | {seconds / seconds_off:.0%} |")
    print(f"| wall time of the run | {seconds_off / frames * 1000:.1f} | 100% |")
    hidden = busy - seconds_off
    print(f"| hidden by overlap (busy - wall) | {hidden / frames * 1000:.1f} | "
          f"{hidden / seconds_off:.0%} |")
    clips = on[2].seconds["clips"]
    print(f"| clips (best clips-on run) | {clips / frames * 1000:.1f} | {clips / on[0]:.0%} of that run |")


if __name__ == "__main__":
    main()
