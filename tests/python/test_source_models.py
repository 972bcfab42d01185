"""Langfuse fixture lines through the real dbt models into the contract v1 entities.

The raw tables are filled directly from the fixture files with the source readers (as the
ingest step would, one raw row per record), so this test needs only the dbt side.
Expected rows: tests/python/fixtures/sources/langfuse/expected.json (docs/sources/langfuse.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from chatbatch.accumulate.sources import langfuse
from tests.python.source_fixtures import (
    FIXTURES,
    build_warehouse,
    expected_rows,
    load_file,
    rows,
    unioned_as_v1,
)

LANGFUSE_TABLES = {
    "observations_v2": "langfuse_observations",
    "observations": "langfuse_observations",
    "scores": "langfuse_scores",
    "traces": "langfuse_traces",
}


def _land_langfuse(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Every run whose manifest exists, in manifest order, one batch per run."""
    for batch_id, manifest_path in enumerate(sorted((root / "proj-demo" / "manifests").glob("*.json")), 1):
        manifest = langfuse.read_manifest(manifest_path)
        export_date = dt.date.fromisoformat(manifest.window_max[:10])
        text = json.dumps(json.loads(manifest_path.read_text()), separators=(",", ":"))
        load_file(
            con,
            path=f"langfuse/{manifest_path.relative_to(root)}",
            table="langfuse_manifests",
            export_date=export_date,
            batch_id=batch_id,
            lines=[text],
            errors=[None],
            declared_rows=None,
            size_bytes=manifest_path.stat().st_size,
            sha256="-",
        )
        for entry in manifest.files:
            read = langfuse.read_data_file(root / entry.key)
            load_file(
                con,
                path=f"langfuse/{entry.key}",
                table=LANGFUSE_TABLES[entry.table],
                export_date=export_date,
                batch_id=batch_id,
                lines=read.lines,
                errors=read.line_errors,
                declared_rows=entry.row_count,
                size_bytes=read.size_bytes,
                sha256=read.sha256,
            )


EXPECTED = json.loads((FIXTURES / "langfuse" / "expected.json").read_text())


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(
        tmp_path_factory, "langfuse", lambda con: _land_langfuse(con, FIXTURES / "langfuse"), EXPECTED["vars"]
    )


def test_conversations(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "conversations", "langfuse") == expected_rows(EXPECTED, "conversations")


def test_messages(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "messages", "langfuse") == expected_rows(EXPECTED, "messages")


def test_events(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "events", "langfuse") == expected_rows(EXPECTED, "events")


def test_feedback(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "feedback", "langfuse") == expected_rows(EXPECTED, "feedback")


def test_users(warehouse: Path) -> None:
    assert unioned_as_v1(warehouse, "users", "langfuse") == expected_rows(EXPECTED, "users")


def test_quarantine_and_duplicates(warehouse: Path) -> None:
    lines = rows(
        warehouse,
        "select file_path, line_number, quarantine_reason from audit.quarantine_records "
        "where entity like 'langfuse_%' order by 1, 2",
    )
    messages = rows(
        warehouse,
        "select observation_id, _file_path, _line_number, _message_quarantine_reason "
        "from intermediate.int_langfuse_observations_resolved where _message_quarantine_reason is not null",
    )
    got = [
        {
            "file": r["file_path"].removeprefix("langfuse/"),
            "line": r["line_number"],
            "reason": r["quarantine_reason"],
        }
        for r in lines
    ] + [
        {
            "file": r["_file_path"].removeprefix("langfuse/"),
            "line": r["_line_number"],
            "record": r["observation_id"],
            "entity": "messages",
            "reason": r["_message_quarantine_reason"],
        }
        for r in messages
    ]
    want = [{k: v for k, v in q.items() if k != "record" or q.get("entity")} for q in EXPECTED["quarantine"]]
    assert sorted(got, key=lambda q: (q["file"], q["line"])) == sorted(
        want, key=lambda q: (q["file"], q["line"])
    )


def test_reconciliation_balances(warehouse: Path) -> None:
    got = rows(
        warehouse,
        "select entity, export_date, lines_read, loaded, quarantined, duplicates, is_balanced "
        "from audit.audit_load_reconciliation "
        "where entity like 'langfuse_%' and entity != 'langfuse_manifests' "
        "order by 1, 2",
    )
    want: dict[tuple[str, str], dict[str, int]] = {}
    for file, counts in EXPECTED["reconciliation"].items():
        table = LANGFUSE_TABLES[file.split("/")[1]]
        key = (table, file.split("/")[2][:10])
        slot = want.setdefault(key, {"lines_read": 0, "loaded": 0, "quarantined": 0, "duplicates": 0})
        slot["lines_read"] += counts["rows"]
        for name in ("loaded", "quarantined", "duplicates"):
            slot[name] += counts[name]
    assert {
        (r["entity"], str(r["export_date"])): {
            "lines_read": r["lines_read"],
            "loaded": r["loaded"],
            "quarantined": r["quarantined"],
            "duplicates": r["duplicates"],
        }
        for r in got
    } == want
    assert all(r["is_balanced"] for r in got)
