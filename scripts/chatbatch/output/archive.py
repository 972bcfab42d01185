"""The redacted conversation archive: one Parquet file per month with a manifest.

``Paths.archive`` (``exports/archive/``): ``month=YYYY-MM/transcripts.parquet`` and
``manifest.json`` (per month: rows, conversations, sha256; the ingest batch the archive
is complete up to). A night rewrites only the months holding conversations that changed
since the manifest's watermark (every month after a full refresh or backfill), and
replaces a month's file only if its bytes changed. Each month's entry keeps the
``fingerprint`` of its rows (``files.fingerprint``): a month whose rows did not change
(every month of a full refresh that changed nothing) and whose file still has its sha256
is not written again at all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import duckdb

from chatbatch.core.digest import sha256_of
from chatbatch.output import files
from chatbatch.output.workload import WorkloadContext
from chatbatch.privacy.settings import Retention

RELATION = "archive.archive_transcripts"
FILE_NAME = "transcripts.parquet"
ORDER = ["conversation_id", "message_sequence", "message_id"]


@dataclass(frozen=True)
class MonthEntry:
    file: str  # relative to the archive folder
    rows: int
    conversations: int
    sha256: str
    fingerprint: str = ""  # the month's rows (files.fingerprint); "" when unknown: written again


@dataclass
class ArchiveManifest:
    processed_batch_id: int = 0  # the archive holds every row processed up to this batch
    months: dict[str, MonthEntry] = field(default_factory=dict)  # "YYYY-MM" -> its file

    @classmethod
    def read(cls, root: Path) -> ArchiveManifest:
        document = load_manifest(root)
        months = {key: MonthEntry(**entry) for key, entry in document["months"].items()}
        return cls(int(document["processed_batch_id"]), months)

    def to_dict(self) -> dict[str, Any]:
        months = {key: asdict(self.months[key]) for key in sorted(self.months)}
        return {"processed_batch_id": self.processed_batch_id, "months": months}


@dataclass(frozen=True)
class ArchiveResult:
    months_written: list[str]
    months_unchanged: list[str]
    months: int
    rows: int
    manifest_changed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_manifest(root: Path) -> dict[str, Any]:
    """The archive manifest as JSON (an empty archive if there is none yet)."""
    return files.read_manifest(root / files.MANIFEST) or {"processed_batch_id": 0, "months": {}}


def _months(con: duckdb.DuckDBPyConnection, since: int | None) -> list[date]:
    where = "" if since is None else f"where _processed_batch_id > {int(since)}"
    rows = con.execute(f"select distinct archive_month from {RELATION} {where} order by 1").fetchall()
    return [month for (month,) in rows]


def export_archive(
    con: duckdb.DuckDBPyConnection, root: Path, recheck: bool, keep_from: date | None = None
) -> ArchiveResult:
    """``keep_from``: the first month retention keeps (privacy.yml ``archive_months``);
    older months are never written again, even by a full refresh."""
    files.remove_stale_temps(root)
    manifest = ArchiveManifest.read(root)
    row = con.execute(f"select coalesce(max(_processed_batch_id), 0) from {RELATION}").fetchall()
    watermark = int(row[0][0]) if row else 0
    months = set(_months(con, None if recheck else manifest.processed_batch_id))
    # a month the manifest lists whose file went missing is written again
    months |= {
        date.fromisoformat(f"{key}-01")
        for key, entry in manifest.months.items()
        if not (root / entry.file).is_file()
    }
    months = {month for month in months if keep_from is None or month >= keep_from}
    where, exclude = "archive_month = ?", ("archive_month",)
    query = files.relation_query(con, RELATION, ORDER, where, exclude)
    written, unchanged = [], []
    for month in sorted(months):
        key = month.strftime("%Y-%m")
        target = root / f"month={key}" / FILE_NAME
        fingerprint = files.fingerprint(con, RELATION, where, [month], exclude)
        listed = manifest.months.get(key)
        if listed is not None and listed.fingerprint == fingerprint and _intact(root / listed.file, listed):
            unchanged.append(key)  # the same rows as the file holds: nothing to write
            continue
        parquet = files.write_parquet(con, query, target, [month])
        count = con.execute(
            f"select count(distinct conversation_id) from {RELATION} where archive_month = ?", [month]
        ).fetchall()
        entry = MonthEntry(
            str(target.relative_to(root)),
            parquet.rows,
            int(count[0][0]) if count else 0,
            parquet.sha256,
            fingerprint,
        )
        if not parquet.replaced and listed == entry:
            unchanged.append(key)
            continue
        manifest.months[key] = entry
        written.append(key)
    manifest.processed_batch_id = watermark
    _, manifest_changed = files.write_manifest(root / files.MANIFEST, manifest.to_dict())
    return ArchiveResult(
        months_written=written,
        months_unchanged=unchanged,
        months=len(manifest.months),
        rows=sum(e.rows for e in manifest.months.values()),
        manifest_changed=manifest_changed,
    )


def _intact(path: Path, entry: MonthEntry) -> bool:
    """The month's file is there with the bytes its entry lists (a file changed since is
    written again)."""
    return path.is_file() and sha256_of(path) == entry.sha256


@dataclass(frozen=True)
class ArchiveExport:
    name: str = "archive"
    phase: Literal["before_publish"] = "before_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        con = files.connect(ctx.paths.warehouse)
        try:
            keep_from = Retention.load(ctx.paths).first_archive_month(ctx.run_date)
            out = export_archive(con, ctx.paths.archive, ctx.full_refresh, keep_from)
        finally:
            con.close()
        ctx.say(
            f"  archive: {out.rows:,} messages in {out.months} month(s); "
            f"rewritten: {', '.join(out.months_written) or 'none'}"
        )
        return out.to_dict()
