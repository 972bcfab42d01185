"""How good a fitted classifier is on a split: accuracy, macro-F1, per-intent precision /
recall / F1, the confusion matrix and calibration (expected calibration error over
reliability bins of the top-class probability)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from chatbatch.output.intent_model.pipeline import Examples

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

RELIABILITY_BINS = 10


@dataclass(frozen=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


@dataclass(frozen=True)
class Evaluation:
    examples: int
    accuracy: float
    macro_f1: float
    expected_calibration_error: float
    per_intent: list[IntentScore]
    labels: list[str]  # the confusion matrix's row (true) and column (predicted) order
    confusion: list[list[int]]
    reliability: list[ReliabilityBin]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _r(value: float) -> float:
    return round(float(value), 6)


def reliability(confidence: np.ndarray, correct: np.ndarray) -> tuple[float, list[ReliabilityBin]]:
    """ECE = sum over bins of (bin share) x |accuracy - mean confidence|, equal-width bins."""
    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, RELIABILITY_BINS - 1)
    bins, ece = [], 0.0
    for b in range(RELIABILITY_BINS):
        mask = index == b
        count = int(mask.sum())
        if count:
            conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
            ece += count / len(confidence) * abs(acc - conf)
            bins.append(ReliabilityBin(_r(edges[b]), _r(edges[b + 1]), count, _r(conf), _r(acc)))
        else:
            bins.append(ReliabilityBin(_r(edges[b]), _r(edges[b + 1]), 0, None, None))
    return _r(ece), bins


def evaluate(pipeline: Pipeline, test: Examples) -> Evaluation:
    """Scores of ``pipeline`` on ``test`` (labels unseen in training count as errors)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    probabilities = pipeline.predict_proba(test.texts)
    classes = np.asarray(pipeline.classes_)
    predicted = classes[probabilities.argmax(axis=1)]
    truth = np.asarray(test.labels)
    labels = sorted(set(test.labels) | set(classes.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    present = [i for i, label in enumerate(labels) if label in set(test.labels)]
    ece, bins = reliability(probabilities.max(axis=1), predicted == truth)
    return Evaluation(
        examples=len(test),
        accuracy=_r(accuracy_score(truth, predicted)),
        macro_f1=_r(
            f1_score(truth, predicted, labels=[labels[i] for i in present], average="macro", zero_division=0)
        ),
        expected_calibration_error=ece,
        per_intent=[
            IntentScore(labels[i], _r(precision[i]), _r(recall[i]), _r(f1[i]), int(support[i]))
            for i in present
        ],
        labels=labels,
        confusion=confusion_matrix(truth, predicted, labels=labels).tolist(),
        reliability=bins,
    )
