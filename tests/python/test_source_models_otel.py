"""OpenTelemetry GenAI fixture lines through the real dbt models into the contract v1 entities.

The raw table is filled directly from the fixture file with the source reader (as the ingest
step would, one raw row per OTLP message), so this test needs only the dbt side.
Expected rows: tests/python/fixtures/sources/otel/expected.json (docs/sources/otel-genai.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pytest

from chatbatch.accumulate.ingest import RAW_DDL, ensure_state
from chatbatch.accumulate.sources import otlp
from chatbatch.contract.sources import ALL_RAW_TABLES
from chatbatch.core.paths import Paths
from chatbatch.process.dbt import dbt_args, run_dbt

FIXTURES = Path(__file__).parent / "fixtures" / "sources" / "otel"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
COLLECTOR = "otel/fixture-collector"
NOW = dt.datetime(2026, 3, 5, 1, 0, 0)


def _land_otel(con: duckdb.DuckDBPyConnection) -> None:
    """Every rotated fixture file, one batch per file, as the ingest step loads it."""
    for batch_id, path in enumerate(sorted(FIXTURES.glob("*.json*")), 1):
        match = otlp.ROTATED_NAME_RE.match(path.name)
        if path.name == "expected.json" or match is None:
            continue
        read = otlp.read_otlp_file(path)
        relative = f"{COLLECTOR}/{path.name}"
        export_date = dt.date.fromisoformat(match["ts"])
        con.executemany(
            "insert into raw.otel_traces values (?, ?, ?, ?, ?, ?, ?)",
            [
                [relative, export_date, number, line, error, batch_id, NOW]
                for number, (line, error) in enumerate(zip(read.lines, read.line_errors, strict=True), 1)
            ],
        )
        size, lines = read.size_bytes, len(read.lines)
        con.execute(
            "insert into chatbatch.landing_files (file_path, entity, export_date, size_bytes, sha256, "
            "lines_read, file_error, batch_id, first_seen_at, ingested_at, declared_rows) "
            "values (?, 'otel_traces', ?, ?, ?, ?, ?, ?, ?, ?, null)",
            [relative, export_date, size, read.sha256, lines, read.file_error, batch_id, NOW, NOW],
        )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sources-otel") / "home"
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
            _land_otel(con)
        finally:
            con.close()
        variables = {"sources": ["chatbot", "otel"], **EXPECTED["vars"]}
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
                variables=variables,
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


def _rows(database: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _ts(value: object) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d %H:%M:%S.%f}"


def _file(path: str) -> str:
    return path.removeprefix(f"{COLLECTOR}/")


def test_conversations(warehouse: Path) -> None:
    got = _rows(
        warehouse,
        "select * from intermediate.int_conversations_unioned where source_system = 'otel' "
        "order by conversation_id",
    )
    want = sorted(EXPECTED["conversations"], key=lambda r: r["conversation_id"])
    assert [
        {
            "conversation_id": r["conversation_id"],
            "user_id": r["user_id"],
            "channel": r["channel"],
            "locale": r["locale"],
            "bot_id": r["bot_id"],
            "bot_version": r["bot_version"],
            "started_at": _ts(r["started_at"]),
            "ended_at": _ts(r["ended_at"]),
            "end_reason": r["end_reason"],
            "attributes": r["attributes"],
            "experiment_variant": None,
            "exported_at": _ts(r["exported_at"]),
        }
        for r in got
    ] == want


def test_messages(warehouse: Path) -> None:
    got = _rows(
        warehouse,
        "select * from intermediate.int_messages_unioned where source_system = 'otel' order by message_id",
    )
    want = sorted(EXPECTED["messages"], key=lambda r: r["message_id"])
    assert [
        {
            "message_id": r["message_id"],
            "conversation_id": r["conversation_id"],
            "role": r["message_role"],
            "sent_at": _ts(r["sent_at"]),
            "text": r["message_text"],
            "intent": r["intent_name"],
            "model": r["model_name"],
            "usage": None
            if r["input_tokens"] is None and r["output_tokens"] is None
            else {"input_tokens": r["input_tokens"], "output_tokens": r["output_tokens"]},
            "latency_ms": r["latency_ms"],
            "retrieved_document_ids": r["retrieved_document_ids"],
            "sentiment": None,
            "source_cost_usd": r["source_cost_usd"],
        }
        for r in got
    ] == want


def test_events(warehouse: Path) -> None:
    got = _rows(
        warehouse,
        "select * from intermediate.int_events_unioned where source_system = 'otel' order by event_id",
    )
    want = sorted(EXPECTED["events"], key=lambda r: r["event_id"])
    assert [
        {
            "event_id": r["event_id"],
            "conversation_id": r["conversation_id"],
            "message_id": r["message_id"],
            "event_type": r["event_type"],
            "occurred_at": _ts(r["occurred_at"]),
            "payload": json.loads(r["payload"]),
        }
        for r in got
    ] == want


def test_feedback(warehouse: Path) -> None:
    got = _rows(
        warehouse,
        "select * from intermediate.int_feedback_unioned where source_system = 'otel' order by feedback_id",
    )
    want = sorted(EXPECTED["feedback"], key=lambda r: r["feedback_id"])
    assert [
        {
            "feedback_id": r["feedback_id"],
            "conversation_id": r["conversation_id"],
            "message_id": r["message_id"],
            "kind": r["feedback_kind"],
            "value": r["feedback_value"],
            "comment": r["comment_text"],
            "submitted_at": _ts(r["submitted_at"]),
        }
        for r in got
    ] == want


def test_users(warehouse: Path) -> None:
    got = _rows(warehouse, "select * from intermediate.int_users_unioned where source_system = 'otel'")
    assert [
        {
            "user_id": r["user_id"],
            "created_at": r["created_at"],
            "segment": r["user_segment"],
            "country": r["country_code"],
            "exported_at": _ts(r["exported_at"]),
        }
        for r in got
    ] == EXPECTED["users"]


def test_quarantine(warehouse: Path) -> None:
    """Line level (audit.quarantine_records), span level (base_otel__spans) and message level."""
    lines = _rows(
        warehouse,
        "select file_path, line_number, quarantine_reason from audit.quarantine_records "
        "where entity = 'otel_traces'",
    )
    spans = _rows(
        warehouse,
        "select _file_path, _line_number, _span_index, span_id, _quarantine_reason "
        "from staging.base_otel__spans where _quarantine_reason is not null",
    )
    messages = _rows(
        warehouse,
        "select _file_path, _line_number, _span_index, span_id, _message_quarantine_reason "
        "from intermediate.int_otel_spans_resolved where _message_quarantine_reason is not null",
    )
    got = (
        [
            {
                "file": _file(r["file_path"]),
                "line": r["line_number"],
                "span": None,
                "record": None,
                "reason": r["quarantine_reason"],
            }
            for r in lines
        ]
        + [
            {
                "file": _file(r["_file_path"]),
                "line": r["_line_number"],
                "span": r["_span_index"],
                "record": r["span_id"],
                "reason": r["_quarantine_reason"],
            }
            for r in spans
        ]
        + [
            {
                "file": _file(r["_file_path"]),
                "line": r["_line_number"],
                "span": r["_span_index"],
                "record": r["span_id"],
                "entity": "messages",
                "reason": r["_message_quarantine_reason"],
            }
            for r in messages
        ]
    )

    def order(q: dict) -> tuple:
        return (q["file"], q["line"], -1 if q["span"] is None else q["span"])

    assert sorted(got, key=order) == sorted(EXPECTED["quarantine"], key=order)


def test_duplicates(warehouse: Path) -> None:
    """Span copies that lost to an identical (or newer) copy of the same (traceId, spanId)."""
    got = _rows(
        warehouse,
        """
        select base._file_path, base._line_number, base._span_index, base.span_id
        from staging.base_otel__spans as base
        left join staging.stg_otel__spans as kept
            on base._file_path = kept._file_path
            and base._line_number = kept._line_number
            and base._span_index = kept._span_index
        where base._quarantine_reason is null and kept.span_id is null
        order by 1, 2, 3
        """,
    )
    assert [
        {
            "file": _file(r["_file_path"]),
            "line": r["_line_number"],
            "span": r["_span_index"],
            "record": r["span_id"],
        }
        for r in got
    ] == [{k: v for k, v in d.items() if k != "why"} for d in EXPECTED["duplicates"]]


def test_reconciliation_balances(warehouse: Path) -> None:
    """Line level in audit_load_reconciliation; span level per file in int_otel_span_reconciliation."""
    lines = _rows(
        warehouse,
        "select lines_read, loaded, quarantined, duplicates, is_balanced "
        "from audit.audit_load_reconciliation where entity = 'otel_traces'",
    )
    spans = _rows(warehouse, "select * from intermediate.int_otel_span_reconciliation order by file_path")
    want = EXPECTED["reconciliation"]
    assert [
        {
            "lines_read": r["lines_read"],
            "loaded": r["loaded"],
            "quarantined": r["quarantined"],
            "duplicates": 0,
        }
        for r in lines
    ] == [
        {
            "lines_read": w["lines"],
            "loaded": w["lines_loaded"],
            "quarantined": w["lines_quarantined"],
            "duplicates": 0,
        }
        for w in want.values()
    ]
    assert all(r["is_balanced"] for r in lines)
    assert {
        _file(r["file_path"]): {
            "lines": r["lines"],
            "lines_loaded": r["lines_loaded"],
            "lines_quarantined": r["lines_quarantined"],
            "spans": r["spans"],
            "spans_loaded": r["spans_loaded"],
            "spans_quarantined": r["spans_quarantined"],
            "spans_duplicate": r["spans_duplicate"],
        }
        for r in spans
    } == want
    assert all(r["is_balanced"] for r in spans)
