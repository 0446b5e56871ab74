"""How long after a foot's furthest reach ahead of the hips it lands, in strides.

    .venv/bin/python benchmarks/reach_to_landing.py OUT [--shift S ...]

Re-runs today's analysis on the stored detections of every ok video in ``OUT`` (written by
``formwatch run``) that has hand-labelled contacts, with ``REACH_TO_LANDING`` set to 0 so that
side-view contacts sit at the reach peaks. For the track whose contacts match the labels best
(within a quarter stride), it prints each clip's median offset of peak to labelled landing as
a fraction of the labelled stride, the median over clips, and the leave-one-out value (the
median of the other clips). Then, for each ``--shift`` (default: 0, the leave-one-out values
and today's constant), the labelled contacts found within ±2 frames per clip.

Only tracks whose contacts come from the reach (side views) are measured; the event column
tells them apart from the hips' bounce.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import pipeline.analysis.gait as gait  # noqa: E402
from pipeline.accuracy import TOLERANCE_FRAMES, load_labels, match_contacts  # noqa: E402
from pipeline.analysis import analyse_detections  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.outputs import dataset_file, open_dataset  # noqa: E402
from pipeline.schemas import DETECTIONS  # noqa: E402


def label_files() -> list[Path]:
    shared = ROOT.parent / "shared" / "labels" / "footage_labels.json"
    return ([shared] if shared.is_file() else []) + sorted((ROOT / "labels").glob("*.json"))


def side_contacts(out: Path, shift: float) -> dict[str, tuple[dict, list[np.ndarray]]]:
    """clip -> (its contact labels, each side-view track's contact frames) with the given shift."""
    labels = {clip: value["contacts"] for clip, value in load_labels(label_files()).items() if "contacts" in value}
    settings = load_settings(None)
    saved, gait.REACH_TO_LANDING = gait.REACH_TO_LANDING, shift
    try:
        found = {}
        videos = open_dataset(out, "videos").to_table().filter(pc.equal(pc.field("status"), "ok"))
        for row in videos.to_pylist():
            clip = Path(row["path"]).name
            if clip not in labels:
                continue
            detections = pq.read_table(dataset_file(out, "detections", row["video_id"]), schema=DETECTIONS)
            contacts = analyse_detections(
                detections, row["fps"], row["width"], row["height"],
                settings.analysis.for_video(clip, row["video_id"]),
                row.get("shot_starts") or (), row.get("frames_per_picture") or 1.0,
            ).contacts.filter(pc.equal(pc.field("event"), gait.INITIAL_CONTACT))
            tracks = [
                np.sort(np.asarray(contacts.filter(pc.equal(pc.field("track_id"), t))["frame"].to_pylist(), float))
                for t in pc.unique(contacts["track_id"]).to_pylist()
            ]
            if tracks:
                found[clip] = (labels[clip], tracks)
        return found
    finally:
        gait.REACH_TO_LANDING = saved


def _truth(label: dict) -> np.ndarray:
    return np.sort(np.array([c["frame"] for c in label["contacts"]], float))


def offsets(label: dict, tracks: list[np.ndarray]) -> np.ndarray:
    """Offsets (found - labelled) in labelled strides of the best-matching track."""
    truth = _truth(label)
    stride = 2 * float(np.median(np.diff(truth)))
    window = max(TOLERANCE_FRAMES, int(0.25 * stride))
    best = max(tracks, key=lambda frames: len(match_contacts(frames, truth, window)))
    return np.array([(best[i] - truth[j]) / stride for i, j in match_contacts(best, truth, window)])


def within(label: dict, tracks: list[np.ndarray]) -> int:
    truth = _truth(label)
    return max(len(match_contacts(frames, truth)) for frames in tracks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--shift", type=float, action="append", help="strides added to each peak")
    args = parser.parse_args()

    peaks = side_contacts(args.out, 0.0)
    medians = {clip: float(-np.median(offsets(*value))) for clip, value in peaks.items()}
    print("| clip | labelled | median peak-to-landing (strides) | the others' median |")
    print("|---|---:|---:|---:|")
    held_out = {}
    for clip in sorted(medians):
        held_out[clip] = float(np.median([v for c, v in medians.items() if c != clip]))
        print(f"| {clip} | {len(peaks[clip][0]['contacts'])} | {medians[clip]:.3f} | {held_out[clip]:.3f} |")
    print(f"\nmedian over clips: {np.median(list(medians.values())):.3f}; today's constant: {gait.REACH_TO_LANDING}\n")

    shifts = args.shift or sorted({0.0, round(gait.REACH_TO_LANDING, 3), *(round(v, 3) for v in held_out.values())})
    print("| clip | " + " | ".join(f"+{s:.3f}" for s in shifts) + " |")
    print("|---|" + "---:|" * len(shifts))
    runs = {s: side_contacts(args.out, s) for s in shifts}
    for clip in sorted(medians):
        n = len(_truth(peaks[clip][0]))
        cells = [f"{within(*runs[s][clip]) if clip in runs[s] else 0}/{n}" for s in shifts]
        print(f"| {clip} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
