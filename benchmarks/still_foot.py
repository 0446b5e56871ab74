"""Measure the issue's 'ground contact from the foot standing still' lever on the clips with
hand-labelled contacts.

    .venv/bin/python benchmarks/still_foot.py OUT [--clips NAME ...] [--fraction F ...] [--min-run N] [--cleaned]

A foot in stance does not move against the ground, from any view. The ground moves in the
picture when the camera pans, tracks or zooms, so the camera's motion is measured first: for
each pair of consecutive frames, corners outside every person's box (grown by a quarter of its
height) are followed by pyramidal Lucas-Kanade optical flow and a similarity transform (shift,
rotation, scale) is fitted to them with RANSAC. Each ankle's displacement against the ground is
its position now less where the camera's motion alone would have carried it from the frame
before, in leg lengths a second (video time). Per foot, frames slower than ``--fraction`` of
that foot's 90th-percentile speed are still (the swing foot moves at about twice the body's
speed, the stance foot at none; keypoint jitter sets the floor); a contact is the first frame
of a still run of at least two frames that follows a moving frame.

Printed per clip, beside the analysis' own contacts in OUT (the track with most matches, as
the scorer picks): contacts found, recall within +-2 frames, precision, median offset. Scored
with ``pipeline.accuracy.match_contacts`` on the labelled frames outside unjudgeable ranges.
The treadmill's ground is its belt, which moves: its still foot moves with the belt, so it is
shown but says nothing about the lever.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from accuracy import default_label_files  # noqa: E402  (benchmarks/accuracy.py, beside this script)

from pipeline.accuracy import load_labels, match_contacts  # noqa: E402
from pipeline.analysis.geometry import leg_length  # noqa: E402
from pipeline.analysis.signals import clean_track  # noqa: E402
from pipeline.analysis.tracks import tracks_from_table  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.outputs import dataset_file, open_dataset  # noqa: E402
from pipeline.poses import KEYPOINT_NAMES  # noqa: E402
from pipeline.video import read_frames  # noqa: E402

#: Longest side the optical flow runs at, px (the camera's motion is a whole-picture property).
FLOW_SIDE_PX = 640
LEFT_ANKLE, RIGHT_ANKLE = KEYPOINT_NAMES.index("left_ankle"), KEYPOINT_NAMES.index("right_ankle")
#: Frames a still run, and the moving run before it, must last (default of ``--min-run``).
MIN_RUN = 2


def camera_motion(path: str, fps: float, boxes_by_frame: dict[int, np.ndarray], frames: int) -> np.ndarray:
    """(frames, 2, 3) similarity transforms carrying frame t-1's pixels to frame t's (identity at
    frame 0 and where too few background corners were followed)."""
    motion = np.tile(np.eye(2, 3), (frames, 1, 1))
    previous, scale = None, 1.0
    for frame in read_frames(path, fps):
        if frame.index >= frames:
            break
        h, w = frame.image.shape[:2]
        scale = min(1.0, FLOW_SIDE_PX / max(h, w))
        grey = cv2.cvtColor(cv2.resize(frame.image, (round(w * scale), round(h * scale))), cv2.COLOR_BGR2GRAY)
        if previous is not None:
            prev_grey, prev_mask = previous
            corners = cv2.goodFeaturesToTrack(prev_grey, 400, 0.01, 8, mask=prev_mask)
            if corners is not None and len(corners) >= 8:
                moved, status, _ = cv2.calcOpticalFlowPyrLK(prev_grey, grey, corners, None)
                ok = status.ravel() == 1
                if ok.sum() >= 8:
                    transform, _ = cv2.estimateAffinePartial2D(corners[ok] / scale, moved[ok] / scale,
                                                               method=cv2.RANSAC, ransacReprojThreshold=2.0 / scale)
                    if transform is not None:
                        motion[frame.index] = transform
        mask = np.full(grey.shape, 255, np.uint8)
        for x1, y1, x2, y2 in boxes_by_frame.get(frame.index, np.zeros((0, 4))):
            grow = 0.25 * (y2 - y1)
            cv2.rectangle(mask, (int((x1 - grow) * scale), int((y1 - grow) * scale)),
                          (int((x2 + grow) * scale), int((y2 + grow) * scale)), 0, -1)
        previous = (grey, mask)
    return motion


def still_contacts(ankle: np.ndarray, motion: np.ndarray, leg_px: float, fps: float, fraction: float,
                   min_run: int = MIN_RUN) -> np.ndarray:
    """Frames where one foot comes to rest against the ground, from its (T, 2) pixels (NaN missing)."""
    carried = np.einsum("tij,tj->ti", motion[1:, :, :2], ankle[:-1]) + motion[1:, :, 2]
    speed = np.full(len(ankle), np.nan)
    speed[1:] = np.linalg.norm(ankle[1:] - carried, axis=1) / leg_px * fps
    padded = np.concatenate([[np.nan], speed, [np.nan]])
    with np.errstate(all="ignore"):
        smooth = np.nanmedian(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    if not np.isfinite(smooth).sum() >= 10:
        return np.zeros(0, int)
    limit = fraction * np.nanpercentile(smooth, 90)
    still = smooth < limit
    moving = smooth >= limit
    starts = [t for t in range(min_run, len(still) - min_run + 1)
              if still[t:t + min_run].all() and moving[t - min_run:t].all()]
    return np.asarray(starts, int)


def judged(frames: np.ndarray, label: dict) -> np.ndarray:
    """The frames inside the label's ``frames_labelled`` and outside its unjudgeable ranges."""
    first, last = label["frames_labelled"]
    inside = (frames >= first) & (frames <= last)
    for a, b in label.get("unjudgeable_ranges", []):
        inside &= ~((frames >= a) & (frames <= b))
    return frames[inside]


def cell(result: tuple | None) -> str:
    """found, recall, precision, median offset as a table cell."""
    if result is None:
        return "-"
    n, recall, precision, offset = result
    return (f"{n}, {recall:.2f}, {'-' if precision is None else f'{precision:.2f}'}, "
            f"{'-' if offset is None else f'{offset:+.0f}'}")


def score(found: np.ndarray, truth: np.ndarray) -> tuple[int, float, float | None, float | None]:
    pairs = match_contacts(found.astype(float), truth)
    offsets = [found[i] - truth[j] for i, j in pairs]
    return (len(found), len(pairs) / max(len(truth), 1), len(pairs) / len(found) if len(found) else None,
            float(np.median(offsets)) if offsets else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--clips", nargs="*")
    parser.add_argument("--fraction", type=float, nargs="*", default=[0.25],
                        help="still below this fraction of the foot's 90th-percentile speed")
    parser.add_argument("--cleaned", action="store_true",
                        help="the analysis' cleaned keypoints (left/right swaps repaired, low-passed), not raw")
    parser.add_argument("--min-run", type=int, default=MIN_RUN, help="frames still, and moving before it")
    args = parser.parse_args()
    labels = load_labels(default_label_files())
    settings = load_settings(None)
    videos = open_dataset(args.out, "videos").to_table().filter(pc.equal(pc.field("status"), "ok")).to_pylist()
    print("| clip | labelled | analysis: found, recall, precision, offset | "
          + " | ".join(f"still < {f:g} x p90: found, recall, precision, offset" for f in args.fraction) + " |")
    print("|---|---|---|" + "---|" * len(args.fraction))
    for video in sorted(videos, key=lambda v: Path(v["path"]).name):
        clip = Path(video["path"]).name
        label = labels.get(clip, {}).get("contacts")
        if not label or (args.clips and clip not in args.clips):
            continue
        truth = judged(np.array([c["frame"] for c in label["contacts"]], float), label)
        detections = pq.read_table(dataset_file(args.out, "detections", video["video_id"]))
        frames = detections.column("frame").to_numpy()
        ids = detections.column("runner_id").to_numpy()
        boxes = np.stack([detections.column(c).to_numpy() for c in ("box_x1", "box_y1", "box_x2", "box_y2")], 1)
        by_frame = {int(f): boxes[frames == f] for f in np.unique(frames)}
        total = int(frames.max()) + 1
        motion = camera_motion(video["path"], video["fps"], by_frame, total)
        contacts = pq.read_table(dataset_file(args.out, "contacts", video["video_id"]))
        best_analysis, best_still = None, {f: None for f in args.fraction}
        track_ids = detections.column("track_id").to_numpy()
        id_map = {int(t): int(r) for t, r in zip(track_ids, ids, strict=True)}
        for series in tracks_from_table(detections, id_map):
            if len(series) < 10:
                continue
            cleaned = clean_track(series, video["fps"], settings.analysis)[0] if args.cleaned else series
            points = np.full((total, len(KEYPOINT_NAMES), 2), np.nan)
            points[series.frames] = cleaned.keypoints
            leg = leg_length(points)  # speeds in leg lengths; the still limit is relative, so any scale will do
            if not np.isfinite(leg):
                continue
            own = contacts.filter(pc.equal(contacts["track_id"], int(series.track_id)))
            found = judged(np.sort(np.asarray(own["frame"].to_pylist(), float)), label)
            result = score(found, truth)
            if best_analysis is None or result[1] > best_analysis[1]:
                best_analysis = result
            for fraction in args.fraction:
                still = np.sort(np.concatenate([
                    still_contacts(points[:, a], motion, leg, video["fps"], fraction, args.min_run)
                    for a in (LEFT_ANKLE, RIGHT_ANKLE)])).astype(float)
                result = score(judged(still, label), truth)
                if best_still[fraction] is None or result[1] > best_still[fraction][1]:
                    best_still[fraction] = result

        print(f"| {clip} | {len(truth)} | {cell(best_analysis)} | "
              + " | ".join(cell(best_still[f]) for f in args.fraction) + " |", flush=True)


if __name__ == "__main__":
    main()
