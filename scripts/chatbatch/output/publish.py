"""Publish step (write-audit-publish): make audited marts visible atomically.

The published schemas are written into a work file beside ``analytics.duckdb``, which then
replaces it with one ``os.replace``. Analysts only ever open ``analytics.duckdb``: it is
never written in place, so a read-only connection works at any time, even while the next
batch builds, and a connection opened before a publish keeps reading the previous,
consistent version.

A night's publish costs what the night changed, not the history. The replaced file is
kept as the *standby* (``analytics.duckdb.standby``, a hard link made before the
rename), and the next publish brings the standby up to date in place instead of copying
the whole published file: the big per-conversation marts, the per-user features, the
topic assignments and the labelling queue (PATCHED_BY_KEY) receive only the conversations
(users, messages) recomputed since the batch the file holds (delete + insert of the rows
whose batch stamp is newer: each of these tables replaces all rows of each key it
recomputes, and rows are appended batch by batch, so DuckDB reads only the newest row
groups), the append-only audit table only the newer batches, and every other (small)
table is copied whole. A patched table must end with the warehouse's row count and
columns, else it is copied whole: a key the warehouse dropped without new rows would
leave its old rows behind, and the patched table only ever has rows too many, so equal
counts mean equal rows. When there is
no usable standby (a kill, an analyst still reading that version: DuckDB will not write
a file another process has open) the work file starts as a copy of the published file; a
full refresh, a backfill, or a missing / unreadable published file copies everything,
and then copies the new file as the standby (a night that copies everything anyway pays
the copy, not the next one).

The standby is an older published version, so anything that rewrites the published file
outside a publish (retention's expiry, an erasure's compaction) discards it first
(``standby.discard_standby``): an expired or erased value must not come back with the next
patch. The standby itself: ``standby.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import duckdb

from chatbatch.core import duck
from chatbatch.core.faults import checkpoint
from chatbatch.monitor.record import BatchRecord
from chatbatch.output import standby
from chatbatch.process.night import Night

PUBLISHED_SCHEMAS = ("marts", "audit", "reference", "features", "kb", "ml_models", "topics")


class Patched(NamedTuple):
    key: str  # every row of a recomputed key is replaced
    stamp: str = "_processed_batch_id"  # the batch that wrote the row


# tables that replace every row of each key they recompute (delete, then insert rows
# stamped with the batch) and only ever append newer row groups: (schema, table) -> how.
# A new table joins this list only if it is maintained the same way. The topic assignments
# (transform/topics/store.py) and the labelling queue (output/intent_model/labelling.py) are
# written by the runner; at 30 days they were 0.35 s of a 1.5 s publish when copied whole.
PATCHED_BY_KEY = {
    ("marts", "fct_conversations"): Patched("conversation_id"),
    ("marts", "fct_messages"): Patched("conversation_id"),
    ("marts", "fct_turns"): Patched("conversation_id"),
    ("marts", "fct_tool_calls"): Patched("conversation_id"),
    ("features", "feat_user_daily"): Patched("user_id"),
    ("topics", "message_topics"): Patched("conversation_id", "assigned_batch_id"),
    ("ml_models", "ml_labelling_queue"): Patched("message_id"),
}
STAMPS = {table: patched.stamp for table, patched in PATCHED_BY_KEY.items()}
# append-only tables: (schema, table) -> the ingest batch column
APPEND_ONLY = {("audit", "quarantine_records"): "batch_id"}
# Publish runs last in a night's process, after dbt's build (whose DuckDB had the whole
# runner limit): in the last slice of a 90-day catch-up the process's peak RSS went from
# 1,920 MiB after the build to 2,131 MiB in publish, past the 2 GiB goal (docs/benchmark.md).
# Its copies and patches stream: two thirds of the limit for its buffers.
PUBLISH_MEMORY_SHARE = 2 / 3


def publish(
    warehouse: Path,
    analytics: Path,
    batch: BatchRecord,
    history: list[BatchRecord],
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
    incremental: bool = True,
) -> dict[str, int]:
    """Write the published schemas and the run history; return rows per table.

    ``incremental`` allows patching the previous published file (see the module doc);
    the caller passes False after a full refresh or a backfill.
    """
    work = analytics.with_name(analytics.name + ".publishing")
    standby.remove(work)  # a killed publish's
    standby.partial_copy(analytics).unlink(missing_ok=True)
    base_batch = standby.start(warehouse, analytics, work, STAMPS) if incremental else None
    if base_batch is None:  # everything is copied: an older lineage (no batch stamp
        standby.discard_standby(analytics)  # leads from it to this one) or nothing published
    rows: dict[str, int] = {}
    con = duck.connect(str(work), memory_share=PUBLISH_MEMORY_SHARE)
    try:
        # as in dbt's connections (profiles.yml): a table's rows have no order to keep, and
        # copying fct_messages and fct_turns without one took 10 % less (2.5 M and 1.1 M rows)
        con.execute("set preserve_insertion_order = false")
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        tables = _tables(con, "warehouse", schemas)
        with duck.transaction(con):
            for schema, table in sorted(set(_tables(con, _main(con), (*schemas, "ops"))) - set(tables)):
                con.execute(f'drop table "{schema}"."{table}"')
            for schema in sorted({schema for schema, _ in tables}):
                con.execute(f'create schema if not exists "{schema}"')
            for schema, table in tables:
                rows[f"{schema}.{table}"] = _publish_table(con, schema, table, base_batch)
        con.execute("detach warehouse")
        _write_ops(con, batch, history)
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync(work)
    checkpoint("publish:before_rename")
    if base_batch is not None:
        standby.keep(warehouse, analytics, STAMPS)
    os.replace(work, analytics)
    _fsync(analytics.parent)
    checkpoint("publish:after_rename")
    standby.copy_if_none(analytics)
    return rows


def _main(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    return str(row[0]) if row else "memory"


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (str(schema), str(table))
        for schema, table in con.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_catalog = ? and table_type = 'BASE TABLE'
                and table_schema in ({})
            order by 1, 2
            """.format(", ".join("?" for _ in schemas)),
            [catalog, *schemas],
        ).fetchall()
    ]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(kind))
        for name, kind in con.execute(
            """
            select column_name, data_type from information_schema.columns
            where table_catalog = ? and table_schema = ? and table_name = ?
            order by ordinal_position
            """,
            [catalog, schema, table],
        ).fetchall()
    ]


def _publish_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, base_batch: int | None) -> int:
    """Patch the table in place when it is safe to, else copy it whole; return its rows."""
    source = f'warehouse."{schema}"."{table}"'
    target = f'"{schema}"."{table}"'
    main = _main(con)
    columns = _columns(con, "warehouse", schema, table)
    same_shape = base_batch is not None and _columns(con, main, schema, table) == columns
    names = {name for name, _ in columns}
    patched = False
    patch = PATCHED_BY_KEY.get((schema, table))
    if same_shape and patch and {patch.key, patch.stamp} <= names:
        newer = f'"{patch.stamp}" > {int(base_batch or 0)}'  # a literal: zone maps skip older row groups
        key = patch.key
        con.execute(f'delete from {target} where "{key}" in (select "{key}" from {source} where {newer})')
        con.execute(f"insert into {target} by name select * from {source} where {newer}")
        patched = True
    elif same_shape and (schema, table) in APPEND_ONLY:
        column = APPEND_ONLY[(schema, table)]
        con.execute(f'insert into {target} by name select * from {source} where "{column}" > ?', [base_batch])
        patched = True
    if patched:
        published, expected = (_count(con, name) for name in (target, source))
        if published == expected:
            return published
    con.execute(f"drop table if exists {target}")
    con.execute(f"create table {target} as select * from {source}")
    return _count(con, target)


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def _write_ops(con: duckdb.DuckDBPyConnection, batch: BatchRecord, history: list[BatchRecord]) -> None:
    """Run history and the published batch, for analysts and dashboards."""
    con.execute("create schema if not exists ops")
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
                record.batch_id,
                record.command,
                record.status,
                record.run_date,
                record.started_at,
                record.finished_at,
                record.files,
                record.lines_read,
                record.loaded,
                record.quarantined,
                record.duplicates,
                record.late_beyond_lookback,
                record.published,
                record.error,
                json.dumps(record.to_dict(), default=str),
            ],
        )
    con.execute(
        "create table ops.published_batch as select ? as batch_id, ? as run_date, now() as published_at",
        [batch.batch_id, batch.run_date],
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_night(night: Night) -> None:
    """Publish the night, then tell the next night's data tests where published rows end
    (``chatbatch.published``, read by macros/tests/unpublished_rows.sql)."""
    with night.timed("publish"):
        runs = [r for r in night.history.records() if r.batch_id != night.record.batch_id]
        rows = publish(
            night.paths.warehouse,
            night.paths.analytics,
            night.record,
            [*runs, night.record],
            incremental=not night.options.recomputes_history,
        )
        night.say(f"  published {len(rows)} tables to {night.paths.analytics}")
        con = night.connect()
        try:
            with duck.transaction(con):
                con.execute("delete from chatbatch.published")
                con.execute("insert into chatbatch.published values (?)", [night.record.batch_id])
        finally:
            con.close()
