"""What every step of a night shares: the options, the typed run record, the home's
paths and the run history, with the three things every step does through it: open
the warehouse (retrying transient faults), time itself, raise an alert.

A step is a function ``step(night, ...)``; it writes what it learned into
``night.record`` and raises ``BatchFailed`` (or ``QualityBreach``) to stop the night.
"""

from __future__ import annotations

import re
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import duckdb

from chatbatch.contract.sources import SourceConfig
from chatbatch.core import duck
from chatbatch.core.errors import ConfigError, QualityGateFailed
from chatbatch.core.paths import Paths
from chatbatch.core.retry import with_retries
from chatbatch.monitor import alert
from chatbatch.monitor.history import RunHistory
from chatbatch.monitor.record import BatchRecord

T = TypeVar("T")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class BatchFailed(Exception):
    """A step failed; ``step`` names it."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        super().__init__(message)


class QualityBreach(QualityGateFailed):
    """The new batches' quarantine rate is above the allowed maximum (exit 4)."""


@dataclass
class NightlyOptions:
    run_date: date
    command: str = "nightly"
    full_refresh: bool = False
    dry_run: bool = False
    min_new_records: int = 0
    max_error_rate: float = 0.05
    min_quarantined: int = 10
    lookback_days: int = 3
    retries: int = 3
    backfill_start: date | None = None
    backfill_end: date | None = None
    recluster_topics: bool = False  # re-fit the topic model tonight (else weekly)
    # a backlog of more new export dates than this is caught up in batches of this many
    # (plan.catch_up_dates); 0: all in one batch
    catch_up_days: int = 31
    say: Callable[[str], None] = print

    @property
    def recomputes_history(self) -> bool:
        """A full refresh or a backfill: runs with nothing new, copies every published
        table whole and hands the workloads a full rebuild."""
        return self.full_refresh or self.backfill_start is not None


def dbt_vars(options: NightlyOptions, sources: SourceConfig | None = None) -> dict[str, Any]:
    """The window handed to dbt, validated: only ints and ISO dates reach SQL.

    A nightly run passes only settings that rarely change (``lookback_days``, and the
    home's sources with their settings, ``SourceConfig.dbt_vars``): the models find their
    new rows through the ingest batch id, and vars that changed on every run would defeat
    dbt's partial parsing. A backfill adds its window. ``sources`` defaults to the
    ``sources.yml`` of ``$CHATBATCH_HOME``.
    """
    sources = sources or SourceConfig.load(Paths.from_env().home)
    variables: dict[str, Any] = {"lookback_days": int(options.lookback_days), **sources.dbt_vars()}
    if options.backfill_start and options.backfill_end:
        variables["backfill_start"] = options.backfill_start.isoformat()
        variables["backfill_end"] = options.backfill_end.isoformat()
    for key, value in variables.items():
        if isinstance(value, str) and not DATE_RE.match(value):
            raise ConfigError(f"dbt var {key} is not an ISO date: {value!r}", "pass dates as YYYY-MM-DD")
    return variables


@dataclass
class Night:
    paths: Paths
    options: NightlyOptions
    record: BatchRecord
    history: RunHistory = field(init=False)
    sources: SourceConfig = field(init=False)  # the home's sources.yml, read once per night
    # dbt imported and the manifest parsed while the ingest runs (process/build.parse_ahead)
    dbt_parse: threading.Thread | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.history = RunHistory(self.paths.home)
        self.sources = SourceConfig.load(self.paths.home)

    def dbt_parsed(self) -> None:
        """Wait for the parse started ahead, if any: nothing else may run dbt meanwhile."""
        if self.dbt_parse is not None:
            self.dbt_parse.join()

    def dbt_vars(self) -> dict[str, Any]:
        """The vars of this night's dbt invocations (``dbt_vars``)."""
        return dbt_vars(self.options, self.sources)

    def say(self, message: str) -> None:
        self.options.say(message)

    def retry(self, what: str, action: Callable[[], T]) -> T:
        return with_retries(action, what=what, attempts=self.options.retries)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The working warehouse, read-write (retried while another process holds it)."""
        return self.retry("open warehouse", lambda: duck.connect(str(self.paths.warehouse)))

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Record the step's seconds and the process's peak memory at its end."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.record.steps[step] = round(time.monotonic() - started, 3)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.record.peak_rss_mib.append((step, round(peak, 1)))

    def alert(self, severity: str, title: str, details: dict[str, Any]) -> None:
        """Send an alert about this batch and note it in the record."""
        context = {"batch_id": self.record.batch_id, "run_date": self.record.run_date}
        sent = alert.send_alert(severity, title, {**context, **details})
        self.record.alerts.append(f"{severity}: {title} (webhook delivered: {sent['delivered']})")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
