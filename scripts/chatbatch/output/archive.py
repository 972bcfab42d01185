"""The redacted conversation archive: one Parquet file per month with a manifest.

``$CHATBATCH_HOME/exports/archive/month=YYYY-MM/transcripts.parquet`` and
``manifest.json`` (per month: rows, conversations, sha256; the ingest batch the archive
is complete up to). A night rewrites only the months holding conversations that changed
since the manifest's watermark (every month after a full refresh or backfill), and
replaces a month's file only if its bytes changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import duckdb

from chatbatch.output.files import (
    connect_readonly,
    dumps,
    remove_stale_temps,
    sha256_of,
    write_parquet,
    write_text_atomic,
)
from chatbatch.output.workload import WorkloadContext

RELATION = "archive.archive_transcripts"
FILE_NAME = "transcripts.parquet"
ORDER = ["conversation_id", "message_sequence", "message_id"]


def archive_root(home: Path) -> Path:
    return home / "exports" / "archive"


def load_manifest(root: Path) -> dict[str, Any]:
    path = root / "manifest.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"processed_batch_id": 0, "months": {}}


def _months(con: duckdb.DuckDBPyConnection, since: int | None) -> list[date]:
    where = "" if since is None else f"where _processed_batch_id > {int(since)}"
    rows = con.execute(f"select distinct archive_month from {RELATION} {where} order by 1").fetchall()
    return [month for (month,) in rows]


def export_archive(con: duckdb.DuckDBPyConnection, root: Path, recheck: bool) -> dict[str, Any]:
    remove_stale_temps(root)
    manifest = load_manifest(root)
    row = con.execute(f"select coalesce(max(_processed_batch_id), 0) from {RELATION}").fetchone()
    watermark = int(row[0]) if row else 0
    months = set(_months(con, None if recheck else manifest["processed_batch_id"]))
    # a month the manifest lists whose file went missing is written again
    months |= {
        date.fromisoformat(f"{key}-01")
        for key, entry in manifest["months"].items()
        if not (root / entry["file"]).is_file()
    }
    written, unchanged = [], []
    for month in sorted(months):
        key = month.strftime("%Y-%m")
        final = root / f"month={key}" / FILE_NAME
        tmp = final.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        rows = write_parquet(con, RELATION, ORDER, tmp, "archive_month = ?", [month], ("archive_month",))
        count = con.execute(
            f"select count(distinct conversation_id) from {RELATION} where archive_month = ?", [month]
        ).fetchone()
        entry = {
            "file": str(final.relative_to(root)),
            "rows": rows,
            "conversations": int(count[0]) if count else 0,
            "sha256": sha256_of(tmp),
        }
        if manifest["months"].get(key) == entry and final.is_file() and sha256_of(final) == entry["sha256"]:
            tmp.unlink()
            unchanged.append(key)
            continue
        os.replace(tmp, final)
        manifest["months"][key] = entry
        written.append(key)
    manifest["processed_batch_id"] = watermark
    manifest["months"] = dict(sorted(manifest["months"].items()))
    manifest_changed = write_text_atomic(root / "manifest.json", dumps(manifest))
    return {
        "months_written": written,
        "months_unchanged": unchanged,
        "months": len(manifest["months"]),
        "rows": sum(e["rows"] for e in manifest["months"].values()),
        "manifest_changed": manifest_changed,
    }


@dataclass(frozen=True)
class ArchiveExport:
    name: str = "archive"
    phase: Literal["before_publish"] = "before_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        con = connect_readonly(ctx.paths.warehouse)
        try:
            out = export_archive(con, archive_root(ctx.paths.home), ctx.full_refresh)
        finally:
            con.close()
        ctx.say(
            f"  archive: {out['rows']:,} messages in {out['months']} month(s); "
            f"rewritten: {', '.join(out['months_written']) or 'none'}"
        )
        return out
