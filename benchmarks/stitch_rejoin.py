"""Does the stitching give a person hidden for a moment her id back, and join nobody else?

    .venv/bin/python benchmarks/stitch_rejoin.py OUT [OUT ...] [--hidden S ...] [--min-seen S]

A tracker loses people behind others and gives them a new id when they come back. Which of a
crowd's fragments truly belong together is known only by eye; this makes the occlusions on
the tracker's real output instead, where the answer is known. For every tracked person seen
at least ``--min-seen`` seconds in a stored ``formwatch run`` output, one at a time: the
detections of a stretch of ``--hidden`` seconds in the middle of her track are removed and
the rest of her track gets a new id, then the clip is stitched again (today's code, the
clip's own shots). Counted per clip:

- ``rejoined``: her two halves joined again;
- ``wrong``: any join the stitching of the clip as stored does not make (a hidden half joined
  to someone else, or two other people newly joined because of the gap).

Approaching a fixed camera (the group jog, the road runners), people grow by tens of percent
in a second; in a broadcast, a zoom grows everyone. Both are in the shared clips.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pipeline.accuracy import hide_track  # noqa: E402
from pipeline.analysis import AnalysisSettings  # noqa: E402
from pipeline.analysis.stitching import stitch_tracks  # noqa: E402
from pipeline.analysis.tracks import tracks_from_table  # noqa: E402
from pipeline.outputs import dataset_file, open_dataset  # noqa: E402
from pipeline.schemas import DETECTIONS  # noqa: E402

NEW_ID = 1_000_000


def joins(id_map: dict[int, int]) -> set[tuple[int, int]]:
    """Every pair of tracker ids given one runner id."""
    chains: dict[int, list[int]] = {}
    for member, runner in id_map.items():
        chains.setdefault(runner, []).append(member)
    return {(a, b) for chain in chains.values() for a in chain for b in chain if a < b}


def score_clip(detections: pa.Table, fps: float, size: tuple[int, int], shot_starts: tuple[int, ...],
               hidden_s: float, min_seen_s: float) -> dict[str, object]:
    settings = AnalysisSettings()
    stored = joins(stitch_tracks(tracks_from_table(detections), fps, size, settings, shot_starts).id_map)
    ids, counts = np.unique(detections.column("track_id").to_numpy(), return_counts=True)
    frame = detections.column("frame").to_numpy()
    tried = rejoined = 0
    wrong: list[tuple[int, int]] = []
    for track_id in ids[counts >= min_seen_s * fps]:
        seen = frame[detections.column("track_id").to_numpy() == track_id]
        start = int(seen.min() + (seen.max() - seen.min()) / 2 - hidden_s * fps / 2)
        stop = start + max(int(round(hidden_s * fps)), 1)
        if any(seen.min() < s <= seen.max() and not start < s < stop for s in shot_starts):
            continue  # a cut inside her track: halves across it are never joined
        id_map = stitch_tracks(tracks_from_table(hide_track(detections, int(track_id), start, stop, NEW_ID)), fps, size,
                               settings, shot_starts).id_map
        tried += 1
        back = id_map[NEW_ID] == id_map[int(track_id)]
        rejoined += back
        # her halves stand for her: joined back, the new id may join whoever she was joined to
        partners = {int(track_id)} | {a if b == track_id else b for a, b in stored if track_id in (a, b)}
        expected = stored | ({(p, NEW_ID) for p in partners} if back else set())
        wrong += sorted(joins(id_map) - expected)
    return {"tried": tried, "rejoined": rejoined, "wrong": len(wrong), "wrong_pairs": sorted(set(wrong))[:6]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outs", type=Path, nargs="+", help="output folders of formwatch run")
    parser.add_argument("--hidden", type=float, nargs="+", default=[0.5, 1.0], help="seconds hidden")
    parser.add_argument("--min-seen", type=float, default=2.5, help="seconds a person must be tracked to be hidden")
    args = parser.parse_args()
    print("| clip | hidden | people hidden | rejoined | wrong joins |")
    print("|---|---|---|---|---|")
    totals: dict[float, list[int]] = {h: [0, 0, 0] for h in args.hidden}
    for out in args.outs:
        videos = open_dataset(out, "videos").to_table().filter(pc.equal(pc.field("status"), "ok"))
        for row in sorted(videos.to_pylist(), key=lambda r: Path(r["path"]).name):
            detections = pq.read_table(dataset_file(out, "detections", row["video_id"]), schema=DETECTIONS)
            for hidden_s in args.hidden:
                s = score_clip(detections, row["fps"], (row["width"], row["height"]),
                               tuple(row.get("shot_starts") or ()), hidden_s, args.min_seen)
                if not s["tried"]:
                    continue
                totals[hidden_s] = [t + int(str(s[k])) for t, k in zip(totals[hidden_s], ("tried", "rejoined", "wrong"),
                                                                        strict=True)]
                print(f"| {Path(row['path']).name} | {hidden_s:g} s | {s['tried']} | {s['rejoined']} | {s['wrong']} |",
                      flush=True)
    for hidden_s, (tried, rejoined, wrong) in totals.items():
        print(f"| all | {hidden_s:g} s | {tried} | {rejoined} ({rejoined / max(tried, 1):.0%}) | {wrong} |")


if __name__ == "__main__":
    main()
