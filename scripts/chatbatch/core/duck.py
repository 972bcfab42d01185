"""Every DuckDB connection the runner opens, with the memory limit that bounds it.

dbt's connections take their settings from ``profiles.yml``; the runner's own (ingest,
gate, audit, publish, the exports, the report) come from here. Without a limit DuckDB
may use 80 % of the machine's memory per database, and a night opens several in one
process: the 90-day catch-up peaked at 3.3 GiB that way (docs/benchmark.md).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

from chatbatch.core.errors import ConfigError

MEMORY_LIMIT_ENV = "CHATBATCH_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1536MB"  # the default of profiles.yml's dev and ci targets
_SIZE = re.compile(r"^\d+(\.\d+)?\s*[KMGT]i?B$", re.IGNORECASE)


def memory_limit() -> str:
    value = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT).strip()
    if not _SIZE.match(value):
        raise ConfigError(
            f"{MEMORY_LIMIT_ENV}={value!r} is not a size",
            f"set it to a size such as 1536MB or 2GB, or unset it for {DEFAULT_MEMORY_LIMIT}",
        )
    return value


def connect(database: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open ``database`` with the runner's memory limit (spilling to ``<database>.tmp``)."""
    con = duckdb.connect(str(database), read_only=read_only)
    con.execute(f"set memory_limit = '{memory_limit()}'")
    return con


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """``begin transaction``, the block, ``commit``; on any exception roll back and re-raise.

    When the ``commit`` itself fails (e.g. another process holds the warehouse's WAL lock)
    DuckDB has already ended the transaction, and a plain ``rollback`` would raise "no
    transaction is active" in place of the error that says what went wrong: that rollback
    error is suppressed.
    """
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("rollback")
        raise
