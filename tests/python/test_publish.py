"""Incremental publish: patching the previous published file gives the same tables as a
full copy, and falls back to a full copy when a patch would not match the warehouse.
Plain DuckDB files (no dbt): the nightly tests cover the publish inside real batches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from chatbatch.monitor.record import BatchRecord
from chatbatch.output import publish, standby
from tests.python.marts import fingerprint

SCHEMAS = ("marts", "audit", "reference", "features", "topics")


def _warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    for schema in SCHEMAS:
        con.execute(f"create schema {schema}")
    con.execute(
        "create table marts.fct_messages (message_id varchar, conversation_id varchar, "
        "body varchar, _processed_batch_id bigint)"
    )
    con.execute("create table marts.rpt_daily (day date, conversations bigint, _processed_batch_id bigint)")
    con.execute("create table audit.quarantine_records (line varchar, batch_id integer)")
    con.execute(
        "create table features.feat_user_daily (user_id varchar, as_of_date date, conversations bigint, "
        "_processed_batch_id bigint)"
    )
    # patched by its own stamp column (publish.PATCHED_BY_KEY), as the topics step writes it
    con.execute(
        "create table topics.message_topics (message_id varchar, conversation_id varchar, "
        "topic_id integer, assigned_batch_id integer)"
    )
    con.execute("create table reference.model_prices (model varchar, price double)")
    con.execute("insert into reference.model_prices values ('m', 0.5)")
    _night(con, 1, ["c1", "c2", "c3"])
    con.close()


def _night(con: duckdb.DuckDBPyConnection, batch: int, conversations: list[str]) -> None:
    """What an incremental build does: recompute the changed conversations and stamp their
    rows with the batch (publish reads no changelog: only the stamps)."""
    con.execute("delete from marts.fct_messages where conversation_id in (select unnest(?))", [conversations])
    con.execute(
        "insert into marts.fct_messages select c || '-' || i, c, 'text ' || ? || c || i, ? "
        "from unnest(?) as t(c), range(3) as r(i)",
        [batch, batch, conversations],
    )
    # per user (a conversation's user: its id with u for c), every row of a changed user
    users = ["u" + c[1:] for c in conversations]
    con.execute("delete from features.feat_user_daily where user_id in (select unnest(?))", [users])
    con.execute(
        "insert into features.feat_user_daily "
        "select 'u' || substr(conversation_id, 2), current_date - i::int, count(*), ? "
        "from marts.fct_messages, range(2) as r(i) "
        "where 'u' || substr(conversation_id, 2) in (select unnest(?)) group by all",
        [batch, users],
    )
    con.execute("delete from marts.rpt_daily")
    con.execute(
        "insert into marts.rpt_daily "
        "select current_date, count(distinct conversation_id), ? from marts.fct_messages",
        [batch],
    )
    con.execute(
        "delete from topics.message_topics where conversation_id in (select unnest(?))", [conversations]
    )
    con.execute(
        "insert into topics.message_topics select message_id, conversation_id, ?, ? "
        "from marts.fct_messages where conversation_id in (select unnest(?)) and message_id like '%-0'",
        [batch, batch, conversations],
    )
    con.execute("insert into audit.quarantine_records values (?, ?)", [f"bad line {batch}", batch])


def _publish(warehouse: Path, analytics: Path, batch: int, incremental: bool = True) -> None:
    record = BatchRecord(batch_id=batch, command="nightly", run_date="2026-11-01", status="ok")
    publish.publish(warehouse, analytics, record, [record], incremental=incremental)


def test_patch_equals_full_copy_and_falls_back(tmp_path: Path) -> None:
    warehouse, patched, full = tmp_path / "w.duckdb", tmp_path / "patched.duckdb", tmp_path / "full.duckdb"
    _warehouse(warehouse)
    _publish(warehouse, patched, 1)
    assert standby.published_batch(patched) == 1

    con = duckdb.connect(str(warehouse))
    _night(con, 2, ["c2", "c4"])  # one conversation changes, one is new
    con.close()
    _publish(warehouse, patched, 2)
    _publish(warehouse, full, 2, incremental=False)
    assert fingerprint(patched, SCHEMAS) == fingerprint(full, SCHEMAS)
    con = duckdb.connect(str(patched), read_only=True)
    assert con.execute("select count(*) from audit.quarantine_records").fetchone() == (2,)
    assert con.execute("select count(*) from marts.fct_messages where body like 'text 2%'").fetchone() == (6,)
    assert con.execute(
        "select count(*), count(*) filter (where topic_id = 2) from topics.message_topics"
    ).fetchone() == (4, 2)
    con.close()

    # a conversation vanished (no newer row says so): the patch would not match, full copy
    con = duckdb.connect(str(warehouse))
    con.execute("delete from marts.fct_messages where conversation_id = 'c1'")
    _night(con, 3, ["c3"])
    con.close()
    _publish(warehouse, patched, 3)
    _publish(warehouse, full, 3, incremental=False)
    assert fingerprint(patched, SCHEMAS) == fingerprint(full, SCHEMAS)
    assert standby.published_batch(patched) == 3


def test_the_standby_is_patched_and_never_written_under_a_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replaced file becomes the standby; the next publish patches it (two nights of
    changes) instead of copying the published file; a standby a reader still has open, one
    a kill left at the published batch, or one too far behind, is handled; a full copy
    keeps no older standby."""
    monkeypatch.setattr(standby, "STANDBY_MAX_BEHIND", 1.0)  # these tables are tiny: every night is most rows
    warehouse, analytics, full = tmp_path / "w.duckdb", tmp_path / "a.duckdb", tmp_path / "full.duckdb"
    kept = standby.standby_of(analytics)
    _warehouse(warehouse)
    _publish(warehouse, analytics, 1)
    assert standby.published_batch(kept) == 1  # nothing was replaced: a copy

    def night_and_publish(batch: int, conversations: list[str]) -> None:
        con = duckdb.connect(str(warehouse))
        _night(con, batch, conversations)
        con.close()
        _publish(warehouse, analytics, batch)
        _publish(warehouse, full, batch, incremental=False)
        assert fingerprint(analytics, SCHEMAS) == fingerprint(full, SCHEMAS)
        assert standby.published_batch(analytics) == batch
        # the replaced version; a copy of the new one after a night of more rows than the
        # standby may lag (the next night would copy it instead of patching)
        assert standby.published_batch(kept) == batch - (standby.STANDBY_MAX_BEHIND > 0)

    patched = kept.stat().st_ino
    night_and_publish(2, ["c2", "c4"])  # from the standby of batch 1
    assert analytics.stat().st_ino == patched
    patched = kept.stat().st_ino
    night_and_publish(3, ["c1", "c5"])  # from the standby of batch 1 (linked): changes of 2 and 3
    assert analytics.stat().st_ino == patched
    assert not (tmp_path / "a.duckdb.publishing").exists()

    # a reader in another process holds the standby (batch 2): DuckDB would refuse to write
    # it, so the publish starts from a copy, and the reader's version stays as it was
    reader = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(kept)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "2"
        night_and_publish(4, ["c3"])
        night_and_publish(5, ["c6"])  # the standby of batch 4: the link made after the copy
    finally:
        still, _ = reader.communicate("")
    assert still.strip() == "2"

    # a standby too far behind (after a catch-up slice) is not patched: the copy; and
    # the night brought too many rows for the replaced version to be the next standby
    monkeypatch.setattr(standby, "STANDBY_MAX_BEHIND", 0.0)
    behind = kept.stat().st_ino
    night_and_publish(6, ["c1"])
    assert analytics.stat().st_ino != behind
    assert not os.path.samefile(kept, analytics)
    monkeypatch.setattr(standby, "STANDBY_MAX_BEHIND", 1.0)
    patched = kept.stat().st_ino
    night_and_publish(7, ["c4"])  # from that copy of batch 6
    assert analytics.stat().st_ino == patched

    # a kill after the link and before the rename: the standby is the published file
    os.unlink(kept)
    os.link(analytics, kept)
    before = fingerprint(analytics, SCHEMAS)
    os.link(analytics, tmp_path / "published-7.duckdb")  # what analysts had open (batch 7)
    night_and_publish(8, ["c2"])
    assert fingerprint(tmp_path / "published-7.duckdb", SCHEMAS) == before  # not written in place

    # a full copy (full refresh, backfill) keeps no older standby, no batch stamp leads from
    # it: the new file is copied as the standby
    con = duckdb.connect(str(warehouse))
    _night(con, 9, ["c7"])
    con.close()
    _publish(warehouse, analytics, 9, incremental=False)
    assert standby.published_batch(kept) == 9
    assert not os.path.samefile(kept, analytics)
    standby.discard_standby(analytics)
    assert not kept.exists()


_HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
batch = "select max(batch_id) from ops.published_batch"
print(con.execute(batch).fetchone()[0], flush=True)
sys.stdin.read()
print(con.execute(batch).fetchone()[0])
"""
