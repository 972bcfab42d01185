"""Which texts retention has expired in this warehouse: ``chatbatch.text_expired``.

One row per kind (``raw_lines``, ``staging_text``, ``quarantine``): the text of rows
exported before ``before`` was dropped (the rows stay, so every count still adds up).
The table lives in the warehouse, so a restored snapshot says what *it* holds.

A full refresh reads it: the base models are rebuilt from ``raw.*._line``, so once raw
lines expired they are kept as they are (incremental, only new batches typed) and every
model downstream of them is rebuilt from their rows. Once staging text expired, a full
refresh is refused: it would rebuild the ML sets and the archive from null texts
(docs/privacy.md, "Retention").
"""

from __future__ import annotations

from datetime import date

import duckdb

from chatbatch.core.errors import OperatorError
from chatbatch.core.exit_codes import ExitCode

DDL = """
create schema if not exists chatbatch;
create table if not exists chatbatch.text_expired (
    kind varchar primary key,
    before date not null,
    expired_at timestamp not null
);
"""


def mark(con: duckdb.DuckDBPyConnection, kind: str, before: date) -> None:
    """Record that ``kind`` has no text for rows exported before ``before`` (never moves back)."""
    con.execute(DDL)
    con.execute(
        """
        insert into chatbatch.text_expired values (?, ?, now())
        on conflict (kind) do update set
            before = greatest(before, excluded.before), expired_at = excluded.expired_at
        """,
        [kind, before],
    )


def expired(con: duckdb.DuckDBPyConnection) -> dict[str, date]:
    """kind -> the export date before which its text is gone (empty when nothing expired)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'chatbatch' and table_name = 'text_expired'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    return dict(con.execute("select kind, before from chatbatch.text_expired").fetchall())


def refuse_full_refresh(expired_kinds: dict[str, date]) -> None:
    """Raise when a full refresh would rebuild the marts and exports from expired texts."""
    before = expired_kinds.get("staging_text")
    if before:
        raise OperatorError(
            f"message texts exported before {before} have expired (retention staging_text_days): "
            "a full refresh would rebuild the ML sets and the archive without them",
            "restore a snapshot taken before the change you want (`chatbatch restore`), or rebuild "
            "only the models that changed with dbt (docs/privacy.md, Retention)",
            ExitCode.USAGE,
        )
