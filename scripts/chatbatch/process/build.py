"""Build: the night's dbt invocations, each recorded node by node in the run record.

Two builds around the quality gate: the base models first (every new landing line
typed and judged), then everything else. A failed build is resumed with ``dbt retry``
when nothing new arrived since.
"""

from __future__ import annotations

import contextlib
import threading
import time

import duckdb

from chatbatch.monitor.record import ModelRun
from chatbatch.privacy import expiry
from chatbatch.process.dbt import DbtOutcome, NodeResult, dbt_args, dbt_failure_is_transient, run_dbt
from chatbatch.process.dbt import parse_ahead as parse_ahead_of
from chatbatch.process.night import BatchFailed, Night

BASE_SELECTOR = "path:models/staging/{source}/base"
# built after the topics step, by process/topics.py (they read what it writes)
AFTER_TOPICS = "tag:topics"
# What a night runs besides its selection. Unit tests check the SQL, not the data: they
# run in CI and in developers' `dbt build`, and code does not change between nights
# (13 unit tests cost ~4 thread-s a night). dbt's file log at debug level records every
# statement of ~400 nodes; info keeps the node results, errors and timings.
NIGHTLY_DBT_FLAGS = ("--exclude-resource-type", "unit_test", "--log-level-file", "info")


def parse_ahead(night: Night) -> None:
    """Import dbt and parse the night's manifest in a thread (``dbt.parse_ahead``), started
    when the ingest has files to load; every invocation waits for it (``invoke``). If it
    fails, the first invocation parses again and reports why."""

    def parse() -> None:
        with contextlib.suppress(Exception):
            parse_ahead_of(_build_args(night, select=base_selectors(night)), night.paths)

    night.dbt_parse = threading.Thread(target=parse, name="dbt-parse-ahead")
    night.dbt_parse.start()


def invoke(night: Night, step: str, args: list[str]) -> DbtOutcome:
    """Run dbt (retrying transient faults), record its nodes, raise BatchFailed on failure."""
    started = time.monotonic()
    night.dbt_parsed()

    def attempt() -> DbtOutcome:
        outcome = run_dbt(args, night.paths)
        if dbt_failure_is_transient(outcome) and outcome.exception is not None:
            raise outcome.exception  # the warehouse lock: with_retries waits and tries again
        return outcome

    outcome = night.retry(f"dbt {args[0]}", attempt)
    statuses: dict[str, int] = {}
    for result in outcome.results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
        if result.resource_type in ("model", "seed", "snapshot"):
            night.record.models[result.name] = ModelRun(result.status, result.seconds)
        elif result.resource_type in ("test", "unit_test"):
            key = {"success": "pass"}.get(result.status, result.status)
            night.record.tests[key] = night.record.tests.get(key, 0) + 1
    night.say(
        f"  dbt {args[0]}: {len(outcome.results)} nodes in {time.monotonic() - started:.1f} s "
        f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})"
    )
    if not outcome.success:
        failures = "; ".join(_describe(night, f) for f in outcome.failures[:5])
        raise BatchFailed(step, failures or outcome.error or "dbt failed")
    return outcome


def _describe(night: Night, failure: NodeResult) -> str:
    """A failed node for the alert. A ``model_checks`` test (macros/tests/generic_tests.sql)
    checks many properties of a model in one node: its failing rows name the checks that
    failed, so they are read back and listed."""
    text = f"{failure.name}: {str(failure.message)[:300]}"
    if not (failure.name.startswith("model_checks_") and failure.compiled_code):
        return text
    con = night.connect()
    try:
        rows = con.execute(failure.compiled_code).fetchall()
    except duckdb.Error as error:
        return f"{text} (the failed checks could not be listed: {error})"
    finally:
        con.close()
    return f"{text}: " + ", ".join(f"{check} ({count} rows)" for check, count in rows[:10])


def build_base(night: Night) -> None:
    """Type and judge every new landing line (the gate reads the verdicts).

    A full refresh rebuilds the base models from the raw lines, unless retention expired
    raw text (``privacy/expiry.py``): then they stay as they are, their rows judged when
    the text was there, and only new lines are typed; every model after them is rebuilt.
    Once staging text expired, a full refresh is refused (``expiry.refuse_full_refresh``)."""
    full_refresh = night.options.full_refresh
    if full_refresh:
        con = night.connect()
        try:
            expired = expiry.expired(con)
        finally:
            con.close()
        expiry.refuse_full_refresh(expired)
        raw_expired = expired.get("raw_lines")
        if raw_expired:
            night.say(
                f"  raw lines exported before {raw_expired} have expired: the base models keep "
                "their rows (incremental); everything after them is rebuilt"
            )
            full_refresh = False
    with night.timed("build_base"):
        invoke(night, "build", _build_args(night, select=base_selectors(night), full_refresh=full_refresh))


def build_rest(night: Night) -> None:
    """Everything after the gate: staging, intermediate, marts, audit, tests."""
    with night.timed("build"):
        invoke(night, "build", _build_args(night, exclude=[*base_selectors(night), AFTER_TOPICS]))


def resume(night: Night) -> None:
    """Rerun only what failed or was skipped in the last build (dbt retry)."""
    night.say("  resuming the failed build with dbt retry")
    with night.timed("build"):
        invoke(night, "build", dbt_args("retry"))


def forget_rolled_back_batches(night: Night) -> None:
    """After a rollback: the base models drop the rows of batches the manifest no longer
    lists (their pre-hook, macros/staging/forget_rolled_back_batches.sql)."""
    with night.timed("rollback"):
        invoke(
            night,
            "rollback",
            dbt_args("run", select=base_selectors(night), variables=night.dbt_vars()),
        )


def base_selectors(night: Night) -> list[str]:
    """The base models of contract v1 (always built: its staging models are part of every
    build) and of every other source the home enables (sources.yml)."""
    sources = ("chatbot", *night.sources.sources)
    return [BASE_SELECTOR.format(source=source) for source in dict.fromkeys(sources)]


def _build_args(
    night: Night,
    select: list[str] | None = None,
    exclude: list[str] | None = None,
    full_refresh: bool | None = None,
) -> list[str]:
    return dbt_args(
        "build",
        select=select or (),
        exclude=exclude or (),
        variables=night.dbt_vars(),
        full_refresh=night.options.full_refresh if full_refresh is None else full_refresh,
        extra=NIGHTLY_DBT_FLAGS,
    )
