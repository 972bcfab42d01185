"""Erasure and trained models: a model learned from the person's texts (its vocabulary, its
weights) even when the dataset it was trained on has since been scrubbed.

Every intent-model version trained on an ``ml_intent_examples`` version that held the
person's rows is deleted (shipped or rejected). When the shipped one goes, a new model is
trained at once on the latest (scrubbed) version, so ``chatbatch classify`` keeps working;
it ships as a first model. The warehouse's evaluations table is rebuilt from what is left.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import date

from chatbatch.core.paths import Paths
from chatbatch.output.intent_model import evaluations
from chatbatch.output.intent_model.settings import TrainSettings
from chatbatch.output.intent_model.store import CURRENT, ModelStore
from chatbatch.output.intent_model.train import DATASET, train_intent


def held_versions(scrubbed_files: Iterable[str]) -> set[str]:
    """The ``ml_intent_examples`` versions (``v=…``) a scrub removed rows from, out of the
    relative paths ``outputs.scrub_exports`` reports (``ml/<dataset>/v=…/<split>/<week>.parquet``)."""
    versions = set()
    for path in scrubbed_files:
        parts = path.split("/")
        if len(parts) >= 3 and parts[:2] == ["ml", DATASET]:
            versions.add(parts[2])
    return versions


def forget_models(paths: Paths, dataset_versions: set[str], run_date: date) -> dict[str, int | str]:
    """Delete the model versions trained on ``dataset_versions``; retrain if the shipped one went."""
    store = ModelStore(paths.intent_model)
    current = store.current()
    doomed = [v for v in store.versions() if v.metrics()["dataset"]["version"] in dataset_versions]
    if not doomed:
        return {"models_deleted": 0}
    for version in doomed:
        shutil.rmtree(version.folder)
    counts: dict[str, int | str] = {"models_deleted": len(doomed)}
    if current is not None and current.number in {v.number for v in doomed}:
        link = paths.intent_model / CURRENT
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        result = train_intent(paths, run_date, None, TrainSettings.from_env(), force=True)
        counts["retrained"] = result.outcome
    evaluations.write_table(paths.warehouse, store)
    return counts
