"""Incremental publish: patching the previous published file gives the same tables as a
full copy, and falls back to a full copy when a patch would not match the warehouse.
Plain DuckDB files (no dbt): the nightly tests cover the publish inside real batches."""

from __future__ import annotations

from pathlib import Path

import duckdb

from chatbatch.monitor.record import BatchRecord
from chatbatch.output import publish
from tests.python.marts import fingerprint

SCHEMAS = ("marts", "audit", "reference")


def _warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    for schema in ("intermediate", *SCHEMAS):
        con.execute(f"create schema {schema}")
    con.execute(
        "create table intermediate.int_conversations_changed (conversation_id varchar, batch_id bigint)"
    )
    con.execute(
        "create table marts.fct_messages (message_id varchar, conversation_id varchar, "
        "body varchar, _processed_batch_id bigint)"
    )
    con.execute("create table marts.rpt_daily (day date, conversations bigint, _processed_batch_id bigint)")
    con.execute("create table audit.quarantine_records (line varchar, batch_id integer)")
    con.execute("create table reference.model_prices (model varchar, price double)")
    con.execute("insert into reference.model_prices values ('m', 0.5)")
    _night(con, 1, ["c1", "c2", "c3"])
    con.close()


def _night(con: duckdb.DuckDBPyConnection, batch: int, conversations: list[str]) -> None:
    """What an incremental build does: recompute the changed conversations."""
    con.execute(
        "insert into intermediate.int_conversations_changed select unnest(?), ?", [conversations, batch]
    )
    con.execute("delete from marts.fct_messages where conversation_id in (select unnest(?))", [conversations])
    con.execute(
        "insert into marts.fct_messages select c || '-' || i, c, 'text ' || ? || c || i, ? "
        "from unnest(?) as t(c), range(3) as r(i)",
        [batch, batch, conversations],
    )
    con.execute("delete from marts.rpt_daily")
    con.execute(
        "insert into marts.rpt_daily "
        "select current_date, count(distinct conversation_id), ? from marts.fct_messages",
        [batch],
    )
    con.execute("insert into audit.quarantine_records values (?, ?)", [f"bad line {batch}", batch])


def _publish(warehouse: Path, analytics: Path, batch: int, incremental: bool = True) -> None:
    record = BatchRecord(batch_id=batch, command="nightly", run_date="2026-11-01", status="ok")
    publish.publish(warehouse, analytics, record, [record], incremental=incremental)


def test_patch_equals_full_copy_and_falls_back(tmp_path: Path) -> None:
    warehouse, patched, full = tmp_path / "w.duckdb", tmp_path / "patched.duckdb", tmp_path / "full.duckdb"
    _warehouse(warehouse)
    _publish(warehouse, patched, 1)
    assert publish.published_batch(patched) == 1

    con = duckdb.connect(str(warehouse))
    _night(con, 2, ["c2", "c4"])  # one conversation changes, one is new
    con.close()
    _publish(warehouse, patched, 2)
    _publish(warehouse, full, 2, incremental=False)
    assert fingerprint(patched, SCHEMAS) == fingerprint(full, SCHEMAS)
    con = duckdb.connect(str(patched), read_only=True)
    assert con.execute("select count(*) from audit.quarantine_records").fetchone() == (2,)
    assert con.execute("select count(*) from marts.fct_messages where body like 'text 2%'").fetchone() == (6,)
    con.close()

    # a conversation vanished without a changelog row: the patch would not match, full copy
    con = duckdb.connect(str(warehouse))
    con.execute("delete from marts.fct_messages where conversation_id = 'c1'")
    _night(con, 3, ["c3"])
    con.close()
    _publish(warehouse, patched, 3)
    _publish(warehouse, full, 3, incremental=False)
    assert fingerprint(patched, SCHEMAS) == fingerprint(full, SCHEMAS)
    assert publish.published_batch(patched) == 3
