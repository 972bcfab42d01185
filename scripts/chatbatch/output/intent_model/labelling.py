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
(or the rebuild after an erasure) empties the queue and judges everything again, so it equals
the nights before it for the same model and holds nobody who was erased.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chatbatch.contract.project import project_vars
from chatbatch.output import files
from chatbatch.output.intent_model.evaluations import SCHEMA
from chatbatch.output.intent_model.store import ModelStore

TABLE = f"{SCHEMA}.ml_labelling_queue"
SOURCE = "intermediate.int_messages_redacted"
CONFIDENT = 0.9  # a model probability at or above this is a confident disagreement
CHUNK_ROWS = 20_000  # messages judged per model call (bounds the memory of a catch-up)
DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {TABLE} (
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
)
"""


def write_queue(warehouse: Path, store: ModelStore, full_refresh: bool) -> int:
    """Judge the user messages not judged yet (all on a full refresh); return the rows queued."""
    current = store.current()
    con = files.connect(warehouse, read_only=False)
    try:
        con.execute(DDL)
        if full_refresh:
            con.execute(f"delete from {TABLE}")
        if current is None:
            return 0
        messages = con.sql(
            f"select message_id, conversation_id, message_text_redacted, intent_name, "
            f"intent_confidence, sent_at, _processed_batch_id from {SOURCE} "
            "where message_role = 'user' and message_text_redacted is not null "
            f"and _processed_batch_id > (select coalesce(max(_processed_batch_id), 0) from {TABLE}) "
            "order by message_id"
        ).to_arrow_table()
        if messages.num_rows == 0:
            return 0
        model = current.load()
        threshold = float(project_vars()["low_confidence_threshold"])
        # each distinct text is judged once (users repeat themselves: a catch-up's million
        # user messages hold a small fraction of distinct redacted texts), a slice at a time
        texts = messages.column("message_text_redacted")
        distinct = pc.unique(texts)
        suggested, probability = _predict(model, distinct.to_pylist())
        position = pc.index_in(texts, value_set=distinct).to_numpy()
        queued = _queue_rows(messages, suggested[position], probability[position], current.number, threshold)
        con.register("judged", messages.select(["message_id"]))
        con.register("queued", queued)
        con.execute("begin transaction")
        con.execute(f"delete from {TABLE} where message_id in (select message_id from judged)")
        con.execute(f"insert into {TABLE} by name select * from queued")
        con.execute("commit")
        return queued.num_rows
    finally:
        con.close()


def _predict(model: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The model's most probable intent and its probability per text, ``CHUNK_ROWS`` texts
    per call: the TF-IDF matrix and the probabilities of a million texts at once took
    gigabytes (bench, standard scale: 4.4 GiB peak)."""
    suggested, probability = [], []
    for start in range(0, len(texts), CHUNK_ROWS):
        probabilities = model.predict_proba(texts[start : start + CHUNK_ROWS])
        best = np.argmax(probabilities, axis=1)
        suggested.append(model.classes_[best].astype(str))
        probability.append(probabilities[np.arange(len(best)), best])
    if not suggested:
        return np.array([], dtype=str), np.array([], dtype=float)
    return np.concatenate(suggested), np.concatenate(probability)


def _queue_rows(
    messages: pa.Table, suggested: np.ndarray, probability: np.ndarray, model_version: int, threshold: float
) -> pa.Table:
    """The queue rows of the messages the model (``suggested`` intent and its ``probability``,
    per message) or the bot's own confidence flags."""
    bot_intent = np.array(messages.column("intent_name").to_pylist(), dtype=object)
    confidences = messages.column("intent_confidence").to_pylist()
    bot_confidence = np.array([np.nan if c is None else c for c in confidences], dtype=float)
    disagrees = (probability >= CONFIDENT) & (suggested != bot_intent)
    low = bot_confidence < threshold  # nan (no confidence) compares False
    reason = np.where(disagrees, "model_disagrees", np.where(low, "low_bot_confidence", ""))
    flagged = reason != ""
    keep = pa.array(flagged)
    kept = int(np.count_nonzero(flagged))
    return pa.table(
        {
            "message_id": messages.column("message_id").filter(keep),
            "conversation_id": messages.column("conversation_id").filter(keep),
            "message_text_redacted": messages.column("message_text_redacted").filter(keep),
            "queue_reason": pa.array(reason[flagged], pa.string()),
            "bot_intent_name": pa.array(bot_intent[flagged], pa.string()),
            "bot_intent_confidence": pa.array(bot_confidence[flagged], pa.float64(), from_pandas=True),
            "suggested_intent_name": pa.array(suggested[flagged], pa.string()),
            "suggested_probability": pa.array(np.round(probability[flagged], 6), pa.float64()),
            "model_version": pa.array(np.full(kept, model_version), pa.int32()),
            "sent_at": messages.column("sent_at").filter(keep),
            "_processed_batch_id": messages.column("_processed_batch_id").filter(keep),
        }
    )
