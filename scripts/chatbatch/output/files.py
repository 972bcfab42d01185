"""Deterministic Parquet files, content hashes and atomic writes for the exports.

The same rows give the same bytes: rows are sorted by a key, written by one DuckDB
thread with a fixed row-group size and codec, and lineage columns (``_*``, which a full
refresh may renumber) are left out. So an unchanged partition has an unchanged sha256
and is never rewritten.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb

from chatbatch.core import duck
from chatbatch.output.artefacts import sha256_of

__all__ = ["sha256_of"]  # the exports' one file hash (chatbatch.output.artefacts)

ROW_GROUP_SIZE = 100_000


def connect_readonly(warehouse: Path) -> duckdb.DuckDBPyConnection:
    con = duck.connect(str(warehouse), read_only=True)
    con.execute("set threads = 1")  # one writer thread: byte-identical files
    return con


def exported_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """The relation's columns without lineage (``_``-prefixed) ones."""
    schema, table = relation.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [name for (name,) in rows if not name.startswith("_")]


def write_parquet(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    order_by: list[str],
    target: Path,
    where: str = "true",
    params: list[Any] | None = None,
    exclude: tuple[str, ...] = (),
) -> int:
    """Write the sorted rows of `relation` matching `where` to `target`; return the row count."""
    columns = [c for c in exported_columns(con, relation) if c not in exclude]
    select = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(f'"{c}"' for c in order_by)
    query = f"select {select} from {relation} where {where} order by {order}"
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy ({query}) to '{target}' (format parquet, compression zstd, row_group_size {ROW_GROUP_SIZE})",
        params or [],
    )
    row = con.execute(f"select count(*) from {relation} where {where}", params or []).fetchone()
    return int(row[0]) if row else 0


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def write_text_atomic(path: Path, text: str) -> bool:
    """Write `text` to `path` via a temp file and rename; False (untouched) if equal."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return True


def remove_stale_temps(folder: Path) -> None:
    """Temp files and folders a killed run left behind (names start with a dot)."""
    if not folder.exists():
        return
    for path in folder.rglob(".*.tmp"):
        if path.is_dir():
            for child in sorted(path.rglob("*"), reverse=True):
                child.rmdir() if child.is_dir() else child.unlink()
            path.rmdir()
        else:
            path.unlink()
