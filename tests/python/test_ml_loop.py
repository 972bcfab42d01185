"""The ML loop on generated data: honest splits, the dataset card, training that is
deterministic, shipping only a model that is not worse, classify, the published evaluations."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chatbatch_dev.generator import generate

from chatbatch.core.paths import Paths
from chatbatch.output import ml
from chatbatch.output.intent_model.evaluation import evaluate
from chatbatch.output.intent_model.pipeline import fit, load_split
from chatbatch.output.intent_model.settings import TrainSettings
from chatbatch.output.intent_model.store import ModelStore
from chatbatch.output.intent_model.train import train_intent
from chatbatch.output.ml_card import SPLITS

START = date(2026, 11, 2)  # a Monday
DAYS = 4
LAST = START + timedelta(days=DAYS - 1)


def _run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chatbatch.cli", *args],
        env={**os.environ, "CHATBATCH_HOME": str(home), "CHATBATCH_REPORT": "off"},
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four days of exports, one night (catching up the four days; it trains: weekly, none yet)."""
    home = tmp_path_factory.mktemp("ml") / "home"
    generate(home / "landing", START, DAYS, 200, seed=17, dirty_rate=0.01)
    result = _run_cli(home, "nightly", "--date", LAST.isoformat())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "intent model: v=0001 shipped" in result.stdout, result.stdout[-2000:]
    return home


def _latest(home: Path, dataset: str = "ml_intent_examples") -> Path:
    return ml.versions(home / "exports" / "ml" / dataset)[-1]


def _rows(version: Path) -> dict[str, list[dict]]:
    return {split: ml.read_split(version, split).to_pylist() for split in SPLITS}


def test_no_text_in_two_splits_and_the_card_says_so(home: Path) -> None:
    version = _latest(home)
    rows = _rows(version)
    for key in ("text_key", "near_duplicate_key"):
        keys = {split: {r[key] for r in rows[split]} for split in SPLITS}
        assert not keys["train"] & keys["valid"] and not keys["train"] & keys["test"]
        assert not keys["valid"] & keys["test"]
    # users repeat themselves: texts used in several conversations, each kept in one split
    conversations: dict[str, set[str]] = {}
    for split_rows in rows.values():
        for r in split_rows:
            conversations.setdefault(r["text_key"], set()).add(r["conversation_id"])
    assert sum(len(c) > 1 for c in conversations.values()) > 20
    card = json.loads((version / "manifest.json").read_text())["card"]
    assert card["overlap"]["exact"]["keys_in_several_splits"] == 0
    assert card["overlap"]["near_duplicate"]["keys_in_several_splits"] == 0
    assert card["sizes"] == {split: len(rows[split]) for split in SPLITS}
    assert card["class_balance"]["train"]["classes"] > 25
    assert set(card["redaction"]["placeholder_counts"]) == {
        "[EMAIL]",
        "[PHONE]",
        "[CARD]",
        "[IBAN]",
        "[IPV4]",
        "[IPV6]",
    }
    assert card["sources"]["label_sources"]["nlu_confidence"] > 0


def test_preference_pairs_answer_the_same_prompt(home: Path) -> None:
    for split_rows in _rows(_latest(home, "ml_response_preferences")).values():
        for r in split_rows:
            assert r["chosen_text"] != r["rejected_text"]
            assert r["prompt_key"] and r["split"] in SPLITS


def test_training_is_deterministic_for_a_seed(home: Path) -> None:
    version = _latest(home)
    train, test = load_split(version, "train"), load_split(version, "test")
    first, second = (evaluate(fit(train, 42), test).to_dict() for _ in range(2))
    assert first == second
    assert 0.5 < first["macro_f1"] <= 1 and 0 <= first["expected_calibration_error"] <= 1


def test_the_night_shipped_a_model_and_published_its_evaluations(home: Path) -> None:
    current = ModelStore(Paths(home=home).intent_model).current()
    assert current is not None and current.metrics()["status"] == "shipped"
    con = duckdb.connect(str(home / "analytics.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select scope, count(*), count(distinct intent_name), max(macro_f1) "
            "from ml_models.ml_model_evaluations where model_version = ? group by 1 order by 1",
            [current.number],
        ).fetchall()
    finally:
        con.close()
    by_scope = {r[0]: r for r in rows}
    assert (
        by_scope["overall"][1] == 1 and by_scope["overall"][3] == current.metrics()["evaluation"]["macro_f1"]
    )
    assert by_scope["intent"][1] == by_scope["intent"][2] > 15  # the intents of the test split


def test_unchanged_dataset_is_not_trained_again(home: Path) -> None:
    result = train_intent(Paths(home=home), LAST, None, TrainSettings(schedule="nightly"))
    assert result.outcome == "skipped" and "unchanged" in result.reason


def test_classify_returns_the_intents_of_planted_texts(home: Path) -> None:
    planted = {
        "Where is my order?": "check_order_status",
        "I forgot my password": "reset_password",
        "How do I return an item?": "return_item",
    }
    for text, intent in planted.items():
        result = _run_cli(home, "classify", text, "--top-k", "2")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("intent model v=") and lines[1].split()[-1] == intent, result.stdout


def test_a_worse_model_is_not_shipped(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "home"
    shutil.copytree(home, copy, symlinks=True)  # `current` stays a link
    paths = Paths(home=copy)
    store = ModelStore(paths.intent_model)
    before = store.current()
    assert before is not None
    # a new dataset version whose training labels are shuffled: the same test split, a worse model
    latest = _latest(copy)
    worse = latest.with_name("v=999999")
    shutil.copytree(latest, worse)
    train = ml.read_split(worse, "train")
    labels = train.column("intent_name").to_pylist()
    shuffled = labels[7:] + labels[:7]
    train = train.set_column(train.schema.get_field_index("intent_name"), "intent_name", pa.array(shuffled))
    shutil.rmtree(worse / "train")
    (worse / "train").mkdir()
    pq.write_table(train, worse / "train" / "shuffled.parquet")
    result = train_intent(paths, LAST, None, TrainSettings(schedule="nightly", tolerance=0.01))
    assert result.outcome == "rejected" and "below the current model" in result.reason
    assert store.current() == before
    rejected = store.versions()[-1].metrics()
    assert rejected["status"] == "rejected" and rejected["baseline"]["version"] == before.number


def test_labelling_queue_holds_the_messages_a_person_should_label(home: Path, tmp_path: Path) -> None:
    """The night queued the user messages the bot was unsure of; a full refresh of the queue
    gives the same rows; a message whose recorded intent the model confidently contradicts
    (planted: its intent overwritten in a copy of the warehouse) joins as model_disagrees."""
    from chatbatch.output.intent_model import labelling

    query = (
        "select message_id, queue_reason, bot_intent_name, bot_intent_confidence, "
        "suggested_intent_name, suggested_probability, model_version "
        f"from {labelling.TABLE} order by message_id"
    )
    con = duckdb.connect(str(home / "analytics.duckdb"), read_only=True)
    try:
        published = con.execute(query).fetchall()
    finally:
        con.close()
    store = ModelStore(Paths(home=home).intent_model)
    assert published and {row[1] for row in published} <= {"model_disagrees", "low_bot_confidence"}
    for _, reason, bot_intent, bot_confidence, suggested, probability, version in published:
        assert version == store.current().number
        if reason == "model_disagrees":
            assert suggested != bot_intent and probability >= labelling.CONFIDENT
        else:
            assert bot_confidence < 0.5  # vars.low_confidence_threshold

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(home / "warehouse.duckdb", warehouse)
    queue = functools.partial(labelling.write_queue, warehouse, store)
    assert queue(full_refresh=False) == labelling.Queued(0, 0)  # nothing new
    # a full refresh queues the same rows, and the model judges no text it judged before
    assert queue(full_refresh=True) == labelling.Queued(len(published), 0)
    con = duckdb.connect(str(warehouse))
    try:
        [(judged,)] = con.execute(f"select count(*) from {labelling.JUDGMENTS}").fetchall()
        con.execute(f"update {labelling.JUDGMENTS} set model_sha256 = 'another model'")  # as if retrained
    finally:
        con.close()
    # another model's judgments are not reused (and are deleted): every text is judged again
    assert queue(full_refresh=True) == labelling.Queued(len(published), judged)
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute(query).fetchall() == published
        assert con.execute(f"select count(*) from {labelling.JUDGMENTS}").fetchall() == [(judged,)]
        texts = con.execute(
            f"select message_id, message_text_redacted, intent_name from {labelling.SOURCE} "
            "where message_role = 'user' and message_text_redacted is not null order by message_id"
        ).fetchall()
        model = store.current().load()
        probabilities = model.predict_proba([t for _, t, _ in texts])
        best = int(probabilities.max(axis=1).argmax())  # the message the model is surest of
        planted, predicted = texts[best][0], str(model.classes_[probabilities[best].argmax()])
        assert probabilities[best].max() >= labelling.CONFIDENT
        other = next(str(c) for c in model.classes_ if c != predicted)
        con.execute(f"update {labelling.SOURCE} set intent_name = ? where message_id = ?", [other, planted])
    finally:
        con.close()
    labelling.write_queue(warehouse, store, full_refresh=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            f"select queue_reason, suggested_intent_name from {labelling.TABLE} where message_id = ?",
            [planted],
        ).fetchall()
    finally:
        con.close()
    assert row == [("model_disagrees", predicted)]


def test_texts_judged_in_worker_processes_get_the_judgments_of_one_process(home: Path) -> None:
    """Past one chunk the labelling queue's texts are split across worker processes; the
    intents and probabilities come back in the texts' order, as one process judges them."""
    from chatbatch.output.intent_model import labelling

    model = ModelStore(Paths(home=home).intent_model).current().load()
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        texts = [
            str(text)
            for (text,) in con.execute(
                f"select distinct message_text_redacted from {labelling.SOURCE} "
                "where message_text_redacted is not null order by 1 limit 500"
            ).fetchall()
        ]
    finally:
        con.close()
    in_process = labelling._predict(model, texts, chunk_rows=len(texts))
    in_workers = labelling._predict(model, texts, chunk_rows=100)
    assert len(texts) > 200 and in_process[0].tolist() == in_workers[0].tolist()
    assert in_process[1].tolist() == pytest.approx(in_workers[1].tolist())


def test_erasure_deletes_the_models_that_learned_from_the_person(home: Path, tmp_path: Path) -> None:
    """``chatbatch forget`` on models (privacy/models.py): every version trained on a dataset
    version that held the person goes, and the shipped one is replaced by a fresh model."""
    from chatbatch.privacy import models

    copy = tmp_path / "home"
    shutil.copytree(home, copy, symlinks=True)
    paths = Paths(home=copy)
    store = ModelStore(paths.intent_model)
    trained_on = {v.metrics()["dataset"]["version"] for v in store.versions()}
    before = {v.number for v in store.versions()}
    scrubbed = [f"ml/ml_intent_examples/{version}/train/2026-11-02.parquet" for version in trained_on]
    counts = models.forget_models(paths, models.held_versions(scrubbed), LAST)
    assert counts == {"models_deleted": len(before), "retrained": "shipped"}
    current = store.current()
    assert current is not None and current.number not in before
    assert [v.number for v in store.versions()] == [current.number]


def test_read_split_reads_a_version_written_before_the_week_files(home: Path, tmp_path: Path) -> None:
    """A version from before the week files holds ``<split>.parquet`` alone: read as it was."""
    latest = _latest(home)
    old = tmp_path / "ml_intent_examples" / "v=000001"
    old.mkdir(parents=True)
    for split in SPLITS:
        pq.write_table(ml.read_split(latest, split), old / f"{split}.parquet")
    for split in SPLITS:
        assert ml.read_split(old, split).equals(ml.read_split(latest, split))
