"""Score an output folder against hand labels, one row per labelled clip.

    .venv/bin/python benchmarks/accuracy.py OUT [--labels FILE ...] [--reanalyse] [--config FILE] [--json PATH]

OUT is a folder written by ``formwatch run``. By default the scorer reads its runners,
contacts and deviations; with ``--reanalyse`` it runs today's analysis again on the stored
detections (seconds, not the pose model's minutes), so a change to the analysis can be
scored on every clip before committing it. Labels default to ``../shared/labels/footage_labels.json``
(when present) and every ``labels/*.json`` of this repository, later files adding clips.
Metrics are described in :mod:`pipeline.accuracy`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.accuracy import BOX_COLUMNS, ClipOutputs, load_labels, markdown_table, score_clip, totals  # noqa: E402
from pipeline.analysis import analyse_detections  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.outputs import dataset_file, open_dataset  # noqa: E402
from pipeline.schemas import DETECTIONS  # noqa: E402


def default_label_files() -> list[Path]:
    shared = ROOT.parent / "shared" / "labels" / "footage_labels.json"
    return ([shared] if shared.is_file() else []) + sorted((ROOT / "labels").glob("*.json"))


def clip_outputs(out: Path, reanalyse: bool, config: str | None, clips: set[str]) -> list[ClipOutputs]:
    """The outputs of every ok video in ``out`` whose file name is among ``clips``."""
    settings = load_settings(config) if reanalyse else None
    videos = open_dataset(out, "videos").to_table().filter(pc.equal(pc.field("status"), "ok"))
    found = []
    for row in videos.to_pylist():
        clip = Path(row["path"]).name
        if clip not in clips:
            continue
        video_id = row["video_id"]
        # the boxes find labelled non-runners' ids; the keypoints only for a new analysis
        columns = None if settings is not None else list(BOX_COLUMNS)
        detections = pq.read_table(dataset_file(out, "detections", video_id), schema=DETECTIONS, columns=columns)
        if settings is not None:
            analysis = analyse_detections(
                detections, row["fps"], row["width"], row["height"], settings.analysis.for_video(clip, video_id),
                row.get("shot_starts") or (), row.get("frames_per_picture") or 1.0,  # null in outputs before schema 5
                (0, row["frames"] - 1) if row.get("frames") else None,
            )
            tables = {name: getattr(analysis, name) for name in ("runners", "contacts", "deviations")}
            slow, factor = analysis.slow_motion_suspected, analysis.slow_motion_factor
            ranges = [list(r) for r in analysis.slow_motion_ranges]
        else:
            tables = {name: pq.read_table(dataset_file(out, name, video_id)) for name in ("runners", "contacts",
                                                                                         "deviations")}
            slow, factor = row.get("slow_motion_suspected"), row.get("slow_motion_factor")
            ranges = row.get("slow_motion_ranges")  # null in outputs before schema 6
        factor = factor if factor is not None and factor == factor else None  # NaN: not measured
        boxes = detections.select(list(BOX_COLUMNS))
        found.append(ClipOutputs(clip, row["fps"], slow_motion_suspected=slow, slow_motion_factor=factor,
                                 slow_motion_ranges=ranges, boxes=boxes, **tables))
    return sorted(found, key=lambda c: c.clip)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="output folder of formwatch run")
    parser.add_argument("--labels", type=Path, nargs="*", help="label files (default: shared and repo labels)")
    parser.add_argument("--reanalyse", action="store_true", help="re-run the analysis on the stored detections")
    parser.add_argument("--config", help="settings file for --reanalyse")
    parser.add_argument("--json", type=Path, help="also write every metric to this JSON file")
    args = parser.parse_args()
    labels = load_labels(args.labels or default_label_files())
    outputs = clip_outputs(args.out, args.reanalyse, args.config, set(labels))
    scores = [score_clip(o, labels[o.clip]) for o in outputs]
    print(markdown_table(scores))
    print()
    print("totals:", json.dumps(totals(scores)))
    missing = sorted(set(labels) - {o.clip for o in outputs})
    if missing:
        print("labelled but not in", args.out, ":", ", ".join(missing))
    if args.json:
        args.json.write_text(json.dumps({s.clip: s.metrics for s in scores}, indent=1))


if __name__ == "__main__":
    main()
