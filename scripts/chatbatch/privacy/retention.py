"""Retention: delete or expire what is older than its setting (``settings.Retention``).

Run by ``chatbatch purge`` (every kind, or ``--kind``) and by the nightly after publishing
(``RetentionWorkload``: every kind that has a setting), always under the batch lock.

* ``landing``: landing files, verified one by one (``accumulate/purge.py``).
* ``raw_lines``, ``staging_text``, ``quarantine``: the *text* of rows exported before the
  cutoff is set to null; the rows stay, so the manifest's line counts, the quarantine
  reasons and the load reconciliation still add up. What expired is marked in the
  warehouse (``expiry.py``). Quarantine also reaches the published ``analytics.duckdb``
  (patched on a copy that replaces it, like publish does).
* ``archive``, ``ml``, ``reports``, ``logs``: files past the setting are deleted; the
  archive manifest drops their months.
* ``snapshots``: only the newest ``snapshots_keep`` are kept (``snapshots.py``).

Every run appends what it did (counts and dates, no personal data) to ``state/retention.jsonl``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from chatbatch.core import duck
from chatbatch.core.paths import Paths
from chatbatch.output import files
from chatbatch.output.archive import ArchiveManifest
from chatbatch.output.ml import versions
from chatbatch.output.standby import discard_standby
from chatbatch.output.workload import Phase, WorkloadContext
from chatbatch.privacy import expiry, snapshots
from chatbatch.privacy.settings import KINDS, Retention

TEXT_KINDS = ("raw_lines", "staging_text", "quarantine")
# columns of the staging and intermediate tables that hold what people wrote
PERSONAL_TEXT_COLUMNS = ("text", "comment", "message_text", "comment_text")
# the relation (a view) whose export dates say which messages expired, for tables without one
MESSAGE_DATES = "intermediate.int_messages_unioned"
REPORT_DATE = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})|weekly-(\d{4})-W(\d{2}))\.html$")


@dataclass
class Outcome:
    kind: str
    setting: int | None
    cutoff: str | None  # what is older than this went (a date, or "newest N")
    count: int = 0  # rows whose text was dropped, or files / folders deleted
    refused: int = 0  # landing files kept because they cannot be verified yet

    def line(self, dry_run: bool) -> str:
        if self.setting is None:
            return f"  {self.kind:<13} kept forever (no setting)"
        verb = "would drop" if dry_run else "dropped"
        refused = f", refused {self.refused}" if self.refused else ""
        return f"  {self.kind:<13} {verb} {self.count} (older than {self.cutoff}){refused}"


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, set[str]]:
    """The base tables (not views) of ``schemas`` with their columns."""
    rows = con.execute(
        "select c.table_schema || '.' || c.table_name, c.column_name from information_schema.columns c "
        "join information_schema.tables t using (table_catalog, table_schema, table_name) "
        f"where t.table_type = 'BASE TABLE' and c.table_schema in ({', '.join('?' for _ in schemas)})",
        list(schemas),
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def _null(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], where: str, cutoff: date, dry: bool
) -> int:
    has_text = " or ".join(f"{c} is not null" for c in columns)
    if dry:
        sql = f"select count(*) from {table} where ({where}) and ({has_text})"
        row = con.execute(sql, [cutoff]).fetchone()
        return int(row[0]) if row else 0
    row = con.execute(
        f"update {table} set {', '.join(f'{c} = null' for c in columns)} where ({where}) and ({has_text})",
        [cutoff],
    ).fetchone()
    return int(row[0]) if row else 0


def expire_text(con: duckdb.DuckDBPyConnection, kind: str, cutoff: date, dry: bool = False) -> int:
    """Null the text of ``kind`` for rows exported before ``cutoff``; return the rows changed."""
    count = 0
    if kind == "raw_lines":
        for table, columns in sorted(_tables(con, ("raw",)).items()):
            if {"_line", "_export_date"} <= columns:
                count += _null(con, table, ["_line"], "_export_date < ?", cutoff, dry)
    elif kind == "staging_text":
        tables = _tables(con, ("staging", "intermediate"))
        dated = con.execute(  # a view: every source's messages with their export date
            "select count(*) from information_schema.tables where table_schema || '.' || table_name = ?",
            [MESSAGE_DATES],
        ).fetchone()
        for table, columns in sorted(tables.items()):
            text = sorted(columns & set(PERSONAL_TEXT_COLUMNS))
            if not text:
                continue
            if "_export_date" in columns:
                where = "_export_date < ?"
            elif "message_id" in columns and dated and dated[0]:
                where = f"message_id in (select message_id from {MESSAGE_DATES} where _export_date < ?)"
            else:
                raise RuntimeError(f"{table} holds {text} but neither an export date nor a message id")
            count += _null(con, table, text, where, cutoff, dry)
    elif kind == "quarantine":
        for table, columns in sorted(_tables(con, ("staging", "audit")).items()):
            if {"_rejected_line", "_export_date"} <= columns:
                count += _null(con, table, ["_rejected_line"], "_export_date < ?", cutoff, dry)
            elif {"raw_line", "export_date"} <= columns:
                count += _null(con, table, ["raw_line"], "export_date < ?", cutoff, dry)
    if not dry:
        expiry.mark(con, kind, cutoff)
    return count


def _patch_published(paths: Paths, cutoff: date) -> None:
    """Expired quarantine text leaves the published file too: patched on a copy that
    replaces it atomically (analysts' open connections keep reading the old one). The
    publish's standby still holds the text: discarded, so no patch brings it back."""
    discard_standby(paths.analytics)
    if not paths.analytics.exists():
        return
    copy = paths.analytics.with_name(paths.analytics.name + ".retention")
    shutil.copyfile(paths.analytics, copy)
    con = duck.connect(copy)
    try:
        _null(con, "audit.quarantine_records", ["raw_line"], "export_date < ?", cutoff, False)
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(copy, paths.analytics)


def _delete_files(paths: Paths, kind: str, setting: int, today: date, dry: bool) -> tuple[str, int]:
    """Delete the files of ``kind`` past ``setting``; return (cutoff, how many)."""
    doomed: list[Path] = []
    if kind == "archive":
        keep_from = Retention(archive_months=setting).first_archive_month(today)
        cutoff = keep_from.strftime("%Y-%m") if keep_from else ""
        manifest = ArchiveManifest.read(paths.archive)
        old = sorted(month for month in manifest.months() if month < cutoff)
        if old and not dry:
            expired = [key for key in manifest.days if key[:7] < cutoff]
            for folder in {Path(manifest.days[key].file).parent for key in expired}:  # one per month
                shutil.rmtree(paths.archive / folder, ignore_errors=True)
            for key in expired:
                del manifest.days[key]
            files.write_manifest(paths.archive / files.MANIFEST, manifest.to_dict())
        return cutoff, len(old)
    if kind == "ml":
        for dataset in sorted(p for p in paths.ml_exports.glob("*") if p.is_dir()):
            doomed += versions(dataset)[:-setting]
        cutoff = f"the newest {setting}"
    elif kind == "reports":
        limit = today - timedelta(days=setting)
        cutoff = limit.isoformat()
        for page in paths.reports.glob("*.html"):
            found = REPORT_DATE.match(page.name)
            if found and found.group(1):
                day = date.fromisoformat(found.group(1))
            elif found:  # a weekly page: dated by the Sunday ending its ISO week
                day = date.fromisocalendar(int(found.group(2)), int(found.group(3)), 7)
            else:
                continue
            if day < limit:
                doomed.append(page)
    else:  # logs, by modification time
        limit_ts = datetime.combine(today - timedelta(days=setting), datetime.min.time(), UTC).timestamp()
        cutoff = (today - timedelta(days=setting)).isoformat()
        for folder in (paths.logs, paths.state / "logs", paths.dbt_logs):
            doomed += [p for p in folder.glob("*") if p.is_file() and p.stat().st_mtime < limit_ts]
    if not dry:
        for path in doomed:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return cutoff, len(doomed)


def enforce(
    paths: Paths,
    today: date,
    kinds: tuple[str, ...] = KINDS,
    dry_run: bool = False,
    retention: Retention | None = None,
) -> list[Outcome]:
    """Apply the retention of ``kinds`` as of ``today``; the caller holds the batch lock."""
    from chatbatch.accumulate import purge

    retention = retention or Retention.load(paths)
    started = time.monotonic()
    outcomes: list[Outcome] = []
    for kind in kinds:
        setting = retention.of(kind)
        outcome = Outcome(kind, setting, None)
        outcomes.append(outcome)
        if setting is None:
            continue
        if kind == "landing":
            verdicts = purge.plan(paths, setting, today)
            outcome.cutoff = (today - timedelta(days=setting)).isoformat()
            outcome.count = sum(v.verified for v in verdicts)
            outcome.refused = len(verdicts) - outcome.count
            if not dry_run:
                purge.delete(paths, verdicts)
        elif kind in TEXT_KINDS:
            cutoff = today - timedelta(days=setting)
            outcome.cutoff = cutoff.isoformat()
            if not paths.warehouse.exists():
                continue
            con = duck.connect(paths.warehouse, read_only=dry_run)
            try:
                outcome.count = expire_text(con, kind, cutoff, dry_run)
            finally:
                con.close()
            if kind == "quarantine" and not dry_run:
                _patch_published(paths, cutoff)
        elif kind == "snapshots":
            outcome.cutoff = f"the newest {setting}"
            existing = snapshots.listed(paths)
            outcome.count = max(len(existing) - setting, 0)
            if not dry_run:
                snapshots.prune(paths, setting)
        else:
            outcome.cutoff, outcome.count = _delete_files(paths, kind, setting, today, dry_run)
    if not dry_run:
        _log(paths, today, outcomes, time.monotonic() - started)
    return outcomes


def _log(paths: Paths, today: date, outcomes: list[Outcome], seconds: float) -> None:
    paths.retention_log.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "today": today.isoformat(),
        "seconds": round(seconds, 3),
        "kinds": [asdict(o) for o in outcomes if o.setting is not None],
    }
    with paths.retention_log.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


@dataclass(frozen=True)
class RetentionWorkload:
    """After publishing: enforce every configured retention setting as of the run date
    (the snapshot, taken next, then holds no expired text)."""

    name: str = "retention"
    phase: Phase = "after_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        retention = Retention.load(ctx.paths)
        kinds = tuple(k for k in KINDS if k != "snapshots" and retention.of(k) is not None)
        if not kinds:
            return {"kinds": []}
        outcomes = enforce(ctx.paths, ctx.run_date, kinds, retention=retention)
        for outcome in outcomes:
            ctx.say(outcome.line(False))
        return {o.kind: {"count": o.count, "refused": o.refused} for o in outcomes}
