"""Incremental runs: which videos of a folder need processing, and cleaning up what they replace.

The ``videos/`` dataset in the output folder is the record of earlier runs: a video is
up to date when its row says ``ok`` and was written with the same content hash (the
``video_id``), the same outcome settings (``config_hash``), the same weights
(``weights_sha256``) and the same analysis version, and its Parquet files are all there.
Because the record lives beside the outputs, it is right wherever the outputs are: on
shared storage every machine sees the same record, and deleting an output folder means
processing again.

Hashing a whole video is the costly part of planning, so a path whose size and
modification time match its row reuses that row's ``video_id``, as make and rsync do.
The plan also names the earlier contents of each path (a replaced or re-exported file),
whose outputs are deleted once the new content's row is written, so a path never keeps
two sets of rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.analysis import ANALYSIS_VERSION
from pipeline.config import Settings
from pipeline.outputs import dataset_file
from pipeline.schemas import VIDEO_DATASETS
from pipeline.video import content_id, path_id

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class RunKey:
    """What, besides the video's content, decides its outputs."""

    config_hash: str
    weights_sha256: str
    analysis_version: str = ANALYSIS_VERSION

    def columns(self) -> dict[str, str]:
        return {"config_hash": self.config_hash, "weights_sha256": self.weights_sha256,
                "analysis_version": self.analysis_version}


def config_hash(settings: Settings) -> str:
    """16 hex digits of the SHA-256 of the settings that change outputs (canonical JSON)."""
    text = json.dumps(settings.outcome_settings(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_key(settings: Settings, weights_path: str | Path) -> RunKey:
    return RunKey(config_hash(settings), content_id(weights_path))


@dataclass(frozen=True)
class PlannedVideo:
    """One video found in the sources and what this run does with it, with the reason."""

    path: str
    video_id: str
    process: bool
    reason: str
    #: Ids of earlier contents of this path (the file was replaced): deleted once this one is written.
    supersedes: tuple[str, ...] = ()


def read_video_rows(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every ``videos/`` row under ``out_dir`` by video_id (files written by older versions too)."""
    rows: dict[str, dict[str, Any]] = {}
    for file in sorted((Path(out_dir) / "videos").glob("*.parquet")):
        try:
            table = pq.read_table(file)
        except (FileNotFoundError, OSError) as exc:  # replaced or removed by a concurrent run
            logger.debug("skipping %s: %s", file, exc)
            continue
        for row in table.to_pylist():
            rows[row["video_id"]] = row
    return rows


def _outputs_present(out_dir: Path, video_id: str) -> bool:
    return all(dataset_file(out_dir, name, video_id).is_file() for name in VIDEO_DATASETS)


def _stale_reason(row: dict[str, Any], key: RunKey, out_dir: Path) -> str | None:
    """Why an earlier row does not cover this run; None when it does."""
    if row.get("status") not in ("ok", "partial"):  # a partial video's damage is in its content
        return "failed before"
    if row.get("analysis_version") != key.analysis_version:
        return "analysis version changed"
    if row.get("weights_sha256") != key.weights_sha256:
        return "weights changed"
    if row.get("config_hash") != key.config_hash:
        return "settings changed"
    if not _outputs_present(out_dir, row["video_id"]):
        return "outputs missing"
    return None


def identify(path: Path, by_path: dict[str, dict[str, Any]]) -> str:
    """The video_id of ``path``: its row's when size and mtime are unchanged, else a fresh hash."""
    stat = path.stat()
    row = by_path.get(str(path))
    if row and row.get("file_bytes") == stat.st_size and row.get("file_mtime_ns") == stat.st_mtime_ns:
        return row["video_id"]
    return content_id(path)


def plan_videos(
    paths: Sequence[str | Path], out_dir: str | Path, key: RunKey, force: bool = False
) -> list[PlannedVideo]:
    """Decide for every path whether it is processed, and why.

    Skipped: unchanged videos whose earlier row covers ``key``, and second copies of a
    content already planned in this run (same video_id). ``force`` processes everything
    but the copies.
    """
    out_dir = Path(out_dir)
    rows = read_video_rows(out_dir)
    by_path = {row["path"]: row for row in rows.values() if not row["video_id"].startswith("path-")}
    ids_by_path: dict[str, list[str]] = {}
    for row in rows.values():
        ids_by_path.setdefault(row["path"], []).append(row["video_id"])
    plan: list[PlannedVideo] = []
    first_path: dict[str, str] = {}
    for raw in paths:
        path = Path(raw).resolve()
        try:
            video_id = identify(path, by_path)
        except OSError as exc:  # gone or unreadable: processing records it as failed
            plan.append(PlannedVideo(str(path), path_id(path), True, f"unreadable ({exc.strerror or exc})"))
            continue
        if video_id in first_path:
            plan.append(PlannedVideo(str(path), video_id, False, f"same content as {first_path[video_id]}"))
            continue
        first_path[video_id] = str(path)
        earlier = rows.get(video_id)
        reason = _stale_reason(earlier, key, out_dir) if earlier else ("changed" if str(path) in by_path else "new")
        if force:
            reason = "forced"
        older = tuple(vid for vid in ids_by_path.get(str(path), []) if vid != video_id)
        plan.append(PlannedVideo(str(path), video_id, reason is not None, reason or "unchanged", older))
    return plan


def remove_outputs(out_dir: str | Path, video_id: str) -> None:
    """Delete every output of one video: its Parquet files (``videos/`` last) and its clips."""
    out_dir = Path(out_dir)
    shutil.rmtree(out_dir / "clips" / video_id, ignore_errors=True)
    for name in VIDEO_DATASETS:
        dataset_file(out_dir, name, video_id).unlink(missing_ok=True)
