"""The output folder's contract: commits, leftovers and what readers see (no model, no Prefect)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pipeline.outputs import (
    OutputError,
    check_output_folder,
    clean_leftovers,
    commit_video,
    dataset_file,
    staging_dir,
)
from pipeline.schemas import VIDEOS

SCHEMA = pa.schema([pa.field("video_id", pa.string()), pa.field("n", pa.int64())])


def _write(path, video_id: str, n: int = 1) -> None:
    """A stand-in data file of ``n`` rows (the commit moves files; what is in them is not its business)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"video_id": [video_id] * n, "n": list(range(n))}, schema=SCHEMA), path)


def _row(video_id: str) -> pa.Table:
    """A ``videos/`` row: the commit record goes through the strict writer, so it has the real schema."""
    row = {"video_id": video_id, "path": f"/footage/{video_id}.mp4", "status": "ok",
           "processed_at": datetime.now(UTC), "formwatch_version": "test"}
    return pa.Table.from_pylist([row], schema=VIDEOS)


def _stage(out, video_id: str, n: int) -> None:
    for name in ("detections", "runners", "contacts", "deviations"):
        _write(dataset_file(staging_dir(out, video_id), name, video_id), video_id, n)
    (staging_dir(out, video_id) / "clips" / video_id).mkdir(parents=True)
    (staging_dir(out, video_id) / "clips" / video_id / "annotated.mp4").write_bytes(b"clip")


def test_a_commit_moves_every_file_then_writes_the_row(tmp_path):
    _stage(tmp_path, "v1", 3)
    commit_video(tmp_path, "v1", _row("v1"))
    for name in ("detections", "runners", "contacts", "deviations", "videos"):
        assert dataset_file(tmp_path, name, "v1").is_file(), name
    assert (tmp_path / "clips" / "v1" / "annotated.mp4").read_bytes() == b"clip"
    assert not (tmp_path / ".staging").exists()
    assert ds.dataset(tmp_path / "detections").to_table().num_rows == 3


def test_a_recommit_replaces_the_old_files(tmp_path):
    for n in (3, 5):
        _stage(tmp_path, "v1", n)
        commit_video(tmp_path, "v1", _row("v1"))
    assert ds.dataset(tmp_path / "detections").to_table().num_rows == 5


def test_leftovers_are_removed_and_the_users_own_files_kept(tmp_path):
    _stage(tmp_path, "v1", 2)
    commit_video(tmp_path, "v1", _row("v1"))
    _stage(tmp_path, "v2", 2)  # a kill during v2: staged, one file moved, no row
    (tmp_path / ".staging" / "v2" / "detections" / "v2.parquet").rename(dataset_file(tmp_path, "detections", "v2"))
    (tmp_path / "clips" / "v2").mkdir()
    (tmp_path / "detections" / "v3.raw").write_bytes(b"raw of an older version")
    (tmp_path / "videos" / ".v3.abcd1234.tmp").write_bytes(b"half")
    (tmp_path / ".report.html.abcd1234.tmp").write_text("half")
    (tmp_path / "notes.raw").write_text("the user's own file")
    assert len(ds.dataset(tmp_path / "detections").files) == 3  # a reader would see the orphan and the old raw file
    removed = clean_leftovers(tmp_path, committed={"v1"})
    assert sorted(removed) == sorted(["staging folder .staging/", ".report.html.abcd1234.tmp", "detections/v3.raw",
                                      "videos/.v3.abcd1234.tmp", "detections/v2.parquet", "clips/v2/"])
    assert [p.name for p in (tmp_path / "detections").iterdir()] == ["v1.parquet"]
    assert (tmp_path / "notes.raw").is_file() and (tmp_path / "clips" / "v1").is_dir()
    assert not (tmp_path / ".staging").exists() and not (tmp_path / "clips" / "v2").exists()
    assert clean_leftovers(tmp_path, committed={"v1"}) == []


def test_hidden_files_are_never_read_as_rows(tmp_path):
    _write(dataset_file(tmp_path, "detections", "v1"), "v1", 2)
    _write(tmp_path / "detections" / ".v2.raw", "v2", 7)
    _write(tmp_path / "detections" / ".v2.abcd.tmp", "v2", 7)
    assert ds.dataset(tmp_path / "detections", format="parquet").to_table().num_rows == 2


def test_an_output_folder_is_created_and_proved_writable(tmp_path):
    assert check_output_folder(tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file")
