"""The KB index, kb-search and the user features after a real nightly batch.

They read the session's published demo home (``published_home`` in conftest.py: nine
export days built by one real nightly batch); tests that write work on a copy.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from chatbatch_dev.generator import kb

from chatbatch.cli import main
from chatbatch.core.digest import sha256_of
from chatbatch.core.paths import Paths
from chatbatch.output import registry
from chatbatch.output import workload as workloads
from chatbatch.output.kb.embedding import HashingEmbedder
from chatbatch.output.kb.index import update_index
from chatbatch.output.kb.search import search
from tests.python.conftest import PUBLISHED_LAST_NIGHT

LAST = date.fromisoformat(PUBLISHED_LAST_NIGHT)


@pytest.fixture(scope="module")
def night(published_home: Paths) -> Paths:
    """The session's published demo home (read-only; tests that write work on copies)."""
    return published_home


def _rows(database: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _files(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (sha256_of(p), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_exports_exist_with_manifests(night: Paths) -> None:
    kb_manifest = json.loads((night.home / "exports/kb/manifest.json").read_text())
    assert kb_manifest["embedder"] == HashingEmbedder().name and kb_manifest["chunks"] > 0
    for entry in kb_manifest["files"].values():
        path = night.home / "exports/kb" / entry["file"]
        assert sha256_of(path) == entry["sha256"] and pq.read_metadata(path).num_rows == entry["rows"]
    chunks = pq.read_table(night.home / "exports/kb/chunks.parquet")
    assert chunks.column_names[:5] == ["chunk_id", "document_id", "version", "chunk_index", "heading"]
    assert "embedding" in chunks.column_names and "text" in chunks.column_names
    published = _rows(night.analytics, "select count(*), count(distinct document_id) from kb.chunks")[0]
    assert published == (kb_manifest["chunks"], kb_manifest["documents"])
    current = _rows(
        night.analytics,
        "select count(*) from marts.dim_kb_documents where not is_deleted and document_body is not null",
    )[0][0]
    assert kb_manifest["documents"] == current  # every current document, no deleted one

    features = json.loads((night.home / "exports/features/manifest.json").read_text())
    assert features["as_of_date"] == LAST.isoformat() and features["users"] > 0
    latest = pq.read_table(night.home / "exports/features/user_latest.parquet").to_pylist()
    users = _rows(night.analytics, "select count(distinct user_id) from features.feat_user_daily")[0][0]
    assert len(latest) == features["users"] == users
    assert [r["user_id"] for r in latest] == sorted(r["user_id"] for r in latest)
    record = json.loads((night.home / "state/run_history.jsonl").read_text().splitlines()[-1])
    assert record["outputs"]["kb_index"]["chunks"] == kb_manifest["chunks"]


def test_kb_search_answers_questions_from_generated_documents(
    night: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    intent_of = {doc.document_id: doc.intent for doc in kb.corpus()}
    documents = _rows(
        night.analytics,
        "select document_id, document_body from marts.dim_kb_documents "
        "where not is_deleted and document_body is not null order by document_id",
    )[::4]  # a sample keeps the test quick
    same_intent = 0
    for document_id, body in documents:
        title = body.splitlines()[0].lstrip("# ")
        assert search(night.analytics, title, k=3)[0].document_id == document_id
        question = re.search(r'Example customer question: "([^"]+)"', body)
        assert question is not None
        hits = search(night.analytics, question.group(1), k=3)
        same_intent += intent_of[hits[0].document_id] == intent_of[document_id]
    assert same_intent >= 0.85 * len(documents), (same_intent, len(documents))

    monkeypatch.setenv("CHATBATCH_HOME", str(night.home))
    assert main(["kb-search", "When do password reset links expire?", "-k", "3"]) == 0
    out = capsys.readouterr().out
    ranked = re.findall(r"^\s+(\d)\s+[\d.]+\s+[\d.-]+\s+[\d.]+\s+(kb_\d{4}) v", out, flags=re.M)
    assert [rank for rank, _ in ranked] == ["1", "2", "3"]
    categories = {doc.document_id: doc.category for doc in kb.corpus()}
    assert all(categories[doc] == "account" for _, doc in ranked)
    assert "Password reset links expire after 30 minutes." in out  # the snippet: the best sentence


def test_rerunning_the_night_rewrites_nothing(night: Paths) -> None:
    before = {name: _files(night.home / "exports" / name) for name in ("kb", "features")}
    ctx = workloads.WorkloadContext(night, 99, LAST, lambda _: None, {})
    outputs = {w.name: w.run(ctx) for w in registry.of_phase("before_publish")}
    assert outputs["kb_index"]["versions_indexed"] == 0 and not outputs["kb_index"]["manifest_written"]
    assert not outputs["user_features"]["manifest_written"]
    assert {name: _files(night.home / "exports" / name) for name in ("kb", "features")} == before


def test_index_updates_only_changed_documents(night: Paths, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(night.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        changed, deleted = (
            r[0]
            for r in con.execute("select document_id from kb.chunks group by 1 order by 1 limit 2").fetchall()
        )
        untouched_before = con.execute(
            "select count(*) from kb.chunks where document_id not in (?, ?)", [changed, deleted]
        ).fetchone()
        con.execute(
            "update marts.dim_kb_documents set document_version = document_version + 1, "
            "document_body = document_body || '\n\n## Zebra\n\nQuokka xylophone paragraph.\n' "
            "where document_id = ?",
            [changed],
        )
        con.execute("update marts.dim_kb_documents set is_deleted = true where document_id = ?", [deleted])
        change = update_index(con, 999, HashingEmbedder())
        assert change.removed_documents == sorted([changed, deleted])
        assert [doc for doc, _ in change.added_versions] == [changed] and not change.rebuilt
        assert con.execute("select count(*) from kb.chunks where document_id = ?", [deleted]).fetchone() == (
            0,
        )
        assert (
            con.execute(
                "select count(*) from kb.chunks where indexed_in_batch != 999 and document_id not in (?, ?)",
                [changed, deleted],
            ).fetchone()
            == untouched_before
        )
        # the incrementally maintained BM25 statistics equal a recount
        assert con.execute(
            """
            select count(*) from kb.term_stats
            full outer join (
                select term, count(distinct chunk_id) as df from kb.chunk_terms group by 1
            ) as recount using (term)
            where kb.term_stats.document_frequency is distinct from recount.df
            """
        ).fetchone() == (0,)
        assert con.execute(
            "select document_frequency from kb.term_stats where term = 'quokka'"
        ).fetchone() == (1,)
        assert con.execute(
            "select chunk_count = (select count(*) from kb.chunks) from kb.corpus_stats"
        ).fetchone() == (True,)
    finally:
        con.close()


def _expected_features(conversations: list[dict], ratings: list[tuple], as_of: date) -> dict[str, Any]:
    """Features recomputed from nothing but data up to `as_of`."""
    seen = [c for c in conversations if c["conversation_date"] <= as_of]
    in_28d = [c for c in seen if c["conversation_date"] > as_of - timedelta(days=28)]
    scores = [value for value, day in ratings if day <= as_of]

    def preferred(column: str) -> str | None:
        counts: dict[str, list] = {}
        for c in seen:
            if c[column] is not None:
                entry = counts.setdefault(c[column], [0, c["started_at"]])
                entry[0] += 1
                entry[1] = max(entry[1], c["started_at"])
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1][0], -kv[1][1].timestamp(), kv[0]))
        return ranked[0][0] if ranked else None

    with_intent = sorted(
        (c for c in seen if c["main_intent"] is not None),
        key=lambda c: (c["started_at"], c["conversation_id"]),
    )
    last_day = max(c["conversation_date"] for c in seen)
    return {
        "conversations_to_date": len(seen),
        "conversations_7d": sum(c["conversation_date"] > as_of - timedelta(days=7) for c in seen),
        "conversations_28d": len(in_28d),
        "escalation_rate_28d": (sum(c["is_escalated"] for c in in_28d) / len(in_28d)) if in_28d else None,
        "csat_avg": (sum(scores) / len(scores)) if scores else None,
        "csat_ratings": len(scores),
        "preferred_channel": preferred("channel"),
        "preferred_locale": preferred("locale"),
        "last_intent": with_intent[-1]["main_intent"] if with_intent else None,
        "last_conversation_date": last_day,
        "days_since_last_conversation": (as_of - last_day).days,
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    return a == b


def test_user_features_use_no_data_after_their_as_of_day(night: Paths) -> None:
    con = duckdb.connect(str(night.warehouse), read_only=True)
    try:
        cursor = con.execute(
            "select conversation_id, user_id, conversation_date, channel, locale, main_intent, is_escalated, "
            "started_at from marts.fct_conversations where user_id is not null"
        )
        names = [d[0] for d in cursor.description]
        conversations = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        ratings = con.execute(
            "select c.user_id, f.feedback_value, cast(f.submitted_at as date) "
            "from staging.stg_chatbot__feedback as f "
            "inner join marts.fct_conversations as c on f.conversation_id = c.conversation_id "
            "where f.feedback_kind = 'csat' and f.feedback_value is not null and c.user_id is not null"
        ).fetchall()
        cursor = con.execute("select * from features.feat_user_daily order by user_id, as_of_date")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    by_user: dict[str, list[dict]] = {}
    for c in conversations:
        by_user.setdefault(c["user_id"], []).append(c)
    assert rows and {r["user_id"] for r in rows} == set(by_user)
    checked = 0
    for row in rows:
        user_ratings = [(v, d) for u, v, d in ratings if u == row["user_id"]]
        # the row's values as of its first day, and (shifted days_since) as of its last
        last_day = row["valid_to"] or row["as_of_date"] + timedelta(days=40)
        for day in (row["as_of_date"], last_day):
            expected = _expected_features(by_user[row["user_id"]], user_ratings, day)
            expected["days_since_last_conversation"] -= (day - row["as_of_date"]).days
            mismatched = {k: (row[k], v) for k, v in expected.items() if not _same(row[k], v)}
            assert not mismatched, (row["user_day_id"], day, mismatched)
            checked += 1
    assert checked >= 2 * len(by_user)
    # the export holds, per user, the row valid on the run date
    latest = {
        r["user_id"]: r
        for r in pq.read_table(night.home / "exports/features/user_latest.parquet").to_pylist()
    }
    for user_id, user_conversations in by_user.items():
        expected = _expected_features(
            user_conversations, [(v, d) for u, v, d in ratings if u == user_id], LAST
        )
        assert all(_same(latest[user_id][k], v) for k, v in expected.items()), user_id
