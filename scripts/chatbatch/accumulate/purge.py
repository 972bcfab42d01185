"""Purge old landing files, but only those whose records are kept elsewhere.

A landing file older than the cutoff is deleted only when it is verified:

1. it was loaded (it is in the manifest ``chatbatch.landing_files``) without a load
   error, and its bytes still have the sha256 recorded then;
2. messages and conversations (archived): the archive is complete through the ingest
   batch that loaded it, every archive file still matches the sha256 of the archive
   manifest, the warehouse holds all its lines, none was quarantined (a quarantined
   line is kept nowhere but in the landing file), and every record id in it is in the
   archive;
3. every other entity and source (events, feedback, users, KB documents, Langfuse,
   OTel), which has no archive: its batch passed the gate and was published, and the
   newest verified warehouse snapshot (``privacy/snapshots.py``) was taken at or after
   that batch, so a restore never needs the file.

Anything else is refused with the reason, per file. Deleted files are listed in
``state/purged.jsonl``. The ingest manifest keeps their rows, so the next nightly
neither reloads nor misses them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from chatbatch.accumulate.landing import LandingFile, discover
from chatbatch.contract.sources import SourceConfig
from chatbatch.core import duck
from chatbatch.core.digest import sha256_of
from chatbatch.core.paths import Paths
from chatbatch.output.archive import ArchiveManifest
from chatbatch.privacy.snapshots import newest_verified

# entity -> its record id in the base model, matched against the archive column of that name
ARCHIVED: dict[str, str] = {"messages": "message_id", "conversations": "conversation_id"}


@dataclass
class Verdict:
    path: str
    entity: str
    export_date: str
    verified: bool
    reason: str
    lines: int = 0


def _archive_ids(con: duckdb.DuckDBPyConnection, root: Path) -> tuple[int, str | None]:
    """Load the archived ids into temp tables; return (complete-through batch, problem)."""
    manifest = ArchiveManifest.read(root)
    files = []
    for key, entry in manifest.days.items():
        path = root / entry.file
        if not path.is_file():
            return 0, f"archive file of {key} is missing ({path})"
        if not entry.intact(root):
            return 0, f"archive file of {key} does not match the sha256 of its manifest"
        files.append(str(path))
    source = f"read_parquet({files!r})" if files else None
    for column in sorted(set(ARCHIVED.values())):
        select = (
            f"select distinct {column} as id from {source}" if source else "select null as id where false"
        )
        con.execute(f"create temp table archived_{column} as {select}")
    return manifest.processed_batch_id, None


def _verify(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    manifest: dict[str, tuple[str, int, int, str | None]],
    archived_through: int,
    safe_through: tuple[int, str],
) -> Verdict:
    verdict = Verdict(
        landing_file.relative_path, landing_file.entity, landing_file.export_date.isoformat(), False, ""
    )
    known = manifest.get(landing_file.relative_path)
    if known is None:
        verdict.reason = "not loaded yet (not in the ingest manifest)"
        return verdict
    sha, lines_read, batch_id, file_error = known
    verdict.lines = lines_read
    if landing_file.entity not in ARCHIVED:
        return _verify_snapshotted(landing_file, verdict, sha, batch_id, file_error, safe_through)
    if batch_id > archived_through:
        verdict.reason = (
            f"loaded by batch {batch_id}; the archive is complete through batch {archived_through}"
        )
        return verdict
    if file_error:
        verdict.reason = f"the file had a load error ({file_error})"
        return verdict
    if sha256_of(landing_file.absolute_path) != sha:
        verdict.reason = "its content differs from what was loaded (sha256)"
        return verdict
    id_column = ARCHIVED[landing_file.entity]
    row = con.execute(
        f"""
        select
            count(*),
            count(*) filter (where _quarantine_reason is not null),
            count(*) filter (
                where _quarantine_reason is null
                and {id_column} not in (select id from archived_{id_column})
            ),
            min({id_column}) filter (
                where _quarantine_reason is null
                and {id_column} not in (select id from archived_{id_column})
            )
        from staging.base_chatbot__{landing_file.entity}
        where _file_path = ?
        """,
        [landing_file.relative_path],
    ).fetchone()
    total, quarantined, missing, example = row if row else (0, 0, 0, None)
    if total != lines_read:
        verdict.reason = f"the warehouse holds {total} of its {lines_read} lines"
    elif quarantined:
        verdict.reason = f"{quarantined} quarantined line(s) are kept only in this file"
    elif missing:
        verdict.reason = f"{missing} record(s) are not in the archive (e.g. {example})"
    else:
        verdict.verified, verdict.reason = True, "every record is archived"
    return verdict


def _verify_snapshotted(
    landing_file: LandingFile,
    verdict: Verdict,
    sha: str,
    batch_id: int,
    file_error: str | None,
    safe_through: tuple[int, str],
) -> Verdict:
    """Rule 3: a file without an archive may go once a verified snapshot holds its batch."""
    through, why_not = safe_through
    if file_error:
        verdict.reason = f"the file had a load error ({file_error})"
    elif batch_id > through:
        verdict.reason = f"{landing_file.entity} records are not archived, and {why_not}"
    elif sha256_of(landing_file.absolute_path) != sha:
        verdict.reason = "its content differs from what was loaded (sha256)"
    else:
        verdict.verified = True
        verdict.reason = f"published and held by the verified snapshot of batch {through}"
    return verdict


def _snapshot_rule(con: duckdb.DuckDBPyConnection, paths: Paths) -> tuple[int, str]:
    """(the last batch a file may come from under rule 3, why later batches may not)."""
    row = con.execute("select max(batch_id) from chatbatch.published").fetchone()
    published = int(row[0]) if row and row[0] is not None else 0
    snapshot = newest_verified(paths)
    if snapshot is None:
        return 0, "no verified snapshot holds it yet (one is taken after each published night)"
    through = min(published, snapshot.batch_id)
    if snapshot.batch_id < published:
        return through, f"the newest verified snapshot is of batch {snapshot.batch_id}"
    return through, f"its batch is not published yet (published through batch {published})"


def _refuse_all(candidates: list[LandingFile], reason: str) -> list[Verdict]:
    return [Verdict(f.relative_path, f.entity, f.export_date.isoformat(), False, reason) for f in candidates]


def plan(
    paths: Paths, older_than_days: int, today: date, entities: Iterable[str] | None = None
) -> list[Verdict]:
    """A verdict for every landing file exported before `today - older_than_days`."""
    cutoff = today - timedelta(days=older_than_days)
    wanted = set(entities) if entities else None
    candidates = [
        f
        for f in discover(paths.landing, SourceConfig.load(paths.home)).files
        if f.export_date < cutoff and (wanted is None or f.entity in wanted)
    ]
    if not candidates:
        return []
    if not paths.warehouse.exists():
        return [
            Verdict(f.relative_path, f.entity, f.export_date.isoformat(), False, "no warehouse yet")
            for f in candidates
        ]
    con = duck.connect(str(paths.warehouse), read_only=True)
    try:
        manifest = {
            path: (sha, int(lines), int(batch), error)
            for path, sha, lines, batch, error in con.execute(
                "select file_path, sha256, lines_read, batch_id, file_error from chatbatch.landing_files"
            ).fetchall()
        }
        archived_through, problem = _archive_ids(con, paths.archive)
        safe_through = _snapshot_rule(con, paths)
        return [
            Verdict(f.relative_path, f.entity, f.export_date.isoformat(), False, problem)
            if problem and f.entity in ARCHIVED
            else _verify(con, f, manifest, archived_through, safe_through)
            for f in candidates
        ]
    finally:
        con.close()


def delete(paths: Paths, verdicts: list[Verdict]) -> int:
    """Delete the verified files, log each in state/purged.jsonl; return how many."""
    log = paths.purged_log
    log.parent.mkdir(parents=True, exist_ok=True)
    deleted = 0
    with log.open("a", encoding="utf-8") as handle:
        for verdict in verdicts:
            if not verdict.verified:
                continue
            path = paths.landing / verdict.path
            entry = {**asdict(verdict), "purged_at": datetime.now(UTC).isoformat(timespec="seconds")}
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
            handle.flush()
            path.unlink()
            deleted += 1
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
    return deleted
