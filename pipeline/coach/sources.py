"""Names that come from the roster file and from the footage's folders (``athletes`` settings).

Both name a video's runner: the roster a given runner id, or, like a folder, the video's main
runner (the only runner, or one seen ``main_runner_ratio`` times as long as any other).
They are added as ``roster`` / ``folder`` rows of the names dataset; an undone one stays undone.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import yaml

from pipeline.coach.names import NamingError, Runner, add_names
from pipeline.coach.settings import AthleteSettings
from pipeline.incremental import read_video_rows
from pipeline.outputs import COMMITTED_STATUSES, dataset_file


def video_people(out_dir: str | Path, video_id: str) -> list[dict]:
    """The ``runners/`` rows of one video ([] when its file is absent)."""
    path = dataset_file(out_dir, "runners", video_id)
    if not path.is_file():
        return []
    columns = ["track_id", "is_runner", "activity", "first_frame", "last_frame", "frames_detected", "steps"]
    return pq.read_table(path, columns=columns).to_pylist()


def as_runner(video_id: str, row: dict) -> Runner:
    return Runner(video_id, int(row["track_id"]), int(row["first_frame"]), int(row["last_frame"]))


def main_runner(video_id: str, people: list[dict], ratio: float) -> Runner | None:
    """The video's main runner: its only runner, or one seen ``ratio`` times as many frames as the next."""
    runners = sorted((p for p in people if p["is_runner"]), key=lambda p: -p["frames_detected"])
    if not runners or (len(runners) > 1 and runners[0]["frames_detected"] < ratio * runners[1]["frames_detected"]):
        return None
    return as_runner(video_id, runners[0])


def folder_athlete(path: str | Path, sources: list[str | Path]) -> str | None:
    """The athlete a video's folder names: the first folder below the source folder it was found in,
    ``lea_martin`` read as ``Lea Martin``; None for a video directly in a source folder."""
    video = Path(path).resolve()
    for source in sources:
        root = Path(source).resolve()
        if root.is_dir() and video.is_relative_to(root) and len(video.relative_to(root).parts) >= 2:
            name = " ".join(video.relative_to(root).parts[0].replace("_", " ").replace("-", " ").split())
            return name.title() if name.islower() else name
    return None


def find_video(video: str, video_rows: dict[str, dict]) -> str:
    """The video_id of ``video``: a video_id, a unique prefix of one, a path or a file name."""
    if video in video_rows:
        return video
    hits = {v for v, r in video_rows.items() if v.startswith(video) or r["path"] == video
            or Path(r["path"]).name == video or Path(r["path"]) == Path(video).resolve()}
    if len(hits) == 1:
        return hits.pop()
    if not hits:
        raise NamingError(f"no processed video is {video!r} (give a video_id, a file name or a path; "
                          "`formwatch stats` lists them)")
    raise NamingError(f"{video!r} could be any of {len(hits)} videos ({', '.join(sorted(hits))}): give the video_id")


def find_runner(out_dir: str | Path, video: str, track_id: int) -> Runner:
    """Runner ``track_id`` of ``video`` (see :func:`find_video`), or a NamingError saying what exists."""
    rows = {v: r for v, r in read_video_rows(out_dir).items() if r["status"] in COMMITTED_STATUSES}
    video_id = find_video(video, rows)
    people = video_people(out_dir, video_id)
    for row in people:
        if row["track_id"] == track_id:
            return as_runner(video_id, row)
    ids = ", ".join(str(p["track_id"]) for p in people if p["is_runner"]) or "none"
    raise NamingError(f"video {video_id} has no person {track_id} (its runners: {ids})")


def read_roster(path: str | Path) -> list[dict]:
    """The roster entries ``{athlete, video, runner}`` of a YAML file (``runner`` may be absent)."""
    try:
        entries = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        raise NamingError(f"the roster {str(path)!r} cannot be read: {exc}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and {"athlete", "video"} <= set(e)
                                                    for e in entries):
        raise NamingError(f"the roster {str(path)!r} must be a list of entries with 'athlete' and 'video' "
                          "(and optionally 'runner'); see configs/roster.example.yaml")
    return entries


def roster_names(out_dir: str | Path, path: str | Path, video_rows: dict[str, dict],
                 ratio: float) -> list[tuple[Runner, str, str, float | None]]:
    """Roster rows to add: one per entry whose video is processed and whose runner is found."""
    found: list[tuple[Runner, str, str, float | None]] = []
    for entry in read_roster(path):
        try:
            video_id = find_video(str(entry["video"]), video_rows)
        except NamingError:
            continue  # a roster may list videos not filmed or not processed yet
        people = video_people(out_dir, video_id)
        if entry.get("runner") is None:
            runner = main_runner(video_id, people, ratio)
        else:
            runner = next((as_runner(video_id, p) for p in people if p["track_id"] == int(entry["runner"])), None)
        if runner is not None:
            found.append((runner, str(entry["athlete"]), "roster", None))
    return found


def folder_names(out_dir: str | Path, sources: list[str | Path], video_rows: dict[str, dict],
                 ratio: float) -> list[tuple[Runner, str, str, float | None]]:
    """Folder rows to add: the main runner of each video found below a source folder."""
    found: list[tuple[Runner, str, str, float | None]] = []
    for video_id, row in video_rows.items():
        athlete = folder_athlete(row["path"], sources)
        runner = main_runner(video_id, video_people(out_dir, video_id), ratio) if athlete else None
        if athlete and runner is not None:
            found.append((runner, athlete, "folder", None))
    return found


def sync_names(out_dir: str | Path, settings: AthleteSettings, sources: list[str | Path] | None = None) -> int:
    """Add the roster's and (with ``names_from_folders`` and ``sources``) the folders' names, then
    the proposals. Returns how many assignments were added."""
    from pipeline.coach.proposals import propose

    rows = {v: r for v, r in read_video_rows(out_dir).items() if r["status"] in COMMITTED_STATUSES}
    found = roster_names(out_dir, settings.roster, rows, settings.main_runner_ratio) if settings.roster else []
    if settings.names_from_folders and sources:
        found += folder_names(out_dir, sources, rows, settings.main_runner_ratio)
    added = add_names(out_dir, found)
    if settings.propose_matches:
        added += add_names(out_dir, propose(out_dir, settings, rows))
    return added
