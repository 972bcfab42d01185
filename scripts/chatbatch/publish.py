"""Publish step (write-audit-publish): make audited marts visible atomically.

The marts are copied from the working warehouse into a new DuckDB file beside
``analytics.duckdb``, which then replaces it with one ``os.replace``. Analysts only
ever open ``analytics.duckdb``: it is never written in place, so a read-only
connection works at any time, even while the next batch builds, and a connection
opened before a publish keeps reading the previous, consistent version.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb

from chatbatch.faults import checkpoint

PUBLISHED_SCHEMAS = ("marts", "audit", "reference", "features", "kb")


def publish(
    warehouse: Path,
    analytics: Path,
    batch: dict[str, Any],
    history: list[dict[str, Any]],
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
) -> dict[str, int]:
    """Copy the published schemas and the run history; return rows per table."""
    staging_file = analytics.with_name(analytics.name + ".publishing")
    staging_file.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    con = duckdb.connect(str(staging_file))
    try:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        tables = con.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_catalog = 'warehouse' and table_schema in ({})
            order by 1, 2
            """.format(", ".join("?" for _ in schemas)),
            list(schemas),
        ).fetchall()
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f'create schema "{schema}"')
        for schema, table in tables:
            con.execute(f'create table "{schema}"."{table}" as select * from warehouse."{schema}"."{table}"')
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            rows[f"{schema}.{table}"] = int(count[0]) if count else 0
        con.execute("detach warehouse")
        _write_ops(con, batch, history)
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync(staging_file)
    checkpoint("publish:before_rename")
    os.replace(staging_file, analytics)
    _fsync(analytics.parent)
    checkpoint("publish:after_rename")
    return rows


def _write_ops(con: duckdb.DuckDBPyConnection, batch: dict[str, Any], history: list[dict[str, Any]]) -> None:
    """Run history and the published batch, for analysts and dashboards."""
    con.execute("create schema ops")
    con.execute(
        """
        create table ops.batch_runs (
            batch_id integer, command varchar, status varchar, run_date date,
            started_at timestamptz, finished_at timestamptz, files integer,
            lines_read bigint, loaded bigint, quarantined bigint, duplicates bigint,
            late_beyond_lookback bigint, published boolean, error varchar, record json
        )
        """
    )
    for record in history:
        con.execute(
            "insert into ops.batch_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record["batch_id"],
                record["command"],
                record["status"],
                record["run_date"],
                record["started_at"],
                record.get("finished_at"),
                record.get("files", 0),
                record.get("lines_read", 0),
                record.get("loaded", 0),
                record.get("quarantined", 0),
                record.get("duplicates", 0),
                record.get("late_beyond_lookback", 0),
                record.get("published", False),
                record.get("error"),
                json.dumps(record, default=str),
            ],
        )
    con.execute(
        "create table ops.published_batch as select ? as batch_id, ? as run_date, now() as published_at",
        [batch["batch_id"], batch["run_date"]],
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
