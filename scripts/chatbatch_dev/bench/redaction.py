"""Redaction alone, two ways, side by side on the same message texts (issue 15's "before and after").

* **row by row**: ``redact_pii`` as a scalar Python UDF, one Python call per message (how the
  project redacted until the Arrow UDF; the same rules, so only the calling cost differs);
* **vectorised**: ``redact_pii`` as the nightly registers it (``chatbatch.transform.redact.register``):
  one Python call per vector, a prefilter in Arrow's regex engine, Python only on the rows it keeps.

The texts are every message text of a built warehouse (the full refresh's). Each way starts
with an empty cache of redacted texts, so neither profits from the other. Arrow's compute
functions cost a one-time start (seconds on a loaded machine) on first use in a process; it is
paid before timing and reported apart (``warmup_seconds``): a night pays it once.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pyarrow as pa

from chatbatch.transform import redact
from chatbatch_dev.bench.harness import Bench, bench_step_argv, reported_run, step_output

MESSAGES_MODEL = "int_messages_flagged"  # the model int_messages_redacted redacts


def _messages_relation(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "select table_catalog, table_schema, table_name from information_schema.tables "
        "where table_name = ? limit 1",
        [MESSAGES_MODEL],
    ).fetchone()
    if row is None:
        raise LookupError(f"{MESSAGES_MODEL} is not in the warehouse")
    return ".".join(f'"{part}"' for part in row)


def measure(warehouse: Path) -> dict[str, float | int]:
    """Seconds of each way over every message text of ``warehouse``; the texts and how many
    reached Python past the prefilter."""
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")  # its text would share the JSON's line
        con.execute(f"attach '{warehouse.as_posix()}' as warehouse (read_only)")
        con.execute(f"create temp table texts as select message_text from {_messages_relation(con)}")
        texts = int(con.execute("select count(*) from texts").fetchall()[0][0])
        con.create_function(
            "redact_rowwise", redact.redact, ["VARCHAR"], "VARCHAR", type="native", side_effects=False
        )
        redact.register(con)
        started = time.perf_counter()
        redact.redact_arrow(pa.array(["warm-up +1 415 555 0147"]))
        seconds = {"warmup_seconds": round(time.perf_counter() - started, 3)}
        for name, function in (("rowwise_seconds", "redact_rowwise"), ("vectorised_seconds", "redact_pii")):
            redact.clear_cache()
            started = time.perf_counter()
            con.execute(f"select count({function}(message_text)) from texts").fetchall()
            seconds[name] = round(time.perf_counter() - started, 3)
        candidates = con.execute(
            "select count(*) from texts where regexp_matches(message_text, ?)", [redact.MAYBE_PII]
        ).fetchall()
        return {**seconds, "texts": texts, "past_prefilter": int(candidates[0][0])}
    finally:
        con.close()


def measure_steps(bench: Bench, home: Path) -> None:
    """Redaction alone on the messages of ``home``: row by row (before) and vectorised (now).

    One child per repeat measures both ways (bench/redaction.py); each step's seconds are the
    redaction's own, without the child's start-up.
    """
    ways = {"rowwise": "row by row (scalar UDF)", "vectorised": "vectorised (Arrow UDF)"}
    steps = {way: bench.add_step(f"redaction_{way}", f"redaction {label}") for way, label in ways.items()}
    probe = bench.add_step("redaction_probe", "redaction (child process)")
    argv = bench_step_argv("redaction", "--warehouse", str(home / "warehouse.duckdb"))
    for index in range(bench.repeat):
        run = bench.measure(probe, argv, None, index)
        details = step_output(run.log) if run.exit_code == 0 else {}
        for way, step in steps.items():
            seconds = details.get(f"{way}_seconds")
            step.runs.append(reported_run(run, seconds, details))
            step.rows, step.rows_label = details.get("texts"), "message texts"
            step.error = probe.error
    del bench.steps["redaction_probe"]
