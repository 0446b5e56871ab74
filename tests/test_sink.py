from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.schemas import DETECTIONS, VIDEOS, all_schemas
from pipeline.sink import AtomicParquetWriter, to_table, write_table_atomic


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


def test_atomic_write_leaves_no_partial_file(tmp_path: Path):
    schema = pa.schema([pa.field("n", pa.int64())], metadata={"formwatch_table": "t"})
    target = tmp_path / "t" / "v.parquet"
    with pytest.raises(RuntimeError), AtomicParquetWriter(target, schema) as writer:
        writer.write(to_table({"n": [1, 2, 3]}, schema))
        raise RuntimeError("crash mid-video")
    assert list((tmp_path / "t").iterdir()) == []
    write_table_atomic(to_table({"n": [4]}, schema), target)
    assert pq.read_table(target)["n"].to_pylist() == [4]
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["v.parquet"]


def test_schema_page_matches_the_code():
    from pipeline.schemas import schema_markdown

    page = Path(__file__).parents[1] / "docs" / "SCHEMAS.md"
    assert page.read_text() == schema_markdown(), "regenerate: python -m pipeline.schemas > docs/SCHEMAS.md"


def test_datasets_written_before_a_column_was_added_still_read(tmp_path: Path):
    from pipeline.sink import open_dataset

    old_schema = pa.schema([f for f in VIDEOS if f.name not in ("config_hash", "weights_sha256")])
    row = {name: [None] for name in old_schema.names}
    row.update(video_id=["old"], path=["/footage/a.mp4"], status=["ok"], formwatch_version=["0.0.9"],
               processed_at=[pa.scalar(0, pa.timestamp("us", tz="UTC"))])
    write_table_atomic(pa.Table.from_pydict(row, schema=old_schema), tmp_path / "videos" / "old.parquet")
    new = {name: [None] for name in VIDEOS.names}
    new.update(video_id=["new"], path=["/footage/b.mp4"], status=["ok"], formwatch_version=["0.1.0"],
               processed_at=[pa.scalar(0, pa.timestamp("us", tz="UTC"))], config_hash=["abc"])
    write_table_atomic(pa.Table.from_pydict(new, schema=VIDEOS), tmp_path / "videos" / "new.parquet")
    rows = {r["video_id"]: r for r in open_dataset(tmp_path, "videos").to_table().to_pylist()}
    assert rows["old"]["config_hash"] is None and rows["new"]["config_hash"] == "abc"
