"""Plan: what is pending, and what this night must do about it.

Pending = the landing files ingested but not yet through the quality gate (batches
after ``chatbatch.gate``), with their export dates, and the days since the first
export on which no core export of an enabled source landed (``CORE_RAW_TABLES``).
The decision is one of: skip (nothing new, or less than ``--min-new-records``), resume
a failed build with ``dbt retry``, or build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import duckdb

from chatbatch.accumulate import ingest, landing
from chatbatch.contract.sources import SourceConfig
from chatbatch.core import duck
from chatbatch.core.paths import Paths
from chatbatch.monitor.record import BatchRecord
from chatbatch.process.night import Night, NightlyOptions, scalar

# the entities every day must have an export of (a day without them is reported)
CORE_ENTITIES = ("conversations", "messages")
# per source, the raw tables a day's export must reach (contract v1: the core entities;
# Langfuse: the observations of a run, written even when its window was quiet; OTel: the
# rotated span files). A day counts as landed when any enabled source's core table has it.
CORE_RAW_TABLES: dict[str, tuple[str, ...]] = {
    "chatbot": CORE_ENTITIES,
    "langfuse": ("langfuse_observations",),
    "otel": ("otel_traces",),
}
GATE_DDL = """
create schema if not exists chatbatch;
create table if not exists chatbatch.gate (gated_through_batch integer not null);
create table if not exists chatbatch.published (batch_id integer not null);
"""


@dataclass(frozen=True)
class Pending:
    gated_through: int  # the last batch the gate let through
    max_batch: int  # the last batch ingested
    files: int
    lines: int
    dates: list[str] = field(default_factory=list)  # export dates of the pending files
    missing: list[str] = field(default_factory=list)  # days without a core export

    @property
    def start(self) -> str | None:
        return self.dates[0] if self.dates else None

    @property
    def end(self) -> str | None:
        return self.dates[-1] if self.dates else None


def core_raw_tables(config: SourceConfig) -> list[str]:
    """The raw tables whose export dates show that a day landed, for the enabled sources."""
    return [name for source in config.sources for name in CORE_RAW_TABLES[source]]


def pending(con: duckdb.DuckDBPyConnection, run_date: date, core: list[str] | None = None) -> Pending:
    """Lines, files and export dates ingested but not yet through the gate; ``core``:
    the raw tables a day must reach (default: contract v1's ``CORE_ENTITIES``)."""
    core = list(core or CORE_ENTITIES)
    con.execute(GATE_DDL)
    gated = scalar(con, "select coalesce(max(gated_through_batch), 0) from chatbatch.gate")
    row = con.execute(
        """
        select count(*), coalesce(sum(lines_read), 0),
            list(distinct export_date::varchar order by export_date::varchar)
        from chatbatch.landing_files where batch_id > ?
        """,
        [gated],
    ).fetchone()
    files, lines, dates = row if row else (0, 0, [])
    present = {
        day
        for (day,) in con.execute(
            "select distinct export_date from chatbatch.landing_files "
            "where list_contains(?, entity) and export_date <= ?",
            [core, run_date],
        ).fetchall()
    }
    missing: list[str] = []
    if present:
        day = min(present)
        while day <= run_date:
            if day not in present:
                missing.append(day.isoformat())
            day += timedelta(days=1)
    return Pending(
        gated_through=gated,
        max_batch=scalar(con, "select coalesce(max(batch_id), 0) from chatbatch.landing_files"),
        files=int(files),
        lines=int(lines),
        dates=list(dates or []),
        missing=missing,
    )


def plan(night: Night) -> Pending:
    """The pending work, written into the run record and announced."""
    con = night.connect()
    try:
        work = pending(con, night.options.run_date, core_raw_tables(night.sources))
    finally:
        con.close()
    record = night.record
    record.window_start, record.window_end = work.start, work.end
    record.pending_dates, record.missing_dates = work.dates, work.missing
    night.say(f"  {record.files} new files, {work.lines:,} lines pending over {len(work.dates)} export dates")
    return work


@dataclass(frozen=True)
class Decision:
    action: Literal["skip", "resume", "build"]
    reason: str = ""


def decide(work: Pending, previous: BatchRecord | None, options: NightlyOptions) -> Decision:
    """Skip, resume the failed build, or build (see the module doc)."""
    forced = options.recomputes_history
    caught_up = previous is None or previous.status == "ok"
    if work.lines == 0 and caught_up and not forced:
        return Decision("skip", "no new data")
    if options.min_new_records and work.lines < options.min_new_records and not forced:
        return Decision(
            "skip", f"{work.lines:,} pending lines < --min-new-records {options.min_new_records:,}"
        )
    failed_build = previous is not None and previous.status == "failed" and previous.failed_step == "build"
    if failed_build and work.lines == 0 and not forced:
        return Decision("resume", "the last build failed and nothing new arrived: dbt retry")
    return Decision("build")


def _new_files(paths: Paths, run_date: date) -> tuple[landing.Discovery, list[landing.LandingFile]]:
    """The landing as found, and its files up to ``run_date`` not loaded yet (read-only)."""
    found = landing.discover(paths.landing, SourceConfig.load(paths.home))
    files = [f for f in found.files if f.export_date <= run_date]
    known: set[str] = set()
    if paths.warehouse.exists():
        con = duck.connect(str(paths.warehouse), read_only=True)
        try:
            known = set(ingest.known_files(con))
        except duckdb.CatalogException:
            known = set()
        finally:
            con.close()
    return found, [f for f in files if f.relative_path not in known]


def catch_up_dates(paths: Paths, run_date: date, days: int) -> list[date]:
    """The run dates of the batches a night runs: just ``run_date``, unless more than ``days``
    export dates of new files are waiting (a long outage, a first night on a long history):
    then one batch per ``days`` of them, oldest first, each gated and published, so a
    catch-up's memory is bounded by ``days`` of data however long the backlog (0: no limit)."""
    if days <= 0:
        return [run_date]
    _, new = _new_files(paths, run_date)
    dates = sorted({f.export_date for f in new})
    return [*(dates[end] for end in range(days - 1, len(dates) - 1, days)), run_date]


def run_dates(paths: Paths, options: NightlyOptions) -> list[date]:
    """The run dates of tonight's batches (catch_up_dates; one for a full refresh or a
    backfill, which load nothing new beyond their date), announced when more than one."""
    if options.recomputes_history:
        return [options.run_date]
    dates = catch_up_dates(paths, options.run_date, options.catch_up_days)
    if len(dates) > 1:
        options.say(
            f"catching up in {len(dates)} batches of at most {options.catch_up_days} export dates, "
            f"through {', '.join(map(str, dates))}"
        )
    return dates


def dry_run(paths: Paths, run_date: date, say: Callable[[str], None], catch_up_days: int = 0) -> None:
    """Say which landing files a night would load, and which wait, touching nothing."""
    found, new = _new_files(paths, run_date)
    dates = sorted({f.export_date.isoformat() for f in new})
    say(f"dry run: {len(new)} new files over {len(dates)} export dates {dates}")
    if 0 < catch_up_days < len(dates):
        batches = catch_up_dates(paths, run_date, catch_up_days)
        say(f"  would catch up in {len(batches)} batches, through {', '.join(map(str, batches))}")
    for landing_file in new[:50]:
        say(f"  would load {landing_file.relative_path}")
    for misfiled in found.misfiled:
        say(f"  would not load {misfiled.path}: {misfiled.reason}")
    for waiting in found.waiting:
        say(f"  waiting {waiting.path}: {waiting.reason}")
