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
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]i?)B$", re.IGNORECASE)
# DuckDB's units: KB, MB, ... are powers of 1000, KiB, MiB, ... powers of 1024
_UNIT_BYTES = {
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}


def memory_limit(share: float = 1.0) -> str:
    """The runner's DuckDB memory limit (``CHATBATCH_DUCKDB_MEMORY_LIMIT``), or ``share`` of it."""
    value = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT).strip()
    size = _SIZE.match(value)
    if not size:
        raise ConfigError(
            f"{MEMORY_LIMIT_ENV}={value!r} is not a size",
            f"set it to a size such as 1536MB or 2GB, or unset it for {DEFAULT_MEMORY_LIMIT}",
        )
    if share == 1.0:
        return value
    limit = float(size.group(1)) * _UNIT_BYTES[size.group(2).lower()]
    return f"{int(limit * share) // 10**6}MB"


def connect(
    database: Path | str, read_only: bool = False, memory_share: float = 1.0
) -> duckdb.DuckDBPyConnection:
    """Open ``database`` with the runner's memory limit, or ``memory_share`` of it (spilling
    to ``<database>.tmp``)."""
    con = duckdb.connect(str(database), read_only=read_only)
    con.execute(f"set memory_limit = '{memory_limit(memory_share)}'")
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
