"""The dataset card of an ML dataset version (the ``card`` of its manifest.json).

Sizes per split, label distribution and class balance, how many normalised texts appear
in more than one split (exact: ``text_key``; near-duplicate: the split key; both are 0 by
the split rule, models/ml/_ml__docs.md, and the card proves it for every version), the
sources (relation, label sources, conversations, date window) and the redaction applied
(placeholder counts in the exported texts). Computed in SQL over the dataset's rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import duckdb

from chatbatch.transform.redact import PLACEHOLDERS

SPLITS = ("train", "valid", "test")
SPLIT_RULE_DOC = "models/ml/_ml__docs.md (ml_split_rule)"
REDACTION = {
    "applied_by": "int_messages_redacted: redact_pii() = chatbatch.transform.redact.redact",
    "placeholders": sorted(PLACEHOLDERS.values()),
    "not_redacted": "personal names and postal addresses (no offline detector)",
}


@dataclass(frozen=True)
class CardSpec:
    """What the card reads in a dataset's relation."""

    relation: str
    where: str  # rows of the model that belong in the dataset
    label: str
    text_key: str  # exact normal form column
    near_key: str  # near-duplicate key column (the split key)
    texts: tuple[str, ...]  # exported text columns (redaction counts)
    label_source: str | None = None  # column saying why a label is trusted


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def _overlap(con: duckdb.DuckDBPyConnection, spec: CardSpec, key: str) -> dict[str, int]:
    """Distinct keys shared by each pair of splits, and keys found in more than one split
    (one scan; counting them in Python sets took 0.4 s of a 922,000-row dataset)."""
    pairs = list(combinations(SPLITS, 2))
    counted = ", ".join(f"count(*) filter (where in_{a} and in_{b})" for a, b in pairs)
    several = " + ".join(f"in_{split}::int" for split in SPLITS)
    present = ", ".join(f"bool_or(split = '{split}') as in_{split}" for split in SPLITS)
    row = con.execute(
        f"select {counted}, count(*) filter (where {several} > 1) "
        f"from (select {present} from {spec.relation} where {spec.where} group by {key})"
    ).fetchone() or (0,) * (len(pairs) + 1)
    out = {f"{a}_{b}": int(count) for (a, b), count in zip(pairs, row[:-1], strict=True)}
    out["keys_in_several_splits"] = int(row[-1])
    return out


def class_balance(counts: dict[str, int]) -> dict[str, Any]:
    """Classes, smallest and largest class, their ratio, and the normalised entropy (1 = balanced)."""
    values = [v for v in counts.values() if v > 0]
    if not values:
        return {"classes": 0, "min": 0, "max": 0, "imbalance_ratio": None, "normalized_entropy": None}
    total = sum(values)
    entropy = -sum(v / total * math.log(v / total) for v in values)
    return {
        "classes": len(values),
        "min": min(values),
        "max": max(values),
        "imbalance_ratio": round(max(values) / min(values), 3),
        "normalized_entropy": round(entropy / math.log(len(values)), 4) if len(values) > 1 else 1.0,
    }


def _redaction_counts(con: duckdb.DuckDBPyConnection, spec: CardSpec) -> dict[str, int]:
    """Occurrences of each placeholder in the exported texts, in one scan: one regular
    expression of all placeholders per text, over the rows holding a ``[`` at all. Counting
    each placeholder with ``length - length(replace(...))`` read every text once per
    placeholder: 1.20 s against 0.10 s on 300,000 rows of three texts (one thread)."""
    tags = sorted(PLACEHOLDERS.values())
    pattern = "|".join(re.escape(tag) for tag in tags)
    found = " || ".join(f"regexp_extract_all(coalesce({c}, ''), '{pattern}')" for c in spec.texts)
    bracket = " or ".join(f"contains({c}, '[')" for c in spec.texts)
    counts = dict(
        _rows(
            con,
            f"select tag, count(*) from (select unnest({found}) as tag from {spec.relation} "
            f"where ({spec.where}) and ({bracket})) group by tag",
        )
    )
    return {tag: int(counts.get(tag, 0)) for tag in tags}


def card(con: duckdb.DuckDBPyConnection, spec: CardSpec, labels: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The card for the dataset's current rows; ``labels`` is the label distribution per split."""
    sizes = {split: sum(labels.get(split, {}).values()) for split in SPLITS}
    row = con.execute(
        f"select count(distinct conversation_id), count(distinct {spec.text_key}), "
        f"count(distinct {spec.near_key}) from {spec.relation} where {spec.where}"
    ).fetchone() or (0, 0, 0)
    sources: dict[str, Any] = {"relation": spec.relation, "conversations": int(row[0])}
    if spec.label_source:
        sources["label_sources"] = {
            str(k): int(v)
            for k, v in _rows(
                con,
                f"select {spec.label_source}, count(*) from {spec.relation} where {spec.where} "
                "group by 1 order by 1",
            )
        }
    return {
        "sizes": sizes,
        "distinct_texts": int(row[1]),
        "distinct_near_duplicate_keys": int(row[2]),
        "class_balance": {split: class_balance(labels.get(split, {})) for split in SPLITS},
        "overlap": {
            "exact": _overlap(con, spec, spec.text_key),
            "near_duplicate": _overlap(con, spec, spec.near_key),
            "exact_key": spec.text_key,
            "near_duplicate_key": spec.near_key,
        },
        "split_rule": {"key": spec.near_key, "doc": SPLIT_RULE_DOC},
        "sources": sources,
        "redaction": {**REDACTION, "placeholder_counts": _redaction_counts(con, spec)},
    }
