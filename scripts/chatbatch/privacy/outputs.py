"""Erasure in what the home exported and rendered: Parquet exports, reports, DuckDB files.

* Parquet under ``exports/`` (every ML dataset version, archive months, features): rows
  whose ``conversation_id`` or ``user_id`` is one of the subject's are removed, the file
  rewritten atomically with its codec, and every manifest entry naming the file gets its
  new sha256 / rows / bytes (ML manifests: their total rows and label distribution too)
  and the erasure id under ``erasures``. This is the one exception to the immutability of
  ML versions (docs/privacy.md).
* HTML reports under ``reports/`` that contain any of the subject's ids or texts are
  deleted (the nightly reports show aggregates only; one that shows a text is dropped,
  not regenerated, so nothing of it survives).
* DuckDB files are compacted: copied into a fresh file that replaces them, so deleted
  strings do not linger in free blocks or a WAL.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chatbatch.core import duck
from chatbatch.core.digest import sha256_of

ID_COLUMNS = ("conversation_id", "user_id")
MANIFEST = "manifest.json"


def scrub_exports(root: Path, ids: set[str], erasure_id: str) -> dict[str, int]:
    """Remove the subject's rows from every Parquet file under ``root``: rows per file
    (relative path), only the files that held some."""
    removed: dict[str, int] = {}
    if not ids or not root.exists():
        return removed
    values = pa.array(sorted(ids), pa.string())
    for path in sorted(root.rglob("*.parquet")):
        if path.name.startswith("."):
            continue
        count = _scrub_parquet(path, values)
        if count:
            removed[str(path.relative_to(root))] = count
            _update_manifests(path, root, erasure_id)
    return removed


def _scrub_parquet(path: Path, values: pa.Array) -> int:
    parquet = pq.ParquetFile(path)
    table = parquet.read()
    mask = None
    for column in ID_COLUMNS:
        if column in table.column_names:
            hit = pc.fill_null(pc.is_in(table.column(column).cast(pa.string()), value_set=values), False)
            mask = hit if mask is None else pc.or_(mask, hit)
    if mask is None or not pc.any(mask).as_py():
        return 0
    kept = table.filter(pc.invert(mask))
    meta = parquet.metadata
    codec = meta.row_group(0).column(0).compression.lower() if meta.num_row_groups else "zstd"
    sink = io.BytesIO()
    pq.write_table(kept, sink, compression="none" if codec == "uncompressed" else codec)
    _atomic_write(path, sink.getvalue())
    return table.num_rows - kept.num_rows


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    with temporary.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _update_manifests(path: Path, root: Path, erasure_id: str) -> None:
    """Every manifest from the file's folder up to ``root`` that names the file."""
    rows = pq.ParquetFile(path).metadata.num_rows
    # an archive month's fingerprint (output/archive.py) described the rows before: cleared,
    # so the rebuild writes the month again instead of trusting it
    facts = {"sha256": sha256_of(path), "rows": rows, "bytes": path.stat().st_size, "fingerprint": ""}
    folder = path.parent
    while True:
        manifest = folder / MANIFEST
        if manifest.is_file():
            document = json.loads(manifest.read_text(encoding="utf-8"))
            names = {path.name, path.stem, str(path.relative_to(folder))}
            if _patch(document, names, facts):
                _ml_totals(document, folder)
                document["erasures"] = [*document.get("erasures", []), erasure_id]
                temporary = manifest.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
                temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
                os.replace(temporary, manifest)
        if folder == root or root not in folder.parents:
            return
        folder = folder.parent


def _patch(node: Any, names: set[str], facts: dict[str, Any], key: str | None = None) -> bool:
    """Update the entries (dicts with a sha256) that name the file, by ``file`` or by key."""
    changed = False
    if isinstance(node, dict):
        if "sha256" in node and (node.get("file") in names or key in names):
            for name, value in facts.items():
                if name in node or name == "sha256":
                    node[name] = value
            return True
        for child_key, child in node.items():
            changed |= _patch(child, names, facts, child_key)
    elif isinstance(node, list):
        for child in node:
            changed |= _patch(child, names, facts)
    return changed


def _ml_totals(document: dict[str, Any], folder: Path) -> None:
    """An ML version's manifest (in ``folder``): total rows and label distribution, recounted
    from its files (``<split>/<week>.parquet``; ``<split>.parquet`` in versions before weeks)."""
    label = document.get("label_column")
    if not label or not isinstance(document.get("files"), dict):
        return
    document["rows"] = sum(int(entry.get("rows", 0)) for entry in document["files"].values())
    counts: dict[str, Counter[str]] = {split: Counter() for split in document.get("label_distribution", {})}
    for name in document["files"]:
        split = Path(name).parts[0] if len(Path(name).parts) > 1 else Path(name).stem
        table = pq.read_table(folder / name, columns=[label])
        counts.setdefault(split, Counter()).update(
            "(none)" if v is None else str(v) for v in table.column(label).to_pylist()
        )
    document["label_distribution"] = {split: dict(sorted(c.items())) for split, c in counts.items()}


def drop_reports(root: Path, needles: Iterable[str]) -> list[str]:
    """Delete the reports that contain any needle; their paths relative to ``root``."""
    wanted = [n.encode("utf-8") for n in needles if n]
    dropped = []
    if not root.exists() or not wanted:
        return dropped
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(n in data for n in wanted):
            path.unlink()
            dropped.append(str(path.relative_to(root)))
    return dropped


def compact(database: Path) -> int:
    """Rewrite a DuckDB file into a fresh one (no free blocks, no WAL) and rename it over;
    returns the bytes saved."""
    if not database.exists():
        return 0
    before = database.stat().st_size
    fresh = database.with_name(f".{database.name}.{os.getpid()}.compact")
    fresh.unlink(missing_ok=True)
    con = duck.connect(":memory:")
    try:
        con.execute(f"attach '{database}' as old_db")
        con.execute(f"attach '{fresh}' as new_db")
        con.execute("copy from database old_db to new_db")
        con.execute("detach new_db")
        con.execute("detach old_db")
    except duckdb.Error:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(fresh, database)
    Path(f"{database}.wal").unlink(missing_ok=True)
    return before - database.stat().st_size


# Warehouse schemas the nightly's Python steps write (topic model and assignments, intent
# model evaluations, labelling queue, the intent model's judgments of redacted texts): dbt
# does not rebuild them from raw, so an erasure deletes their rows that hold one of the
# person's ids or texts before the rebuild.
RUNNER_SCHEMAS = ("topics", "ml_models", "ml_cache")


def scrub_runner_tables(database: Path, needles: set[str]) -> dict[str, int]:
    """Delete the rows of ``RUNNER_SCHEMAS`` tables in which any column, as text, contains a
    needle (an id or a text of the person, raw or redacted); rows per table."""
    removed: dict[str, int] = {}
    if not needles or not database.exists():
        return removed
    con = duck.connect(database)
    try:
        con.register("erasure_needles", pa.table({"needle": pa.array(sorted(needles), pa.string())}))
        columns = con.execute(
            "select table_schema, table_name, list(column_name order by ordinal_position) "
            "from information_schema.columns where table_schema in ? group by all order by all",
            [list(RUNNER_SCHEMAS)],
        ).fetchall()
        for schema, table, names in columns:
            text = " || chr(31) || ".join(f"coalesce(cast(\"{c}\" as varchar), '')" for c in names)
            where = f"exists (select 1 from erasure_needles where contains({text}, needle))"
            relation = f'"{schema}"."{table}"'
            count = int(con.execute(f"select count(*) from {relation} where {where}").fetchall()[0][0])
            if count:
                con.execute(f"delete from {relation} where {where}")
                removed[f"{schema}.{table}"] = count
        return removed
    finally:
        con.close()
