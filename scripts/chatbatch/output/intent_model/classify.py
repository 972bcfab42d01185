"""``chatbatch classify``: the current intent model's top intents for a text."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chatbatch.core.errors import OperatorError
from chatbatch.core.paths import Paths
from chatbatch.output.intent_model.store import ModelStore


@dataclass(frozen=True)
class Prediction:
    intent: str
    probability: float


def classify(paths: Paths, text: str, top_k: int = 3) -> tuple[int, list[Prediction]]:
    """The current model's version and its ``top_k`` intents for ``text``, most likely first."""
    current = ModelStore(paths.intent_model).current()
    if current is None:
        raise OperatorError(
            f"no shipped intent model in {paths.intent_model}",
            "train one: `chatbatch train intent` (after a nightly exported ml_intent_examples)",
        )
    model = current.load()
    probabilities = model.predict_proba([text])[0]
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    return current.number, [
        Prediction(str(model.classes_[i]), round(float(probabilities[i]), 4)) for i in order
    ]
