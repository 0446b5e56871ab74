"""Cost of planning an incremental run, as a ratio against a first plan in the same process.

    .venv/bin/python benchmarks/bench_incremental.py [--videos N] [--megabytes MB]

A first night hashes every file (SHA-256 of its whole content). A later night over the
same folder reuses each unchanged file's id from its ``videos/`` row (same size and
modification time) and reads only those rows. The ratio is later / first: the smaller,
the cheaper an unchanged folder is to re-plan. Files are random bytes (planning never
decodes) written to a temporary folder; the page cache is warm for both plans, so the
first plan's figure is a lower bound on disk or network storage.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from pipeline.incremental import RunKey, plan_videos
from pipeline.outputs import dataset_file
from pipeline.process import write_video_row
from pipeline.schemas import VIDEO_DATASETS, VIDEOS


def _record_completed(out: Path, planned, key: RunKey) -> None:
    """Write what a completed run leaves: each video's (empty) outputs and its videos/ row."""
    for item in planned:
        for name in VIDEO_DATASETS[:-1]:
            file = dataset_file(out, name, item.video_id)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.touch()
        stat = Path(item.path).stat()
        row = dict.fromkeys(VIDEOS.names)
        row.update(video_id=item.video_id, path=item.path, status="ok", formwatch_version="bench",
                   file_bytes=stat.st_size, file_mtime_ns=stat.st_mtime_ns, **key.columns())
        write_video_row(row, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=40)
    parser.add_argument("--megabytes", type=int, default=50, help="size of each file")
    args = parser.parse_args()
    key = RunKey("c" * 16, "w" * 16)
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "footage", Path(tmp) / "out"
        folder.mkdir()
        for k in range(args.videos):
            (folder / f"race{k:03d}.mp4").write_bytes(os.urandom(args.megabytes << 20))
        paths = sorted(folder.iterdir())

        started = time.perf_counter()
        first = plan_videos(paths, out, key)
        first_s = time.perf_counter() - started
        assert all(item.process for item in first)
        _record_completed(out, first, key)

        started = time.perf_counter()
        later = plan_videos(paths, out, key)
        later_s = time.perf_counter() - started
        assert not any(item.process for item in later)

    total_mb = args.videos * args.megabytes
    print(f"{args.videos} videos, {total_mb} MB in all")
    print(f"first plan (hashes every file):   {first_s:7.3f} s  ({total_mb / first_s:.0f} MB/s)")
    print(f"later plan (nothing changed):     {later_s:7.3f} s")
    print(f"ratio later / first:              {later_s / first_s:7.3f}")


if __name__ == "__main__":
    main()
