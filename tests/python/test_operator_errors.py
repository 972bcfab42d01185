"""Errors an operator can act on, transient faults recognised by type, and dbt releasing
the warehouse: with real DuckDB locks held by a second process and real dbt runs."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dbt_common.exceptions import DbtRuntimeError

from chatbatch.cli import main
from chatbatch.core import duck
from chatbatch.core.errors import OperatorError
from chatbatch.core.exit_codes import ExitCode
from chatbatch.core.lock import BatchLock
from chatbatch.core.log import log_file
from chatbatch.core.paths import Paths
from chatbatch.core.retry import DUCKDB_LOCK_MESSAGE, is_transient, with_retries
from chatbatch.process.dbt import dbt_args, dbt_failure_is_transient, run_dbt
from tests.python.conftest import write_lines

# -- a second process holding a DuckDB file read-write ---------------------------------


def _hold(database: Path) -> subprocess.Popen[str]:
    database.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; con = duckdb.connect({str(database)!r}); print('held', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout and holder.stdout.readline().strip() == "held"
    return holder


def _let_go(holder: subprocess.Popen[str]) -> None:
    if holder.poll() is None:
        assert holder.stdin
        holder.stdin.close()  # the holder's read returns, it exits and the file is free
        holder.wait(timeout=60)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    database = tmp_path / "held.duckdb"
    holder = _hold(database)
    try:
        yield database, holder
    finally:
        _let_go(holder)


def _opens_read_write_elsewhere(database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(database)!r}).close()"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- transient faults ---------------------------------------------------------------------


def test_a_duckdb_file_held_by_another_process_is_transient_and_retried(
    held: tuple[Path, subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    database, holder = held
    with pytest.raises(duckdb.IOException) as caught:
        duckdb.connect(str(database))
    # duckdb 2.0.1: 'IO Error: Could not set lock on file "…/held.duckdb": Conflicting lock
    # is held in …/python3.11 (PID n). See also https://duckdb.org/docs/current/connect/concurrency'
    assert type(caught.value) is duckdb.IOException
    assert f'{DUCKDB_LOCK_MESSAGE} "{database}"' in str(caught.value)
    assert f"(PID {holder.pid})" in str(caught.value)
    assert is_transient(caught.value)

    waits: list[float] = []

    def wait_while_the_holder_finishes(seconds: float) -> None:
        waits.append(seconds)
        _let_go(holder)

    con = with_retries(
        lambda: duckdb.connect(str(database)),
        what="open warehouse",
        attempts=3,
        base_delay=0.25,
        sleep=wait_while_the_holder_finishes,
    )
    con.close()
    assert waits == [0.25]
    assert "open warehouse failed with a transient error" in capsys.readouterr().err


def test_other_duckdb_io_errors_are_not_transient(tmp_path: Path) -> None:
    not_a_database = tmp_path / "warehouse.duckdb"
    not_a_database.write_text("not a database\n", encoding="utf-8")
    calls: list[int] = []

    def open_it() -> duckdb.DuckDBPyConnection:
        calls.append(1)
        return duckdb.connect(str(not_a_database))

    with pytest.raises(duckdb.IOException, match="not a valid DuckDB database file"):
        with_retries(open_it, what="open", attempts=3, sleep=lambda _: None)
    assert calls == [1]
    with pytest.raises(duckdb.IOException, match="No such file or directory") as missing:
        duckdb.connect(str(tmp_path / "no" / "such" / "folder.duckdb"))
    assert not is_transient(missing.value)


def test_a_lock_wrapped_by_dbt_duckdb_is_still_transient(held: tuple[Path, subprocess.Popen[str]]) -> None:
    database, _ = held
    try:
        try:
            duckdb.connect(str(database))
        except duckdb.IOException as exc:  # what dbt-duckdb's exception_handler does
            raise DbtRuntimeError(str(exc)) from exc
    except DbtRuntimeError as wrapped:
        assert is_transient(wrapped)
    assert not is_transient(
        DbtRuntimeError(f'IO Error: {DUCKDB_LOCK_MESSAGE} "x"')
    )  # a message alone is not enough


def test_a_flock_held_elsewhere_is_a_transient_eagain(tmp_path: Path) -> None:
    lock = BatchLock(tmp_path / "chatbatch.lock").acquire()
    fd = os.open(tmp_path / "chatbatch.lock", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError) as caught:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
        lock.release()
    assert caught.value.errno == errno.EAGAIN
    assert is_transient(caught.value)


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        (errno.EAGAIN, True),
        (errno.EBUSY, True),
        (errno.ETIMEDOUT, True),
        (errno.ESTALE, True),
        (errno.ENOSPC, False),
        (errno.EDQUOT, False),
        (errno.EACCES, False),
        (errno.EPERM, False),
        (errno.ENOENT, False),
        (errno.EROFS, False),
        (errno.EIO, False),
    ],
)
def test_oserrors_are_transient_by_errno(code: int, transient: bool) -> None:
    error = OSError(code, os.strerror(code), "/data/warehouse.duckdb")
    assert is_transient(error) is transient
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        raise OSError(code, os.strerror(code))

    with pytest.raises(OSError):
        with_retries(fail, what="x", attempts=3, sleep=lambda _: None)
    assert len(calls) == (3 if transient else 1)


def test_a_full_disk_is_not_retried() -> None:
    calls: list[int] = []

    def write_to_a_full_disk() -> None:
        calls.append(1)
        with open("/dev/full", "wb", buffering=0) as full:
            full.write(b"x")

    with pytest.raises(OSError) as caught:
        with_retries(write_to_a_full_disk, what="write", attempts=3, sleep=lambda _: None)
    assert caught.value.errno == errno.ENOSPC and calls == [1]


# -- dbt: a locked warehouse, and the file released after every invocation ----------------


@pytest.fixture(scope="module")
def dbt_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paths]:
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("dbt") / "home"
        patch.setenv("CHATBATCH_HOME", str(home))
        yield Paths(home)


def test_dbt_on_a_warehouse_another_process_holds_fails_transiently(dbt_home: Paths) -> None:
    holder = _hold(dbt_home.warehouse)
    try:
        outcome = run_dbt(dbt_args("seed", select=["intent_catalogue"]), dbt_home)
    finally:
        _let_go(holder)
    assert not outcome.success and outcome.results == []
    assert type(outcome.exception) is duckdb.IOException
    assert outcome.error and f'{DUCKDB_LOCK_MESSAGE} "{dbt_home.warehouse}"' in outcome.error
    assert dbt_failure_is_transient(outcome)


def test_run_dbt_releases_the_warehouse_for_other_processes(dbt_home: Paths) -> None:
    outcome = run_dbt(dbt_args("seed", select=["intent_catalogue"]), dbt_home)
    assert outcome.success, outcome.error
    opened = _opens_read_write_elsewhere(dbt_home.warehouse)
    assert opened.returncode == 0, opened.stderr[-2000:]
    # and this process opens it with the runner's settings (another configuration than dbt's)
    duck.connect(dbt_home.warehouse).close()


def test_a_failing_model_is_not_transient_and_still_releases_the_warehouse(dbt_home: Paths) -> None:
    outcome = run_dbt(dbt_args("run", select=["base_chatbot__users"]), dbt_home)  # no raw tables yet
    assert not outcome.success
    # the model, after the project's on-run-start hook (macros/utils/full_refresh.sql)
    assert [(r.resource_type, r.status) for r in outcome.results] == [
        ("operation", "success"),
        ("model", "error"),
    ]
    assert not dbt_failure_is_transient(outcome)
    opened = _opens_read_write_elsewhere(dbt_home.warehouse)
    assert opened.returncode == 0, opened.stderr[-2000:]


# -- what the operator reads ----------------------------------------------------------------


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    monkeypatch.setenv("CHATBATCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CHATBATCH_DEBUG", "0")
    return Paths.from_env()


def _stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_a_bad_setting_names_the_variable_and_what_to_do(
    cli_home: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATBATCH_DUCKDB_MEMORY_LIMIT", "lots")
    assert main(["ingest"]) == ExitCode.USAGE
    assert _stderr_lines(capsys) == [
        "chatbatch: CHATBATCH_DUCKDB_MEMORY_LIMIT='lots' is not a size",
        "  → set it to a size such as 1536MB or 2GB, or unset it for 1536MB",
    ]

    monkeypatch.delenv("CHATBATCH_HOME")
    monkeypatch.setenv("DBT_TARGET", "prod")
    assert main(["status"]) == ExitCode.USAGE
    assert (
        _stderr_lines(capsys)[0] == "chatbatch: CHATBATCH_HOME is not set, and DBT_TARGET=prod has no default"
    )


def test_a_held_lock_names_its_holder(cli_home: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    lock = BatchLock(cli_home.home / "chatbatch.lock", command="nightly").acquire()
    try:
        assert main(["purge", "--older-than", "30"]) == ExitCode.LOCKED
    finally:
        lock.release()
    what, hint = _stderr_lines(capsys)
    assert what.startswith(
        f"chatbatch: another chatbatch run holds the lock {cli_home.home / 'chatbatch.lock'}"
    )
    assert f"pid {os.getpid()}" in what and "(command: nightly)" in what
    assert hint.startswith("  → nothing to do")


def test_a_changed_landing_file_names_the_file_without_a_traceback(
    cli_home: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(cli_home.landing, "users", "2026-11-01", "u.jsonl", [{"user_id": "u1"}])
    assert main(["ingest"]) == ExitCode.OK
    capsys.readouterr()
    path.write_text('{"user_id": "u2"}\n', encoding="utf-8")
    assert main(["ingest"]) == ExitCode.FAILED
    what, hint = _stderr_lines(capsys)
    assert what.startswith(f"chatbatch: {path}: content changed since it was loaded")
    assert hint.startswith("  → landing files are immutable")
    assert not log_file(cli_home.home).exists()


def test_an_unexpected_error_prints_one_line_and_logs_the_traceback(
    cli_home: Paths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_home.home.mkdir(parents=True)
    cli_home.warehouse.write_text("not a database\n", encoding="utf-8")
    assert main(["summary"]) == ExitCode.FAILED
    log = log_file(cli_home.home)
    assert _stderr_lines(capsys) == [
        f'chatbatch: unexpected error (IOException: IO Error: The file "{cli_home.warehouse}" exists, '
        f"but it is not a valid DuckDB database file!); traceback in {log}; rerun with --debug to see it here"
    ]
    logged = log.read_text(encoding="utf-8")
    assert logged.startswith("=== ") and "Traceback (most recent call last)" in logged

    assert main(["--debug", "summary"]) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.rstrip().endswith(f"traceback in {log}")
    assert log.read_text(encoding="utf-8").count("=== ") == 2


def test_operator_errors_carry_their_exit_code() -> None:
    error = OperatorError("warehouse.duckdb is missing", "run `chatbatch nightly` first")
    assert error.exit_code == ExitCode.FAILED and str(error) == "warehouse.duckdb is missing"
    assert OperatorError("x", "y", ExitCode.QUALITY).exit_code == ExitCode.QUALITY


def test_chatbatch_refuses_the_read_only_published_target(tmp_path: Path, monkeypatch, capsys) -> None:
    """DBT_TARGET=published is for mf query; a nightly with it says so in two lines."""
    monkeypatch.setenv("CHATBATCH_HOME", str(tmp_path))
    monkeypatch.setenv("DBT_TARGET", "published")
    (tmp_path / "landing" / "users" / "export_date=2026-11-01").mkdir(parents=True)
    (tmp_path / "landing" / "users" / "export_date=2026-11-01" / "part-0000.jsonl").write_text(
        '{"user_id": "u1", "exported_at": "2026-11-01T00:00:00Z"}\n'
    )
    code = main(["nightly", "--date", "2026-11-01"])
    err = capsys.readouterr().err
    assert code == 2
    assert "DBT_TARGET=published" in err and "→" in err and "Traceback" not in err
