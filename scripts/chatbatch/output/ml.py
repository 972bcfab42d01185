"""ML training sets: each nightly version of a dataset as Parquet with a manifest.

``Paths.ml_exports`` (``exports/ml/``): ``<dataset>/v=<batch>/{train,valid,test}.parquet`` and
``manifest.json`` (rows, sha256 per file, label distribution, source window, and the
dataset card: ``ml_card.py``). A new
version is written only when the content changed; a version folder, once renamed into
place, is never rewritten (immutable), and the latest version is the highest one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb

from chatbatch.output import files
from chatbatch.output.ml_card import SPLITS, CardSpec, card
from chatbatch.output.workload import WorkloadContext


@dataclass(frozen=True)
class Dataset:
    name: str
    relation: str
    key: str
    label: str
    text_key: str  # exact normal form of the text the split is keyed on (the card's overlap)
    near_key: str  # near-duplicate key: the split's key
    texts: tuple[str, ...]  # exported text columns
    where: str = "true"  # rows of the model that belong in the dataset
    label_source: str | None = None

    def card_spec(self) -> CardSpec:
        return CardSpec(
            self.relation, self.where, self.label, self.text_key, self.near_key, self.texts, self.label_source
        )


DATASETS = (
    Dataset(
        "ml_intent_examples",
        "ml.ml_intent_examples",
        "example_id",
        "intent_name",
        "text_key",
        "near_duplicate_key",
        ("utterance_text",),
        label_source="label_source",
    ),
    Dataset(
        "ml_response_preferences",
        "ml.ml_response_preferences",
        "preference_id",
        "intent_name",
        "context_text_key",
        "prompt_key",
        ("context_text", "chosen_text", "rejected_text"),
        "chosen_message_id is not null",
    ),
)


@dataclass(frozen=True)
class DatasetVersion:
    """The dataset's version in force after a night, and whether that night wrote it."""

    version: str
    written: bool
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def versions(folder: Path) -> list[Path]:
    """Complete versions of a dataset (with a manifest), oldest first."""
    return sorted(p for p in folder.glob("v=*") if (p / files.MANIFEST).is_file())


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _label_distribution(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> dict[str, dict[str, int]]:
    rows = con.execute(
        f"select split, coalesce({dataset.label}, '(none)'), count(*) "
        f"from {dataset.relation} where {dataset.where} group by all order by all"
    ).fetchall()
    out: dict[str, dict[str, int]] = {split: {} for split in SPLITS}
    for split, label, count in rows:
        out[split][label] = int(count)
    return out


def export_dataset(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, root: Path, batch_id: int, recheck: bool
) -> DatasetVersion:
    folder = root / dataset.name
    files.remove_stale_temps(folder)
    existing = versions(folder)
    latest = files.read_manifest(existing[-1] / files.MANIFEST) if existing else None
    watermark = int(_scalar(con, f"select coalesce(max(_processed_batch_id), 0) from {dataset.relation}"))
    if latest and latest["source_window"]["processed_batch_id"] == watermark and not recheck:
        return DatasetVersion(latest["version"], False, latest["rows"])

    staging = folder / f".v={batch_id:06d}.{os.getpid()}.tmp"
    query = files.relation_query(con, dataset.relation, [dataset.key], f"({dataset.where}) and split = ?")
    split_files: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        parquet = files.write_parquet(con, query, staging / f"{split}.parquet", [split])
        split_files[parquet.file] = {"rows": parquet.rows, "sha256": parquet.sha256}
    if latest and latest["files"] == split_files:
        shutil.rmtree(staging)
        return DatasetVersion(latest["version"], False, latest["rows"])

    version = f"v={batch_id:06d}"
    final = folder / version
    if final.exists():
        shutil.rmtree(staging)
        raise RuntimeError(f"{final} exists with other content: published ML versions are immutable")
    window = con.execute(
        f"select min(conversation_date), max(conversation_date) from {dataset.relation} where {dataset.where}"
    ).fetchone() or (None, None)
    labels = _label_distribution(con, dataset)
    manifest = {
        "dataset": dataset.name,
        "version": version,
        "batch_id": batch_id,
        "rows": sum(f["rows"] for f in split_files.values()),
        "files": split_files,
        "label_column": dataset.label,
        "label_distribution": labels,
        "card": card(con, dataset.card_spec(), labels),
        "source_window": {
            "conversation_date_min": window[0],
            "conversation_date_max": window[1],
            "processed_batch_id": watermark,
        },
        "previous_version": latest["version"] if latest else None,
    }
    files.write_manifest(staging / files.MANIFEST, manifest)
    os.rename(staging, final)  # the version appears whole, or not at all
    return DatasetVersion(version, True, manifest["rows"])


@dataclass(frozen=True)
class MlDatasetsExport:
    name: str = "ml_datasets"
    phase: Literal["before_publish"] = "before_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        con = files.connect(ctx.paths.warehouse)
        try:
            out = {
                d.name: export_dataset(con, d, ctx.paths.ml_exports, ctx.batch_id, ctx.full_refresh)
                for d in DATASETS
            }
        finally:
            con.close()
        for name, result in out.items():
            state = "new version" if result.written else "unchanged"
            ctx.say(f"  ml {name}: {result.version} ({result.rows:,} rows, {state})")
        return {name: result.to_dict() for name, result in out.items()}
