"""Ingest step: find new landing files and load their lines, untouched, into raw tables.

Every line of every landing file becomes exactly one row of ``raw.<entity>``, with the
file, the line number and, where the bytes could not be read as text, a line error
(``invalid_utf8``, ``truncated_file``). Parsing JSON and judging records is dbt's job
(the base staging models); this step only guarantees that nothing is lost on the way in.

The file manifest ``chatbatch.landing_files`` remembers what was loaded (path, size,
sha256, line count, batch). Loading one file and recording it in the manifest happen in
one DuckDB transaction, so a run killed at any moment leaves either both or neither.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from chatbatch.core.faults import checkpoint
from chatbatch.output.files import sha256_of

ENTITIES: tuple[str, ...] = (
    "conversations",
    "messages",
    "events",
    "feedback",
    "kb_documents",
    "users",
)
PARTITION_RE = re.compile(r"^export_date=(\d{4}-\d{2}-\d{2})$")
SUFFIXES = (".jsonl", ".jsonl.gz")

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


class IngestError(Exception):
    """A landing file the project refuses to load; the message names the file."""


class ContentChangedError(IngestError):
    """A file already loaded under the same path now has different content."""


@dataclass(frozen=True)
class LandingFile:
    """One file in the landing area, addressed relative to the landing root."""

    entity: str
    export_date: date
    relative_path: str
    absolute_path: Path


@dataclass
class FileLines:
    """The lines read from one file, and what went wrong reading it, if anything."""

    lines: list[str]
    line_errors: list[str | None]
    file_error: str | None
    size_bytes: int
    sha256: str


@dataclass
class IngestResult:
    batch_id: int
    files_loaded: list[str] = field(default_factory=list)
    files_skipped: int = 0
    lines_read: int = 0
    file_errors: dict[str, str] = field(default_factory=dict)
    lines_by_entity: dict[str, int] = field(default_factory=dict)


def discover(landing: Path) -> list[LandingFile]:
    """List landing files in a stable order: entity, export date, path.

    Folders whose name starts with ``_`` or ``.`` are ignored (the generator keeps its
    own notes there). A file in an entity folder that does not follow the layout is an
    error that names the file, never silently skipped.
    """
    found: list[LandingFile] = []
    if not landing.exists():
        return found
    for entity in ENTITIES:
        entity_dir = landing / entity
        if not entity_dir.is_dir():
            continue
        for partition in sorted(entity_dir.iterdir()):
            if partition.name.startswith((".", "_")):
                continue
            match = PARTITION_RE.match(partition.name)
            if not partition.is_dir() or not match:
                raise IngestError(
                    f"{partition}: expected a folder named export_date=YYYY-MM-DD under {entity_dir}"
                )
            try:
                export_date = date.fromisoformat(match.group(1))
            except ValueError as exc:
                raise IngestError(f"{partition}: invalid export date ({exc})") from exc
            for path in sorted(partition.iterdir()):
                if path.name.startswith((".", "_")):
                    continue
                if not path.name.endswith(SUFFIXES):
                    raise IngestError(f"{path}: unexpected file; landing files end in .jsonl or .jsonl.gz")
                found.append(
                    LandingFile(
                        entity=entity,
                        export_date=export_date,
                        relative_path=path.relative_to(landing).as_posix(),
                        absolute_path=path,
                    )
                )
    return found


def _decompress(data: bytes) -> tuple[bytes, str | None]:
    """Gunzip what can be read (all members); a cut or corrupt stream yields its prefix."""
    out = bytearray()
    remaining = data
    while remaining:
        decompressor = zlib.decompressobj(wbits=31)
        try:
            out += decompressor.decompress(remaining)
            out += decompressor.flush()
        except zlib.error:
            return bytes(out) + _decompress_prefix(remaining), "corrupt_gzip"
        if not decompressor.eof:
            return bytes(out), "truncated_gzip"
        remaining = decompressor.unused_data
    return bytes(out), None


def _decompress_prefix(data: bytes, chunk: int = 65536) -> bytes:
    """Decompress chunk by chunk, keeping everything before the first corrupt block."""
    decompressor = zlib.decompressobj(wbits=31)
    out = bytearray()
    for start in range(0, len(data), chunk):
        try:
            out += decompressor.decompress(data[start : start + chunk])
        except zlib.error:
            break
    return bytes(out)


def read_lines(path: Path) -> FileLines:
    """Read one landing file into lines, never raising on bad content."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    file_error: str | None = None
    payload = data
    if path.name.endswith(".gz"):
        payload, file_error = _decompress(data)
    ends_cleanly = payload.endswith(b"\n") or not payload
    lines: list[str]
    errors: list[str | None]
    try:
        lines = payload.decode("utf-8").split("\n")
        errors = [None] * len(lines)
    except UnicodeDecodeError:
        lines, errors = [], []
        for raw in payload.split(b"\n"):
            try:
                lines.append(raw.decode("utf-8"))
                errors.append(None)
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", errors="backslashreplace"))
                errors.append("invalid_utf8")
    if ends_cleanly:
        lines.pop()
        errors.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if file_error and lines and not ends_cleanly:
        errors[-1] = "truncated_file"
    return FileLines(lines, errors, file_error, len(data), sha256)


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
                f"{landing_file.absolute_path}: content changed since it was loaded "
                f"(sha256 was {sha[:12]}…). Landing files are immutable; write corrected "
                "records to a new file instead."
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


def ingest(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    batch_id: int | None = None,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestResult:
    """Load every landing file not yet in the manifest (export date <= ``until``)."""
    ensure_state(con)
    files = [f for f in discover(landing) if until is None or f.export_date <= until]
    new, skipped = pending_files(con, files)
    result = IngestResult(batch_id=batch_id or next_batch_id(con), files_skipped=skipped)
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
