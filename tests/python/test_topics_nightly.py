"""Topics for unlabelled traffic through the real nightly batch (dbt, DuckDB, the topics
step): the generator's planted questions come out as separate, pure topics; assignments
made night by night equal a from-scratch assignment with the same topic model; a re-fit
maps the old ids; the marts are published and the content gaps list real gaps first."""

from __future__ import annotations

import collections
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest
from chatbatch_dev.generator import generate
from chatbatch_dev.generator.unlabelled import KINDS, kind_of

from chatbatch.cli import main
from chatbatch.core.paths import Paths
from chatbatch.transform.topics import store
from chatbatch.transform.topics.model import TopicParams

NO_PENDING_REFIT = replace(TopicParams(), refit_pending_share=2.0)  # keep the model as it is


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """Three days of traffic in two nights: days 1-2 (the first fit), then day 3 (incremental)."""
    home = tmp_path_factory.mktemp("topics") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHATBATCH_HOME", str(home))
        paths = Paths.from_env()
        paths.export()
        generate(landing=paths.landing, start=date(2026, 11, 2), days=3, conversations_per_day=400, seed=42)
        assert main(["nightly", "--date", "2026-11-03"]) == 0
        assert main(["nightly", "--date", "2026-11-04"]) == 0
    return paths


def _copy(paths: Paths, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(paths.warehouse, target)
    return duckdb.connect(str(target))


def _assignments(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(
        con.execute(
            "select message_id, model_version, topic_id, similarity from topics.message_topics"
        ).fetchall()
    )


def test_planted_kinds_come_out_as_separate_pure_topics(nights: Paths) -> None:
    con = duckdb.connect(str(nights.warehouse), read_only=True)
    try:
        rows = con.execute(
            """
            select u.message_text_redacted, t.topic_id
            from intermediate.int_messages_unlabelled as u
            inner join topics.message_topics as t using (message_id)
            """
        ).fetchall()
    finally:
        con.close()
    by_topic: dict[int | None, collections.Counter] = collections.defaultdict(collections.Counter)
    for text, topic_id in rows:
        by_topic[topic_id][kind_of(text)] += 1
    topic_of = {}
    for kind in KINDS:
        total = sum(counts[kind] for counts in by_topic.values())
        topic_id = max((t for t in by_topic if t is not None), key=lambda t: by_topic[t][kind])
        topic_of[kind] = topic_id
        recall = by_topic[topic_id][kind] / total
        purity = by_topic[topic_id][kind] / sum(by_topic[topic_id].values())
        print(f"{kind}: topic {topic_id}, {total} messages, purity {purity:.3f}, recall {recall:.3f}")
        assert total >= 20 and purity >= 0.9 and recall >= 0.9
    assert len(set(topic_of.values())) == len(KINDS)


def test_nightly_assignments_equal_a_full_reassignment_with_the_same_model(
    nights: Paths, tmp_path: Path
) -> None:
    con = _copy(nights, tmp_path)
    try:
        before = _assignments(con)
        version = con.execute("select max(model_version) from topics.topic_models").fetchone()
        con.execute("update topics.state set assigned_through_batch = -1")  # what a full refresh does
        result = store.update(con, 99, date(2026, 11, 4), params=NO_PENDING_REFIT)
        assert result.fitted is None and result.model_version == version[0]
        assert _assignments(con) == before
        assert (
            len(before)
            == con.execute("select count(*) from intermediate.int_messages_unlabelled").fetchone()[0]
        )
    finally:
        con.close()


def test_second_night_assigned_incrementally(nights: Paths) -> None:
    from chatbatch.monitor.history import RunHistory

    records = [r for r in RunHistory(nights.home).records() if r.status == "ok"]
    first, second = records[-2].outputs["topics"], records[-1].outputs["topics"]
    assert first["fitted"] == "initial" and first["topics"] >= len(KINDS)
    # day 3 joined the existing topics, then re-fitted only if its pending pool was full
    assert second["fitted"] in (None, "pending"), second
    judged = second["messages_assigned"] + second["messages_pending"]
    if second["fitted"] is None:  # only the new day's messages were assigned
        assert 0 < judged < first["messages_assigned"]
    else:  # a re-fit reassigns every unlabelled message
        assert judged > first["messages_assigned"]


def test_a_refit_maps_old_ids_to_new_ones(nights: Paths, tmp_path: Path) -> None:
    con = _copy(nights, tmp_path)
    try:
        version = con.execute("select max(model_version) from topics.topics").fetchall()[0][0]
        old = dict(
            con.execute(
                "select topic_id, label from topics.topics where model_version = ?", [version]
            ).fetchall()
        )
        result = store.update(con, 99, date(2026, 11, 4), requested=True)
        assert result.fitted == "requested" and result.model_version == version + 1
        mapping = con.execute(
            "select previous_topic_id, topic_id, similarity from topics.topic_id_map where model_version = ?",
            [version + 1],
        ).fetchall()
        kept = {prev: new for prev, new, _ in mapping if prev is not None and new is not None}
        assert {prev for prev, _, _ in mapping if prev is not None} == set(old)  # every old id accounted for
        assert all(prev == new for prev, new in kept.items())
        # the planted topics are found again and keep their ids
        planted = con.execute(
            """
            select distinct t.topic_id, u.message_text_redacted from topics.message_topics as t
            inner join intermediate.int_messages_unlabelled as u using (message_id)
            where t.topic_id is not null
            """
        ).fetchall()
        planted_ids = {topic_id for topic_id, text in planted if kind_of(text)}
        assert len(planted_ids) == len(KINDS) and planted_ids <= set(kept)
    finally:
        con.close()


def test_topic_marts_are_published_and_add_up(nights: Paths) -> None:
    con = duckdb.connect(str(nights.analytics), read_only=True)
    try:
        dim = con.execute(
            "select sum(messages), count(*) filter (where topic_id = -1) from marts.dim_topics"
        ).fetchone()
        daily = con.execute("select sum(messages) from marts.rpt_topics").fetchone()
        assigned = con.execute("select count(*) from topics.message_topics").fetchone()
        assert dim[0] == daily[0] == assigned[0] and dim[1] == 1
        sql = "select topic_label from marts.dim_topics where topic_id > 0"
        labels = [r[0] for r in con.execute(sql).fetchall()]
        assert any("gift" in label for label in labels)
    finally:
        con.close()


def test_content_gaps_list_real_gaps_first(nights: Paths) -> None:
    con = duckdb.connect(str(nights.analytics), read_only=True)
    try:
        first = con.execute(
            """
            select g.intent, g.topic_id, g.topic_label, g.conversations, i.category
            from marts.rpt_kb_content_gaps as g
            left join marts.dim_intents as i on g.intent = i.intent
            where g.is_content_gap
            order by g.conversations desc, g.fallback_rate desc
            limit 10
            """
        ).fetchall()
        smalltalk = con.execute(
            """
            select count(*) from marts.rpt_kb_content_gaps as g
            inner join marts.dim_intents as i on g.intent = i.intent
            where i.category = 'smalltalk'
            """
        ).fetchone()
    finally:
        con.close()
    assert first and smalltalk[0] == 0
    assert all(row[3] >= 5 for row in first)  # kb_gap_min_conversations
    assert sum(row[1] is not None for row in first) >= 2, first  # planted topics are gaps
