"""Who each runner is: the names dataset (``athletes/names.parquet``, schema :data:`NAMES`).

A runner gets a name from four sources, most trusted first: the user (``formwatch name``),
the roster file, the footage's folder, and FormWatch's own proposal. Every assignment is a
row; nothing is deleted: undoing marks the row ``undone``, so a roster or folder name the user
undid is not made again by the next run. A proposal is never confirmed: it is shown for the
user to confirm with ``formwatch name``, and never counts in an athlete's progress.

The active name of a runner is its most trusted assignment not undone (the latest among
equals). Within a video, an athlete named by a more trusted source on one runner takes the
name from runners that a less trusted source gave it to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.outputs import NAMES_LOCK_NAME, OutputLock, names_file, write_table_atomic
from pipeline.schemas import NAMES, build_table

#: Sources of a name, most trusted first.
SOURCES = ("user", "roster", "folder", "proposal")

Key = tuple[str, int]  # (video_id, track_id)


class NamingError(ValueError):
    """A name cannot be given or undone; the message is one sentence that says why."""


@dataclass(frozen=True)
class Runner:
    """A runner of a video as the names need it: frames in the video's frame index."""

    video_id: str
    track_id: int
    first_frame: int
    last_frame: int


def read_names(out_dir: str | Path) -> list[dict]:
    """Every assignment ever made in ``out_dir`` (undone ones too), oldest first; [] when none."""
    path = names_file(out_dir)
    if not path.is_file():
        return []
    return pq.read_table(path, schema=NAMES).to_pylist()


def _write(out_dir: str | Path, rows: list[dict]) -> None:
    path = names_file(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table_atomic(build_table(rows, NAMES), path)


def _row(runner: Runner, athlete: str, source: str, now: datetime | None, distance: float | None = None) -> dict:
    if source not in SOURCES:
        raise NamingError(f"unknown name source {source!r}; valid sources: {', '.join(SOURCES)}")
    return {"video_id": runner.video_id, "track_id": runner.track_id, "athlete": athlete, "source": source,
            "confirmed": source != "proposal", "created_at": now or datetime.now(UTC), "undone": False,
            "first_frame": runner.first_frame, "last_frame": runner.last_frame, "distance": distance}


def _clean_name(athlete: str) -> str:
    name = " ".join(athlete.split())
    if not name:
        raise NamingError("an athlete's name cannot be empty")
    return name


def name_runner(out_dir: str | Path, runner: Runner, athlete: str, now: datetime | None = None) -> str:
    """The user says ``runner`` is ``athlete``. Idempotent; a different name replaces the runner's
    earlier user name (undone). Returns a sentence saying what changed."""
    athlete = _clean_name(athlete)
    with OutputLock(out_dir, wait=True, lock_name=NAMES_LOCK_NAME):
        rows = read_names(out_dir)
        mine = [r for r in rows if _key(r) == (runner.video_id, runner.track_id) and not r["undone"]
                and r["source"] == "user"]
        if any(r["athlete"] == athlete for r in mine):
            return f"Runner {runner.track_id} of {runner.video_id} is already {athlete}."
        for r in mine:
            r["undone"] = True
        rows.append(_row(runner, athlete, "user", now))
        _write(out_dir, rows)
    was = f" (was {mine[0]['athlete']})" if mine else ""
    return f"Runner {runner.track_id} of {runner.video_id} is now {athlete}{was}."


def undo_name(out_dir: str | Path, video_id: str, track_id: int, athlete: str | None = None) -> int:
    """Undo every active assignment of runner ``track_id`` of ``video_id`` (only ``athlete``'s when
    given), whatever its source. Returns how many were undone."""
    with OutputLock(out_dir, wait=True, lock_name=NAMES_LOCK_NAME):
        rows = read_names(out_dir)
        hits = [r for r in rows if _key(r) == (video_id, track_id) and not r["undone"]
                and (athlete is None or r["athlete"] == _clean_name(athlete))]
        for r in hits:
            r["undone"] = True
        if hits:
            _write(out_dir, rows)
    return len(hits)


def rename_athlete(out_dir: str | Path, old: str, new: str, now: datetime | None = None) -> int:
    """Call athlete ``old`` ``new`` everywhere: each active assignment is undone and made again
    under the new name, same source. Returns how many runners were renamed."""
    old, new = _clean_name(old), _clean_name(new)
    with OutputLock(out_dir, wait=True, lock_name=NAMES_LOCK_NAME):
        rows = read_names(out_dir)
        hits = [r for r in rows if r["athlete"] == old and not r["undone"]]
        for r in hits:
            r["undone"] = True
        rows += [{**r, "athlete": new, "undone": False, "created_at": now or datetime.now(UTC)} for r in hits]
        if hits:
            _write(out_dir, rows)
    return len(hits)


def add_names(out_dir: str | Path, proposed: Iterable[tuple[Runner, str, str, float | None]],
              now: datetime | None = None) -> int:
    """Add roster, folder or proposal names ``(runner, athlete, source, distance)``, each unless the
    same runner, athlete and source already has a row (active or undone: an undo sticks).
    Returns how many were added."""
    with OutputLock(out_dir, wait=True, lock_name=NAMES_LOCK_NAME):
        rows = read_names(out_dir)
        seen = {(*_key(r), r["athlete"], r["source"]) for r in rows}
        new = []
        for runner, athlete, source, distance in proposed:
            key = (runner.video_id, runner.track_id, _clean_name(athlete), source)
            if key not in seen:
                seen.add(key)
                new.append(_row(runner, key[2], source, now, distance))
        if new:
            _write(out_dir, rows + new)
    return len(new)


def _key(row: dict) -> Key:
    return row["video_id"], int(row["track_id"])


def _trust(row: dict) -> tuple[int, float]:
    """Sort key: most trusted source first, then the latest."""
    return SOURCES.index(row["source"]), -row["created_at"].timestamp()


def _current_key(row: dict, runners: dict[str, list[Runner]] | None) -> Key | None:
    """Where the named runner is now: the same id, or after a re-analysis renumbered it, the runner
    of the video whose frames overlap the named span most; None when the video has no such runner."""
    if runners is None:
        return _key(row)
    candidates = runners.get(row["video_id"], [])
    if any(r.track_id == row["track_id"] for r in candidates):
        return _key(row)
    if row["first_frame"] is None or row["last_frame"] is None:
        return None
    overlap = {r.track_id: min(r.last_frame, row["last_frame"]) - max(r.first_frame, row["first_frame"])
               for r in candidates}
    best = max(overlap, key=overlap.__getitem__, default=None)
    return (row["video_id"], best) if best is not None and overlap[best] > 0 else None


def active_names(rows: list[dict], runners: dict[str, list[Runner]] | None = None) -> dict[Key, dict]:
    """Each named runner's active assignment (proposals included, with ``confirmed`` False).

    ``runners`` (video_id -> its runners now) re-finds runners renumbered by a re-analysis
    and drops names of runners that are gone; None takes the ids as they are.
    """
    best: dict[Key, dict] = {}
    for row in sorted((r for r in rows if not r["undone"]), key=_trust):
        key = _current_key(row, runners)
        if key is not None and key not in best:
            best[key] = {**row, "track_id": key[1]}
    strongest: dict[tuple[str, str], int] = {}  # (video, athlete) -> best trust in that video
    for row in best.values():
        pair = (row["video_id"], row["athlete"])
        strongest[pair] = min(strongest.get(pair, len(SOURCES)), SOURCES.index(row["source"]))
    return {k: r for k, r in best.items() if SOURCES.index(r["source"]) == strongest[(r["video_id"], r["athlete"])]}


def confirmed_runners(names: dict[Key, dict], athlete: str) -> list[Key]:
    """The runners that are ``athlete`` by a confirmed name (never a proposal), by video."""
    return sorted(k for k, r in names.items() if r["athlete"] == athlete and r["confirmed"])
