"""When each video was filmed: its session date (``athletes/sessions.parquet``).

A session's date is the container's recording date (``creation_time``, as phones and cameras
write it) when it has one, else the file's modification time; ``date_source`` says which. The
dates are cached per video_id, so a year of nightly videos is opened once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import av
import pyarrow.parquet as pq

from pipeline.outputs import sessions_file, write_table_atomic
from pipeline.schemas import SESSIONS, build_table

logger = logging.getLogger(__name__)


def container_date(path: str | Path) -> datetime | None:
    """The recording date in the container's metadata (format, then streams), UTC; None if absent,
    unreadable or the file is gone."""
    try:
        with av.open(str(path)) as container:
            tags = [dict(container.metadata), *(dict(s.metadata) for s in container.streams)]
    except (OSError, av.FFmpegError) as exc:
        logger.debug("no recording date from %s: %s", path, exc)
        return None
    for tag in tags:
        text = tag.get("creation_time") or tag.get("date")
        if text:
            try:
                stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return None


def session_date(video_row: dict) -> tuple[datetime, str]:
    """(date, 'container' | 'file_mtime') of a ``videos/`` row."""
    recorded = container_date(video_row["path"])
    if recorded is not None and recorded.year > 1970:  # some muxers write 0, i.e. 1970-01-01
        return recorded, "container"
    mtime_ns = video_row.get("file_mtime_ns") or 0
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC), "file_mtime"


def session_dates(out_dir: str | Path, video_rows: dict[str, dict]) -> dict[str, tuple[datetime, str]]:
    """video_id -> (session date, source) for every video of ``video_rows``; new ones are read and cached."""
    path = sessions_file(out_dir)
    cached = {r["video_id"]: (r["recorded_at"], r["date_source"])
              for r in (pq.read_table(path, schema=SESSIONS).to_pylist() if path.is_file() else [])}
    missing = [v for v in video_rows if v not in cached]
    for video_id in missing:
        cached[video_id] = session_date(video_rows[video_id])
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"video_id": v, "recorded_at": d, "date_source": s} for v, (d, s) in sorted(cached.items())]
        write_table_atomic(build_table(rows, SESSIONS), path)
    return {v: cached[v] for v in video_rows}
