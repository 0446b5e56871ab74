"""Atomic Parquet writing: every file appears whole or not at all.

Writers stream into a hidden temporary file in the destination folder and rename it
into place when closed; a crash leaves at most a ``.tmp`` file, never a half-written
``.parquet`` that a reader would pick up.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def dataset_file(out_dir: str | Path, table: str, video_id: str) -> Path:
    """Where a video's rows of one output table live: ``out_dir/table/<video_id>.parquet``."""
    return Path(out_dir) / table / f"{video_id}.parquet"


def _temporary_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent / f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp"


def to_table(columns: dict[str, Any], schema: pa.Schema) -> pa.Table:
    """Build a table from column arrays with a strict cast to ``schema``.

    Missing or unexpected columns raise ValueError; lossy conversions raise pyarrow errors.
    """
    names = set(schema.names)
    if set(columns) != names:
        missing, extra = sorted(names - set(columns)), sorted(set(columns) - names)
        raise ValueError(f"columns do not match schema {schema.metadata.get(b'formwatch_table')!r}: "
                         f"missing {missing}, unexpected {extra}")
    arrays = [pa.array(columns[f.name], from_pandas=True).cast(f.type, safe=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_table_atomic(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` through a temporary file and an atomic rename."""
    tmp = _temporary_beside(path)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class AtomicParquetWriter:
    """Streams row batches of one schema into ``path``; the file appears on ``commit``.

    Use as a context manager: leaving the block without ``commit()`` (an exception)
    discards the temporary file.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.tmp = _temporary_beside(path)
        self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def commit(self) -> Path:
        self._writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def __enter__(self) -> AtomicParquetWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.tmp.exists():
            self._writer.close()
            self.tmp.unlink(missing_ok=True)


def open_dataset(out_dir: str | Path, table: str) -> ds.Dataset:
    """The dataset folder ``out_dir/table`` read with the schema in code.

    Files written by an older FormWatch, before a column was added, read with that column
    null instead of making the dataset's schema depend on which file comes first.
    """
    from pipeline.schemas import all_schemas

    return ds.dataset(Path(out_dir) / table, format="parquet", schema=all_schemas()[table])
