"""OpenTelemetry GenAI fixture lines through the real dbt models into the contract v1 entities.

The raw table is filled directly from the fixture file with the source reader (as the ingest
step would, one raw row per OTLP message), so this test needs only the dbt side.
Expected rows: tests/python/fixtures/sources/otel/expected.json (docs/sources/otel-genai.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from chatbatch.accumulate.sources import otlp
from tests.python.source_fixtures import FIXTURES as SOURCE_FIXTURES
from tests.python.source_fixtures import (
    build_warehouse,
    expected_rows,
    load_file,
    rows,
    unioned_as_v1,
)

FIXTURES = SOURCE_FIXTURES / "otel"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
COLLECTOR = "otel/fixture-collector"


def _land_otel(con: duckdb.DuckDBPyConnection) -> None:
    """Every rotated fixture file, one batch per file, as the ingest step loads it."""
    for batch_id, path in enumerate(sorted(FIXTURES.glob("*.json*")), 1):
        match = otlp.ROTATED_NAME_RE.match(path.name)
        if path.name == "expected.json" or match is None:
            continue
        read = otlp.read_otlp_file(path)
        relative = f"{COLLECTOR}/{path.name}"
        export_date = dt.date.fromisoformat(match["ts"])
        load_file(
            con,
            path=relative,
            table="otel_traces",
            export_date=export_date,
            batch_id=batch_id,
            lines=read.lines,
            errors=read.line_errors,
            size_bytes=read.size_bytes,
            sha256=read.sha256,
            file_error=read.file_error,
        )


def _file(path: str) -> str:
    return path.removeprefix(f"{COLLECTOR}/")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory, "otel", _land_otel, EXPECTED["vars"])


def test_conversations(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "conversations", "otel") == expected_rows(EXPECTED, "conversations")


def test_messages(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "messages", "otel") == expected_rows(EXPECTED, "messages")


def test_events(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "events", "otel") == expected_rows(EXPECTED, "events")


def test_feedback(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "feedback", "otel") == expected_rows(EXPECTED, "feedback")


def test_users(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "users", "otel") == expected_rows(EXPECTED, "users")


def test_quarantine(warehouse: Path) -> None:
    """Line level (audit.quarantine_records), span level (base_otel__spans) and message level."""
    lines = rows(
        warehouse,
        "select file_path, line_number, quarantine_reason from audit.quarantine_records "
        "where entity = 'otel_traces'",
    )
    spans = rows(
        warehouse,
        "select _file_path, _line_number, _span_index, span_id, _quarantine_reason "
        "from staging.base_otel__spans where _quarantine_reason is not null",
    )
    messages = rows(
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
    got = rows(
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
    lines = rows(
        warehouse,
        "select lines_read, loaded, quarantined, duplicates, is_balanced "
        "from audit.audit_load_reconciliation where entity = 'otel_traces'",
    )
    spans = rows(warehouse, "select * from intermediate.int_otel_span_reconciliation order by file_path")
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
