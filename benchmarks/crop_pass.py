"""Measure the issue's 'better keypoints for small people' lever: a second, top-down pose pass
on each tracked person's crop, upscaled.

    .venv/bin/python benchmarks/crop_pass.py OUT --work DIR [--height 320] [--below 200]
                                             [--clips NAME ...] [--config FILE]

OUT is a folder written by ``formwatch run`` (its detections hold the first pass's boxes, ids
and keypoints). For every detection whose box is under ``--below`` px tall, the frame is cut
around the box (a fixed 3:4 window, the box and a quarter of its height round it) and scaled
so the window is ``--height`` px tall, the pose model runs on that window alone, and the person
whose box overlaps the first pass's box best gives the keypoints, mapped back to the frame.
Boxes, ids and everything else stay as they were; only keypoints change. The changed detections
go into a copy of OUT in ``--work``; ``benchmarks/accuracy.py --reanalyse`` then scores both
folders the same way.

Printed per clip: crops made, ms per crop (the model alone, one crop at a time), keypoints kept
(confidence >= the setting) before and after, and the keypoints' jitter before and after: the
median absolute second difference over consecutive frames of one track (x and y, every
keypoint seen three frames running), in leg lengths (hip to knee to ankle, the track's median),
over the detections the crop pass refined (a crop where it found nobody keeps the first pass's
keypoints in the copy and is left out of both figures);
a keypoint that sits still reads near 0, a wobble reads its size (leg length as the analysis
measures it, ``pipeline.analysis.geometry.leg_length``). Also the median interior
elbow angle of every person before and after (the small broadcast sprinters' read 137-154 deg
on the first pass).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analysis.geometry import ELBOWS, SHOULDERS, WRISTS, interior_angle, leg_length  # noqa: E402
from pipeline.config import Settings, load_settings  # noqa: E402
from pipeline.outputs import dataset_file, open_dataset, write_table_atomic  # noqa: E402
from pipeline.pose_model import OpenVinoPose, openvino_export, resolve_weights  # noqa: E402
from pipeline.poses import KEYPOINT_NAMES  # noqa: E402
from pipeline.schemas import DETECTIONS  # noqa: E402
from pipeline.video import read_frames  # noqa: E402

K = len(KEYPOINT_NAMES)
#: A person's crop: width to height (a runner's box is about 1:2.5; 3:4 leaves room for arms and a stride).
ASPECT = 0.75
#: Room round the box, as a fraction of its height, on every side.
MARGIN = 0.25


def window(box: np.ndarray) -> tuple[int, int, int, int]:
    """The 3:4 window round ``box`` (x1, y1, x2, y2), in frame px; may reach past the frame."""
    x1, y1, x2, y2 = box
    h = (y2 - y1) * (1 + 2 * MARGIN)
    w = max(h * ASPECT, (x2 - x1) * (1 + 2 * MARGIN))
    h = max(h, w / ASPECT)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return int(round(cx - w / 2)), int(round(cy - h / 2)), int(round(w)), int(round(h))


def cut(image: np.ndarray, x0: int, y0: int, w: int, h: int, height: int) -> tuple[np.ndarray, float]:
    """The window, padded grey where it leaves the frame, scaled to ``height`` px tall."""
    frame_h, frame_w = image.shape[:2]
    crop = np.full((h, w, 3), 114, np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + w, frame_w), min(y0 + h, frame_h)
    if sx1 > sx0 and sy1 > sy0:
        crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
    scale = height / h
    size = (max(int(round(w * scale)), 1), height)
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(crop, size, interpolation=interpolation), scale


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(a[:, 0], b[0]), np.maximum(a[:, 1], b[1])
    x2, y2 = np.minimum(a[:, 2], b[2]), np.minimum(a[:, 3], b[3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / np.maximum(area, 1e-9)


def keypoints_of(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(N, K, 2) frame px (NaN missing) and (N, K) confidences of a detections table."""
    xy = np.stack([np.stack([table.column(f"{n}_{a}").to_numpy(zero_copy_only=False) for a in "xy"], -1)
                   for n in KEYPOINT_NAMES], 1).astype(np.float64)
    conf = np.stack([table.column(f"{n}_conf").to_numpy(zero_copy_only=False) for n in KEYPOINT_NAMES], 1)
    return xy, conf.astype(np.float64)


def with_keypoints(table: pa.Table, xy: np.ndarray, conf: np.ndarray, threshold: float) -> pa.Table:
    for k, name in enumerate(KEYPOINT_NAMES):
        seen = conf[:, k] >= threshold
        for a, axis in enumerate("xy"):
            values = pa.array(np.where(seen, xy[:, k, a], np.nan).astype(np.float32), mask=~seen)
            table = table.set_column(table.schema.get_field_index(f"{name}_{axis}"), f"{name}_{axis}", values)
        table = table.set_column(table.schema.get_field_index(f"{name}_conf"), f"{name}_conf",
                                 pa.array(conf[:, k].astype(np.float32)))
    return table


def jitter_and_elbows(frames: np.ndarray, tracks: np.ndarray, xy: np.ndarray) -> tuple[float, list[float]]:
    """Median |second difference| of keypoints over consecutive frames, in leg lengths, over every
    track; and each track's median elbow angle (tracks with 10 or more elbow readings)."""
    jitters: list[np.ndarray] = []
    elbows: list[float] = []
    for track in np.unique(tracks):
        rows = np.flatnonzero(tracks == track)
        rows = rows[np.argsort(frames[rows])]
        p = xy[rows]
        leg = leg_length(p)
        f = frames[rows]
        consecutive = (np.diff(f[:-1]) == 1) & (np.diff(f[1:]) == 1)
        if np.isfinite(leg) and leg > 0 and consecutive.any():
            second = np.abs(p[2:] - 2 * p[1:-1] + p[:-2])[consecutive] / leg
            jitters.append(second[np.isfinite(second)])
        readings = np.concatenate([interior_angle(p[:, s], p[:, e], p[:, w])
                                   for s, e, w in zip(SHOULDERS, ELBOWS, WRISTS, strict=True)])
        readings = readings[np.isfinite(readings)]
        if len(readings) >= 10:
            elbows.append(float(np.median(readings)))
    flat = np.concatenate(jitters) if jitters else np.array([np.nan])
    return float(np.median(flat)), elbows


def refine(out: Path, work: Path, video: dict, engine: OpenVinoPose, height: int, below: float,
           settings: Settings) -> dict:
    s = settings.model
    path = dataset_file(out, "detections", video["video_id"])
    table = pq.read_table(path, schema=DETECTIONS)
    frames = table.column("frame").to_numpy()
    boxes = np.stack([table.column(c).to_numpy() for c in ("box_x1", "box_y1", "box_x2", "box_y2")], 1)
    xy, conf = keypoints_of(table)
    new_xy, new_conf = xy.copy(), conf.copy()
    small = (boxes[:, 3] - boxes[:, 1]) < below
    rows_by_frame: dict[int, list[int]] = {}
    for row in np.flatnonzero(small):
        rows_by_frame.setdefault(int(frames[row]), []).append(int(row))
    crops, seconds, lost = 0, 0.0, 0
    refined_rows = np.zeros(len(table), bool)
    for frame in read_frames(video["path"], video["fps"]):
        if frame.index not in rows_by_frame:
            continue
        for row in rows_by_frame[frame.index]:
            x0, y0, w, h = window(boxes[row])
            image, scale = cut(frame.image, x0, y0, w, h, height)
            start = time.perf_counter()
            found = engine(image, max(image.shape[:2]), s.detection_confidence, s.nms_iou)
            seconds += time.perf_counter() - start
            crops += 1
            if not len(found):
                lost += 1
                continue
            target = (boxes[row] - np.array([x0, y0, x0, y0])) * scale
            overlap = iou(found[:, :4], target)
            best = int(np.argmax(overlap))
            if overlap[best] < 0.3:
                lost += 1
                continue
            kp = found[best, 5:].reshape(K, 3)
            new_xy[row] = kp[:, :2] / scale + np.array([x0, y0])
            new_conf[row] = kp[:, 2]
            refined_rows[row] = True
    refined = with_keypoints(table, new_xy, new_conf, s.keypoint_confidence)
    target = dataset_file(work, "detections", video["video_id"])
    write_table_atomic(refined, target)
    runner = table.column("runner_id").to_numpy()
    seen = np.where(conf[..., None] >= s.keypoint_confidence, xy, np.nan)
    seen_new = np.where(new_conf[..., None] >= s.keypoint_confidence, new_xy, np.nan)
    both = small & refined_rows  # compared where the crop pass gave keypoints, lost crops left out of both
    j0, e0 = jitter_and_elbows(frames[both], runner[both], seen[both])
    j1, e1 = jitter_and_elbows(frames[both], runner[both], seen_new[both])
    return dict(rows=len(table), crops=crops, lost=lost, ms=1000 * seconds / max(crops, 1),
                kept=(float((conf[small] >= s.keypoint_confidence).sum(1).mean()) if small.any() else float("nan"),
                      float((new_conf[small] >= s.keypoint_confidence).sum(1).mean()) if small.any() else float("nan")),
                jitter=(j0, j1), elbows=(e0, e1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--work", type=Path, required=True, help="folder for the refined copy of OUT (replaced)")
    parser.add_argument("--height", type=int, default=320, help="crop height given to the model, px")
    parser.add_argument("--below", type=float, default=200.0, help="refine people whose box is under this, px")
    parser.add_argument("--clips", nargs="*", help="clip file names (default: every ok video)")
    parser.add_argument("--config")
    args = parser.parse_args()
    settings = load_settings(args.config)
    if args.work.exists():
        shutil.rmtree(args.work)
    shutil.copytree(args.out, args.work)
    engine = OpenVinoPose(openvino_export(resolve_weights(settings.model.weights, allow_download=False)))
    videos = open_dataset(args.out, "videos").to_table().filter(pc.equal(pc.field("status"), "ok")).to_pylist()
    print("| clip | people under px | crops | lost | ms/crop | keypoints kept before -> after | jitter (leg lengths) "
          "before -> after | elbow medians before -> after |")
    print("|---|---|---|---|---|---|---|---|")
    for video in sorted(videos, key=lambda v: Path(v["path"]).name):
        name = Path(video["path"]).name
        if args.clips and name not in args.clips and Path(name).stem not in args.clips:
            continue
        r = refine(args.out, args.work, video, engine, args.height, args.below, settings)
        elbows = " ".join(f"{a:.0f}" for a in sorted(r["elbows"][0])) + " -> " + " ".join(
            f"{a:.0f}" for a in sorted(r["elbows"][1]))
        print(f"| {name} | {args.below:.0f} | {r['crops']} | {r['lost']} | {r['ms']:.1f} | {r['kept'][0]:.1f} -> "
              f"{r['kept'][1]:.1f} | {r['jitter'][0]:.4f} -> {r['jitter'][1]:.4f} | {elbows} |", flush=True)


if __name__ == "__main__":
    main()
