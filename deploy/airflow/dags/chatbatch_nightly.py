"""Airflow DAG: the chatbatch nightly batch, once a day at 02:30 UTC.

The task runs ``chatbatch nightly --date <the day before the run>`` and maps its exit code:

* 0 (ok, or nothing new) → success;
* 3 (another run holds the batch lock) → skipped: that run is doing the work;
* 4 (data-quality threshold breached) and 2 (usage error or bad setting) → failed at
  once, no retry: retrying cannot fix the data, the command line or the configuration, a
  person must look;
* 1 (batch failed) or anything else → an error Airflow retries: a failed batch is
  repaired by the next run (``dbt retry`` semantics), so a retry is safe.

Settings (Airflow Variables or environment): ``CHATBATCH_HOME`` (required),
``CHATBATCH_BIN`` (default ``chatbatch`` on PATH). Install Airflow with the optional
extra: ``pip install -e '.[airflow]'``.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

try:  # Airflow 3
    from airflow.sdk import DAG, get_current_context, task
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[no-redef]
    from airflow.decorators import task  # type: ignore[no-redef]
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
    )
    from airflow.operators.python import get_current_context  # type: ignore[no-redef]

# chatbatch's exit codes, copied: Airflow may run where chatbatch is not installed. The
# definition is scripts/chatbatch/core/exit_codes.py; tests/python/test_exit_codes.py
# checks that this line agrees with it.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_QUALITY = 0, 1, 2, 3, 4


def outcome(code: int, output: str) -> None:
    """Turn chatbatch's exit code into the task's state (see the module docstring)."""
    tail = "\n".join(output.splitlines()[-30:])
    if code == EXIT_OK:
        return
    if code == EXIT_LOCKED:
        raise AirflowSkipException(f"another chatbatch run holds the lock:\n{tail}")
    if code in (EXIT_QUALITY, EXIT_USAGE):
        raise AirflowFailException(f"chatbatch nightly exit {code}, not retried:\n{tail}")
    raise AirflowException(f"chatbatch nightly exit {code}, will retry:\n{tail}")


def _setting(name: str, default: str | None = None) -> str | None:
    try:
        from airflow.sdk import Variable

        return Variable.get(name, default=os.environ.get(name, default))
    except Exception:
        return os.environ.get(name, default)


with DAG(
    dag_id="chatbatch_nightly",
    description="Ingest, build, audit and publish the chatbot analytics (chatbatch nightly)",
    schedule="30 2 * * *",
    start_date=datetime(2026, 11, 1, tzinfo=UTC),
    catchup=False,  # the batch catches up missed nights by itself
    max_active_runs=1,
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=3),
    },
    tags=["chatbatch", "nightly"],
) as dag:

    @task(task_id="nightly")
    def nightly() -> dict[str, Any]:
        context = get_current_context()
        logical = context.get("logical_date")  # None for a manual run in Airflow 3
        home = _setting("CHATBATCH_HOME")
        if not home:
            raise AirflowFailException("set CHATBATCH_HOME (Airflow Variable or environment)")
        args = [_setting("CHATBATCH_BIN", "chatbatch") or "chatbatch", "nightly"]
        if logical is not None:
            args += ["--date", (logical - timedelta(days=1)).date().isoformat()]
        result = subprocess.run(
            args,
            env={**os.environ, "CHATBATCH_HOME": home},
            capture_output=True,
            text=True,
            check=False,
        )
        print(result.stdout)
        print(result.stderr)
        outcome(result.returncode, result.stdout + result.stderr)
        return {"exit_code": result.returncode, "args": args}

    nightly()
