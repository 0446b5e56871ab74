"""Speed and memory of the foundation, as ratios against baselines run in the same process.

    .venv/bin/python benchmarks/bench_foundation.py [CLIP] [--seconds S]

- speed: the whole per-video pipeline (decode, pose model, tracker, Parquet) against the
  bare pose model on the same frames. The ratio is the pipeline's overhead (1.00 = none).
- memory: peak resident memory while streaming 8x as many frames as a baseline read (both
  before the model is loaded). A ratio near 1 means memory does not grow with the video's length.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import psutil

from pipeline.config import load_settings
from pipeline.pose_model import PoseEstimator, resolve_weights
from pipeline.process import process_video
from pipeline.video import probe_video, read_frames

DEFAULT_CLIP = Path(__file__).resolve().parents[2] / "shared" / "footage" / "single_side_track_pan.mp4"


def _peak_rss_while_streaming(path: str, fps: float, seconds: float) -> int:
    """Largest resident set size seen while decoding ``seconds`` of video, in bytes."""
    process = psutil.Process()
    peak = process.memory_info().rss
    for frame in read_frames(path, fps, 0.0, seconds):
        frame.image.mean()
        peak = max(peak, process.memory_info().rss)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of video for the speed run")
    args = parser.parse_args()
    settings = load_settings(overrides={"video": {"end_s": args.seconds}})
    weights = resolve_weights(os.environ.get("FORMWATCH_WEIGHTS") or settings.model.weights)
    info = probe_video(args.clip)

    short = _peak_rss_while_streaming(args.clip, info.fps, 1.0)
    long = _peak_rss_while_streaming(args.clip, info.fps, 8.0)

    estimator = PoseEstimator(settings.model, weights)
    frames = [f.image for f in read_frames(args.clip, info.fps, 0.0, args.seconds)]
    estimator(frames[0])  # warm-up
    started = time.perf_counter()
    for image in frames:
        estimator(image)
    model_only = time.perf_counter() - started
    del frames

    with tempfile.TemporaryDirectory() as out:
        row = process_video(args.clip, settings, out, weights)
    pipeline = row["processing_s"]
    print(f"clip {Path(args.clip).name}: {row['frames']} frames, {info.width}x{info.height} px")
    print(f"speed: model only {model_only / row['frames'] * 1000:.0f} ms/frame, "
          f"pipeline {pipeline / row['frames'] * 1000:.0f} ms/frame, ratio {pipeline / model_only:.2f}")
    print(f"memory: peak RSS {short / 1e6:.0f} MB streaming 1 s, {long / 1e6:.0f} MB streaming 8 s, "
          f"ratio {long / short:.2f}")


if __name__ == "__main__":
    main()
