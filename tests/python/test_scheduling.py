"""Scheduling that runs: the cron/systemd wrapper runs the real chatbatch on a tiny home
(exit codes, logs, env file), the systemd units and crontab say what they should, and the
Airflow DAG imports in a DagBag with its exit-code mapping (when Airflow is installed)."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chatbatch.core.exit_codes import ExitCode
from chatbatch.core.lock import BatchLock
from chatbatch.core.paths import PROJECT_DIR, Paths

DEPLOY = PROJECT_DIR / "deploy"
WRAPPER = DEPLOY / "cron" / "chatbatch-nightly.sh"
DAGS = DEPLOY / "airflow" / "dags"
CHATBATCH_BIN = Path(sys.executable).parent / "chatbatch"


def _wrapper(env_file: Path, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBATCH_")}
    env["CHATBATCH_ENV_FILE"] = str(env_file)
    if home is not None:
        env["CHATBATCH_HOME"] = str(home)
    return subprocess.run(
        ["bash", str(WRAPPER), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _runs(log_dir: Path) -> list[str]:
    return (log_dir / "nightly.log").read_text(encoding="utf-8").splitlines()


def test_cron_wrapper_runs_chatbatch_logs_and_maps_exit_codes(home: Paths, tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    env_file = tmp_path / "chatbatch.env"
    env_file.write_text(
        f"CHATBATCH_HOME={home.home}\nCHATBATCH_BIN={CHATBATCH_BIN}\nCHATBATCH_LOG_DIR={log_dir}\n",
        encoding="utf-8",
    )

    # nothing landed: the batch is skipped, exit 0, silent (cron mails nothing)
    quiet = _wrapper(env_file, "--date", "2026-11-01")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == quiet.stderr == ""
    assert _runs(log_dir)[-1].split(" ", 2)[1:2] == ["exit=0"]
    run_logs = sorted(log_dir.glob("nightly-*.log"))
    assert len(run_logs) == 1
    assert "batch 1: skipped (no new data)" in run_logs[0].read_text(encoding="utf-8")

    # another run holds the lock: exit 3, still silent, logged as skipped
    lock = BatchLock(home.home / "chatbatch.lock").acquire()
    try:
        locked = _wrapper(env_file, "--date", "2026-11-01")
    finally:
        lock.release()
    assert locked.returncode == 3
    assert locked.stderr == ""
    assert "exit=3 (skipped: another run holds the lock)" in _runs(log_dir)[-1]

    # a usage error: exit 2, and stderr (what cron mails) says why
    bad = _wrapper(env_file, "--date", "yesterday")
    assert bad.returncode == 2
    assert "exit 2 (usage error)" in bad.stderr and "--date" in bad.stderr
    assert len(_runs(log_dir)) == 3

    # no CHATBATCH_HOME anywhere: refused before running anything
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("", encoding="utf-8")
    unset = _wrapper(empty_env)
    assert unset.returncode == 2 and "CHATBATCH_HOME is not set" in unset.stderr


def test_systemd_units_and_crontab_run_the_wrapper() -> None:
    units = {}
    for name in ("chatbatch-nightly.service", "chatbatch-nightly.timer"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(DEPLOY / "systemd" / name)
        units[name] = parser
    service, timer = units["chatbatch-nightly.service"], units["chatbatch-nightly.timer"]
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].endswith("deploy/cron/chatbatch-nightly.sh")
    assert service["Service"]["SuccessExitStatus"] == str(int(ExitCode.LOCKED))  # 3
    assert timer["Timer"]["Unit"] == "chatbatch-nightly.service"
    assert timer["Timer"]["Persistent"] == "true"
    entries = [
        line
        for line in (DEPLOY / "cron" / "crontab").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(entries) == 1
    fields = entries[0].split()
    assert fields[:5] == ["30", "2", "*", "*", "*"] and fields[5].endswith("chatbatch-nightly.sh")
    assert os.access(WRAPPER, os.X_OK)


_DAGBAG_CHECK = textwrap.dedent(
    """
    import json, sys
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models import DagBag  # Airflow 2
    bag = DagBag(dag_folder=sys.argv[1])
    dag = bag.dags.get("chatbatch_nightly")
    module = sys.modules[type(dag).__module__] if dag else None
    out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": sorted(bag.dags)}
    if dag is not None:
        out["tasks"] = [t.task_id for t in dag.tasks]
        out["retries"], out["max_active_runs"] = dag.tasks[0].retries, dag.max_active_runs
        import importlib.util
        spec = importlib.util.spec_from_file_location("chatbatch_nightly_dag", dag.fileloc)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mapped = {}
        for code in (0, 1, 2, 3, 4):
            try:
                mod.outcome(code, "log line")
                mapped[code] = "success"
            except Exception as exc:
                mapped[code] = type(exc).__name__
        out["mapped"] = mapped
    print("DAGBAG " + json.dumps(out))
    """
)


def _airflow_python() -> str | None:
    """This interpreter if it has Airflow (the optional extra), else CHATBATCH_AIRFLOW_PYTHON."""
    if importlib.util.find_spec("airflow") is not None:
        return sys.executable
    return os.environ.get("CHATBATCH_AIRFLOW_PYTHON") or None


@pytest.mark.skipif(
    _airflow_python() is None,
    reason="Airflow is not installed (pip install -e '.[airflow]', or set CHATBATCH_AIRFLOW_PYTHON)",
)
def test_airflow_dag_imports_with_retries_and_exit_code_mapping(tmp_path: Path) -> None:
    python = _airflow_python()
    assert python is not None
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run(
        [python, "-c", _DAGBAG_CHECK, str(DAGS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("DAGBAG ")]
    assert result.returncode == 0 and lines, result.stdout[-2000:] + result.stderr[-3000:]
    bag = json.loads(lines[-1].removeprefix("DAGBAG "))
    assert bag["errors"] == {}
    assert bag["dags"] == ["chatbatch_nightly"]
    assert bag["tasks"] == ["nightly"] and bag["retries"] == 2 and bag["max_active_runs"] == 1
    assert bag["mapped"] == {
        "0": "success",
        "1": "AirflowException",
        "2": "AirflowFailException",
        "3": "AirflowSkipException",
        "4": "AirflowFailException",
    }
