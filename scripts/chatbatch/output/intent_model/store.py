"""The model folder: ``v=N/`` per trained candidate (``model.joblib``, ``metrics.json``,
``MODEL_CARD.md``) and ``current``, a relative symlink to the shipped version, replaced
with one ``os.replace`` (a reader sees the old or the new model, never none).

A version folder is written under a temporary name and renamed into place whole; it is
never rewritten. Candidates that were not shipped keep their folder (status ``rejected``
in ``metrics.json``, with the reason), so a rejection can be inspected.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib

from chatbatch.output import files

if TYPE_CHECKING:  # scikit-learn is imported where a model is loaded, not by every command
    from sklearn.pipeline import Pipeline

MODEL_FILE = "model.joblib"
METRICS_FILE = "metrics.json"
CARD_FILE = "MODEL_CARD.md"
CURRENT = "current"
LAST_NUMBER = ".last_version"  # the highest number ever written: numbers are never reused


@dataclass(frozen=True)
class ModelVersion:
    number: int
    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    def metrics(self) -> dict[str, Any]:
        return json.loads((self.folder / METRICS_FILE).read_text(encoding="utf-8"))

    def load(self) -> Pipeline:
        from sklearn.pipeline import Pipeline

        model = joblib.load(self.folder / MODEL_FILE)
        if not isinstance(model, Pipeline):
            raise TypeError(f"{self.folder / MODEL_FILE} holds no scikit-learn pipeline")
        return model


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def versions(self) -> list[ModelVersion]:
        """Complete versions (with metrics), oldest first."""
        if not self.root.exists():
            return []
        found = [
            ModelVersion(int(p.name.removeprefix("v=")), p)
            for p in self.root.glob("v=*")
            if (p / METRICS_FILE).is_file() and p.name.removeprefix("v=").isdigit()
        ]
        return sorted(found, key=lambda v: v.number)

    def current(self) -> ModelVersion | None:
        link = self.root / CURRENT
        if not (link / METRICS_FILE).is_file():
            return None
        if not link.is_symlink():  # a copy that followed the link (cp -r, copytree): its metrics say which
            number = int(json.loads((link / METRICS_FILE).read_text(encoding="utf-8"))["version"])
            return ModelVersion(number, self.root / f"v={number:04d}")
        target = Path(os.readlink(link))
        return ModelVersion(int(target.name.removeprefix("v=")), self.root / target.name)

    def next_number(self) -> int:
        """One more than any version ever written, deleted ones included (an erasure deletes
        versions; a number must never name two models)."""
        versions = self.versions()
        marker = self.root / LAST_NUMBER
        last = int(marker.read_text(encoding="utf-8")) if marker.is_file() else 0
        return max(last, versions[-1].number if versions else 0) + 1

    def write(self, number: int, model: Pipeline, metrics: dict[str, Any], card: str) -> ModelVersion:
        """Write version ``number`` whole (temporary folder, then rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        files.remove_stale_temps(self.root)
        final = self.root / f"v={number:04d}"
        if final.exists():
            raise RuntimeError(f"{final} exists: model versions are never rewritten")
        staging = self.root / f".v={number:04d}.{os.getpid()}.tmp"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        joblib.dump(model, staging / MODEL_FILE)
        (staging / METRICS_FILE).write_text(
            json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        (staging / CARD_FILE).write_text(card, encoding="utf-8")
        os.rename(staging, final)
        files.write_atomic(self.root / LAST_NUMBER, f"{number}\n")
        return ModelVersion(number, final)

    def switch_current(self, version: ModelVersion) -> None:
        """Point ``current`` at ``version`` atomically."""
        link = self.root / CURRENT
        temporary = self.root / f".{CURRENT}.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        os.symlink(version.name, temporary)
        if link.is_dir() and not link.is_symlink():  # a copy that followed the link: replace it
            shutil.rmtree(link)
        os.replace(temporary, link)
