"""Later nights never bring an erased subject back: the ingest step's filter.

``accumulate/ingest.py`` calls :func:`filter_lines` on a file's lines before they reach
raw, when the home has a register (``subjects.Register.load`` is None until the first
``chatbatch forget``, so a home that never erased anyone runs nothing extra). JSON records
are judged in one DuckDB query over the file's lines: ``sha256(salt || field)`` of each
key field against the register's hashes. OTLP lines are filtered span by span in Python
(``landing_scrub.scrub_otlp_message``). The dropped lines are counted in the manifest
(``chatbatch.landing_files.erased_lines``); the link ids of a dropped record of an erased
user (a new conversation of theirs) are registered too, so its messages, events and
feedback, which follow in the same ingest (contract v1 entities load in ENTITIES order),
are dropped as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from chatbatch.accumulate.landing import LandingFile
from chatbatch.accumulate.lines import FileLines
from chatbatch.core.digest import sha256_of
from chatbatch.privacy.landing_scrub import scrub_file, scrub_otlp_message
from chatbatch.privacy.subjects import OTEL_TABLE, RECORD_KEYS, Register


@dataclass
class Filtered:
    lines: pa.Table  # line_number, line, line_error: the lines that go to raw
    erased_lines: int = 0
    erased_spans: int = 0
    links: set[str] = field(default_factory=set)
    mtime_ns: int | None = None  # of the landing file once rewritten without them

    @property
    def changed(self) -> bool:
        return self.erased_lines > 0 or self.erased_spans > 0


def apply(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    lines: pa.Table,
    content: FileLines,
    register: Register | None,
) -> Filtered:
    """The ingest hook: filter the lines; when some were erased, register the link ids of
    the dropped records and rewrite the landing file without them too (so it matches raw),
    updating ``content``'s size and sha256 to the rewritten file's."""
    if register is None:
        return Filtered(lines)
    filtered = filter_lines(con, landing_file.entity, lines, register)
    register.add(filtered.links)
    if filtered.changed:
        path = landing_file.absolute_path
        scrub_file(path, landing_file.entity, register)
        if path.exists():
            stat = path.stat()
            content.size_bytes, content.sha256, filtered.mtime_ns = (
                stat.st_size,
                sha256_of(path),
                stat.st_mtime_ns,
            )
        else:
            content.size_bytes, content.sha256 = 0, hashlib.sha256(b"").hexdigest()
    return filtered


def filter_lines(con: duckdb.DuckDBPyConnection, table: str, lines: pa.Table, register: Register) -> Filtered:
    """The file's lines without those of erased subjects (line numbers as read)."""
    if table == OTEL_TABLE:
        return _filter_otlp(lines, register)
    keys = RECORD_KEYS.get(table)
    if keys is None or not register.hashes or lines.num_rows == 0:
        return Filtered(lines)
    hashed = ", ".join(f"sha256($salt || {json_field('line', name)})" for name in keys.fields)
    con.register("privacy_lines", lines)
    con.register("privacy_hashes", pa.table({"h": pa.array(sorted(register.hashes), pa.string())}))
    try:
        con.execute(
            f"""
            create or replace temp table privacy_judged as
            select
                line_number, line, line_error,
                coalesce(
                    list_has_any(
                        [{hashed}], (select list(h) from privacy_hashes)
                    ),
                    false
                ) as erased
            from privacy_lines
            """,
            {"salt": register.salt},
        )
        kept = con.sql(
            "select line_number, line, line_error from privacy_judged where not erased order by line_number"
        ).to_arrow_table()
        erased = lines.num_rows - kept.num_rows
        links: set[str] = set()
        if erased and keys.owner:
            owner = " or ".join(
                f"list_contains((select list(h) from privacy_hashes), "
                f"sha256($salt || {json_field('line', name)}))"
                for name in keys.owner
            )
            for name in keys.links:
                rows = con.execute(
                    f"""
                    select distinct {json_field("line", name)} from privacy_judged
                    where erased and ({owner})
                    """,
                    {"salt": register.salt},
                ).fetchall()
                links.update(value for (value,) in rows if value)
        con.execute("drop table privacy_judged")
    finally:
        con.unregister("privacy_lines")
        con.unregister("privacy_hashes")
    return Filtered(kept.cast(lines.schema), erased_lines=erased, links=links)


def json_field(column: str, name: str) -> str:
    """SQL: the text of a JSON field of ``column``, null when the line is not JSON."""
    return f"case when json_valid({column}) then json_extract_string({column}, '$.\"{name}\"') end"


def _filter_otlp(lines: pa.Table, register: Register) -> Filtered:
    numbers = lines.column("line_number").to_pylist()
    texts = lines.column("line").to_pylist()
    errors = lines.column("line_error").to_pylist()
    out = Filtered(lines)
    kept: tuple[list, list, list] = ([], [], [])
    for number, text, error in zip(numbers, texts, errors, strict=True):
        line, removed, links = (text, 0, set()) if text is None else scrub_otlp_message(text, register)
        out.erased_spans += removed
        out.links |= links
        if line is None:
            out.erased_lines += 1
            continue
        for column, value in zip(kept, (number, line, error), strict=True):
            column.append(value)
    if out.changed:
        out.lines = pa.table(dict(zip(lines.column_names, kept, strict=True)), schema=lines.schema)
    return out
