"""ML training sets: each nightly version of a dataset as Parquet with a manifest.

``Paths.ml_exports`` (``exports/ml/``): ``<dataset>/v=<batch>/`` holds ``manifest.json``
(rows, sha256 and fingerprint per file, label distribution, source window, and the dataset
card: ``ml_card.py``) and one folder per split, ``{train,valid,test}/``, of one Parquet file
per ISO week of ``conversation_date`` (``<Monday>.parquet``), each sorted by the dataset's key;
``read_split`` reads a split whole, in key order. A new version is written only when the
content changed, and only its changed weeks are written: a week whose rows are those of the
previous version (the same fingerprint) is hard-linked from it, so a night costs the weeks it
touched, not the dataset's history. A version folder, once renamed into place, is never
rewritten (immutable; an erasure is the one exception, docs/privacy.md), and the latest
version is the highest one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from chatbatch.output import files
from chatbatch.output.ml_card import SPLITS, CardSpec, card
from chatbatch.output.workload import WorkloadContext

# the file of a row: its split and the Monday of its conversation's ISO week
PART = "split || '/' || coalesce(strftime(date_trunc('week', conversation_date), '%Y-%m-%d'), 'undated')"


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


def split_files(version: Path, split: str) -> list[Path]:
    """The files of one split of a dataset version, by week (``<split>.parquet`` alone in a
    version written before the week files)."""
    single = version / f"{split}.parquet"
    return sorted((version / split).glob("*.parquet")) or ([single] if single.is_file() else [])


def read_split(version: Path, split: str, columns: list[str] | None = None) -> pa.Table:
    """One split of a dataset version, its weeks together in the order of the dataset's key
    (as one file would hold it); an empty split has no file: no rows, the version's columns."""
    key = next(d.key for d in DATASETS if d.name == version.parent.name)
    wanted = None if columns is None else list(dict.fromkeys([*columns, key]))
    paths = split_files(version, split)
    if paths:
        table = pa.concat_tables(pq.read_table(path, columns=wanted) for path in paths).sort_by(key)
    else:
        others = [path for other in SPLITS for path in split_files(version, other)]
        if not others:
            return pa.table({})
        table = pq.read_table(others[0], columns=wanted).slice(0, 0)
    return table if columns is None else table.select(columns)


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
    before = (existing[-1], latest["files"]) if latest and not recheck else None
    entries, linked = _write_weeks(con, dataset, staging, before)
    if latest and _hashes(entries) == _hashes(latest["files"]):
        shutil.rmtree(staging, ignore_errors=True)
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
    staging.mkdir(parents=True, exist_ok=True)
    manifest = {
        "dataset": dataset.name,
        "version": version,
        "batch_id": batch_id,
        "rows": sum(e["rows"] for e in entries.values()),
        "files": entries,
        "files_linked": linked,
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


def _hashes(entries: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: entry["sha256"] for name, entry in entries.items()}


def _write_weeks(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    staging: Path,
    before: tuple[Path, dict[str, dict[str, Any]]] | None,
) -> tuple[dict[str, dict[str, Any]], int]:
    """The week files of a new version into ``staging``: the manifest entries, and how many
    were linked from ``before`` (the previous version's folder and files) because their
    rows are the same (fingerprint: ``files.fingerprints``); the others in one scan."""
    fingerprints = files.fingerprints(con, dataset.relation, PART, dataset.where)
    wanted = {f"{part}.parquet": fingerprint for part, fingerprint in fingerprints.items()}
    previous_folder, previous = before or (staging, {})
    kept = sorted(
        name
        for name, fingerprint in wanted.items()
        if previous.get(name, {}).get("fingerprint") == fingerprint and (previous_folder / name).is_file()
    )
    entries = {name: previous[name] for name in kept}
    for name in kept:
        _link(previous_folder / name, staging / name)
    changed = [name.removesuffix(".parquet") for name in sorted(set(wanted) - set(kept))]
    if changed:
        where = f"({dataset.where}) and list_contains(?, {PART})"
        query = files.relation_query(con, dataset.relation, [dataset.key], where, part=PART)
        for parquet in files.write_parquet_parts(con, query, staging, [changed]):
            entries[parquet.file] = {
                "rows": parquet.rows,
                "sha256": parquet.sha256,
                "fingerprint": wanted[parquet.file],
            }
    return dict(sorted(entries.items())), len(kept)


def _link(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (the same bytes, no copy); a copy where links fail."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


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
