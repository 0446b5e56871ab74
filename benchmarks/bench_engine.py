"""What the per-video path's two largest costs could give up, measured against what they cost now.

    .venv/bin/python benchmarks/bench_engine.py [--clip CLIP ...] [--seconds S] [--imgsz PX]

For each clip, on the same decoded frames, in one process:

1. **The pose model's precision.** FormWatch's OpenVINO engine, ``IN_FLIGHT`` frames in the
   model, nothing else running, in float32 (``pose_model.INFERENCE_PRECISION``, the baseline) and in bfloat16
   (OpenVINO's own default on CPUs that have it; where the CPU lacks it, OpenVINO computes in
   float32 and the line says so): ms a frame, the ratio, and how far bfloat16's people and
   keypoints land from float32's (``poses.keypoint_distances``: people paired by box centre,
   keypoints both are sure of; median and 90th percentile px).
2. **The tracker's camera-motion estimate.** BoT-SORT's sparse optical flow (Ultralytics'
   ``GMC``, 400 corners, the baseline) against fewer corners: ms a frame of one core, and how far
   the estimated motion lands from the baseline's at the frame's four corners (px; a tracker
   moves its predictions by it, so a few px change which boxes match).

The decision each lever needs is in README, Performance; this prints the evidence.
"""

from __future__ import annotations

import argparse
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import ModelSettings, load_settings
from pipeline.pose_model import IN_FLIGHT, INFERENCE_PRECISION, OpenVinoPose, openvino_export, resolve_weights
from pipeline.poses import Poses, keypoint_distances
from pipeline.video import probe_video, read_frames

FOOTAGE = Path(__file__).resolve().parents[2] / "shared" / "footage"
DEFAULT_CLIPS = [FOOTAGE / "track_100m_lowres_broadcast.mp4", FOOTAGE / "single_side_track_pan.mp4"]
CORNERS = (400, 200, 100)


def frames_of(clip: Path, seconds: float) -> list[np.ndarray]:
    info = probe_video(clip)
    return [frame.image for frame in read_frames(clip, info.fps, 0.0, seconds)]


def run_engine(engine: OpenVinoPose, images: list[np.ndarray], size: int, model: ModelSettings
               ) -> tuple[float, list[Poses]]:
    """ms a frame with ``IN_FLIGHT`` frames in the model, as FormWatch runs it (the best of two
    passes), and each frame's poses."""
    def collect(submitted: Any) -> Poses:
        return Poses.from_rows(engine.collect(submitted, model.detection_confidence, model.nms_iou),
                               model.keypoint_confidence)

    best, poses = np.inf, []
    engine(images[0], size, model.detection_confidence, model.nms_iou)  # compile the shape
    for _ in range(2):
        poses = []
        started = time.perf_counter()
        in_model: deque[Any] = deque()
        for image in images:
            in_model.append(engine.submit(image, size))
            if len(in_model) == IN_FLIGHT:
                poses.append(collect(in_model.popleft()))
        poses += [collect(submitted) for submitted in in_model]
        best = min(best, (time.perf_counter() - started) / len(images) * 1000)
    return best, poses


def precision_lines(name: str, images: list[np.ndarray], export: Path, size: int, model: ModelSettings) -> None:
    base_ms, base = run_engine(OpenVinoPose(export, INFERENCE_PRECISION), images, size, model)
    engine = OpenVinoPose(export, "bf16")
    ms, other = run_engine(engine, images, size, model)
    used = {c.get_property("INFERENCE_PRECISION_HINT").get_type_name() for c in engine._compiled.values()}
    gaps = np.concatenate([keypoint_distances(a, b) for a, b in zip(base, other, strict=True)])
    gaps = gaps[np.isfinite(gaps)]
    differ = sum(len(a) != len(b) for a, b in zip(base, other, strict=True))
    print(f"| {name} | {INFERENCE_PRECISION} | {base_ms:.1f} | 1.00x | | |")
    print(f"| {name} | bf16 (computed in {', '.join(sorted(used))}) | {ms:.1f} | {base_ms / ms:.2f}x | "
          f"{np.median(gaps):.2f} / {np.percentile(gaps, 90):.2f} | {differ} of {len(images)} |")


def camera_motion_lines(name: str, images: list[np.ndarray]) -> None:
    from ultralytics.trackers.utils.gmc import GMC

    height, width = images[0].shape[:2]
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], float).T
    results = {}
    for count in CORNERS:
        gmc = GMC("sparseOptFlow")
        gmc.feature_params["maxCorners"] = count
        started = time.perf_counter()
        motions = np.array([gmc.apply(image) for image in images])
        results[count] = (motions, (time.perf_counter() - started) / len(images) * 1000)
    reference, base_ms = results[CORNERS[0]]
    for count, (motions, ms) in results.items():
        moved = np.linalg.norm(motions @ corners - reference @ corners, axis=1).max(axis=1)
        print(f"| {name} | {count} | {ms:.2f} | {base_ms / ms:.2f}x | "
              f"{np.median(moved):.2f} / {np.percentile(moved, 90):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, nargs="*", default=DEFAULT_CLIPS)
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds of each clip from its start")
    parser.add_argument("--imgsz", type=int, default=640, help="inference size (px)")
    args = parser.parse_args()
    model = load_settings(None).model
    export = openvino_export(resolve_weights(model.weights, allow_download=False))
    clips = {clip.name: frames_of(clip, args.seconds) for clip in args.clip}
    print(f"{len(clips)} clips, {args.seconds} s each, imgsz {args.imgsz}\n")
    print(f"| clip | precision | ms/frame ({IN_FLIGHT} in flight) | speed | keypoints vs float32, median / p90 px "
          "| frames with another count of people |\n|---|---|---:|---:|---:|---:|")
    for name, images in clips.items():
        precision_lines(name, images, export, args.imgsz, model)
    print("\n| clip | corners | ms/frame (one core) | speed | camera motion vs 400 corners at the frame's "
          "corners, median / p90 px |\n|---|---:|---:|---:|---:|")
    for name, images in clips.items():
        camera_motion_lines(name, images)


if __name__ == "__main__":
    main()
