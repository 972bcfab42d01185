"""Deterministic export artefacts: Parquet files and a manifest, rewritten only on change.

A night that changed nothing leaves every file untouched (same bytes, same mtime), and
a night that changed something replaces each changed file atomically (written beside
it, then renamed). The manifest lists every file with its sha256 and row count; it
records the batch that last changed the content, so rerunning a night rewrites
nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet(table: pa.Table, path: Path) -> dict[str, Any]:
    """Write ``table`` (already in a deterministic row order) to ``path`` unless the
    file there has the same bytes (the file is encoded in memory first, so an unchanged
    night touches nothing on disk); return its manifest entry."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=64_000, write_statistics=True)
    payload = sink.getvalue().to_pybytes()
    sha = hashlib.sha256(payload).hexdigest()
    if not (path.exists() and sha256_of(path) == sha):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(payload)
        os.replace(temporary, path)
    return {"file": path.name, "sha256": sha, "rows": table.num_rows, "bytes": len(payload)}


def write_manifest(folder: Path, content: dict[str, Any], batch_id: int) -> tuple[dict[str, Any], bool]:
    """Write ``folder/manifest.json`` unless its content (all but ``changed_in_batch``)
    is unchanged; return the manifest in force and whether it was written."""
    path = folder / MANIFEST
    previous: dict[str, Any] | None = None
    if path.exists():
        try:
            previous = json.loads(path.read_text())
        except json.JSONDecodeError:
            previous = None  # a torn or hand-edited manifest is simply rewritten
    if previous is not None and {k: v for k, v in previous.items() if k != "changed_in_batch"} == content:
        return previous, False
    manifest = {**content, "changed_in_batch": batch_id}
    temporary = path.with_name(MANIFEST + ".tmp")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(temporary, path)
    return manifest, True
