"""Score the labelled clips filmed the other way round: each clip mirrored left to right.

    .venv/bin/python benchmarks/mirrored.py [--clips NAME ...] [--work DIR] [--config FILE]

A runner going right to left is the same runner going left to right: her contacts fall on
the same frames and her faults are the same. Mirroring a labelled clip keeps every hand label
true (frames, feet swap sides in the picture, not in the body) and shows what depends on the
direction of travel or on the pose model's left-right asymmetry instead of on the runner.
Writes mirrored copies of the clips (H.264, same frame rate) into ``--work`` (a temporary
folder by default), runs ``formwatch run --no-clips`` on them, and prints the scorer's table
(``benchmarks/accuracy.py``), to be read beside the same table for the original clips.
Footage stays outside the repository.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "footage"
#: Side views with contact labels and the side-on broadcast: where travel has a direction.
DEFAULT_CLIPS = ("single_side_beach_cuts", "track_sprint_start_side_blocks_a1", "treadmill_side_realtime_60fps_gym",
                 "single_side_track_pan", "track_100m_lowres_broadcast")


def write_mirrored(source: Path, target: Path) -> int:
    """Write ``source`` mirrored left to right as H.264 at its own frame rate; frames written."""
    with av.open(str(source)) as reader, av.open(str(target), "w") as writer:
        video = reader.streams.video[0]
        stream = writer.add_stream("libx264", rate=video.average_rate or Fraction(30))
        count = 0
        for frame in reader.decode(video):
            picture = frame.to_ndarray(format="bgr24")[:, ::-1].copy()
            if count == 0:
                stream.height, stream.width = picture.shape[:2]
                stream.pix_fmt = "yuv420p"
            writer.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
            count += 1
        writer.mux(stream.encode())
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="*", default=list(DEFAULT_CLIPS), help="clip names (without .mp4)")
    parser.add_argument("--work", type=Path, help="folder for the mirrored clips and their outputs")
    parser.add_argument("--config", help="settings file for formwatch run")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="formwatch-mirrored-"))
    clips, out = work / "clips", work / "out"
    clips.mkdir(parents=True, exist_ok=True)
    for name in args.clips:
        source = FOOTAGE / f"{name}.mp4"
        if not source.is_file():
            sys.exit(f"{source} not found: the mirror check needs ../shared/footage")
        print(f"{name}: {write_mirrored(source, clips / source.name)} frames mirrored", flush=True)
    run = [sys.executable, "-m", "flows.cli", "run", str(clips), "--out", str(out), "--no-clips", "--no-progress"]
    subprocess.run(run + (["--config", args.config] if args.config else []), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), str(out)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
