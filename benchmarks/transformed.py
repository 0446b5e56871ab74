"""Score the labelled clips filmed differently: mirrored, smaller, at a lower frame rate, slowed.

    .venv/bin/python benchmarks/transformed.py [--mirror] [--scale S] [--every N] [--slow K] [--crf Q]
                                               [--clips NAME ...] [--work DIR] [--config FILE]

A runner going right to left is the same runner going left to right: her contacts fall on
the same frames and her faults are the same. A runner filmed from twice as far is the same
runner at half the pixels. Mirroring a labelled clip, or shrinking it (``--scale 0.5``: half
the width and height, area-averaged as a camera's sensor would), keeps every hand label true
(frames and people, feet swap sides in the picture, not in the body) and shows what depends
on the direction of travel, the pose model's left-right asymmetry or the runner's size in
pixels instead of on the runner. A camera at 30 frames a second sees the same runner as one at
60 (``--every 2``: every second picture kept, at half the frame rate): the labels' frames are
mapped to the kept pictures (a contact to the nearest, a range to the pictures inside it), and
what still differs shows a threshold counted in frames instead of seconds, or a contact that
depends on seeing the picture of the landing. A phone's slow motion is a high frame rate
played at a normal one: ``--slow 2`` plays a real-time 60 fps clip's pictures at 30 fps, true
slow motion by exactly 2 (no held or blended pictures), and the labels say so (slowed 2x over
the whole clip; contact frames unchanged). ``--crf 40`` re-encodes as a web stream squeezes a
broadcast (x264's constant rate factor; 23 is its default, 51 the worst). Writes the changed
copies (H.264) into ``--work`` (a temporary folder by default), runs ``formwatch run --no-clips`` on them, and
prints the scorer's table (``benchmarks/accuracy.py``), to be read beside the same table for
the original clips. Footage stays outside the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
from accuracy import default_label_files  # benchmarks/accuracy.py, beside this script (it puts the repo on the path)

from pipeline.accuracy import person_marks

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "footage"
#: Side views with contact labels and the side-on broadcast: where travel has a direction
#: (with ``--scale``, add the clips with people labels: the road runner, the park joggers, the 400 m).
DEFAULT_CLIPS = ("single_side_beach_cuts", "track_sprint_start_side_blocks_a1", "treadmill_side_realtime_60fps_gym",
                 "single_side_track_pan", "track_100m_lowres_broadcast")


#: Without x264's rate-control lookahead, whose threads made the same pictures encode differently
#: from run to run (and so the scores of one transformed clip differ between runs), every encode
#: of a clip is the same file.
DETERMINISTIC_X264 = {"x264-params": "rc-lookahead=0"}


def write_transformed(source: Path, target: Path, mirror: bool, scale: float, every: int = 1, slow: int = 1,
                      crf: int = 23) -> tuple[int, tuple[int, int, int, int]]:
    """Write ``source`` mirrored left to right and/or scaled by ``scale``, keeping every
    ``every``-th picture at 1/``every`` of its frame rate, played ``slow`` times slower, as
    H.264 at constant rate factor ``crf`` (even sizes, for 4:2:0), the same file every run;
    (frames written, (width, height, the copy's width, the copy's height))."""
    with av.open(str(source)) as reader, av.open(str(target), "w") as writer:
        video = reader.streams.video[0]
        stream = writer.add_stream("libx264", rate=(video.average_rate or Fraction(30)) / (every * slow),
                                   options={"crf": str(crf), **DETERMINISTIC_X264})
        count = 0
        sizes = (0, 0, 0, 0)
        for index, frame in enumerate(reader.decode(video)):
            if index % every:
                continue
            picture = frame.to_ndarray(format="bgr24")
            original = picture.shape[1], picture.shape[0]
            if mirror:
                picture = picture[:, ::-1].copy()
            if scale != 1.0:
                height, width = picture.shape[:2]
                size = (2 * max(1, round(width * scale / 2)), 2 * max(1, round(height * scale / 2)))
                picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
            if count == 0:
                stream.height, stream.width = picture.shape[:2]
                stream.pix_fmt = "yuv420p"
                sizes = (*original, stream.width, stream.height)
            writer.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
            count += 1
        writer.mux(stream.encode())
    return count, sizes


#: Label fields holding one frame, and those holding [first, last] ranges or lists of them.
_FRAME_KEYS = {"frame"}
_RANGE_KEYS = {"frames", "frames_labelled", "in_blocks_frames", "ranges", "runners_visible_frames",
               "unjudgeable_ranges"}


def _every_range(value: list, every: int) -> list:
    if not value:
        return value
    if isinstance(value[0], list):
        return [kept for kept in (_every_range(v, every) for v in value) if kept]
    first, last = math.ceil(value[0] / every), value[1] // every
    return [first, last] if first <= last else []


def labels_every(node: object, every: int, slow: int = 1) -> object:
    """Labels for the clip with every ``every``-th picture kept: frames mapped to the kept
    pictures (a frame to the nearest, a range to those inside it), the frame rate divided by
    ``every`` and ``slow``, counts by ``every``; the derived ``summary`` (intervals in frames) is
    dropped, the scorer recomputes it."""
    if isinstance(node, list):
        return [labels_every(v, every, slow) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict = {}
    for key, value in node.items():
        if key == "summary":
            continue
        if key in _FRAME_KEYS and isinstance(value, int | float):
            out[key] = round(value / every)
        elif key in _RANGE_KEYS and isinstance(value, list):
            out[key] = _every_range(value, every)
        elif key == "fps" and isinstance(value, int | float):
            out[key] = value / (every * slow)
        elif key in ("n_frames", "n_frames_decoded") and isinstance(value, int):
            out[key] = math.ceil(value / every)
        else:
            out[key] = labels_every(value, every, slow)
    return out


def marks_moved(labels: dict, sizes: dict[str, tuple[int, int, int, int]], mirror: bool) -> dict:
    """``labels`` with the points marking labelled people (``people[].at``: ``x``, ``y`` in the
    clip's pixels) moved as the copy moved them: scaled from each clip's (width, height) to its
    copy's, and mirrored left to right. ``sizes``: clip name -> (width, height, copy's width,
    copy's height)."""
    for clip, people in labels.get("people", {}).items():
        if clip not in sizes:
            continue
        width, height, new_width, new_height = sizes[clip]
        for shot in people.get("shots", []):
            for person in shot.get("people", []):
                for mark in person_marks(person):
                    x = width - 1 - mark["x"] if mirror else mark["x"]
                    mark["x"], mark["y"] = x * new_width / width, mark["y"] * new_height / height
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", action="store_true", help="mirror the clips left to right")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the clips' width and height by this")
    parser.add_argument("--every", type=int, default=1, help="keep every N-th picture, at 1/N of the frame rate")
    parser.add_argument("--slow", type=int, default=1,
                        help="play the pictures K times slower (real-time clips only: labelled slowed K times)")
    parser.add_argument("--crf", type=int, default=23, help="x264 constant rate factor of the copies (23: default)")
    parser.add_argument("--clips", nargs="*", default=list(DEFAULT_CLIPS), help="clip names (without .mp4)")
    parser.add_argument("--work", type=Path, help="folder for the changed clips and their outputs")
    parser.add_argument("--config", help="settings file for formwatch run")
    args = parser.parse_args()
    if not args.mirror and args.scale == 1.0 and args.every == 1 and args.slow == 1 and args.crf == 23:
        parser.error("nothing to change: give --mirror, --scale, --every, --slow or --crf")
    if not 0 <= args.crf <= 51:
        parser.error(f"--crf must be in 0-51, got {args.crf}")
    if args.every < 1 or args.slow < 1:
        parser.error(f"--every and --slow must be 1 or more, got {args.every} and {args.slow}")
    if not 0.0 < args.scale <= 1.0:
        parser.error(f"--scale must be in (0, 1], got {args.scale}")
    work = args.work or Path(tempfile.mkdtemp(prefix="formwatch-transformed-"))
    clips, out = work / "clips", work / "out"
    clips.mkdir(parents=True, exist_ok=True)
    slowed = {}
    sizes: dict[str, tuple[int, int, int, int]] = {}
    for name in args.clips:
        source = FOOTAGE / f"{name}.mp4"
        if not source.is_file():
            sys.exit(f"{source} not found: this check needs ../shared/footage")
        frames, sizes[source.name] = write_transformed(source, clips / source.name, args.mirror, args.scale,
                                                       args.every, args.slow, args.crf)
        print(f"{name}: {frames} frames{' mirrored' if args.mirror else ''} at {args.scale:g}x"
              f"{f', every {args.every} pictures' if args.every > 1 else ''}"
              f"{f', {args.slow}x slower' if args.slow > 1 else ''}{f', crf {args.crf}' if args.crf != 23 else ''}",
              flush=True)
        slowed[source.name] = {"slowed": True, "factor": float(args.slow), "ranges": [[0, frames - 1]],
                               "method": f"a real-time clip's pictures played {args.slow}x slower"}
    run = [sys.executable, "-m", "flows.cli", "run", str(clips), "--out", str(out), "--no-clips", "--no-progress"]
    subprocess.run(run + (["--config", args.config] if args.config else []), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    labels = []
    for index, path in enumerate(default_label_files()):  # mirrored or scaled, the labels stay true (marks move)
        labels.append(work / f"labels_{index}.json")
        moved = marks_moved(json.loads(path.read_text()), sizes, args.mirror)
        labels[-1].write_text(json.dumps(labels_every(moved, args.every, args.slow)))
    if args.slow > 1:  # last, so it replaces the clips' own slow-motion labels
        labels.append(work / "labels_slowed.json")
        labels[-1].write_text(json.dumps({"slow_motion": slowed}))
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), str(out), "--labels", *map(str, labels)],
                   cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
