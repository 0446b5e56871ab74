"""The output folder as a whole: who may write it, how a video's files are committed, and
what is cleaned after a crash.

Readers only ever see committed output. A video's files are written into a hidden staging
folder, ``.staging/<video_id>/``, laid out like the output folder itself, and moved into
place when everything is written: first its data files and clips, then its ``videos/``
row, which is the commit record. A re-processed video loses its old ``videos/`` row before
its new files move in, so a crash in between never pairs old and new files under one row.
What a crash leaves (staging folders, hidden ``.tmp`` files, data files with no ``ok`` or
``partial`` row) is removed by the next run, under the folder lock, before it plans.

One run writes a folder at a time: :class:`OutputLock` holds ``.formwatch.lock`` with
``flock``, which the kernel releases when its process dies however it dies, and writes
the holder (process id, host, since when) into it for the next run to name.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.checkpoints import checkpoint
from pipeline.schemas import DATA_DATASETS, all_schemas

#: Statuses whose rows commit data files (a ``failed`` video has none).
COMMITTED_STATUSES = ("ok", "partial")
STAGING = ".staging"
LOCK_NAME = ".formwatch.lock"
#: Lock of the athletes' names alone, so a coach can name runners while a nightly run writes videos.
NAMES_LOCK_NAME = ".formwatch-names.lock"
#: The coach's loop: whole-folder datasets (one file each, rewritten atomically), not per video.
ATHLETES, PROGRESS = "athletes", "progress"
#: errno values that mean the output disk, not the video, is at fault.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})

Log = Callable[[str], None]


# --- where each file lives, how it is written and read -------------------------------------------


def dataset_file(out_dir: str | Path, table: str, video_id: str) -> Path:
    """Where a video's rows of one output table live: ``out_dir/table/<video_id>.parquet``."""
    return Path(out_dir) / table / f"{video_id}.parquet"


def _temporary_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"


def write_table_atomic(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` through a temporary file and an atomic rename.

    Strict: the table must carry one of the output schemas exactly (the ``formwatch_table``
    named in its metadata, :func:`pipeline.schemas.all_schemas`), so no file drifts from
    the contract; anything else raises ValueError before a byte is written.
    """
    _check_contract(table)
    return _replace_atomically(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_text_atomic(text: str, path: Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and an atomic rename (report pages)."""
    return _replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    tmp = _temporary_beside(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _check_contract(table: pa.Table) -> None:
    name = (table.schema.metadata or {}).get(b"formwatch_table", b"").decode()
    expected = all_schemas().get(name)
    if expected is None:
        raise ValueError(f"table {name!r} is not one of the output datasets ({', '.join(all_schemas())})")
    if not table.schema.equals(expected, check_metadata=False):
        raise ValueError(f"table {name!r} does not match its output schema: got {table.schema.names}")


def open_dataset(out_dir: str | Path, table: str) -> ds.Dataset:
    """The dataset folder ``out_dir/table`` read with the schema in code.

    Files written by an older FormWatch, before a column was added, read with that column
    null instead of making the dataset's schema depend on which file comes first.
    """
    return ds.dataset(Path(out_dir) / table, format="parquet", schema=all_schemas()[table])


# --- the folder: commits, leftovers, the lock ----------------------------------------------------


class OutputError(Exception):
    """The output folder cannot be used; the message is one sentence that says why."""


class OutputDiskError(OutputError):
    """The output disk is full or read-only."""


class OutputBusyError(OutputError):
    """Another live FormWatch run holds the output folder."""


def disk_error_sentence(exc: BaseException, out_dir: str | Path) -> str | None:
    """The sentence for a full or read-only output disk, or None for any other error."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    where = Path(out_dir).resolve()
    if code in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in text or "Disk quota" in text:
        return f"No space left on the output disk ({where}): free some space and run again."
    if code == errno.EROFS or "Read-only file system" in text:
        return f"The output disk is read-only ({where}): choose another --out or remount it writable."
    return None


def check_output_folder(out_dir: str | Path) -> Path:
    """Create ``out_dir`` if needed and prove it takes a file; raise OutputError with a sentence if not."""
    out = Path(out_dir).expanduser()
    probe = out / f".formwatch-probe-{uuid.uuid4().hex[:8]}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"formwatch")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise OutputError(_unusable_sentence(out, exc)) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
    return out


def _unusable_sentence(out: Path, exc: OSError) -> str:
    disk = disk_error_sentence(exc, out)
    if disk:
        return disk
    if isinstance(exc, FileExistsError) or (out.exists() and not out.is_dir()):
        return f"The output folder {str(out)!r} is a file, not a folder: choose another --out."
    if isinstance(exc, NotADirectoryError):
        return f"The output folder {str(out)!r} lies under a file, not a folder: choose another --out."
    if isinstance(exc, PermissionError):
        return f"The output folder {str(out)!r} cannot be written (permission denied): choose another --out."
    return f"The output folder {str(out)!r} cannot be used ({exc.strerror or exc}): choose another --out."


def names_file(out_dir: str | Path) -> Path:
    """The names dataset: who each runner is (``athletes/names.parquet``, pipeline/schemas.py)."""
    return Path(out_dir) / ATHLETES / "names.parquet"


def sessions_file(out_dir: str | Path) -> Path:
    """Each video's session date (``athletes/sessions.parquet``)."""
    return Path(out_dir) / ATHLETES / "sessions.parquet"


def progress_file(out_dir: str | Path) -> Path:
    """Each named athlete's faults session by session (``progress/progress.parquet``)."""
    return Path(out_dir) / PROGRESS / "progress.parquet"


def compare_clip_file(out_dir: str | Path, athlete: str, fault: str) -> Path:
    """The side-by-side clip of an athlete's first and latest sessions for one fault
    (``athletes/compare/<athlete>-<fault>.mp4``; the name keeps letters, digits, '-' and '_')."""
    slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in "_".join(athlete.split())) or "athlete"
    return Path(out_dir) / ATHLETES / "compare" / f"{slug}-{fault}.mp4"


def staging_dir(out_dir: str | Path, video_id: str) -> Path:
    """Where one video's files are written before they are committed (hidden from readers)."""
    return Path(out_dir) / STAGING / video_id


def discard_staging(out_dir: str | Path, video_id: str) -> None:
    shutil.rmtree(staging_dir(out_dir, video_id), ignore_errors=True)
    with contextlib.suppress(OSError):  # the staging folder itself goes when no other video uses it
        (Path(out_dir) / STAGING).rmdir()


def commit_video(out_dir: str | Path, video_id: str, row: pa.Table) -> None:
    """Move a staged video's files into place, then write its ``videos/`` row (the commit).

    The old row goes first, so a crash mid-way leaves only uncommitted files, which the
    next run removes and processes again. If the row cannot be written, the moved files
    are removed again and the error is raised.
    """
    out, stage = Path(out_dir), staging_dir(out_dir, video_id)
    dataset_file(out, "videos", video_id).unlink(missing_ok=True)
    for name in DATA_DATASETS:
        source, target = dataset_file(stage, name, video_id), dataset_file(out, name, video_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_file():  # every processed video stages all four; files already in place stay
            os.replace(source, target)
        if name == "detections":
            checkpoint("commit")
    clips = out / "clips" / video_id
    shutil.rmtree(clips, ignore_errors=True)
    if (stage / "clips" / video_id).is_dir():
        clips.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / "clips" / video_id, clips)
    checkpoint("row")
    try:
        write_table_atomic(row, dataset_file(out, "videos", video_id))
    except OSError:
        remove_data(out, video_id)
        raise
    finally:
        discard_staging(out, video_id)


def remove_data(out_dir: str | Path, video_id: str) -> None:
    """Delete a video's data files and clips, leaving its ``videos/`` row."""
    out = Path(out_dir)
    shutil.rmtree(out / "clips" / video_id, ignore_errors=True)
    for name in DATA_DATASETS:
        dataset_file(out, name, video_id).unlink(missing_ok=True)


def clean_leftovers(out_dir: str | Path, committed: set[str]) -> list[str]:
    """Remove what an interrupted run left: staging, hidden temporary files, raw files, and data
    files or clips of videos with no committed row (``committed`` holds their ids).

    Call it holding the folder lock. Returns one description per thing removed.
    """
    out = Path(out_dir)
    removed = []
    if (out / STAGING).exists():
        shutil.rmtree(out / STAGING, ignore_errors=True)
        removed.append(f"staging folder {STAGING}/")
    # Only FormWatch's own names: the output folder may hold other files of the user's.
    patterns = [(out, ".report.html.*.tmp"), (out, ".formwatch-probe-*"), (out / "detections", "*.raw"),
                *((out / name, ".*.tmp") for name in (*DATA_DATASETS, "videos", ATHLETES, PROGRESS))]
    for folder, pattern in patterns:
        for leftover in folder.glob(pattern):
            leftover.unlink(missing_ok=True)
            removed.append(str(leftover.relative_to(out)))
    for name in DATA_DATASETS:
        for file in (out / name).glob("*.parquet"):
            if file.stem not in committed:
                file.unlink(missing_ok=True)
                removed.append(str(file.relative_to(out)))
    if (out / "clips").is_dir():
        for folder in (out / "clips").iterdir():
            if folder.is_dir() and folder.name not in committed:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(f"clips/{folder.name}/")
    return removed


class OutputLock:
    """``with OutputLock(out, wait=False):`` this process alone writes ``out`` until the block ends.

    Another live holder makes it raise :class:`OutputBusyError` naming the holder, or, with
    ``wait``, log who it waits for every ``report_every_s`` until the holder is done. A lock
    left by a process that died is free (the kernel dropped it); taking it over is logged.
    """

    def __init__(self, out_dir: str | Path, wait: bool = False, log: Log = print, poll_s: float = 1.0,
                 report_every_s: float = 60.0, lock_name: str = LOCK_NAME) -> None:
        self.path = Path(out_dir) / lock_name
        self.wait, self.log, self.poll_s, self.report_every_s = wait, log, poll_s, report_every_s
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started, reported = time.monotonic(), -self.report_every_s
        while not _try_flock(fd):
            holder = _describe(_read_holder(fd))
            if not self.wait:
                os.close(fd)
                raise OutputBusyError(f"The output folder {str(self.path.parent)!r} is in use by another FormWatch "
                                      f"run ({holder}); this run stops (orchestration.if_output_busy: exit).")
            waited = time.monotonic() - started
            if waited - reported >= self.report_every_s:
                self.log(f"Waiting for the output folder {self.path.parent}, in use by another FormWatch run "
                         f"({holder}), {waited:.0f} s so far")
                reported = waited
            time.sleep(self.poll_s)
        previous = _read_holder(fd)
        if previous:
            self.log(f"Taking over the lock of {self.path.parent} left by a run that ended without releasing it "
                     f"({_describe(previous)})")
        _write_holder(fd, {"pid": os.getpid(), "host": socket.gethostname(),
                           "since": datetime.now(UTC).isoformat(timespec="seconds")})
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(fd: int) -> dict | None:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


def _write_holder(fd: int, holder: dict) -> None:
    data = json.dumps(holder).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _describe(holder: dict | None) -> str:
    if not holder:
        return "holder unknown"
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"
