"""Score the labelled clips filmed differently: mirrored left to right, or smaller, or both.

    .venv/bin/python benchmarks/transformed.py [--mirror] [--scale S] [--clips NAME ...] [--work DIR]
                                               [--config FILE]

A runner going right to left is the same runner going left to right: her contacts fall on
the same frames and her faults are the same. A runner filmed from twice as far is the same
runner at half the pixels. Mirroring a labelled clip, or shrinking it (``--scale 0.5``: half
the width and height, area-averaged as a camera's sensor would), keeps every hand label true
(frames and people, feet swap sides in the picture, not in the body) and shows what depends
on the direction of travel, the pose model's left-right asymmetry or the runner's size in
pixels instead of on the runner. Writes the changed copies (H.264, same frame rate) into
``--work`` (a temporary folder by default), runs ``formwatch run --no-clips`` on them, and
prints the scorer's table (``benchmarks/accuracy.py``), to be read beside the same table for
the original clips. Footage stays outside the repository.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "footage"
#: Side views with contact labels and the side-on broadcast: where travel has a direction
#: (with ``--scale``, add the clips with people labels: the road runner, the park joggers, the 400 m).
DEFAULT_CLIPS = ("single_side_beach_cuts", "track_sprint_start_side_blocks_a1", "treadmill_side_realtime_60fps_gym",
                 "single_side_track_pan", "track_100m_lowres_broadcast")


def write_transformed(source: Path, target: Path, mirror: bool, scale: float) -> int:
    """Write ``source`` mirrored left to right and/or scaled by ``scale`` as H.264 at its own
    frame rate (even sizes, for 4:2:0); frames written."""
    with av.open(str(source)) as reader, av.open(str(target), "w") as writer:
        video = reader.streams.video[0]
        stream = writer.add_stream("libx264", rate=video.average_rate or Fraction(30))
        count = 0
        for frame in reader.decode(video):
            picture = frame.to_ndarray(format="bgr24")
            if mirror:
                picture = picture[:, ::-1].copy()
            if scale != 1.0:
                height, width = picture.shape[:2]
                size = (2 * max(1, round(width * scale / 2)), 2 * max(1, round(height * scale / 2)))
                picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
            if count == 0:
                stream.height, stream.width = picture.shape[:2]
                stream.pix_fmt = "yuv420p"
            writer.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
            count += 1
        writer.mux(stream.encode())
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", action="store_true", help="mirror the clips left to right")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the clips' width and height by this")
    parser.add_argument("--clips", nargs="*", default=list(DEFAULT_CLIPS), help="clip names (without .mp4)")
    parser.add_argument("--work", type=Path, help="folder for the changed clips and their outputs")
    parser.add_argument("--config", help="settings file for formwatch run")
    args = parser.parse_args()
    if not args.mirror and args.scale == 1.0:
        parser.error("nothing to change: give --mirror, --scale or both")
    if not 0.0 < args.scale <= 1.0:
        parser.error(f"--scale must be in (0, 1], got {args.scale}")
    work = args.work or Path(tempfile.mkdtemp(prefix="formwatch-transformed-"))
    clips, out = work / "clips", work / "out"
    clips.mkdir(parents=True, exist_ok=True)
    for name in args.clips:
        source = FOOTAGE / f"{name}.mp4"
        if not source.is_file():
            sys.exit(f"{source} not found: this check needs ../shared/footage")
        frames = write_transformed(source, clips / source.name, args.mirror, args.scale)
        print(f"{name}: {frames} frames{' mirrored' if args.mirror else ''} at {args.scale:g}x", flush=True)
    run = [sys.executable, "-m", "flows.cli", "run", str(clips), "--out", str(out), "--no-clips", "--no-progress"]
    subprocess.run(run + (["--config", args.config] if args.config else []), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), str(out)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
