"""What the source-model tests share: a warehouse whose raw tables are filled straight from
a source's fixture files (as the ingest step would, one raw row per record), built by the
real dbt with that source enabled; reading rows back; and the v1 shape of unioned rows."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from chatbatch.accumulate.ingest import RAW_DDL, ensure_state
from chatbatch.contract.sources import ALL_RAW_TABLES
from chatbatch.core.paths import Paths
from chatbatch.process.dbt import dbt_args, run_dbt

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
NOW = dt.datetime(2026, 3, 5, 1, 0, 0)


def load_file(
    con: duckdb.DuckDBPyConnection,
    *,
    path: str,
    table: str,
    export_date: dt.date,
    batch_id: int,
    lines: list[str],
    errors: list[str | None],
    declared_rows: int | None = None,
    size_bytes: int = 0,
    sha256: str = "-",
    file_error: str | None = None,
) -> None:
    """One landing file's lines into raw.<table> and its manifest row, as ingest writes them."""
    con.executemany(
        f"insert into raw.{table} values (?, ?, ?, ?, ?, ?, ?)",
        [
            [path, export_date, number, line, error, batch_id, NOW]
            for number, (line, error) in enumerate(zip(lines, errors, strict=True), start=1)
        ],
    )
    con.execute(
        "insert into chatbatch.landing_files (file_path, entity, export_date, size_bytes, sha256, "
        "lines_read, file_error, batch_id, first_seen_at, ingested_at, declared_rows) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            path,
            table,
            export_date,
            size_bytes,
            sha256,
            len(lines),
            file_error,
            batch_id,
            NOW,
            NOW,
            declared_rows,
        ],
    )


def build_warehouse(
    factory: pytest.TempPathFactory,
    source: str,
    land: Callable[[duckdb.DuckDBPyConnection], None],
    variables: dict,
) -> Path:
    """A home with ``land``'s raw rows, built by dbt with ``source`` enabled; its warehouse."""
    home = factory.mktemp(f"sources-{source}") / "home"
    old = os.environ.get("CHATBATCH_HOME")
    os.environ["CHATBATCH_HOME"] = str(home)
    try:
        paths = Paths.from_env()
        paths.home.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(paths.warehouse))
        try:
            ensure_state(con)
            con.execute("alter table chatbatch.landing_files add column if not exists declared_rows bigint")
            for table in ALL_RAW_TABLES:
                con.execute(RAW_DDL.format(entity=table.name))
            land(con)
        finally:
            con.close()
        outcome = run_dbt(
            dbt_args(
                "build",
                select=[
                    "+path:models/intermediate/sources",
                    "+quarantine_records",
                    "+audit_load_reconciliation",
                ],
                exclude=["resource_type:unit_test"],
                extra=["--indirect-selection", "cautious"],
                variables={"sources": ["chatbot", source], **variables},
            ),
            paths,
        )
        assert outcome.success, [(r.name, r.status, r.message) for r in outcome.failures] or outcome.error
        return paths.warehouse
    finally:
        if old is None:
            os.environ.pop("CHATBATCH_HOME", None)
        else:
            os.environ["CHATBATCH_HOME"] = old


def rows(database: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def ts(value: object) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d %H:%M:%S.%f}"


def v1_events(got: list[dict]) -> list[dict]:
    return [
        {
            "event_id": r["event_id"],
            "conversation_id": r["conversation_id"],
            "message_id": r["message_id"],
            "event_type": r["event_type"],
            "occurred_at": ts(r["occurred_at"]),
            "payload": json.loads(r["payload"]),
        }
        for r in got
    ]


def v1_feedback(got: list[dict]) -> list[dict]:
    return [
        {
            "feedback_id": r["feedback_id"],
            "conversation_id": r["conversation_id"],
            "message_id": r["message_id"],
            "kind": r["feedback_kind"],
            "value": r["feedback_value"],
            "comment": r["comment_text"],
            "submitted_at": ts(r["submitted_at"]),
        }
        for r in got
    ]


def v1_users(got: list[dict]) -> list[dict]:
    return [
        {
            "user_id": r["user_id"],
            "created_at": r["created_at"],
            "segment": r["user_segment"],
            "country": r["country_code"],
            "exported_at": ts(r["exported_at"]),
        }
        for r in got
    ]


def v1_conversations(got: list[dict]) -> list[dict]:
    return [
        {
            "conversation_id": r["conversation_id"],
            "user_id": r["user_id"],
            "channel": r["channel"],
            "locale": r["locale"],
            "bot_id": r["bot_id"],
            "bot_version": r["bot_version"],
            "started_at": ts(r["started_at"]),
            "ended_at": ts(r["ended_at"]),
            "end_reason": r["end_reason"],
            "attributes": r["attributes"],
            "experiment_variant": None,
            "exported_at": ts(r["exported_at"]),
        }
        for r in got
    ]


def v1_messages(got: list[dict]) -> list[dict]:
    return [
        {
            "message_id": r["message_id"],
            "conversation_id": r["conversation_id"],
            "role": r["message_role"],
            "sent_at": ts(r["sent_at"]),
            "text": r["message_text"],
            "intent": r["intent_name"],
            "model": r["model_name"],
            "usage": None
            if r["input_tokens"] is None and r["output_tokens"] is None
            else {"input_tokens": r["input_tokens"], "output_tokens": r["output_tokens"]},
            "latency_ms": r["latency_ms"],
            "retrieved_document_ids": r["retrieved_document_ids"],
            "sentiment": None,
            "source_cost_usd": None if r["source_cost_usd"] is None else round(r["source_cost_usd"], 12),
        }
        for r in got
    ]


# entity -> (its key, the v1 shape of an int_<entity>_unioned row)
V1_SHAPES: dict[str, tuple[str, Callable[[list[dict]], list[dict]]]] = {
    "conversations": ("conversation_id", v1_conversations),
    "messages": ("message_id", v1_messages),
    "events": ("event_id", v1_events),
    "feedback": ("feedback_id", v1_feedback),
    "users": ("user_id", v1_users),
}


def unioned_as_v1(database: Path, entity: str, source: str) -> list[dict]:
    """The source's rows of int_<entity>_unioned in the shape of the fixtures' expected.json."""
    key, shape = V1_SHAPES[entity]
    query = f"select * from intermediate.int_{entity}_unioned where source_system = ? order by {key}"
    con = duckdb.connect(str(database), read_only=True)
    try:
        cursor = con.execute(query, [source])
        names = [d[0] for d in cursor.description]
        return shape([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
    finally:
        con.close()


def expected_rows(expected: dict, entity: str) -> list[dict]:
    key = V1_SHAPES[entity][0]
    return sorted(expected[entity], key=lambda row: row[key])
