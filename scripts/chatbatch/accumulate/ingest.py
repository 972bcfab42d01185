"""Ingest step: find new landing files and load their lines, untouched, into raw tables.

Every line of every landing file becomes exactly one row of ``raw.<entity>``, with the
file, the line number and, where the bytes could not be read as text, a line error
(``invalid_utf8``, ``truncated_file``). Parsing JSON and judging records is dbt's job
(the base staging models); this step only guarantees that nothing is lost on the way in.

The file manifest ``chatbatch.landing_files`` remembers what was loaded (path, size,
sha256, line count, batch). Loading one file and recording it in the manifest happen in
one DuckDB transaction, so a run killed at any moment leaves either both or neither.

Paths that do not fit the landing layout (``landing.discover``) are not loaded; each
ingest replaces ``chatbatch.landing_misfiled`` with the ones it found, in a transaction of
its own, so a path that is fixed or renamed drops out of it and is loaded as a new file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from chatbatch.accumulate.landing import LandingFile, discover
from chatbatch.accumulate.lines import FileLines, read_lines
from chatbatch.contract import ENTITIES
from chatbatch.core import duck
from chatbatch.core.errors import LandingLayoutError
from chatbatch.core.faults import checkpoint
from chatbatch.monitor.record import MisfiledPath
from chatbatch.output.artefacts import sha256_of

LAYOUT_HINT = (
    "move or rename it to <entity>/export_date=YYYY-MM-DD/<name>.jsonl[.gz] under the landing "
    "folder (docs/export-contract.md)"
)

STATE_DDL = """
create schema if not exists raw;
create schema if not exists chatbatch;
create table if not exists chatbatch.landing_files (
    file_path varchar primary key,
    entity varchar not null,
    export_date date not null,
    size_bytes bigint not null,
    sha256 varchar not null,
    lines_read bigint not null,
    file_error varchar,
    batch_id integer not null,
    first_seen_at timestamp not null,
    ingested_at timestamp not null
);
alter table chatbatch.landing_files add column if not exists mtime_ns bigint;
create table if not exists chatbatch.landing_misfiled (
    path varchar primary key,
    reason varchar not null,
    first_seen_at timestamp not null,
    last_seen_at timestamp not null,
    last_batch_id integer not null
);
"""

RAW_DDL = """
create table if not exists raw.{entity} (
    _file_path varchar not null,
    _export_date date not null,
    _line_number integer not null,
    _line varchar,
    _line_error varchar,
    _batch_id integer not null,
    _ingested_at timestamp not null
);
"""


class IngestError(LandingLayoutError):
    """A landing file the project refuses to load; the message names the file."""

    def __init__(self, what: str, hint: str = LAYOUT_HINT) -> None:
        super().__init__(what, hint)


class ContentChangedError(IngestError):
    """A file already loaded under the same path now has different content."""


@dataclass
class IngestResult:
    batch_id: int
    files_loaded: list[str] = field(default_factory=list)
    files_skipped: int = 0
    lines_read: int = 0
    file_errors: dict[str, str] = field(default_factory=dict)
    lines_by_entity: dict[str, int] = field(default_factory=dict)
    misfiled: list[MisfiledPath] = field(default_factory=list)


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables and the manifest if this warehouse is new."""
    con.execute(STATE_DDL)
    for entity in ENTITIES:
        con.execute(RAW_DDL.format(entity=entity))


def next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("select coalesce(max(batch_id), 0) + 1 from chatbatch.landing_files").fetchone()
    return int(row[0]) if row else 1


def known_files(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str, int | None]]:
    rows = con.execute(
        "select file_path, size_bytes, sha256, mtime_ns from chatbatch.landing_files"
    ).fetchall()
    return {path: (size, sha, mtime_ns) for path, size, sha, mtime_ns in rows}


def pending_files(
    con: duckdb.DuckDBPyConnection, files: Iterable[LandingFile]
) -> tuple[list[LandingFile], int]:
    """Split landing files into new ones and already-loaded ones.

    A known path whose size or content changed raises ContentChangedError: exports are
    immutable once landed, and silently reloading one would double or lose records.
    """
    known = known_files(con)
    new: list[LandingFile] = []
    skipped = 0
    for landing_file in files:
        seen = known.get(landing_file.relative_path)
        if seen is None:
            new.append(landing_file)
            continue
        size, sha, mtime_ns = seen
        stat = landing_file.absolute_path.stat()
        # Unchanged size and mtime: trust the manifest, so a night reads only new files.
        # Anything else is re-hashed; only a different hash is a change.
        unchanged = stat.st_size == size and stat.st_mtime_ns == mtime_ns
        if not unchanged and (stat.st_size != size or sha256_of(landing_file.absolute_path) != sha):
            raise ContentChangedError(
                f"{landing_file.absolute_path}: content changed since it was loaded (sha256 was {sha[:12]}…)",
                "landing files are immutable: put the loaded content back and write "
                "corrected records to a new file in the same partition",
            )
        skipped += 1
    return new, skipped


def load_file(con: duckdb.DuckDBPyConnection, landing_file: LandingFile, batch_id: int) -> FileLines:
    """Load one file's lines and its manifest row in one transaction."""
    mtime_ns = landing_file.absolute_path.stat().st_mtime_ns  # before reading: a later write shows
    content = read_lines(landing_file.absolute_path)
    table = pa.table(
        {
            "line_number": pa.array(range(1, len(content.lines) + 1), pa.int32()),
            "line": pa.array(content.lines, pa.large_string()),
            "line_error": pa.array(content.line_errors, pa.string()),
        }
    )
    con.execute("begin transaction")
    try:
        con.register("incoming_lines", table)
        con.execute(
            f"""
            insert into raw.{landing_file.entity}
            select ?, ?, line_number, line, line_error, ?, now()::timestamp
            from incoming_lines
            """,
            [landing_file.relative_path, landing_file.export_date, batch_id],
        )
        con.execute(
            """
            insert into chatbatch.landing_files (
                file_path, entity, export_date, size_bytes, sha256, lines_read,
                file_error, batch_id, first_seen_at, ingested_at, mtime_ns
            )
            values (?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp, now()::timestamp, ?)
            """,
            [
                landing_file.relative_path,
                landing_file.entity,
                landing_file.export_date,
                content.size_bytes,
                content.sha256,
                len(content.lines),
                content.file_error,
                batch_id,
                mtime_ns,
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("incoming_lines")
    return content


def record_misfiled(con: duckdb.DuckDBPyConnection, misfiled: list[MisfiledPath], batch_id: int) -> None:
    """Replace the misfiled set in one transaction; a path seen before keeps its first_seen_at."""
    con.execute("begin transaction")
    try:
        first_seen = dict(
            con.execute("select path, first_seen_at from chatbatch.landing_misfiled").fetchall()
        )
        con.execute("delete from chatbatch.landing_misfiled")
        if misfiled:
            con.executemany(
                """
                insert into chatbatch.landing_misfiled
                values (?, ?, coalesce(?, now()::timestamp), now()::timestamp, ?)
                """,
                [(m.path, m.reason, first_seen.get(m.path), batch_id) for m in misfiled],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def ingest(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    batch_id: int | None = None,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestResult:
    """Load every landing file not yet in the manifest (export date <= ``until``)."""
    ensure_state(con)
    found = discover(landing)
    batch_id = batch_id or next_batch_id(con)
    record_misfiled(con, found.misfiled, batch_id)
    files = [f for f in found.files if until is None or f.export_date <= until]
    new, skipped = pending_files(con, files)
    result = IngestResult(batch_id=batch_id, files_skipped=skipped, misfiled=found.misfiled)
    if progress:
        for misfiled in found.misfiled:
            progress(f"  not loaded: {misfiled.path}: {misfiled.reason}")
    for index, landing_file in enumerate(new, start=1):
        content = load_file(con, landing_file, result.batch_id)
        result.files_loaded.append(landing_file.relative_path)
        result.lines_read += len(content.lines)
        result.lines_by_entity[landing_file.entity] = result.lines_by_entity.get(
            landing_file.entity, 0
        ) + len(content.lines)
        if content.file_error:
            result.file_errors[landing_file.relative_path] = content.file_error
        checkpoint(f"ingest:file:{index}")
        if progress:
            progress(
                f"  [{index}/{len(new)}] {landing_file.relative_path}: "
                f"{len(content.lines):,} lines" + (f" ({content.file_error})" if content.file_error else "")
            )
    return result


def accumulate(
    connect: Callable[[], duckdb.DuckDBPyConnection],
    landing: Path,
    batch_id: int,
    until: date,
    say: Callable[[str], None],
) -> IngestResult:
    """The nightly's accumulate step: load every new landing file up to ``until``."""
    con = connect()
    try:
        return ingest(con, landing, batch_id=batch_id, until=until, progress=say)
    finally:
        con.close()


def last_batch_id(warehouse: Path) -> int:
    """The highest batch id in the manifest (0 for a new warehouse)."""
    if not warehouse.exists():
        return 0
    con = duck.connect(str(warehouse))
    try:
        ensure_state(con)
        row = con.execute("select coalesce(max(batch_id), 0) from chatbatch.landing_files").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()
