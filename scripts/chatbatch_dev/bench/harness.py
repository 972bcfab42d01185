"""Run one measured step in a fresh child process; clone bench homes.

Peak resident memory is the child's own: ``os.wait4`` returns the rusage of exactly that
child, whose ``ru_maxrss`` on Linux is the larger of its own peak and that of its
waited-for descendants (KiB). Wall time is measured around the child, so it includes
interpreter start and imports, as a cron job would see it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import duckdb

from chatbatch.core.paths import Paths
from chatbatch.monitor.history import RunHistory

# Variables a child must not inherit: the bench never alerts, and picks its own home.
_DROPPED_ENV = ("CHATBATCH_WEBHOOK_URL", "CHATBATCH_FAULT", "CHATBATCH_HOME")


@dataclass
class Run:
    """One execution of a step."""

    seconds: float
    peak_rss_mib: float
    exit_code: int
    log: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Step:
    """A measured step: its runs, and what it processed."""

    name: str
    label: str
    runs: list[Run] = field(default_factory=list)
    rows: int | None = None
    rows_label: str = ""
    error: str | None = None
    skipped: str | None = None

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.exit_code == 0]

    @property
    def median_seconds(self) -> float | None:
        runs = self.ok_runs
        return statistics.median(r.seconds for r in runs) if runs else None

    @property
    def peak_rss_mib(self) -> float | None:
        runs = self.ok_runs
        return max(r.peak_rss_mib for r in runs) if runs else None

    def median_run(self) -> Run | None:
        """The run whose time is the (lower) median, for its details."""
        runs = sorted(self.ok_runs, key=lambda r: r.seconds)
        return runs[(len(runs) - 1) // 2] if runs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "median_seconds": self.median_seconds,
            "runs": len(self.ok_runs),
            "peak_rss_mib": self.peak_rss_mib,
            "rows": self.rows,
            "rows_label": self.rows_label,
            "error": self.error,
            "skipped": self.skipped,
            "all_runs": [asdict(r) for r in self.runs],
        }


@dataclass
class ChildEnv:
    """What every child process shares: the dbt project, dbt's target and log folders."""

    workdir: Path
    project_dir: Path | None = None

    def environ(self, home: Path | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        if home is not None:
            env["CHATBATCH_HOME"] = str(home)
        # dbt's partial-parse state and run results stay in the bench folder, away from
        # the working tree (someone may run dbt there meanwhile).
        env["DBT_TARGET_PATH"] = str(self.workdir / "dbt_target")
        env["DBT_LOG_PATH"] = str(self.workdir / "dbt_logs")
        env["PYTHONUNBUFFERED"] = "1"
        if self.project_dir is not None:
            env["CHATBATCH_PROJECT_DIR"] = str(self.project_dir)
        return env


class Bench(Protocol):
    """What a step module needs of a bench scale (``runner.ScaleRun``): measured children in
    its folder, and the nightly as the bench runs it."""

    root: Path
    env: ChildEnv
    repeat: int
    say: Callable[[str], None]
    keep: bool
    steps: dict[str, Step]

    def add_step(self, key: str, label: str) -> Step: ...

    def measure(self, step: Step, argv: list[str], home: Path | None, index: int) -> Run: ...

    def run_nightly(
        self, step: Step, home: Path, day: date, index: int, accept: tuple[str, ...] = ("ok",)
    ) -> Run: ...

    def warm_parse(self, home: Path) -> None: ...


def run_child(argv: list[str], env: dict[str, str], log: Path) -> Run:
    """Run ``argv`` to completion; time it and read its peak RSS from wait4."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        seconds=round(seconds, 3),
        peak_rss_mib=round(usage.ru_maxrss / 1024.0, 1),
        exit_code=process.returncode,
        log=str(log),
    )


def chatbatch_argv(*args: str) -> list[str]:
    """The chatbatch CLI, run by this interpreter."""
    return [sys.executable, "-m", "chatbatch.cli", *args]


def bench_step_argv(*args: str) -> list[str]:
    """An internal bench step (reference, pandas) run by this interpreter."""
    return [sys.executable, "-m", "chatbatch_dev.bench", "_step", *args]


def log_tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def clone_home(source: Path, target: Path) -> None:
    """Copy a bench home: the landing files (read-only input) and the warehouse snapshots
    (written once into a temp folder, renamed, later only deleted: chatbatch/privacy/
    snapshots.py) hard-linked, the rest copied. A 90-day home holds ~21 GB of snapshots
    beside a 10 GB warehouse; copying them filled the disk of two large runs."""
    if target.exists():
        shutil.rmtree(target)
    paths = Paths(home=source)
    write_once = (paths.landing, paths.snapshots)

    def copy(src: str, dst: str) -> str:
        if any(Path(src).is_relative_to(folder) for folder in write_once):
            os.link(src, dst)
            return dst
        return shutil.copy2(src, dst)

    shutil.copytree(
        source, target, copy_function=copy, ignore=shutil.ignore_patterns(Paths(home=source).lock_file.name)
    )


def history_records(home: Path) -> dict[int, dict[str, Any]]:
    """The final state of every batch in a home's run history, by batch id (RunHistory's)."""
    return {record.batch_id: record.to_dict() for record in RunHistory(home).records()}


def last_history_record(home: Path) -> dict[str, Any]:
    """The final state of the last batch in a home's run history."""
    records = history_records(home)
    return records[max(records)] if records else {}


def nightly_details(home: Path, after: int = 0) -> dict[str, Any]:
    """What the run history says about the batches (after batch ``after``) a nightly child
    just ran: one, or several when it caught a long backlog up in slices (--catch-up-days).
    Lines, step and model seconds and test counts add up over them; the status and error are
    the last batch's."""
    batches = [r for batch_id, r in sorted(history_records(home).items()) if batch_id > after]
    last = batches[-1] if batches else {}
    steps: dict[str, float] = {}
    models: dict[str, float | None] = {}
    tests: dict[str, int] = {}
    for record in batches:
        for name, seconds in (record.get("steps") or {}).items():
            steps[name] = steps.get(name, 0.0) + seconds
        for name, info in (record.get("models") or {}).items():
            seconds = info.get("seconds")
            models[name] = None if seconds is None else (models.get(name) or 0.0) + seconds
        for key, count in (record.get("tests") or {}).items():
            tests[key] = tests.get(key, 0) + count
    return {
        "status": last.get("status"),
        "batches": len(batches),
        "lines_read": sum(r.get("lines_read") or 0 for r in batches) if batches else None,
        "steps": steps,
        "peak_rss_mib": [pair for r in batches for pair in r.get("peak_rss_mib") or []],
        "models": models,
        "tests": tests,
        "error": last.get("error"),
    }


def reported_run(run: Run, seconds: float | None, details: dict[str, Any]) -> Run:
    """A child's run timed by the seconds it reported itself; when it reported none, its
    wall time, counted as failed."""
    return Run(
        seconds=float(seconds if seconds is not None else run.seconds),
        peak_rss_mib=run.peak_rss_mib,
        exit_code=run.exit_code if seconds is not None else (run.exit_code or 1),
        log=run.log,
        details=details,
    )


def step_output(log: str) -> dict[str, Any]:
    """The JSON object an internal step prints last (DuckDB's progress bar, which ends
    without a newline, may precede it on its line)."""
    for line in reversed(Path(log).read_text(errors="replace").splitlines()):
        start = line.find('{"')
        if start >= 0:
            try:
                return dict(json.loads(line[start:]))
            except ValueError:
                return {}
    return {}


def count_rows(database: Path, table: str) -> int | None:
    """Rows of ``table`` in ``database`` (None: not there or not readable)."""
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute(f"select count(*) from {table}").fetchone()
        return int(row[0]) if row else None
    except duckdb.Error:
        return None
    finally:
        con.close()


def parquet_rows(path: Path) -> int | None:
    if not path.exists():
        return None
    con = duckdb.connect()
    try:
        row = con.execute(f"select count(*) from read_parquet('{path.as_posix()}')").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else None
