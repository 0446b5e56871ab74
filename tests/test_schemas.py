from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline.outputs
from pipeline.outputs import write_table_atomic
from pipeline.schemas import DETECTIONS, VIDEOS, all_schemas, to_table


def test_every_column_states_its_meaning_and_schema_is_versioned():
    for name, schema in all_schemas().items():
        assert schema.metadata[b"formwatch_table"] == name.encode()
        assert schema.metadata[b"schema_version"]
        for field in schema:
            assert field.metadata and field.metadata.get(b"description"), f"{name}.{field.name}"
    assert DETECTIONS.field("left_ankle_x").metadata[b"unit"] == b"px"
    assert VIDEOS.field("fps").metadata[b"unit"] == b"frames/s"
    assert not DETECTIONS.field("track_id").nullable


def test_strict_cast_refuses_lossy_and_missing_columns():
    schema = pa.schema([pa.field("n", pa.int32(), nullable=False), pa.field("x", pa.float32())],
                       metadata={"formwatch_table": "t"})
    assert to_table({"n": [1, 2], "x": [0.5, None]}, schema).num_rows == 2
    with pytest.raises(pa.ArrowInvalid):
        to_table({"n": [1.5], "x": [0.0]}, schema)
    with pytest.raises(pa.ArrowInvalid):
        to_table({"n": [2**40], "x": [0.0]}, schema)
    with pytest.raises(ValueError, match="missing \\['x'\\]"):
        to_table({"n": [1]}, schema)


def test_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "videos" / "v.parquet"
    row = VIDEOS.empty_table()
    real = pipeline.outputs.pq.write_table

    def crash_mid_write(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise RuntimeError("crash mid-write")

    monkeypatch.setattr(pipeline.outputs.pq, "write_table", crash_mid_write)
    with pytest.raises(RuntimeError):
        write_table_atomic(row, target)
    assert list((tmp_path / "videos").iterdir()) == []
    monkeypatch.setattr(pipeline.outputs.pq, "write_table", real)
    write_table_atomic(row, target)
    assert pq.read_table(target).schema.equals(VIDEOS, check_metadata=False)
    assert [p.name for p in (tmp_path / "videos").iterdir()] == ["v.parquet"]


def test_only_tables_of_an_output_schema_are_written(tmp_path: Path):
    """One strict writer: a table that is not exactly an output dataset's schema never reaches disk."""
    stray = pa.table({"n": [1]})
    with pytest.raises(ValueError, match="not one of the output datasets"):
        write_table_atomic(stray, tmp_path / "x.parquet")
    drifted = DETECTIONS.empty_table().drop_columns(["appearance"]).replace_schema_metadata(DETECTIONS.metadata)
    with pytest.raises(ValueError, match="does not match its output schema"):
        write_table_atomic(drifted, tmp_path / "d.parquet")
    assert list(tmp_path.iterdir()) == []


def test_schema_page_matches_the_code():
    from pipeline.schemas import schema_markdown

    page = Path(__file__).parents[1] / "docs" / "SCHEMAS.md"
    assert page.read_text() == schema_markdown(), "regenerate: python -m pipeline.schemas > docs/SCHEMAS.md"


def test_datasets_written_before_a_column_was_added_still_read(tmp_path: Path):
    from pipeline.outputs import open_dataset

    old_schema = pa.schema([f for f in VIDEOS if f.name not in ("config_hash", "weights_sha256")])
    row = {name: [None] for name in old_schema.names}
    row.update(video_id=["old"], path=["/footage/a.mp4"], status=["ok"], formwatch_version=["0.0.9"],
               processed_at=[pa.scalar(0, pa.timestamp("us", tz="UTC"))])
    (tmp_path / "videos").mkdir()  # as an older FormWatch wrote it, before the two columns existed
    pq.write_table(pa.Table.from_pydict(row, schema=old_schema), tmp_path / "videos" / "old.parquet")
    new = {name: [None] for name in VIDEOS.names}
    new.update(video_id=["new"], path=["/footage/b.mp4"], status=["ok"], formwatch_version=["0.1.0"],
               processed_at=[pa.scalar(0, pa.timestamp("us", tz="UTC"))], config_hash=["abc"])
    write_table_atomic(pa.Table.from_pydict(new, schema=VIDEOS), tmp_path / "videos" / "new.parquet")
    rows = {r["video_id"]: r for r in open_dataset(tmp_path, "videos").to_table().to_pylist()}
    assert rows["old"]["config_hash"] is None and rows["new"]["config_hash"] == "abc"
