"""How far the picture changes at hand-labelled cuts, and between every other pair of frames.

    .venv/bin/python benchmarks/shot_cuts.py [FOOTAGE_DIR] [--labels FILE ...]

Decodes every clip of the folder (default ``../shared/footage``) and, for each pair of
consecutive frames, measures the two changes :mod:`pipeline.shots` decides on (colour and
layout). Per clip it prints the labelled cuts (the first frame of each labelled shot after the
first, from the ``people`` labels), the cuts :class:`pipeline.shots.ShotDetector` finds, the
smallest changes at a labelled cut and the largest within a shot, so the thresholds can be
read off the footage rather than fitted to one clip. Clips without ``people`` labels show what
was found, unscored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import shots  # noqa: E402
from pipeline.accuracy import load_labels  # noqa: E402
from pipeline.video import probe_video, read_frames  # noqa: E402


def measure(path: Path) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(cuts the detector finds, (N,) colour changes, (N,) layout changes; index i: frame i vs i-1)."""
    info = probe_video(path)
    detector = shots.ShotDetector()
    found = [frame.index for frame in read_frames(path, info.fps) if detector.update(frame.image)]
    colour, layout = np.array(detector.colour_changes), np.array(detector.layout_changes)
    colour[0] = layout[0] = 0.0  # the first frame has nothing to change from
    return found, colour, layout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("footage", type=Path, nargs="?", default=ROOT.parent / "shared" / "footage")
    parser.add_argument("--labels", type=Path, action="append")
    args = parser.parse_args()
    files = args.labels or [p for p in (ROOT.parent / "shared" / "labels" / "footage_labels.json",
                                        ROOT / "labels" / "footage_labels.json") if p.is_file()]
    labels = load_labels(files)
    print("| clip | labelled cuts | found | smallest at a cut (colour, layout) | largest within shots "
          "(colour, layout, layout / typical) |")
    print("|---|---|---|---|---|")
    for path in sorted(args.footage.glob("*.mp4")):
        found, colour, layout = measure(path)
        people = labels.get(path.name, {}).get("people")
        truth = [s["frames"][0] for s in people["shots"][1:]] if people else None
        at_cut = ", ".join(f"{colour[f]:.2f}, {layout[f]:.3f}" for f in truth or [] if f < len(colour))
        inside = np.ones(len(colour), bool)
        inside[0] = False
        for f in truth or []:
            inside[max(f - 1, 0):f + 2] = False  # the cut and its neighbours (labels within a frame)
        # the frame within a shot that comes closest to passing both thresholds
        score = np.minimum(colour / shots.MIN_COLOUR_CHANGE, layout / shots.MIN_LAYOUT_CHANGE)
        score[~inside] = -1
        worst = int(np.argmax(score)) if inside.any() else 0
        typical = np.median(layout[max(worst - shots.HISTORY, 1):worst]) if worst > 1 else float("nan")
        print(f"| {path.name} | {truth if truth is not None else 'unlabelled'} | {found} | {at_cut} | "
              f"{colour[worst]:.2f}, {layout[worst]:.3f}, {layout[worst] / typical:.1f} (frame {worst}) |")


if __name__ == "__main__":
    main()
