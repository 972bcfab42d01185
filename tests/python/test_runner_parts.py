"""Small runner parts: retry policy, stale lock takeover, run history, alert body, catch-up slices
and the child process each slice runs in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from chatbatch.core import digest, duck
from chatbatch.core.child import run_in_child
from chatbatch.core.exit_codes import ExitCode
from chatbatch.core.lock import BatchLock
from chatbatch.core.paths import Paths
from chatbatch.core.retry import with_retries
from chatbatch.monitor.alert import build_alert
from chatbatch.monitor.history import RunHistory
from chatbatch.monitor.record import BatchRecord
from chatbatch.process.gate import breaches_quality
from chatbatch.process.plan import catch_up_dates
from tests.python.conftest import write_lines


def test_transient_faults_are_retried_with_backoff() -> None:
    calls: list[int] = []
    delays: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise duckdb.IOException('Could not set lock on file "w.duckdb"')
        return "ok"

    assert with_retries(flaky, what="open", attempts=3, base_delay=0.5, sleep=delays.append) == "ok"
    assert delays == [0.5, 1.0]


def test_real_errors_are_not_retried() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        with_retries(broken, what="x", attempts=5, sleep=lambda _: None)
    assert len(calls) == 1


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    lock_path = tmp_path / "chatbatch.lock"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from chatbatch.core.lock import BatchLock;"
            f"BatchLock(Path({str(lock_path)!r})).acquire(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout and child.stdout.readline().strip() == "held"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    lock = BatchLock(lock_path).acquire()
    try:
        assert lock.previous_holder and lock.previous_holder["pid"] == child.pid
    finally:
        lock.release()


def test_history_skips_a_torn_line_and_reports_dead_runs(tmp_path: Path) -> None:
    history = RunHistory(tmp_path)
    history.append(BatchRecord(batch_id=1, command="nightly", run_date="2026-11-01", status="ok"))
    history.append(BatchRecord(batch_id=2, command="nightly", run_date="2026-11-02", pid=2**22 + 7))
    with history.path.open("a") as handle:
        handle.write('{"batch_id": 3, "sta')
    records = history.records()
    assert [(r.batch_id, r.status) for r in records] == [(1, "ok"), (2, "interrupted")]


def test_alert_is_slack_compatible() -> None:
    alert = build_alert("error", "batch 7 failed", {"error": "boom", "exit_code": 1})
    body = json.loads(json.dumps(alert))
    assert body["text"].startswith("[chatbatch error] batch 7 failed")
    assert "boom" in body["text"] and body["details"]["exit_code"] == 1


@pytest.mark.parametrize(
    ("lines", "quarantined", "breached"),
    [
        (16, 1, False),  # one bad line in a small spill batch is not a bad export
        (50, 50, True),  # a small batch of garbage is
        (10_000, 400, False),  # 4 % <= 5 %
        (10_000, 600, True),  # 6 % > 5 %
        (0, 0, False),
    ],
)
def test_quality_gate_needs_a_rate_and_a_count(lines: int, quarantined: int, breached: bool) -> None:
    assert breaches_quality(lines, quarantined, max_rate=0.05, min_quarantined=10) is breached


@pytest.mark.parametrize(
    ("days", "slices"),
    [
        (0, ["2026-11-07"]),
        (7, ["2026-11-07"]),
        (3, ["2026-11-03", "2026-11-06", "2026-11-07"]),
        (2, ["2026-11-02", "2026-11-04", "2026-11-06", "2026-11-07"]),
    ],
)
def test_a_long_backlog_is_caught_up_in_slices(home: Paths, days: int, slices: list[str]) -> None:
    """Seven new export dates, up to --catch-up-days per batch: the run dates of the batches
    (the last one is always the night's own date, which may be later than the last export)."""
    for offset in range(7):
        day = (date(2026, 11, 1) + timedelta(days=offset)).isoformat()
        write_lines(home.landing, "conversations", day, "part-0000.jsonl", [{"conversation_id": day}])
    run_dates = catch_up_dates(home, date(2026, 11, 7), days)
    assert [d.isoformat() for d in run_dates] == slices


def test_a_batch_in_a_child_process_returns_its_exit_code_or_failed() -> None:
    """run_in_child: the work's own code; FAILED when it raises or a signal ends it (said)."""
    said: list[str] = []

    def raises() -> int:
        raise RuntimeError("boom")

    assert run_in_child(lambda: 4, said.append) == 4
    assert run_in_child(raises, said.append) == ExitCode.FAILED
    assert run_in_child(lambda: os.kill(os.getpid(), signal.SIGKILL) or 0, said.append) == ExitCode.FAILED
    assert len(said) == 1 and "SIGKILL" in said[0]


@pytest.mark.parametrize("size", [0, 1, (3 << 20) + 3])
def test_a_copy_hashed_beside_it_has_the_bytes_and_sha256_of_its_source(tmp_path: Path, size: int) -> None:
    """``copy_with_sha256`` (snapshots, restore): the same bytes, the hash ``sha256_of`` gives,
    whether the file is empty, smaller than a hash block or several blocks and a remainder."""
    source, target = tmp_path / "source.bin", tmp_path / "target.bin"
    source.write_bytes(os.urandom(size))
    assert digest.copy_with_sha256(source, target) == digest.sha256_of(source)
    assert target.read_bytes() == source.read_bytes()


def test_a_transaction_commits_or_rolls_back_and_keeps_the_error_that_says_why(tmp_path: Path) -> None:
    """``duck.transaction``: the block's writes commit together or not at all. A failed
    ``commit`` ends DuckDB's transaction, so the rollback after it must not replace its error
    with "no transaction is active" (an ingest whose commit met another process's WAL lock
    reported only that)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table t (x integer)")
    with duck.transaction(con):
        con.execute("insert into t values (1)")
    with pytest.raises(ValueError, match="a failed step"), duck.transaction(con):
        con.execute("insert into t values (2)")
        raise ValueError("a failed step")
    assert con.execute("select x from t").fetchall() == [(1,)]  # the second block rolled back
    with pytest.raises(duckdb.TransactionException):
        con.execute("rollback")  # what the old code did when no transaction was left
    with pytest.raises(ValueError, match="the real error"), duck.transaction(con):
        con.execute("commit")  # the transaction ends, as when a commit fails ...
        raise ValueError("the real error")  # ... and this error, not the rollback's, propagates
    con.close()


def test_a_share_of_the_memory_limit_in_duckdbs_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Publish's connection gets two thirds of the runner's limit (publish.PUBLISH_MEMORY_SHARE),
    whatever unit the operator wrote it in: KB, MB, GB are powers of 1000 and KiB, MiB, GiB
    powers of 1024, as DuckDB reads them; the whole limit is passed through as written."""
    assert (duck.memory_limit(), duck.memory_limit(2 / 3)) == ("1536MB", "1024MB")
    for written, two_thirds in (("8GB", "5333MB"), ("1.5GiB", "1073MB"), ("3000 mb", "2000MB")):
        monkeypatch.setenv(duck.MEMORY_LIMIT_ENV, written)
        assert (duck.memory_limit(), duck.memory_limit(2 / 3)) == (written, two_thirds)
    con = duck.connect(":memory:", memory_share=0.5)
    assert con.execute("select current_setting('memory_limit')").fetchone() == ("1.3 GiB",)
    con.close()
