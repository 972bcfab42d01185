"""The topic model and the assignments in the warehouse (schema ``topics``), and a night's
update of them. Read by dbt as the source ``topics`` (models/staging/topics/).

Tables (the one definition: ``tables.DDL``):

* ``topics.topic_models``: one row per fitted model version (when, why, how many texts).
* ``topics.topics``: each model version's topics: label terms, representative and
  example redacted utterances, centroid.
* ``topics.topic_id_map``: per re-fit, which previous topic id became which (the same id
  when kept; null ``topic_id``: retired; null ``previous_topic_id``: new).
* ``topics.message_topics``: one row per unlabelled user message (dbt's
  ``int_messages_unlabelled``): its topic under the current model, or null (pending).
* ``topics.state``: the ``_processed_batch_id`` of ``int_messages_unlabelled`` the
  assignments are complete through.

A night (:func:`update`): (re-)fit when there is no model, when the current one is
``recluster_days`` old, or on request; else assign the messages of conversations dbt
recomputed since ``state``, and re-fit when that leaves the pending pool too full
(``refit_pending_share``); after a fit every message is assigned again. All writes in
one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from chatbatch.core import duck
from chatbatch.transform.topics.model import Topic, TopicParams, assign, embed, fit, match_ids
from chatbatch.transform.topics.tables import DDL

CANDIDATES = "intermediate.int_messages_unlabelled"  # dbt: the unlabelled user messages
MESSAGES = "intermediate.int_messages_redacted"  # dbt: every message, recomputed per conversation


@dataclass(frozen=True)
class CurrentModel:
    version: int
    run_date: date
    topics: list[Topic]


@dataclass
class TopicsUpdate:
    """What a night did to the topics (kept in the run record's ``outputs``)."""

    fitted: str | None = None  # why a model was fitted this night, or None
    model_version: int | None = None
    topics: int = 0
    topics_new: int = 0
    topics_retired: int = 0
    messages_assigned: int = 0
    messages_pending: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def current_model(con: duckdb.DuckDBPyConnection) -> CurrentModel | None:
    row = con.execute(
        "select model_version, fitted_run_date from topics.topic_models order by model_version desc limit 1"
    ).fetchone()
    if row is None:
        return None
    topics = [
        Topic(int(tid), np.array(centroid, dtype=np.float64), tuple(terms), rep, tuple(examples), int(n))
        for tid, terms, rep, examples, n, centroid in con.execute(
            """
            select topic_id, top_terms, representative_utterance, example_utterances, fit_messages, centroid
            from topics.topics where model_version = ? order by topic_id
            """,
            [row[0]],
        ).fetchall()
    ]
    return CurrentModel(int(row[0]), row[1], topics)


def fit_reason(
    model: CurrentModel | None, run_date: date, requested: bool, params: TopicParams
) -> str | None:
    """Why this night fits a model before assigning, or None (keep the current one; a
    full pending pool may still call for a fit after assigning: ``update``)."""
    if model is None:
        return "initial"
    if requested:
        return "requested"
    if (run_date - model.run_date).days >= params.recluster_days:
        return "weekly"
    return None


def _pending_pool_full(con: duckdb.DuckDBPyConnection, params: TopicParams) -> bool:
    """True when the pending pool holds at least ``refit_pending_share`` of the unlabelled
    messages (and at least ``refit_pending_min`` of them): new questions no topic covers."""
    row = con.execute("select count(*) - count(topic_id), count(*) from topics.message_topics").fetchone()
    pending, total = (int(row[0]), int(row[1])) if row else (0, 0)
    return pending >= params.refit_pending_min and pending >= params.refit_pending_share * total


def update(
    con: duckdb.DuckDBPyConnection,
    batch_id: int,
    run_date: date,
    requested: bool = False,
    params: TopicParams | None = None,
    reassign_all: bool = False,
) -> TopicsUpdate:
    """Fit if due, then assign what changed (module doc), or every candidate with
    ``reassign_all`` (a full refresh: assignments of messages that are gone go too); one
    transaction."""
    params = params or TopicParams()
    ensure_tables(con)
    result = TopicsUpdate()
    model = current_model(con)
    result.fitted = fit_reason(model, run_date, requested, params)
    with duck.transaction(con):
        if model is not None and not result.fitted:
            _assign(con, model, batch_id, reassign_all=reassign_all, result=result, params=params)
            if _pending_pool_full(con, params):
                result.fitted = "pending"
        if result.fitted:
            model = _refit(con, model, batch_id, run_date, result, params)
            if model is not None:
                _assign(con, model, batch_id, reassign_all=True, result=result, params=params)
        if model is not None:
            result.model_version, result.topics = model.version, len(model.topics)
    return result


def _refit(
    con: duckdb.DuckDBPyConnection,
    previous: CurrentModel | None,
    batch_id: int,
    run_date: date,
    result: TopicsUpdate,
    params: TopicParams,
) -> CurrentModel | None:
    rows = con.execute(
        f"""
        select message_text_redacted, count(*) from {CANDIDATES}
        group by 1 order by 2 desc, 1 limit ?
        """,
        [params.max_fit_texts],
    ).fetchall()
    texts, counts = [r[0] for r in rows], [int(r[1]) for r in rows]
    fitted = fit(texts, counts, params)
    if not fitted and previous is None:
        result.fitted = None  # nothing to cluster yet: try again next night
        return None
    row = con.execute("select coalesce(max(topic_id), 0) + 1 from topics.topics").fetchone()
    version = (previous.version if previous else 0) + 1
    topics, mapping = match_ids(
        previous.topics if previous else [], fitted, int(row[0]) if row else 1, params
    )
    con.execute(
        "insert into topics.topic_models values (?, ?, ?, ?, ?, ?, ?, ?)",
        [version, batch_id, run_date, result.fitted, len(texts), sum(counts), len(topics), params.to_json()],
    )
    for t in topics:
        con.execute(
            "insert into topics.topics values (?, ?, ?, ?, ?, ?, ?, ?)",
            [version, t.topic_id, t.label, list(t.top_terms), t.representative, list(t.examples),
             t.fit_messages, t.centroid.tolist()],
        )  # fmt: skip
    for m in mapping:
        con.execute(
            "insert into topics.topic_id_map values (?, ?, ?, ?, ?)",
            [version, previous.version if previous else None, m.previous_topic_id, m.topic_id, m.similarity],
        )
    result.topics_new = sum(m.previous_topic_id is None for m in mapping)
    result.topics_retired = sum(m.topic_id is None for m in mapping)
    return CurrentModel(version, run_date, topics)


def _assign(
    con: duckdb.DuckDBPyConnection,
    model: CurrentModel,
    batch_id: int,
    reassign_all: bool,
    result: TopicsUpdate,
    params: TopicParams,
) -> None:
    row = con.execute("select max(assigned_through_batch) from topics.state").fetchone()
    through = -1 if reassign_all or row is None or row[0] is None else int(row[0])
    con.execute(
        f"""
        create or replace temp table _topic_candidates as
        select message_id, conversation_id, message_text_redacted, _processed_batch_id
        from {CANDIDATES} where _processed_batch_id > ?
        """,
        [through],
    )
    # every conversation recomputed since: its messages may have changed or left the pool
    con.execute(
        f"""
        delete from topics.message_topics where ? or conversation_id in (
            select conversation_id from {MESSAGES}
            where _processed_batch_id > ?
        )
        """,
        [reassign_all, through],
    )
    texts = [
        r[0] for r in con.execute("select distinct message_text_redacted from _topic_candidates").fetchall()
    ]
    by_text = dict(zip(texts, assign(embed(texts, params), model.topics, params), strict=True))
    con.register(
        "_topic_assignments",
        pa.table(
            {
                "message_text_redacted": pa.array(texts, pa.string()),
                "topic_id": pa.array([by_text[t].topic_id for t in texts], pa.int32()),
                "similarity": pa.array([by_text[t].similarity for t in texts], pa.float64()),
            }
        ),
    )
    con.execute(
        """
        insert into topics.message_topics
        select c.message_id, c.conversation_id, ?, a.topic_id, a.similarity, ?
        from _topic_candidates as c
        inner join _topic_assignments as a on c.message_text_redacted = a.message_text_redacted
        """,
        [model.version, batch_id],
    )
    con.unregister("_topic_assignments")
    high = con.execute(f"select max(_processed_batch_id) from {MESSAGES}")
    mark = high.fetchone()
    con.execute("delete from topics.state")
    con.execute("insert into topics.state values (?)", [int(mark[0]) if mark and mark[0] is not None else -1])
    counts = con.execute(
        "select count(topic_id), count(*) - count(topic_id) from _topic_candidates "
        "inner join topics.message_topics using (message_id)"
    ).fetchone()
    result.messages_assigned, result.messages_pending = (int(counts[0]), int(counts[1])) if counts else (0, 0)
