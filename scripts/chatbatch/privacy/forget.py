"""``chatbatch forget``: erase people, on request, from every place the home keeps data.

Steps (docs/privacy.md, "Erasure"), under the batch lock:

1. **Who**: the user ids, and every conversation / session / trace id of their records in
   raw (``subjects.RECORD_KEYS``; OTel spans by ``user.id``), followed to a fixed point.
2. **Register** their salted hashes (``subjects.Register``): later ingests drop them.
3. **Raw and landing**: delete their raw rows (JSON records by key field; a line that is
   not JSON, by its text holding one of the ids; OTLP lines lose their spans), rewrite every
   landing file that held them (``landing_scrub``), and update its manifest row (size,
   sha256, mtime, ``erased_lines``) in the same transaction, so the rewrite is not taken for
   tampering and the reconciliation counts the erased lines.
4. **Exports**: every Parquet under ``exports/`` without their rows (``outputs``).
5. **Rebuild**: every model from raw, full refresh, published (``rebuild``).
6. **Reports** that show any of their ids or texts are deleted; snapshots (hook);
   ``warehouse.duckdb`` and ``analytics.duckdb`` compacted.
7. **Log** one line to ``erasures.jsonl``: hashes and counts, no id and no text.

Running it again for the same people is harmless and finishes an interrupted erasure.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chatbatch.accumulate import ingest
from chatbatch.accumulate.landing import discover
from chatbatch.contract.sources import SourceConfig
from chatbatch.core import duck
from chatbatch.core.digest import sha256_of
from chatbatch.core.paths import Paths
from chatbatch.output.standby import discard_standby
from chatbatch.privacy import models, outputs, rebuild, snapshots
from chatbatch.privacy.ingest_filter import json_field
from chatbatch.privacy.landing_scrub import ScrubResult, scrub_file, scrub_otlp_message
from chatbatch.privacy.subjects import OTEL_TABLE, RECORD_KEYS, ErasureRecord, Register
from chatbatch.transform.redact import redact

MIN_TEXT_NEEDLE = 12  # message texts shorter than this are too common to look for in reports


@dataclass(frozen=True)
class ForgetRequest:
    users: tuple[str, ...]
    reason: str | None = None
    dry_run: bool = False


@dataclass
class Subjects:
    """The people being erased: ids (users + their conversation / session / trace ids) and
    their message texts. In memory only, never written."""

    users: set[str]
    ids: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)


def forget(paths: Paths, request: ForgetRequest, say: Callable[[str], None]) -> ErasureRecord:
    started = time.monotonic()
    paths.export()
    register = Register.load(paths.privacy, create=not request.dry_run) or Register(
        paths.privacy, secrets.token_hex(32)
    )
    record = ErasureRecord(
        erasure_id=f"er_{datetime.now(UTC):%Y%m%dT%H%M%S}_{secrets.token_hex(4)}",
        user_hashes=sorted(register.hash(u) for u in request.users),
        requested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        finished_at=None,
        reason=redact(request.reason),
        dry_run=request.dry_run,
    )
    sources = SourceConfig.load(paths.home)
    con = duck.connect(paths.warehouse)
    try:
        ingest.ensure_state(con, sources)
        subjects = find_subjects(con, set(request.users))
        record.subject_hashes = len(subjects.ids)
        record.counts["warehouse_rows"] = count_rows(con, subjects.ids)
        say(f"forget: {len(subjects.users)} user(s), {len(subjects.ids) - len(subjects.users)} linked ids")
        if request.dry_run:
            record.counts["raw_rows"] = {t: sum(n.values()) for t, n in _raw_hits(con, subjects).items()}
            return _done(record, paths, started, say)
        register.add(subjects.ids)
        record.counts.update(_erase_raw_and_landing(con, paths, subjects, register, sources))
    finally:
        con.close()
    record.counts["published_rows"] = _count_file(paths.analytics, subjects.ids)
    discard_standby(paths.analytics)  # an older published version: it holds them too
    record.counts["export_rows"] = outputs.scrub_exports(paths.exports, subjects.ids, record.erasure_id)
    needles = subjects.ids | subjects.texts | {redact(t) or "" for t in subjects.texts} - {""}
    record.counts["runner_table_rows"] = outputs.scrub_runner_tables(paths.warehouse, needles)
    rebuilt = rebuild.rebuild(paths, say)
    record.counts["export_rows_after_rebuild"] = outputs.scrub_exports(
        paths.exports, subjects.ids, record.erasure_id
    )
    record.counts["reports_deleted"] = outputs.drop_reports(paths.reports, subjects.ids | subjects.texts)
    scrubbed = [*record.counts["export_rows"], *record.counts["export_rows_after_rebuild"]]
    record.counts["models"] = models.forget_models(
        paths, models.held_versions(scrubbed), date.fromisoformat(rebuilt.run_date)
    )
    record.counts["compacted_bytes"] = {
        p.name: outputs.compact(p) for p in (paths.warehouse, paths.analytics) if p.exists()
    }
    discard_standby(paths.analytics)  # the rebuild's copy, not compacted
    # every earlier snapshot holds the person, and the one the rebuild took may hold their
    # deleted strings in free blocks: all go, and one of the compacted warehouse is taken
    dropped = len(snapshots.listed(paths))
    snapshots.after_erasure(paths, rebuilt.batch_id, rebuilt.run_date)
    record.counts["snapshots_replaced"] = dropped
    return _done(record, paths, started, say)


def _done(record: ErasureRecord, paths: Paths, started: float, say: Callable[[str], None]) -> ErasureRecord:
    record.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    record.counts["seconds"] = round(time.monotonic() - started, 1)
    if not record.dry_run:
        record.append_to(paths.privacy)
    say(
        f"forget: {'would erase' if record.dry_run else 'erased'} ({record.erasure_id}): "
        + json.dumps(record.counts, sort_keys=True)
    )
    return record


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = con.execute("select table_name from information_schema.tables where table_schema = ?", [schema])
    return {name for (name,) in rows.fetchall()}


def _field(name: str) -> str:
    """A JSON field of a raw line; null when the line is not JSON (DuckDB evaluates both
    sides of an ``and``, so the guard must sit inside)."""
    return json_field("_line", name)


def find_subjects(con: duckdb.DuckDBPyConnection, users: set[str]) -> Subjects:
    """Follow the users' records to every id that is theirs, until nothing new turns up."""
    subjects = Subjects(users=set(users), ids=set(users))
    raw = _tables(con, "raw")
    while True:
        before = len(subjects.ids)
        con.register("forget_ids", pa.table({"id": pa.array(sorted(subjects.ids), pa.string())}))
        for table, keys in RECORD_KEYS.items():
            if table not in raw or not keys.links:
                continue
            hit = " or ".join(f"{_field(f)} in (select id from forget_ids)" for f in keys.fields)
            for link in keys.links:
                rows = con.execute(
                    f"select distinct {_field(link)} from raw.{table} where json_valid(_line) and ({hit})"
                ).fetchall()
                subjects.ids.update(v for (v,) in rows if v)
        if OTEL_TABLE in raw:
            probe = Register(Path("."), "", set())
            probe.hashes = {probe.hash(i) for i in subjects.ids}
            for (line,) in _otel_candidates(con, subjects.ids):
                subjects.ids |= scrub_otlp_message(line, probe)[2]
        con.unregister("forget_ids")
        if len(subjects.ids) == before:
            break
    if "messages" in raw:
        con.register("forget_ids", pa.table({"id": pa.array(sorted(subjects.ids), pa.string())}))
        rows = con.execute(
            f"select distinct {_field('text')} from raw.messages "
            f"where json_valid(_line) and {_field('conversation_id')} in (select id from forget_ids)"
        ).fetchall()
        con.unregister("forget_ids")
        subjects.texts = {t for (t,) in rows if t and len(t) >= MIN_TEXT_NEEDLE}
    return subjects


def _otel_candidates(con: duckdb.DuckDBPyConnection, ids: set[str]) -> list[tuple[Any, ...]]:
    """OTel raw rows whose text holds one of the ids (a cheap prefilter before parsing)."""
    return con.execute(
        f"select _line from raw.{OTEL_TABLE} where _line is not null "
        "and exists (select 1 from forget_ids where contains(_line, id))"
    ).fetchall()


def _match(keys_fields: tuple[str, ...]) -> str:
    """A raw row of the subjects: a JSON record by its key fields, else a line holding an id."""
    by_key = " or ".join(f"{_field(f)} in (select id from forget_ids)" for f in keys_fields)
    return (
        f"(coalesce(json_valid(_line), false) and ({by_key})) or (not coalesce(json_valid(_line), false) "
        "and exists (select 1 from forget_ids where contains(coalesce(_line, ''), id)))"
    )


def _raw_hits(con: duckdb.DuckDBPyConnection, subjects: Subjects) -> dict[str, dict[str, int]]:
    """Raw rows of the subjects per table and file (OTel: lines holding one of the ids)."""
    con.register("forget_ids", pa.table({"id": pa.array(sorted(subjects.ids), pa.string())}))
    try:
        hits: dict[str, dict[str, int]] = {}
        for table in sorted(_tables(con, "raw")):
            if table in RECORD_KEYS:
                where = _match(RECORD_KEYS[table].fields)
            elif table == OTEL_TABLE:
                where = "_line is not null and exists (select 1 from forget_ids where contains(_line, id))"
            else:
                continue
            rows = con.execute(f"select _file_path, count(*) from raw.{table} where {where} group by 1")
            found = dict(rows.fetchall())
            if found:
                hits[table] = found
        return hits
    finally:
        con.unregister("forget_ids")


def _erase_raw_and_landing(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    subjects: Subjects,
    register: Register,
    sources: SourceConfig,
) -> dict[str, Any]:
    hits = _raw_hits(con, subjects)
    files = {path: table for table, found in hits.items() for path in found}
    known = ingest.known_files(con)
    for landing_file in discover(paths.landing, sources).files:  # not loaded yet: scrubbed too
        if landing_file.relative_path not in known:
            files.setdefault(landing_file.relative_path, landing_file.entity)
    scrubbed: dict[str, ScrubResult] = {}
    for relative, table in sorted(files.items()):
        path = paths.landing / relative
        scrubbed[relative] = (
            scrub_file(path, table, register, subjects.ids) if path.exists() else ScrubResult()
        )
    raw_rows: dict[str, int] = {}
    with duck.transaction(con):
        con.register("forget_ids", pa.table({"id": pa.array(sorted(subjects.ids), pa.string())}))
        erased_lines: dict[str, int] = {}
        for table, found in hits.items():
            if table == OTEL_TABLE:
                per_file = _erase_otel_rows(con, register)
            else:
                con.execute(f"delete from raw.{table} where {_match(RECORD_KEYS[table].fields)}")
                per_file = found
            raw_rows[table] = sum(per_file.values())
            for path, count in per_file.items():
                erased_lines[path] = erased_lines.get(path, 0) + count
        con.unregister("forget_ids")
        for relative in sorted(set(erased_lines) | {r for r in scrubbed if r in known}):
            _update_manifest_row(con, paths.landing / relative, relative, erased_lines.get(relative, 0))
    return {
        "raw_rows": raw_rows,
        "landing": {
            "lines_removed": sum(s.records_removed for s in scrubbed.values()),
            "spans_removed": sum(s.spans_removed for s in scrubbed.values()),
            "files_rewritten": sum(s.changed and not s.deleted for s in scrubbed.values()),
            "files_deleted": sum(s.deleted for s in scrubbed.values()),
        },
    }


def _erase_otel_rows(con: duckdb.DuckDBPyConnection, register: Register) -> dict[str, int]:
    """OTLP raw lines lose the subjects' spans (as the landing rewrite does); a line left
    without spans is deleted. Returns the deleted lines per file."""
    rows = con.execute(
        f"select _file_path, _line_number, _line from raw.{OTEL_TABLE} where _line is not null "
        "and exists (select 1 from forget_ids where contains(_line, id))"
    ).fetchall()
    deleted: dict[str, int] = {}
    for file_path, number, text in rows:
        line, removed, _ = scrub_otlp_message(text, register)
        if line is None:
            con.execute(
                f"delete from raw.{OTEL_TABLE} where _file_path = ? and _line_number = ?", [file_path, number]
            )
            deleted[file_path] = deleted.get(file_path, 0) + 1
        elif removed:
            con.execute(
                f"update raw.{OTEL_TABLE} set _line = ? where _file_path = ? and _line_number = ?",
                [line, file_path, number],
            )
    return deleted


def _update_manifest_row(con: duckdb.DuckDBPyConnection, path: Path, relative: str, erased: int) -> None:
    """The file as it is now (size, sha256, mtime; an emptied file is gone) and its erased lines."""
    if path.exists():
        stat = path.stat()
        size, sha, mtime = stat.st_size, sha256_of(path), stat.st_mtime_ns
    else:
        size, sha, mtime = 0, hashlib.sha256(b"").hexdigest(), None
    con.execute(
        """
        update chatbatch.landing_files
        set size_bytes = ?, sha256 = ?, mtime_ns = ?, erased_lines = coalesce(erased_lines, 0) + ?
        where file_path = ?
        """,
        [size, sha, mtime, erased, relative],
    )


def count_rows(con: duckdb.DuckDBPyConnection, ids: set[str]) -> dict[str, int]:
    """Rows per schema.table (not raw) whose conversation_id or user_id is one of ``ids``."""
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where column_name in ('conversation_id', 'user_id') and table_schema not in ('raw', 'chatbatch') "
        "order by all"
    ).fetchall()
    con.register("count_ids", pa.table({"id": pa.array(sorted(ids), pa.string())}))
    try:
        by_table: dict[str, list[str]] = {}
        for schema, table, column in columns:
            by_table.setdefault(f'"{schema}"."{table}"', []).append(column)
        counts = {}
        for relation, cols in by_table.items():
            where = " or ".join(f'"{c}"::varchar in (select id from count_ids)' for c in cols)
            (count,) = con.execute(f"select count(*) from {relation} where {where}").fetchall()[0]
            if count:
                counts[relation.replace('"', "")] = int(count)
        return counts
    finally:
        con.unregister("count_ids")


def _count_file(database: Path, ids: set[str]) -> dict[str, int]:
    if not database.exists():
        return {}
    con = duck.connect(database, read_only=True)
    try:
        return count_rows(con, ids)
    finally:
        con.close()
