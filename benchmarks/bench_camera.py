"""What the background's camera motion costs beside BoT-SORT's own estimate, per frame.

    .venv/bin/python benchmarks/bench_camera.py --clip ../shared/footage/track_100m_lowres_broadcast.mp4 \
        [--frames 250] [--repeats 3]

Tracking gets its camera-motion estimate from ``pipeline.camera.CameraMotion``, which makes
BoT-SORT's estimate step for step and fits the motion a second time to the corners outside
everyone's box. This runs, on the same decoded frames and in interleaved rounds, Ultralytics'
own ``GMC(method="sparseOptFlow")`` (the baseline) and ``CameraMotion`` with each frame's
people (the pose model's person boxes at 640 px, found first, untimed), and prints
milliseconds a frame for each, the best round's ratio and every round's.
One core's work; the rest of the per-video path is in ``bench_speed.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.camera import CameraMotion  # noqa: E402
from pipeline.video import probe_video, read_frames  # noqa: E402


def _people(frames: list[np.ndarray], weights: str) -> list[np.ndarray]:
    """Each frame's person boxes (xyxy), from the pose model at 640 px."""
    from ultralytics import YOLO

    model = YOLO(weights, task="pose")
    return [model.predict(image, imgsz=640, verbose=False)[0].boxes.xyxy.cpu().numpy() for image in frames]


def _run(estimator: object, frames: list[np.ndarray], people: list[np.ndarray] | None) -> float:
    start = time.perf_counter()
    for i, image in enumerate(frames):
        if people is not None:
            estimator.people = people[i]  # type: ignore[attr-defined]
        estimator.apply(image)  # type: ignore[attr-defined]
    return (time.perf_counter() - start) / len(frames) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", required=True)
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--weights", default=str(ROOT.parent / "shared" / "models" / "yolo11n-pose.pt"))
    args = parser.parse_args()
    from ultralytics.trackers.utils.gmc import GMC

    info = probe_video(args.clip)
    frames = [frame.image for _, frame in zip(range(args.frames), read_frames(args.clip, info.fps), strict=False)]
    people = _people(frames, args.weights)
    baseline: list[float] = []
    rounds = {"BoT-SORT's GMC (baseline)": baseline, "CameraMotion": []}
    for _ in range(args.repeats):
        baseline.append(_run(GMC(method="sparseOptFlow"), frames, None))
        rounds["CameraMotion"].append(_run(CameraMotion(), frames, people))
    base = min(baseline)
    print(f"{Path(args.clip).name}: {len(frames)} frames, {info.width}x{info.height}, "
          f"{np.mean([len(p) for p in people]):.1f} people a frame")
    print("| estimate | ms/frame (best) | vs BoT-SORT's (best) | per-round ratios |")
    print("|---|---:|---:|---:|")
    for name, times in rounds.items():
        ratios = ", ".join(f"{t / b:.2f}" for t, b in zip(times, baseline, strict=True))
        print(f"| {name} | {min(times):.2f} | {min(times) / base:.2f}x | {ratios} |")


if __name__ == "__main__":
    main()
