"""``ml_models.ml_labelling_queue``: user messages a person should label for the next
training set, judged by the shipped intent model (issue 17's production feedback loop).

A user message of a conversation the night processed joins the queue when

* ``model_disagrees``: the shipped model gives another intent than the bot recorded, with
  probability at least ``CONFIDENT`` (the bot or the model is wrong: either way a label helps);
* ``low_bot_confidence``: the bot's own confidence is below ``low_confidence_threshold``
  (dbt_project.yml vars, the threshold the marts use).

Each row holds the redacted text (``int_messages_redacted``: raw text never leaves the
warehouse), the reason, the bot's intent and confidence, the model's suggested intent and
probability and the model version that judged it. Each night judges the messages whose
conversations were processed after the newest row already queued (``_processed_batch_id``,
dbt's watermark of the model); a message judged again replaces its row, and a full refresh
(or the rebuild after an erasure) empties the queue and queues everything again, so it equals
the nights before it for the same model and holds nobody who was erased.

A judgment is a function of the text and the model, so each is made once: ``JUDGMENTS``
(``ml_cache.intent_judgments``, not published) keeps the current model's judgment of every
distinct redacted text it has judged, keyed by the sha256 of the model file. A night judges
only the texts this model has not seen; a full refresh with an unchanged model judges none
(at the bench's standard scale that is 181,301 texts, ~12 s on two processes). Judgments of
any other model are deleted when this one writes; a full refresh also deletes the texts no
message holds any more, and an erasure scrubs the person's texts from it like from every
runner table (privacy/outputs.py, RUNNER_SCHEMAS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa

from chatbatch.contract.project import project_vars
from chatbatch.core import duck
from chatbatch.core.digest import sha256_of
from chatbatch.output import files
from chatbatch.output.intent_model.evaluations import SCHEMA
from chatbatch.output.intent_model.store import MODEL_FILE, ModelStore

TABLE = f"{SCHEMA}.ml_labelling_queue"
SOURCE = "intermediate.int_messages_redacted"
CONFIDENT = 0.9  # a model probability at or above this is a confident disagreement
CHUNK_ROWS = 20_000  # texts judged per model call (bounds the memory of a catch-up)
# Processes judging texts when there is more than one chunk: the TF-IDF analysers are pure
# Python, so one process uses one core. Two (the CI and bench machines' cores) cut a full
# refresh's 181,000 texts from 16.7 to 12.5 s; each holds the model and one chunk (~300 MiB).
PREDICT_WORKERS = 2


def _table_ddl(table: str, columns: str) -> str:
    """Create the table's schema and the table unless they exist."""
    schema = table.split(".")[0]
    return f"create schema if not exists {schema};\ncreate table if not exists {table} ({columns})"


DDL = _table_ddl(
    TABLE,
    """
    message_id varchar primary key,
    conversation_id varchar not null,
    message_text_redacted varchar not null,
    queue_reason varchar not null,
    bot_intent_name varchar,
    bot_intent_confidence double,
    suggested_intent_name varchar not null,
    suggested_probability double not null,
    model_version integer not null,
    sent_at timestamp,
    _processed_batch_id bigint not null
    """,
)
JUDGMENTS = "ml_cache.intent_judgments"  # runner state, never published
JUDGMENTS_DDL = _table_ddl(
    JUDGMENTS,
    """
    model_sha256 varchar not null,
    message_text_redacted varchar not null,
    suggested_intent_name varchar not null,
    suggested_probability double not null
    """,
)


@dataclass(frozen=True)
class Queued:
    rows: int  # messages queued for labelling
    judged: int  # distinct texts the model judged (the others were judged before)


def write_queue(warehouse: Path, store: ModelStore, full_refresh: bool) -> Queued:
    """Queue the user messages not queued yet (all on a full refresh).

    Only the distinct texts this model never judged pass through it (users repeat
    themselves: a full refresh's million user messages hold ~180,000 distinct redacted
    texts, and with an unchanged model all were judged before); DuckDB joins the judgments
    back to the messages and picks the queued ones."""
    current = store.current()
    con = files.connect(warehouse, read_only=False)
    try:
        if full_refresh:  # dropped, not emptied: deleting its ~100,000 rows one by one from the
            con.execute(f"drop table if exists {TABLE}")  # primary key index took 4 s
        con.execute(DDL)
        con.execute(JUDGMENTS_DDL)
        if current is None:
            return Queued(0, 0)
        model = sha256_of(current.folder / MODEL_FILE)
        [(judged_up_to,)] = con.execute(
            f"select coalesce(max(_processed_batch_id), 0) from {TABLE}"
        ).fetchall()
        new = (
            f"from {SOURCE} where message_role = 'user' and message_text_redacted is not null "
            f"and _processed_batch_id > {int(judged_up_to)}"
        )
        judgments = f"(select * from {JUDGMENTS} where model_sha256 = '{model}')"
        with duck.transaction(con):
            con.execute(f"delete from {JUDGMENTS} where model_sha256 <> ?", [model])
            if full_refresh:  # texts no message holds any more (erased, or changed by the rebuild)
                con.execute(
                    f"delete from {JUDGMENTS} where message_text_redacted not in "
                    f"(select message_text_redacted {new})"
                )
        texts = con.sql(
            f"select distinct message_text_redacted {new} "
            f"and message_text_redacted not in (select message_text_redacted from {judgments}) order by 1"
        ).to_arrow_table()
        if texts.num_rows:
            suggested, probability = _predict(current.load(), texts.column(0).to_pylist())
            con.register(
                "new_judgments",
                pa.table(
                    {
                        "message_text_redacted": texts.column(0),
                        "suggested_intent_name": pa.array(suggested, pa.string()),
                        "suggested_probability": pa.array(np.round(probability, 6), pa.float64()),
                    }
                ),
            )
            con.execute(
                f"insert into {JUDGMENTS} by name select ? as model_sha256, * from new_judgments", [model]
            )
        threshold = float(project_vars()["low_confidence_threshold"])
        with duck.transaction(con):
            con.execute(f"delete from {TABLE} where message_id in (select message_id {new})")
            [(inserted,)] = con.execute(
                f"""
                insert into {TABLE} by name
                with judged as (
                    select
                        messages.*,
                        judgments.suggested_intent_name,
                        judgments.suggested_probability,
                        case
                            when judgments.suggested_probability >= {CONFIDENT}
                                and judgments.suggested_intent_name is distinct from messages.intent_name
                                then 'model_disagrees'
                            when messages.intent_confidence < {threshold} then 'low_bot_confidence'
                        end as queue_reason
                    from (select * {new}) as messages
                    inner join {judgments} as judgments using (message_text_redacted)
                )
                select
                    message_id,
                    conversation_id,
                    message_text_redacted,
                    queue_reason,
                    intent_name as bot_intent_name,
                    intent_confidence as bot_intent_confidence,
                    suggested_intent_name,
                    suggested_probability,
                    {current.number} as model_version,
                    sent_at,
                    _processed_batch_id,
                from judged
                where queue_reason is not null
                """
            ).fetchall()
        return Queued(int(inserted), texts.num_rows)
    finally:
        con.close()


def _predict(model: Any, texts: list[str], chunk_rows: int = CHUNK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """The model's most probable intent and its probability per text (in ``texts`` order).

    Past one chunk the texts are split into ``PREDICT_WORKERS`` contiguous parts judged in
    worker processes (joblib); a night's few texts stay in this process."""
    if len(texts) <= chunk_rows:
        return _predict_chunks(model, texts, chunk_rows)
    size = -(-len(texts) // PREDICT_WORKERS)
    parts = joblib.Parallel(n_jobs=PREDICT_WORKERS)(
        joblib.delayed(_predict_chunks)(model, texts[start : start + size], chunk_rows)
        for start in range(0, len(texts), size)
    )
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _predict_chunks(model: Any, texts: list[str], chunk_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Judge ``chunk_rows`` texts per call: the TF-IDF matrix and the probabilities of a
    million texts at once took gigabytes (bench, standard scale: 4.4 GiB peak)."""
    suggested, probability = [], []
    for start in range(0, len(texts), chunk_rows):
        probabilities = model.predict_proba(texts[start : start + chunk_rows])
        best = np.argmax(probabilities, axis=1)
        suggested.append(model.classes_[best].astype(str))
        probability.append(probabilities[np.arange(len(best)), best])
    if not suggested:
        return np.array([], dtype=str), np.array([], dtype=float)
    return np.concatenate(suggested), np.concatenate(probability)
