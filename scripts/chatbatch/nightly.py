"""The nightly batch, step by step:

    lock ─ accumulate ─ plan ─ build base models ─ quality gate ─ build the rest ─
    audit ─ exports ─ publish ─ pages ─ record

Each step is a function in its own module (accumulate/, process/, output/) over one
``Night`` (options, paths, typed run record). Every step is idempotent and every write
is transactional or atomic, so a run killed at any moment leaves a state the next run repairs:

* ingest writes each file and its manifest row in one transaction;
* dbt models are incremental on the ingest batch id: a rerun picks up the batches a model has not seen;
* the quality gate remembers, in the warehouse, the last batch it let through (``chatbatch.gate``);
  later batches have reached only raw and the base models, so a failed gate can roll them back
  exactly (process/gate.py says how);
* publish writes a new file and renames it over ``analytics.duckdb``;
* the run history is append-only, and a run whose process died reads as interrupted.

A backlog of more than ``--catch-up-days`` export dates runs as consecutive batches of that
many (plan.catch_up_dates), each the whole sequence above in its own process.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from chatbatch.accumulate import ingest
from chatbatch.core.child import run_in_child
from chatbatch.core.errors import OperatorError
from chatbatch.core.exit_codes import ExitCode
from chatbatch.core.lock import BatchLock
from chatbatch.core.log import log_exception, unexpected_line
from chatbatch.core.paths import Paths
from chatbatch.monitor.history import RunHistory
from chatbatch.monitor.record import BatchRecord, Status, utc_now
from chatbatch.output.finish import audit_and_publish
from chatbatch.process import audit, build, gate, plan
from chatbatch.process.night import BatchFailed, Night, NightlyOptions, QualityBreach


class Nightly:
    def __init__(self, paths: Paths, options: NightlyOptions) -> None:
        self.paths = paths
        self.options = options

    def run(self) -> int:
        lock = BatchLock(self.paths.lock_file, command=self.options.command)
        lock.acquire()  # LockHeld: the CLI names the holder and exits 3
        try:
            if lock.previous_holder and lock.previous_holder.get("pid"):
                self.options.say(f"took over a stale lock left by pid {lock.previous_holder['pid']}")
            return self._catch_up()
        finally:
            lock.release()

    def _catch_up(self) -> int:
        """One batch, or one per slice of a long backlog (plan.run_dates) until one fails,
        each slice in its own process: the run's peak memory is then one batch's (core/child.py)."""
        self.paths.export()
        options, code = self.options, int(ExitCode.OK)
        if options.dry_run:
            plan.dry_run(self.paths, options.run_date, options.say, options.catch_up_days)
            return code
        run_dates = plan.run_dates(self.paths, options)
        for run_date in run_dates:
            self.options = replace(options, run_date=run_date)
            code = run_in_child(self._run_locked, options.say) if len(run_dates) > 1 else self._run_locked()
            if code != ExitCode.OK:
                break
        self.options = options
        return code

    def _run_locked(self) -> int:
        history = RunHistory(self.paths.home)
        previous = history.last(("ok", "failed", "quality_failed", "interrupted"))
        batch_id, run_date = next_batch_id(self.paths, history), self.options.run_date.isoformat()
        record = BatchRecord(batch_id=batch_id, command=self.options.command, run_date=run_date)
        night = Night(self.paths, self.options, record)
        history.append(record)
        night.say(f"batch {record.batch_id}: run date {record.run_date}")
        try:
            return self._steps(night, previous)
        except QualityBreach as exc:
            print("\n".join(exc.lines()), file=sys.stderr)
            return _finish(night, "quality_failed", exc.exit_code, exc.what, "gate")
        except BatchFailed as exc:
            return _finish(night, "failed", ExitCode.FAILED, str(exc), exc.step)
        except OperatorError as exc:  # a file, setting or lock the operator can fix
            print("\n".join(exc.lines()), file=sys.stderr)
            return _finish(night, "failed", exc.exit_code, f"{exc.what} → {exc.hint}", None)
        except Exception as exc:  # an unexpected fault: the traceback goes to the log file
            log = log_exception(exc, self.paths.home)
            print(unexpected_line(exc, log), file=sys.stderr)
            return _finish(night, "failed", ExitCode.FAILED, f"{type(exc).__name__}: {exc} (see {log})", None)

    def _steps(self, night: Night, previous: BatchRecord | None) -> int:
        record = night.record
        with night.timed("accumulate"):
            loaded = ingest.accumulate(
                night.connect,
                self.paths.landing,
                record.batch_id,
                self.options.run_date,
                night.say,
                night.sources,
                on_new_files=lambda: build.parse_ahead(night),  # dbt gets ready while files load
            )
        record.files, record.lines_read = len(loaded.files_loaded), loaded.lines_read
        record.misfiled = loaded.misfiled
        if loaded.misfiled:  # not loaded, never silently skipped: named in an alert and the record
            night.alert(
                "warning",
                f"{len(loaded.misfiled)} landing path(s) do not fit the layout and were not loaded",
                {"paths": "; ".join(f"{m.path} ({m.reason})" for m in loaded.misfiled)},
            )
        work = plan.plan(night)
        decision = plan.decide(work, previous, self.options)
        if decision.action == "skip":
            return _finish(night, "skipped", ExitCode.OK, decision.reason, None)
        if decision.action == "resume":
            build.resume(night)
        else:
            build.build_base(night)
            gate.gate(night, work)
            build.build_rest(night)
        audit_and_publish(night, work)
        audit.alert_findings(night, previous)
        return _finish(night, "ok", ExitCode.OK, None, None)


def _finish(night: Night, status: Status, code: ExitCode, message: str | None, step: str | None) -> int:
    night.dbt_parsed()  # a night that stops early leaves no parse running
    record = night.record
    record.status, record.finished_at = status, utc_now()
    if status != "ok":
        record.published = False
    if status in ("failed", "quality_failed"):
        record.error, record.failed_step = message, step
        title = f"batch {record.batch_id} {status.replace('_', ' ')}" + (f" at step {step}" if step else "")
        night.alert("error", title, {"error": message, "exit_code": int(code)})
    elif message:
        record.error = None
        record.alerts.append(f"info: {message}")
    night.history.append(record)
    night.say(f"batch {record.batch_id}: {status}" + (f" ({message})" if message else ""))
    return int(code)


def next_batch_id(paths: Paths, history: RunHistory) -> int:
    return max(history.max_batch_id(), ingest.last_batch_id(paths.warehouse)) + 1
