"""Ingest step: find new landing files and load their lines, untouched, into raw tables.

Every record of every landing file becomes exactly one row of its raw table
(``LandingFile.entity``; ``chatbatch.contract.sources.ALL_RAW_TABLES``) with the file, the
line number and, where the bytes could not be read, a line error (``invalid_utf8``,
``truncated_file``). A record is a JSONL line, a Langfuse Parquet/CSV/JSON row as one JSON
object line, a Langfuse manifest compacted to one line, or one OTLP ``TracesData`` message
(``read_landing_file``). Parsing and judging records is dbt's job (the base staging models).

The file manifest ``chatbatch.landing_files`` remembers what was loaded (path, raw table,
size, sha256, line count, the row count a Langfuse manifest or Parquet footer declares,
batch). Loading one file and recording it happen in one DuckDB transaction, so a run
killed at any moment leaves either both or neither.

Paths that do not fit the layout (``landing.discover``) and incomplete files (a Langfuse
run without its manifest, a live OTel file) are not loaded; each ingest replaces
``chatbatch.landing_misfiled`` / ``landing_waiting`` with the ones it found. Records of
subjects erased by ``chatbatch forget`` are dropped before they reach raw and counted in
``erased_lines`` (``chatbatch.privacy.ingest_filter``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from chatbatch.accumulate.landing import LandingFile, WaitingFile, discover
from chatbatch.accumulate.landing_state import record_misfiled, record_waiting
from chatbatch.accumulate.lines import FileLines, read_lines
from chatbatch.accumulate.sources import langfuse, otlp
from chatbatch.contract.sources import ALL_RAW_TABLES, SourceConfig, raw_tables
from chatbatch.core import duck
from chatbatch.core.digest import sha256_of
from chatbatch.core.errors import LandingLayoutError
from chatbatch.core.faults import checkpoint
from chatbatch.core.paths import Paths
from chatbatch.monitor.record import MisfiledPath
from chatbatch.privacy import ingest_filter
from chatbatch.privacy.subjects import Register

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
alter table chatbatch.landing_files add column if not exists declared_rows bigint;
alter table chatbatch.landing_files add column if not exists erased_lines bigint default 0;
create table if not exists chatbatch.landing_misfiled (
    path varchar primary key,
    reason varchar not null,
    first_seen_at timestamp not null,
    last_seen_at timestamp not null,
    last_batch_id integer not null
);
create table if not exists chatbatch.landing_waiting (
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


CHANGED_HINT = (
    "landing files are immutable: put the loaded content back and write "
    "corrected records to a new file in the same partition"
)


@dataclass
class IngestResult:
    batch_id: int
    files_loaded: list[str] = field(default_factory=list)
    files_skipped: int = 0
    lines_read: int = 0
    file_errors: dict[str, str] = field(default_factory=dict)
    lines_by_entity: dict[str, int] = field(default_factory=dict)
    misfiled: list[MisfiledPath] = field(default_factory=list)
    waiting: list[WaitingFile] = field(default_factory=list)


def ensure_state(con: duckdb.DuckDBPyConnection, sources: SourceConfig | None = None) -> None:
    """Create the manifest tables and the raw tables of the enabled sources if missing.

    Contract v1's raw tables are always created (empty when ``chatbot`` is switched off):
    its staging models are part of every build.
    """
    con.execute(STATE_DDL)
    enabled = raw_tables(sources or SourceConfig())
    for table in ALL_RAW_TABLES:
        if table.source == "chatbot" or table in enabled:
            con.execute(RAW_DDL.format(entity=table.name))


def read_landing_file(landing_file: LandingFile) -> FileLines:
    """The records of one landing file as lines, by the reader of its raw table."""
    path = landing_file.absolute_path
    if landing_file.source == "chatbot":
        return read_lines(path)
    if landing_file.entity == "langfuse_manifests":
        return langfuse.read_manifest_line(path)
    if landing_file.source == "langfuse":
        return langfuse.read_data_file(path)
    if landing_file.source == "otel":
        return otlp.read_otlp_file(path)
    raise ValueError(f"{path}: no reader for raw table {landing_file.entity}")


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
                langfuse.CHANGED_HINT if landing_file.source == "langfuse" else CHANGED_HINT,
            )
        skipped += 1
    return new, skipped


def load_file(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, batch_id: int, register: Register | None = None
) -> FileLines:
    """Load one file's lines (but those of erased subjects) and its manifest row in one transaction."""
    mtime_ns = landing_file.absolute_path.stat().st_mtime_ns  # before reading: a later write shows
    content = read_landing_file(landing_file)
    declared = landing_file.declared_rows
    if declared is None:
        declared = content.declared_rows
    table = pa.table(
        {
            "line_number": pa.array(range(1, len(content.lines) + 1), pa.int32()),
            "line": pa.array(content.lines, pa.large_string()),
            "line_error": pa.array(content.line_errors, pa.string()),
        }
    )
    erased = ingest_filter.apply(con, landing_file, table, content, register)
    mtime_ns = erased.mtime_ns or mtime_ns
    con.register("incoming_lines", erased.lines)
    try:
        with duck.transaction(con):
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
                    file_error, batch_id, first_seen_at, ingested_at, mtime_ns, declared_rows, erased_lines
                )
                values (?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp, now()::timestamp, ?, ?, ?)
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
                    declared,
                    erased.erased_lines,
                ],
            )
    finally:
        con.unregister("incoming_lines")
    return content


def ingest(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    batch_id: int | None = None,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
    sources: SourceConfig | None = None,
    on_new_files: Callable[[], None] | None = None,
) -> IngestResult:
    """Load every landing file not yet in the manifest (export date <= ``until``).

    ``sources`` defaults to the home's ``sources.yml``; the home is the landing folder's
    parent (``Paths.landing``). ``on_new_files`` is called once, before loading, when
    there is a file to load.
    """
    sources = sources or SourceConfig.load(landing.parent)
    ensure_state(con, sources)
    found = discover(landing, sources)
    batch_id = batch_id or next_batch_id(con)
    record_misfiled(con, found.misfiled, batch_id)
    record_waiting(con, found.waiting, batch_id)
    files = [f for f in found.files if until is None or f.export_date <= until]
    new, skipped = pending_files(con, files)
    register = Register.load(Paths(landing.parent).privacy)  # None until the first erasure
    result = IngestResult(
        batch_id=batch_id, files_skipped=skipped, misfiled=found.misfiled, waiting=found.waiting
    )
    if progress:
        for misfiled in found.misfiled:
            progress(f"  not loaded: {misfiled.path}: {misfiled.reason}")
        for waiting in found.waiting:
            progress(f"  waiting: {waiting.path}: {waiting.reason}")
    if new and on_new_files:
        on_new_files()
    for index, landing_file in enumerate(new, start=1):
        content = load_file(con, landing_file, result.batch_id, register)
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
    sources: SourceConfig,
    on_new_files: Callable[[], None] | None = None,
) -> IngestResult:
    """The nightly's accumulate step: load every new landing file up to ``until``."""
    con = connect()
    try:
        return ingest(con, landing, batch_id, until, say, sources, on_new_files)
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
