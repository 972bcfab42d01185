"""``ml_models.ml_model_evaluations``: every candidate's test scores as a warehouse table,
published with the marts (``publish.PUBLISHED_SCHEMAS``).

One row per model version and intent (scope ``intent``) plus one overall row (scope
``overall``, intent null). The table is rebuilt from the ``metrics.json`` files each night,
so the model folder stays the one record and a rebuilt warehouse gets it back.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from chatbatch.core import duck
from chatbatch.output import files
from chatbatch.output.intent_model.store import ModelStore

SCHEMA = "ml_models"
TABLE = f"{SCHEMA}.ml_model_evaluations"
COLUMNS = pa.schema(
    [
        ("model_name", pa.string()),
        ("model_version", pa.int32()),
        ("status", pa.string()),
        ("is_current", pa.bool_()),
        ("decision_reason", pa.string()),
        ("dataset_version", pa.string()),
        ("run_date", pa.date32()),
        ("scope", pa.string()),
        ("intent_name", pa.string()),
        ("support", pa.int64()),
        ("accuracy", pa.float64()),
        ("macro_f1", pa.float64()),
        ("precision", pa.float64()),
        ("recall", pa.float64()),
        ("f1", pa.float64()),
        ("expected_calibration_error", pa.float64()),
        ("baseline_version", pa.int32()),
        ("baseline_macro_f1", pa.float64()),
        ("training_seconds", pa.float64()),
    ]
)


def rows(store: ModelStore) -> list[dict[str, Any]]:
    current = store.current()
    out: list[dict[str, Any]] = []
    for version in store.versions():
        m = version.metrics()
        ev, baseline = m["evaluation"], m.get("baseline")
        common = {
            "model_name": m["model"],
            "model_version": m["version"],
            "status": m["status"],
            "is_current": current is not None and current.number == version.number,
            "decision_reason": m["reason"],
            "dataset_version": m["dataset"]["version"],
            "run_date": date.fromisoformat(m["run_date"]),
            "baseline_version": baseline["version"] if baseline else None,
            "baseline_macro_f1": baseline["evaluation"]["macro_f1"] if baseline else None,
            "training_seconds": m["training_seconds"],
        }
        out.append(
            common
            | {
                "scope": "overall",
                "intent_name": None,
                "support": ev["examples"],
                "accuracy": ev["accuracy"],
                "macro_f1": ev["macro_f1"],
                "expected_calibration_error": ev["expected_calibration_error"],
            }
        )
        out += [
            common
            | {
                "scope": "intent",
                "intent_name": s["intent"],
                "support": s["support"],
                "precision": s["precision"],
                "recall": s["recall"],
                "f1": s["f1"],
            }
            for s in ev["per_intent"]
        ]
    return out


def write_table(warehouse: Path, store: ModelStore) -> int:
    """Replace the table in the working warehouse; return its rows."""
    table = pa.Table.from_pylist(rows(store), schema=COLUMNS)
    con = files.connect(warehouse, read_only=False)
    try:
        con.register("evaluations", table)
        with duck.transaction(con):
            con.execute(f"create schema if not exists {SCHEMA}")
            con.execute(
                f"create or replace table {TABLE} as select * from evaluations "
                "order by model_version, scope, intent_name"
            )
    finally:
        con.close()
    return table.num_rows
