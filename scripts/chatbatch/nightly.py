"""The nightly batch: lock, accumulate, build, audit, publish, record, alert.

    lock ─ accumulate (ingest new files up to the run date) ─ build base models ─
    quality gate ─ build the rest ─ audit ─ publish ─ record

Every step is idempotent and every write is transactional or atomic, so a run killed
at any moment leaves a state the next run repairs:

* ingest writes each file and its manifest row in one transaction;
* dbt models are incremental on the ingest batch id, so a rerun picks up exactly the
  batches a model has not seen;
* the quality gate remembers, in the warehouse, the last batch it let through
  (``chatbatch.gate``); batches after it have reached only the append-only base models,
  so a failed gate can roll them back exactly;
* publish writes a new file and renames it over ``analytics.duckdb``;
* the run history is append-only, and a run whose process died reads as interrupted.
"""

from __future__ import annotations

import re
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import duckdb

from chatbatch.accumulate import ingest, landing
from chatbatch.core import duck
from chatbatch.core.faults import checkpoint
from chatbatch.core.lock import BatchLock, LockHeld
from chatbatch.core.paths import Paths
from chatbatch.core.retry import is_transient, with_retries
from chatbatch.monitor import alert, history
from chatbatch.monitor.record import BatchRecord, ModelRun, utc_now
from chatbatch.output import publish, registry, workload
from chatbatch.process.dbt import DbtOutcome, dbt_args, run_dbt

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 3
EXIT_QUALITY = 4

BASE_SELECTOR = "path:models/staging/chatbot/base"
# What a night runs besides its selection. Unit tests check the SQL, not the data: they
# run in CI and in developers' `dbt build`, and code does not change between nights
# (13 unit tests cost ~4 thread-s a night). dbt's file log at debug level records every
# statement of ~400 nodes; info keeps the node results, errors and timings.
NIGHTLY_DBT_FLAGS = ("--exclude-resource-type", "unit_test", "--log-level-file", "info")
EVENT_TIME_COLUMNS = {
    "conversations": "started_at",
    "messages": "sent_at",
    "events": "occurred_at",
    "feedback": "submitted_at",
}
CORE_ENTITIES = ("conversations", "messages")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

GATE_DDL = """
create schema if not exists chatbatch;
create table if not exists chatbatch.gate (gated_through_batch integer not null);
create table if not exists chatbatch.published (batch_id integer not null);
"""


def breaches_quality(lines: int, quarantined: int, max_rate: float, min_quarantined: int) -> bool:
    """A batch fails the gate when its quarantined share exceeds ``max_rate`` and it
    quarantined more than ``min_quarantined`` lines: on a handful of lines (a late
    spill file) a single bad line says nothing about the export, so it is quarantined
    and reported but does not fail the night."""
    return lines > 0 and quarantined > min_quarantined and quarantined / lines > max_rate


class QualityBreach(Exception):
    """The batch's quarantine rate is above the allowed maximum."""


class BatchFailed(Exception):
    """A step failed; ``step`` names it."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        super().__init__(message)


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
    say: Callable[[str], None] = print

    @property
    def recomputes_history(self) -> bool:
        """A full refresh or a backfill: runs with nothing new, copies every published
        table whole and hands the workloads a full rebuild."""
        return self.full_refresh or self.backfill_start is not None


def dbt_vars(options: NightlyOptions) -> dict[str, Any]:
    """The window handed to dbt, validated: only ints and ISO dates reach SQL.

    A nightly run passes only settings that rarely change (``lookback_days``): the
    models find their new rows through the ingest batch id, and vars that changed on
    every run would defeat dbt's partial parsing. A backfill adds its window.
    """
    variables: dict[str, Any] = {"lookback_days": int(options.lookback_days)}
    if options.backfill_start and options.backfill_end:
        variables["backfill_start"] = options.backfill_start.isoformat()
        variables["backfill_end"] = options.backfill_end.isoformat()
    for key, value in variables.items():
        if isinstance(value, str) and not DATE_RE.match(value):
            raise ValueError(f"dbt var {key} is not an ISO date: {value!r}")
    return variables


class Nightly:
    def __init__(self, paths: Paths, options: NightlyOptions) -> None:
        self.paths = paths
        self.options = options
        self.history = history.RunHistory(paths.home)
        self.say = options.say

    # -- helpers ---------------------------------------------------------------

    def _retry(self, what: str, action: Callable[[], T]) -> T:
        return with_retries(action, what=what, attempts=self.options.retries)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return self._retry("open warehouse", lambda: duck.connect(str(self.paths.warehouse)))

    def _timed(self, record: BatchRecord, step: str, action: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return action()
        finally:
            record.steps[step] = round(time.monotonic() - started, 3)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            record.peak_rss_mib.append((step, round(peak, 1)))

    def _dbt(self, record: BatchRecord, step: str, args: list[str]) -> DbtOutcome:
        started = time.monotonic()

        def invoke() -> DbtOutcome:
            outcome = run_dbt(args, self.paths)
            if not outcome.success and is_transient(RuntimeError(_dbt_error_text(outcome))):
                raise RuntimeError(_dbt_error_text(outcome))  # e.g. the file lock: retry
            return outcome

        outcome = self._retry(f"dbt {args[0]}", invoke)
        statuses: dict[str, int] = {}
        for result in outcome.results:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        self.say(
            f"  dbt {args[0]}: {len(outcome.results)} nodes in {time.monotonic() - started:.1f} s "
            f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})"
        )
        for result in outcome.results:
            if result["resource_type"] in ("model", "seed", "snapshot"):
                record.models[result["name"]] = ModelRun(result["status"], result["seconds"])
            elif result["resource_type"] in ("test", "unit_test"):
                key = {"success": "pass"}.get(result["status"], result["status"])
                record.tests[key] = record.tests.get(key, 0) + 1
        if not outcome.success:
            failures = "; ".join(f"{f['name']}: {str(f['message'])[:300]}" for f in outcome.failures[:5])
            raise BatchFailed(step, failures or outcome.error or "dbt failed")
        return outcome

    # -- steps -----------------------------------------------------------------

    def accumulate(self, record: BatchRecord) -> ingest.IngestResult:
        con = self._connect()
        try:
            ingest.ensure_state(con)
            con.execute(GATE_DDL)
            return ingest.ingest(
                con,
                self.paths.landing,
                batch_id=record.batch_id,
                until=self.options.run_date,
                progress=self.say,
            )
        finally:
            con.close()

    def pending(self) -> dict[str, Any]:
        """Lines, files and export dates ingested but not yet through the gate."""
        con = self._connect()
        try:
            con.execute(GATE_DDL)
            gated = _scalar(con, "select coalesce(max(gated_through_batch), 0) from chatbatch.gate")
            rows = con.execute(
                """
                select count(*), coalesce(sum(lines_read), 0), min(export_date), max(export_date),
                    list(distinct export_date::varchar order by export_date::varchar)
                from chatbatch.landing_files where batch_id > ?
                """,
                [gated],
            ).fetchone()
            present = {
                d
                for (d,) in con.execute(
                    "select distinct export_date from chatbatch.landing_files where entity in "
                    "(?, ?) and export_date <= ?",
                    [*CORE_ENTITIES, self.options.run_date],
                ).fetchall()
            }
            first = min(present, default=None)
            missing = []
            if first is not None:
                day = first
                while day <= self.options.run_date:
                    if day not in present:
                        missing.append(day.isoformat())
                    day += timedelta(days=1)
            max_batch = _scalar(con, "select coalesce(max(batch_id), 0) from chatbatch.landing_files")
        finally:
            con.close()
        files, lines, start, end, dates = rows if rows else (0, 0, None, None, [])
        return {
            "gated_through": gated,
            "files": int(files),
            "lines": int(lines),
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "dates": list(dates or []),
            "missing": missing,
            "max_batch": max_batch,
        }

    def quality_gate(self, record: BatchRecord, pending: dict[str, Any]) -> None:
        """Quarantine rate of the ungated batches; roll them back when it is too high."""
        con = self._connect()
        try:
            gated = pending["gated_through"]
            counts = [
                con.execute(
                    f"""
                    select count(*), count(_quarantine_reason)
                    from staging.base_chatbot__{entity} where _batch_id > ?
                    """,
                    [gated],
                ).fetchone()
                for entity in ingest.ENTITIES
            ]
            lines = sum(int(c[0]) for c in counts if c)
            quarantined = sum(int(c[1]) for c in counts if c)
            record.quarantine_rate = round(quarantined / lines, 6) if lines else 0.0
            options = self.options
            if breaches_quality(lines, quarantined, options.max_error_rate, options.min_quarantined):
                self._rollback(con, gated)
                raise QualityBreach(
                    f"quarantine rate {record.quarantine_rate:.2%} of {lines:,} new lines "
                    f"exceeds --max-error-rate {self.options.max_error_rate:.2%}; the batch "
                    f"was rolled back and nothing was published (export dates: {', '.join(pending['dates'])})"
                )
            con.execute("begin transaction")
            con.execute("delete from chatbatch.gate")
            con.execute("insert into chatbatch.gate values (?)", [pending["max_batch"]])
            checkpoint("gate")
            con.execute("commit")
        finally:
            con.close()

    def _rollback(self, con: duckdb.DuckDBPyConnection, gated: int) -> None:
        """Forget ungated batches: their lines reached only raw and the base models."""
        con.execute("begin transaction")
        for entity in ingest.ENTITIES:
            con.execute(f"delete from raw.{entity} where _batch_id > ?", [gated])
            con.execute(f"delete from staging.base_chatbot__{entity} where _batch_id > ?", [gated])
        con.execute("delete from chatbatch.landing_files where batch_id > ?", [gated])
        con.execute("commit")

    def audit(self, record: BatchRecord, pending: dict[str, Any]) -> None:
        """The numbers must add up, for every entity and day, before anything is published."""
        con = self._connect()
        try:
            unbalanced = con.execute(
                """
                select entity, export_date, lines_read, loaded, quarantined, duplicates
                from audit.audit_load_reconciliation
                where loaded + quarantined + duplicates <> lines_read
                """
            ).fetchall()
            if unbalanced:
                raise BatchFailed("audit", f"load reconciliation does not balance: {unbalanced[:5]}")
            raw_lines = sum(_scalar(con, f"select count(*) from raw.{entity}") for entity in ingest.ENTITIES)
            manifest_lines = _scalar(con, "select coalesce(sum(lines_read), 0) from chatbatch.landing_files")
            if raw_lines != manifest_lines:
                raise BatchFailed(
                    "audit",
                    f"raw tables hold {raw_lines:,} lines, manifest says {manifest_lines:,}",
                )
            if pending["dates"]:
                placeholders = ", ".join("?" for _ in pending["dates"])
                totals = con.execute(
                    f"""
                    select coalesce(sum(lines_read), 0), coalesce(sum(loaded), 0),
                        coalesce(sum(quarantined), 0), coalesce(sum(duplicates), 0)
                    from audit.audit_load_reconciliation
                    where export_date::varchar in ({placeholders})
                    """,
                    pending["dates"],
                ).fetchone()
                if totals:
                    record.loaded, record.quarantined, record.duplicates = (
                        int(totals[1]),
                        int(totals[2]),
                        int(totals[3]),
                    )
            record.late_beyond_lookback = sum(
                _scalar(
                    con,
                    f"""
                    select count(*) from staging.base_chatbot__{entity}
                    where _batch_id > ? and _quarantine_reason is null
                        and cast({column} as date) < _export_date - ?::integer
                    """,
                    [pending["gated_through"], self.options.lookback_days],
                )
                for entity, column in EVENT_TIME_COLUMNS.items()
            )
            for name, info in record.models.items():
                relation = con.execute(
                    "select table_schema from information_schema.tables where table_name = ? "
                    "and table_schema not in ('raw', 'chatbatch')",
                    [name],
                ).fetchone()
                if relation:
                    info.rows = _scalar(con, f'select count(*) from "{relation[0]}"."{name}"')
        finally:
            con.close()

    # -- the run ---------------------------------------------------------------

    def run(self) -> int:
        lock = BatchLock(self.paths.home / "chatbatch.lock", command=self.options.command)
        try:
            lock.acquire()
        except LockHeld as exc:
            print(f"chatbatch: {exc}", file=sys.stderr)
            return EXIT_LOCKED
        try:
            if lock.previous_holder and lock.previous_holder.get("pid"):
                self.say(f"took over a stale lock left by pid {lock.previous_holder['pid']}")
            return self._run_locked()
        finally:
            lock.release()

    def _run_locked(self) -> int:
        options = self.options
        self.paths.export()
        if options.dry_run:
            return self._dry_run()
        previous = self.history.last(("ok", "failed", "quality_failed", "interrupted"))
        record = BatchRecord(
            batch_id=self._next_batch_id(),
            command=options.command,
            run_date=options.run_date.isoformat(),
        )
        self.history.append(record)
        self.say(f"batch {record.batch_id}: run date {record.run_date}")
        try:
            return self._steps(record, previous)
        except LockHeld:
            raise
        except QualityBreach as exc:
            return self._finish(record, "quality_failed", EXIT_QUALITY, str(exc), "gate")
        except BatchFailed as exc:
            return self._finish(record, "failed", EXIT_FAILED, str(exc), exc.step)
        except Exception as exc:  # an unexpected fault: record it, alert, fail
            traceback.print_exc()
            return self._finish(record, "failed", EXIT_FAILED, f"{type(exc).__name__}: {exc}", None)

    def _steps(self, record: BatchRecord, previous: BatchRecord | None) -> int:
        options = self.options
        result = self._timed(record, "accumulate", lambda: self.accumulate(record))
        record.files = len(result.files_loaded)
        record.lines_read = result.lines_read
        record.misfiled = result.misfiled
        if result.misfiled:
            self._alert(
                record,
                "warning",
                f"{len(result.misfiled)} landing path(s) do not fit the layout and were not loaded",
                {"paths": "; ".join(f"{m.path} ({m.reason})" for m in result.misfiled)},
            )
        pending = self.pending()
        record.window_start, record.window_end = pending["start"], pending["end"]
        record.pending_dates = pending["dates"]
        record.missing_dates = pending["missing"]
        self.say(
            f"  {record.files} new files, {pending['lines']:,} lines pending "
            f"over {len(pending['dates'])} export dates"
        )
        caught_up = previous is None or previous.status == "ok"
        forced = options.recomputes_history
        if pending["lines"] == 0 and caught_up and not forced:
            return self._finish(record, "skipped", EXIT_OK, "no new data", None)
        if options.min_new_records and pending["lines"] < options.min_new_records and not forced:
            return self._finish(
                record,
                "skipped",
                EXIT_OK,
                f"{pending['lines']:,} pending lines < --min-new-records {options.min_new_records:,}",
                None,
            )
        variables = dbt_vars(options)
        resumable = (
            previous is not None
            and previous.status == "failed"
            and previous.failed_step == "build"
            and pending["lines"] == 0
            and not forced
        )
        if resumable:
            # dbt retry semantics: rerun only what failed or was skipped last time
            self.say("  resuming the failed build with dbt retry")
            self._timed(record, "build", lambda: self._dbt(record, "build", dbt_args("retry")))
            return self._audit_publish(record, pending, previous)
        self._timed(
            record,
            "build_base",
            lambda: self._dbt(
                record,
                "build",
                dbt_args(
                    "build",
                    select=[BASE_SELECTOR],
                    variables=variables,
                    full_refresh=options.full_refresh,
                    extra=NIGHTLY_DBT_FLAGS,
                ),
            ),
        )
        self._timed(record, "gate", lambda: self.quality_gate(record, pending))
        self._timed(
            record,
            "build",
            lambda: self._dbt(
                record,
                "build",
                dbt_args(
                    "build",
                    exclude=[BASE_SELECTOR],
                    variables=variables,
                    full_refresh=options.full_refresh,
                    extra=NIGHTLY_DBT_FLAGS,
                ),
            ),
        )
        return self._audit_publish(record, pending, previous)

    def _audit_publish(
        self, record: BatchRecord, pending: dict[str, Any], previous: BatchRecord | None
    ) -> int:
        options = self.options
        self._timed(record, "audit", lambda: self.audit(record, pending))
        self._run_workloads(record, "before_publish")
        record.status = "ok"
        record.published = True
        self._timed(record, "publish", lambda: self._publish(record))
        self._run_workloads(record, "after_publish")
        if record.missing_dates:
            self._alert(
                record,
                "warning",
                f"no exports landed for {len(record.missing_dates)} day(s)",
                {"missing_dates": ", ".join(record.missing_dates)},
            )
        if record.late_beyond_lookback and previous is not None:
            self._alert(
                record,
                "warning",
                f"{record.late_beyond_lookback:,} records arrived more than "
                f"{options.lookback_days} days late; published days before the lookback changed",
                {},
            )
        return self._finish(record, "ok", EXIT_OK, None, None)

    def _run_workloads(self, record: BatchRecord, phase: workload.Phase) -> None:
        """Exports before publishing (a failure fails the batch), pages after it (a
        failure warns: the night's marts are already published)."""
        for job in registry.of_phase(phase):
            ctx = workload.WorkloadContext(
                paths=self.paths,
                batch_id=record.batch_id,
                run_date=self.options.run_date,
                say=self.say,
                record=record,
                full_refresh=self.options.recomputes_history,
            )
            try:
                outputs = self._timed(record, job.name, lambda w=job, c=ctx: w.run(c))
                record.outputs[job.name] = outputs
            except Exception as exc:
                if phase == "before_publish":
                    raise BatchFailed(job.name, f"{type(exc).__name__}: {exc}") from exc
                traceback.print_exc()
                title = f"{job.name} failed after publishing"
                self._alert(record, "warning", title, {"error": str(exc)})

    def _publish(self, record: BatchRecord) -> None:
        runs = [r for r in self.history.records() if r.batch_id != record.batch_id]
        runs.append(record)
        rows = publish.publish(
            self.paths.warehouse,
            self.paths.analytics,
            record,
            runs,
            incremental=not self.options.recomputes_history,
        )
        self.say(f"  published {len(rows)} tables to {self.paths.analytics}")
        # nightly data tests check only rows of later batches (macros/tests/unpublished_rows.sql)
        con = self._connect()
        try:
            con.execute(GATE_DDL)
            con.execute("begin transaction")
            con.execute("delete from chatbatch.published")
            con.execute("insert into chatbatch.published values (?)", [record.batch_id])
            con.execute("commit")
        finally:
            con.close()

    def _alert(self, record: BatchRecord, severity: str, title: str, details: dict[str, Any]) -> None:
        sent = alert.send_alert(
            severity,
            title,
            {"batch_id": record.batch_id, "run_date": record.run_date, **details},
        )
        record.alerts.append(f"{severity}: {title} (webhook delivered: {sent['delivered']})")

    def _finish(
        self,
        record: BatchRecord,
        status: str,
        code: int,
        message: str | None,
        step: str | None,
    ) -> int:
        record.status = status
        record.finished_at = utc_now()
        if status != "ok":
            record.published = False
        if status in ("failed", "quality_failed"):
            record.error, record.failed_step = message, step
            self._alert(
                record,
                "error",
                f"batch {record.batch_id} {status.replace('_', ' ')}" + (f" at step {step}" if step else ""),
                {"error": message, "exit_code": code},
            )
        elif message:
            record.error = None
            record.alerts.append(f"info: {message}")
        self.history.append(record)
        self.say(f"batch {record.batch_id}: {status}" + (f" ({message})" if message else ""))
        return code

    def _next_batch_id(self) -> int:
        from_history = self.history.max_batch_id()
        from_manifest = 0
        if self.paths.warehouse.exists():
            con = self._connect()
            try:
                ingest.ensure_state(con)
                from_manifest = _scalar(con, "select coalesce(max(batch_id), 0) from chatbatch.landing_files")
            finally:
                con.close()
        return max(from_history, from_manifest) + 1

    def _dry_run(self) -> int:
        found = landing.discover(self.paths.landing)
        files = [f for f in found.files if f.export_date <= self.options.run_date]
        known: set[str] = set()
        if self.paths.warehouse.exists():
            con = duck.connect(str(self.paths.warehouse), read_only=True)
            try:
                known = set(ingest.known_files(con))
            except duckdb.CatalogException:
                known = set()
            finally:
                con.close()
        new = [f for f in files if f.relative_path not in known]
        dates = sorted({f.export_date.isoformat() for f in new})
        self.say(f"dry run: {len(new)} new files over {len(dates)} export dates {dates}")
        for landing_file in new[:50]:
            self.say(f"  would load {landing_file.relative_path}")
        for misfiled in found.misfiled:
            self.say(f"  would not load {misfiled.path}: {misfiled.reason}")
        return EXIT_OK


def _dbt_error_text(outcome: DbtOutcome) -> str:
    return " ".join([outcome.error or "", *(str(f["message"]) for f in outcome.failures)])


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
