"""The classifier and its data: TF-IDF word and character n-grams and a logistic regression,
fitted on one split of an ``ml_intent_examples`` version (Parquet)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chatbatch.output.ml import read_split

if TYPE_CHECKING:  # scikit-learn is imported when a model is made, not by every command
    from sklearn.pipeline import Pipeline

# Training examples used at most: a sample beyond it. At the bench's standard scale the
# train split has ~240,000 rows of 35 intents; fitting all of them took 78 s and gigabytes.
# Macro-F1 on the test split is flat from 15,000 rows up (0.845-0.856 for 15k-60k samples,
# 30 days of bench data); 30,000 fit in half the time of 60,000 (7.8 vs 16.9 s).
MAX_TRAIN_ROWS = 30_000
TEXT_COLUMN = "utterance_text"
LABEL_COLUMN = "intent_name"
ALGORITHM = "tfidf(word 1-2 + char_wb 3-4, min_df 2) + logistic regression (C=10, lbfgs, tol 1e-3)"


@dataclass(frozen=True)
class Examples:
    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def sample(self, rows: int, seed: int) -> Examples:
        """At most ``rows`` examples, drawn without replacement (the same seed, the same draw)."""
        if len(self) <= rows:
            return self
        keep = sorted(random.Random(seed).sample(range(len(self)), rows))
        return Examples([self.texts[i] for i in keep], [self.labels[i] for i in keep])


def load_split(version: Path, split: str) -> Examples:
    """The texts and intents of one split of a dataset version folder."""
    table = read_split(version, split, [TEXT_COLUMN, LABEL_COLUMN])
    if table.num_rows == 0:
        return Examples([], [])
    return Examples(
        [str(t) for t in table.column(TEXT_COLUMN).to_pylist()],
        [str(label) for label in table.column(LABEL_COLUMN).to_pylist()],
    )


def make_pipeline(seed: int) -> Pipeline:
    """A fresh, unfitted classifier; the same seed and data give the same model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            (
                "char",
                TfidfVectorizer(
                    lowercase=True, analyzer="char_wb", ngram_range=(3, 4), min_df=2, sublinear_tf=True
                ),
            ),
        ]
    )
    model = LogisticRegression(C=10.0, tol=1e-3, max_iter=1000, random_state=seed)
    return Pipeline([("features", features), ("model", model)])


def fit(train: Examples, seed: int) -> Pipeline:
    pipeline = make_pipeline(seed)
    pipeline.fit(train.texts, train.labels)
    return pipeline
