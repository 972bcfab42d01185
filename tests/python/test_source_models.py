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

from chatbatch.accumulate.ingest import RAW_DDL, ensure_state
from chatbatch.accumulate.sources import langfuse
from chatbatch.core.paths import Paths
from chatbatch.process.dbt import dbt_args, run_dbt

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
LANGFUSE_TABLES = {
    "observations_v2": "langfuse_observations",
    "observations": "langfuse_observations",
    "scores": "langfuse_scores",
    "traces": "langfuse_traces",
}
RAW_TABLES = (
    "langfuse_observations",
    "langfuse_scores",
    "langfuse_traces",
    "langfuse_manifests",
    "otel_traces",
)
NOW = dt.datetime(2026, 3, 5, 1, 0, 0)


def _load_file(
    con: duckdb.DuckDBPyConnection,
    *,
    path: str,
    table: str,
    export_date: dt.date,
    batch_id: int,
    lines: list[str],
    errors: list[str | None],
    declared_rows: int | None,
    size_bytes: int,
    sha256: str,
) -> None:
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
        "values (?, ?, ?, ?, ?, ?, null, ?, ?, ?, ?)",
        [path, table, export_date, size_bytes, sha256, len(lines), batch_id, NOW, NOW, declared_rows],
    )


def _land_langfuse(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Every run whose manifest exists, in manifest order, one batch per run."""
    for batch_id, manifest_path in enumerate(sorted((root / "proj-demo" / "manifests").glob("*.json")), 1):
        manifest = langfuse.read_manifest(manifest_path)
        export_date = dt.date.fromisoformat(manifest.window_max[:10])
        text = json.dumps(json.loads(manifest_path.read_text()), separators=(",", ":"))
        _load_file(
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
            _load_file(
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


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    home = tmp_path_factory.mktemp("sources") / "home"
    old = os.environ.get("CHATBATCH_HOME")
    os.environ["CHATBATCH_HOME"] = str(home)
    try:
        paths = Paths.from_env()
        paths.home.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(paths.warehouse))
        try:
            ensure_state(con)
            con.execute("alter table chatbatch.landing_files add column if not exists declared_rows bigint")
            for table in RAW_TABLES:
                con.execute(RAW_DDL.format(entity=table))
            _land_langfuse(con, FIXTURES / "langfuse")
        finally:
            con.close()
        expected = json.loads((FIXTURES / "langfuse" / "expected.json").read_text())
        variables = {"sources": ["chatbot", "langfuse"], **expected["vars"]}
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


EXPECTED = json.loads((FIXTURES / "langfuse" / "expected.json").read_text())


def test_conversations(warehouse: Path) -> None:
    got = _rows(
        warehouse,
        "select * from intermediate.int_conversations_unioned where source_system = 'langfuse' "
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
        "select * from intermediate.int_messages_unioned where source_system = 'langfuse' "
        "order by message_id",
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
            "source_cost_usd": None if r["source_cost_usd"] is None else round(r["source_cost_usd"], 12),
        }
        for r in got
    ] == want


def test_events(warehouse: Path) -> None:
    got = _rows(
        warehouse,
        "select * from intermediate.int_events_unioned where source_system = 'langfuse' order by event_id",
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
        "select * from intermediate.int_feedback_unioned where source_system = 'langfuse' "
        "order by feedback_id",
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
    got = _rows(warehouse, "select * from intermediate.int_users_unioned where source_system = 'langfuse'")
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


def test_quarantine_and_duplicates(warehouse: Path) -> None:
    lines = _rows(
        warehouse,
        "select file_path, line_number, quarantine_reason from audit.quarantine_records "
        "where entity like 'langfuse_%' order by 1, 2",
    )
    messages = _rows(
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
    got = _rows(
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
