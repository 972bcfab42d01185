"""Train, evaluate, compare and maybe ship an intent classifier.

1. The latest ``ml_intent_examples`` version (``output/ml.py``) is the data; a run is skipped
   when the last candidate was trained on that version already (unless ``force``).
2. A candidate is fitted on ``train`` and evaluated on ``test``; the current model, if any, is
   evaluated on the same ``test`` split.
3. It ships when its macro-F1 is at least the current model's minus the tolerance
   (``settings.py``); else it is kept as ``rejected`` with the reason. Either way its folder,
   metrics and card are written (``store.py``); only a shipped one moves ``current``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from chatbatch.core.paths import Paths
from chatbatch.output import ml
from chatbatch.output.intent_model.card import model_card
from chatbatch.output.intent_model.evaluation import evaluate
from chatbatch.output.intent_model.pipeline import ALGORITHM, MAX_TRAIN_ROWS, fit, load_split
from chatbatch.output.intent_model.settings import TrainSettings
from chatbatch.output.intent_model.store import ModelStore

DATASET = "ml_intent_examples"
Outcome = Literal["shipped", "rejected", "skipped"]


@dataclass(frozen=True)
class TrainResult:
    outcome: Outcome
    reason: str
    version: int | None = None
    dataset_version: str | None = None
    macro_f1: float | None = None
    baseline_macro_f1: float | None = None
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def latest_dataset(paths: Paths) -> Path | None:
    found = ml.versions(paths.ml_exports / DATASET)
    return found[-1] if found else None


def train_intent(
    paths: Paths,
    run_date: date,
    batch_id: int | None,
    settings: TrainSettings,
    force: bool = False,
) -> TrainResult:
    store = ModelStore(paths.intent_model)
    dataset = latest_dataset(paths)
    if dataset is None:
        return TrainResult("skipped", f"no {DATASET} version exported yet")
    versions = store.versions()
    if versions and versions[-1].metrics()["dataset"]["version"] == dataset.name and not force:
        return TrainResult("skipped", f"{DATASET} {dataset.name} unchanged since v={versions[-1].number:04d}")
    train_split, test = load_split(dataset, "train"), load_split(dataset, "test")
    train = train_split.sample(MAX_TRAIN_ROWS, settings.seed)
    if not len(train) or not len(test) or len(set(train.labels)) < 2:
        return TrainResult("skipped", f"{DATASET} {dataset.name}: too little data to train and test")

    started = time.perf_counter()
    candidate = fit(train, settings.seed)
    seconds = round(time.perf_counter() - started, 3)
    scores = evaluate(candidate, test)
    current = store.current()
    baseline = evaluate(current.load(), test) if current else None
    if baseline is None:
        outcome, reason = "shipped", "first model"
    elif scores.macro_f1 >= baseline.macro_f1 - settings.tolerance:
        outcome = "shipped"
        reason = (
            f"macro-F1 {scores.macro_f1:.4f} vs current {baseline.macro_f1:.4f} "
            f"(tolerance {settings.tolerance})"
        )
    else:
        outcome = "rejected"
        reason = (
            f"macro-F1 {scores.macro_f1:.4f} is below the current model's {baseline.macro_f1:.4f} "
            f"minus the tolerance {settings.tolerance} on the same test split"
        )
    number = store.next_number()
    metrics = {
        "model": "intent",
        "version": number,
        "status": outcome,
        "reason": reason,
        "algorithm": ALGORITHM,
        "seed": settings.seed,
        "tolerance": settings.tolerance,
        "run_date": run_date.isoformat(),
        "batch_id": batch_id,
        "training_seconds": seconds,
        "dataset": {
            "name": DATASET,
            "version": dataset.name,
            "train_rows": len(train),
            "train_split_rows": len(train_split),
            "test_rows": len(test),
        },
        "evaluation": scores.to_dict(),
        "baseline": None
        if baseline is None or current is None
        else {"version": current.number, "evaluation": baseline.to_dict()},
    }
    version = store.write(number, candidate, metrics, model_card(metrics))
    if outcome == "shipped":
        store.switch_current(version)
    return TrainResult(
        outcome,
        reason,
        number,
        dataset.name,
        scores.macro_f1,
        baseline.macro_f1 if baseline else None,
        seconds,
    )
