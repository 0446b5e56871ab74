"""Atomic Parquet writing: every file appears whole or not at all.

Each file is written once, whole, into a hidden temporary file in the destination folder
and renamed into place; a crash leaves at most a ``.tmp`` file, never a half-written
``.parquet`` that a reader would pick up.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
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
    return path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"


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
    from pipeline.schemas import all_schemas

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
    from pipeline.schemas import all_schemas

    return ds.dataset(Path(out_dir) / table, format="parquet", schema=all_schemas()[table])
