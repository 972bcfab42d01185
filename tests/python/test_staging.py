"""Staging, quarantine and reconciliation, through the real dbt build on hand-made lines."""

from __future__ import annotations

import gzip

from chatbatch.cli import main
from chatbatch.core.paths import Paths
from tests.python.conftest import write_lines

CONVERSATION = {
    "conversation_id": "c1",
    "user_id": "u1",
    "channel": "web",
    "bot_id": "support-bot",
    "started_at": "2026-11-01T10:00:00+01:00",
    "exported_at": "2026-11-01T09:00:05Z",
}
MESSAGE = {
    "message_id": "m1",
    "conversation_id": "c1",
    "role": "user",
    "sent_at": "2026-11-01T09:00:10Z",
    "text": "where is my order?",
    "intent": {"name": "check_order_status", "confidence": 0.93},
    "exported_at": "2026-11-01T23:00:00Z",
}


def _with(record: dict, **changes: object) -> dict:
    out = {**record, **changes}
    return {key: value for key, value in out.items() if value is not None}


def _without(record: dict, key: str) -> dict:
    return {k: v for k, v in record.items() if k != key}


def test_every_line_lands_in_exactly_one_place(home: Paths, query) -> None:
    landing = home.landing
    write_lines(
        landing,
        "conversations",
        "2026-11-01",
        "a.jsonl",
        [
            CONVERSATION,
            _with(CONVERSATION, conversation_id="c2", channel=" Telegram "),
            _with(CONVERSATION, conversation_id="c3", channel="IOS", experiment_variant="B"),
        ],
    )
    write_lines(
        landing,
        "conversations",
        "2026-11-02",
        "a.jsonl",
        [
            _with(
                CONVERSATION,
                ended_at="2026-11-01T10:20:00Z",
                end_reason="timeout",
                exported_at="2026-11-02T00:10:00Z",
            )
        ],
    )
    write_lines(
        landing,
        "messages",
        "2026-11-01",
        "part-0.jsonl.gz",
        [
            MESSAGE,
            MESSAGE,  # re-delivered in the same file
            _with(MESSAGE, message_id="m2", sent_at="yesterday"),
            _with(MESSAGE, message_id="m3", role="assistant", latency_ms="slow"),
            _with(MESSAGE, message_id="m4", intent={"name": "x", "confidence": "high"}),
            _without(_with(MESSAGE, message_id="m5"), "conversation_id"),
            '{"message_id": "m6", "conversation_id": ',
            "[1, 2, 3]",
            b'{"message_id": "m7", "conversation_id": "c1", "text": "caf\xff"}',
            _with(MESSAGE, message_id="m8", sent_at="2026-11-01T09:00:00"),  # no offset
            _with(MESSAGE, message_id="m9", role="bot"),
            _with(MESSAGE, message_id="m10", intent={"name": "x", "confidence": 1.5}),
            _with(MESSAGE, message_id="m11", text="x" * 50_000, sentiment={"label": "neg"}),
        ],
    )
    # the same message again a day later, and a late message from 4 days before
    write_lines(
        landing,
        "messages",
        "2026-11-02",
        "part-0.jsonl",
        [MESSAGE, _with(MESSAGE, message_id="m12", sent_at="2026-10-28T12:00:00-05:00")],
    )
    cut = gzip.compress(
        b"".join(
            b'{"feedback_id": "f%d", "conversation_id": "c1", "kind": "csat", "value": 5, '
            b'"submitted_at": "2026-11-01T10:00:00Z", "exported_at": "2026-11-01T23:00:00Z"}\n' % i
            for i in range(3000)
        ),
        mtime=0,
    )
    folder = landing / "feedback" / "export_date=2026-11-01"
    folder.mkdir(parents=True)
    (folder / "cut.jsonl.gz").write_bytes(cut[: len(cut) // 2])

    assert main(["nightly", "--date", "2026-11-30"]) == 0

    reasons = dict(
        query(
            home.warehouse,
            "select quarantine_reason, count(*) from audit.quarantine_records group by 1",
        )
    )
    assert reasons == {
        "invalid_enum:channel": 1,
        "bad_timestamp:sent_at": 2,
        "bad_type:latency_ms": 1,
        "bad_type:intent.confidence": 1,
        "missing_required_field:conversation_id": 1,
        "malformed_json": 1,
        "not_a_json_object": 1,
        "invalid_utf8": 1,
        "invalid_enum:role": 1,
        "out_of_range:intent.confidence": 1,
        "truncated_file": 1,
    }
    recon = query(
        home.warehouse,
        """
        select entity, export_date::varchar, lines_read, loaded, quarantined, duplicates
        from audit.audit_load_reconciliation order by 1, 2
        """,
    )
    feedback_lines = next(row[2] for row in recon if row[0] == "feedback")
    assert recon == [
        ("conversations", "2026-11-01", 3, 1, 1, 1),
        ("conversations", "2026-11-02", 1, 1, 0, 0),
        ("feedback", "2026-11-01", feedback_lines, feedback_lines - 1, 1, 0),
        ("messages", "2026-11-01", 13, 2, 10, 1),
        ("messages", "2026-11-02", 2, 1, 0, 1),
    ]
    assert 0 < feedback_lines < 3000
    # the ended export superseded the started one; the late message is loaded in UTC
    assert query(
        home.warehouse,
        "select end_reason, started_at::varchar from staging.stg_chatbot__conversations "
        "where conversation_id = 'c1'",
    ) == [("timeout", "2026-11-01 09:00:00")]
    assert query(
        home.warehouse,
        "select sent_at::varchar, length(message_text) > 40000 from staging.stg_chatbot__messages "
        "where message_id in ('m12', 'm11') order by message_id",
    ) == [("2026-11-01 09:00:10", True), ("2026-10-28 17:00:00", False)]
    # the truncated file is recorded as such in the manifest
    assert query(
        home.warehouse, "select file_error from chatbatch.landing_files where entity = 'feedback'"
    ) == [("truncated_gzip",)]
