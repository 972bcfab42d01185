"""Workloads the nightly batch runs besides the marts: exports and pages.

The analytics marts are published by ``publish.py``. Everything else a night produces
(the knowledge-base index, ML training sets, the redacted archive, feature exports, the
HTML report) is a *workload*: a named step with a phase.

* ``before_publish`` workloads run after the audit passed and before the marts are
  published. They read the working warehouse (dbt has closed it) and write their
  artefacts under ``$CHATBATCH_HOME/exports``. A failure fails the batch: nothing of
  that night is published, and the next run redoes it. They must be idempotent: a
  rerun of the same night rewrites nothing that did not change.
* ``after_publish`` workloads read what was published (``analytics.duckdb``), e.g. the
  nightly report. A failure raises a warning alert but does not unpublish the night.

Each workload returns a small JSON-able dict (rows, files, versions) that is kept in
the batch record under ``outputs``. Register a workload in ``registry.py``; this module
imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

from chatbatch.core.paths import Paths
from chatbatch.monitor.record import BatchRecord

Phase = Literal["before_publish", "after_publish"]


@dataclass(frozen=True)
class WorkloadContext:
    paths: Paths
    batch_id: int
    run_date: date
    say: Callable[[str], None]
    record: BatchRecord  # the batch record so far (read-only by convention)
    full_refresh: bool = False  # models were rebuilt (full refresh or backfill): recheck everything


class Workload(Protocol):
    name: str
    phase: Phase

    def run(self, ctx: WorkloadContext) -> dict[str, Any]: ...
