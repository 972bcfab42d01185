"""Verified snapshots of the working warehouse, and restoring one.

After a published night (an ``after_publish`` workload, ``SnapshotWorkload``), when the
newest snapshot is ``snapshots_every_days`` (default 7) days old, there is none, or the
night was a full refresh or backfill, the closed ``warehouse.duckdb`` is checkpointed and
copied to ``snapshots/batch=<id>/warehouse.duckdb``. The copy is verified before it
counts: its sha256 is taken while the kernel copies it (``copy_with_sha256``), it is
opened read-only and the row counts of a few key tables must equal the warehouse's. Then
``manifest.json`` (batch id, run date, created_at, sha256, size, row counts, seconds) is
written and the folder renamed from ``.batch=<id>.tmp`` into place, so a kill leaves at
most a temporary folder that never counts (the next snapshot removes it). Only the newest
``snapshots_keep`` snapshots are kept.

``restore`` puts a snapshot back as ``warehouse.duckdb`` (the damaged file is kept
aside); the next nightly loads every landing file the restored manifest
(``chatbatch.landing_files``) does not list. Purge deletes a landing file without an
archive only when a verified snapshot holds it (``newest_verified``), so a restore
never needs a deleted file. ``after_erasure`` makes an erasure reach every snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from chatbatch.core import duck
from chatbatch.core.digest import copy_with_sha256, sha256_of
from chatbatch.core.errors import OperatorError
from chatbatch.core.paths import Paths
from chatbatch.output.workload import Phase, WorkloadContext
from chatbatch.privacy.settings import Retention

WAREHOUSE_FILE = "warehouse.duckdb"
MANIFEST = "manifest.json"
# counted in the warehouse and in its copy: they must agree before a snapshot counts
KEY_TABLES = (
    "chatbatch.landing_files",
    "raw.messages",
    "staging.stg_chatbot__messages",
    "marts.fct_conversations",
    "audit.quarantine_records",
)


@dataclass(frozen=True)
class Snapshot:
    batch_id: int
    run_date: str
    created_at: str
    sha256: str
    size_bytes: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    folder: Path = Path()

    @property
    def file(self) -> Path:
        return self.folder / WAREHOUSE_FILE

    def verify(self) -> str | None:
        """None when the file is present and has its recorded sha256, else the problem."""
        if not self.file.is_file():
            return f"{self.file} is missing"
        if sha256_of(self.file) != self.sha256:
            return f"{self.file} does not match the sha256 of its manifest"
        return None


def folder_name(batch_id: int) -> str:
    return f"batch={batch_id:06d}"


def listed(paths: Paths) -> list[Snapshot]:
    """The complete snapshots (a manifest written), oldest first."""
    out = []
    for manifest in paths.snapshots.glob(f"batch=*/{MANIFEST}"):
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        doc.pop("folder", None)
        out.append(Snapshot(**doc, folder=manifest.parent))
    return sorted(out, key=lambda s: s.batch_id)


def newest_verified(paths: Paths) -> Snapshot | None:
    """The newest snapshot whose file matches its sha256 (older ones are not hashed)."""
    for snapshot in reversed(listed(paths)):
        if snapshot.verify() is None:
            return snapshot
    return None


def _counts(con: Any) -> dict[str, int]:
    present = {
        f"{s}.{t}"
        for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    }
    rows: dict[str, int] = {}
    for table in KEY_TABLES:
        if table in present:
            row = con.execute(f"select count(*) from {table}").fetchone()
            rows[table] = int(row[0]) if row else 0
    return rows


def take(paths: Paths, batch_id: int, run_date: str, keep: int) -> Snapshot:
    """Copy, verify and register a snapshot of the (closed) warehouse; keep the newest ``keep``."""
    started = time.monotonic()
    paths.snapshots.mkdir(parents=True, exist_ok=True)
    for stale in paths.snapshots.glob(".batch=*.tmp"):  # left by a killed run: never counted
        shutil.rmtree(stale)
    con = duck.connect(paths.warehouse)
    try:
        con.execute("checkpoint")  # everything in the .duckdb file, nothing left in the WAL
        expected = _counts(con)
    finally:
        con.close()
    tmp = paths.snapshots / f".{folder_name(batch_id)}.tmp"
    tmp.mkdir()
    copy = tmp / WAREHOUSE_FILE
    digest = copy_with_sha256(paths.warehouse, copy)
    check = duck.connect(copy, read_only=True)
    try:
        found = _counts(check)
    finally:
        check.close()
    if found != expected:
        shutil.rmtree(tmp)
        raise RuntimeError(f"snapshot of batch {batch_id} does not verify: rows {found} != {expected}")
    snapshot = Snapshot(
        batch_id=batch_id,
        run_date=run_date,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        sha256=digest,
        size_bytes=copy.stat().st_size,
        rows=expected,
        seconds=round(time.monotonic() - started, 3),
    )
    doc = {k: v for k, v in asdict(snapshot).items() if k != "folder"}
    (tmp / MANIFEST).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    target = paths.snapshots / folder_name(batch_id)
    if target.exists():  # the same batch again (a rerun): the new copy replaces it
        shutil.rmtree(target)
    os.replace(tmp, target)
    prune(paths, keep)
    return Snapshot(**doc, folder=target)


def due(paths: Paths, run_date: date, every_days: int) -> str | None:
    """Why no snapshot is due for ``run_date`` (None when one is): the newest snapshot is
    fewer than ``every_days`` days older than the run date."""
    # the newest complete snapshot whose file has its recorded size: hashing it (what
    # restore and purge do) would read the whole copy every night (7.5 s at 3.6 GB)
    present = [s for s in listed(paths) if s.file.is_file() and s.file.stat().st_size == s.size_bytes]
    newest = present[-1] if present else None
    if newest is None:
        return None
    age = (run_date - date.fromisoformat(newest.run_date)).days
    if age >= every_days:
        return None
    return (
        f"the newest, {newest.folder.name}, is of {newest.run_date}; one every {every_days} day(s), "
        "privacy.yml retention.snapshots_every_days"
    )


def prune(paths: Paths, keep: int) -> list[Snapshot]:
    """Delete all but the newest ``keep`` snapshots; return the deleted ones."""
    snapshots = listed(paths)
    dropped = snapshots[: max(len(snapshots) - keep, 0)]
    for snapshot in dropped:
        shutil.rmtree(snapshot.folder)
    return dropped


def after_erasure(paths: Paths, batch_id: int, run_date: str) -> Snapshot:
    """For ``chatbatch forget``, once the warehouse is rebuilt without the person: every
    earlier snapshot still holds them, so all are dropped and a fresh one is taken (under
    the batch lock the caller holds)."""
    for snapshot in listed(paths):
        shutil.rmtree(snapshot.folder)
    return take(paths, batch_id, run_date, Retention.load(paths).snapshots_keep)


@dataclass(frozen=True)
class Restored:
    snapshot: Snapshot
    damaged: Path | None  # where the replaced warehouse was put aside
    pending_files: int  # landing files the restored manifest does not list: the next night loads them
    purged_after: int  # purged landing files the snapshot does not hold (their lines are lost)


def choose(paths: Paths, batch_id: int | None) -> Snapshot:
    snapshots = listed(paths)
    if not snapshots:
        raise OperatorError(
            f"no snapshot under {paths.snapshots}", "snapshots are taken after each published nightly"
        )
    if batch_id is None:
        return snapshots[-1]
    for snapshot in snapshots:
        if snapshot.batch_id == batch_id:
            return snapshot
    raise OperatorError(
        f"no snapshot of batch {batch_id}",
        f"available: {', '.join(str(s.batch_id) for s in snapshots)}",
    )


def restore(paths: Paths, snapshot: Snapshot, dry_run: bool = False) -> Restored:
    """Verify ``snapshot`` and copy it over ``warehouse.duckdb`` atomically (the caller
    holds the batch lock); the file it replaces is kept as ``warehouse.duckdb.damaged-<ts>``."""
    from chatbatch.accumulate.landing import discover

    problem = snapshot.verify()
    if problem:
        raise OperatorError(problem, "choose another snapshot with --snapshot BATCH_ID (`ls snapshots/`)")
    con = duck.connect(snapshot.file, read_only=True)
    try:
        known = {p for (p,) in con.execute("select file_path from chatbatch.landing_files").fetchall()}
    finally:
        con.close()
    pending = sum(1 for f in discover(paths.landing).files if f.relative_path not in known)
    purged = set()
    if paths.purged_log.is_file():
        purged = {json.loads(line)["path"] for line in paths.purged_log.read_text().splitlines() if line}
    result = Restored(snapshot, None, pending, len(purged - known))
    if dry_run:
        return result
    staging = paths.warehouse.with_name(WAREHOUSE_FILE + ".restoring")
    if copy_with_sha256(snapshot.file, staging) != snapshot.sha256:
        staging.unlink()
        raise OperatorError(f"the copy of {snapshot.file} does not verify", "check the disk, then retry")
    damaged = None
    if paths.warehouse.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        damaged = paths.warehouse.with_name(f"{WAREHOUSE_FILE}.damaged-{stamp}")
        os.replace(paths.warehouse, damaged)
    wal = paths.warehouse.with_name(WAREHOUSE_FILE + ".wal")
    if wal.exists():  # belongs to the damaged file, never to the snapshot
        os.replace(wal, damaged.with_name(damaged.name + ".wal") if damaged else wal.with_suffix(".old"))
    os.replace(staging, paths.warehouse)
    return Restored(snapshot, damaged, pending, len(purged - known))


@dataclass(frozen=True)
class SnapshotWorkload:
    """After publishing: a verified snapshot of the night's warehouse (a failure warns)."""

    name: str = "snapshot"
    phase: Phase = "after_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        retention = Retention.load(ctx.paths)
        keep = retention.snapshots_keep
        # a full refresh or backfill rewrote history: always followed by a snapshot
        not_due = None if ctx.full_refresh else due(ctx.paths, ctx.run_date, retention.snapshots_every_days)
        if not_due:
            ctx.say(f"  snapshot: not due ({not_due})")
            return {"skipped": not_due}
        snapshot = take(ctx.paths, ctx.batch_id, ctx.run_date.isoformat(), keep)
        ctx.say(
            f"  snapshot {snapshot.folder.name}: {snapshot.size_bytes / 1e6:.1f} MB "
            f"in {snapshot.seconds:.1f} s (keeping {keep})"
        )
        return {"batch_id": snapshot.batch_id, "bytes": snapshot.size_bytes, "seconds": snapshot.seconds}
