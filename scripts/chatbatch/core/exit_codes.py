"""chatbatch's exit codes: the one definition.

The CLI returns them, the README and ``--help`` print :func:`describe`, and the two
schedulers that cannot import this module keep a copy a test compares with it: the cron
wrapper's ``case`` table (``deploy/cron/chatbatch-nightly.sh``) and the Airflow DAG's
constants (``deploy/airflow/dags/chatbatch_nightly.py``; Airflow may run elsewhere).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    OK = 0, "ok or skipped"
    FAILED = 1, "batch failed"
    USAGE = 2, "usage error"  # also argparse's own exit status for a bad command line
    LOCKED = 3, "skipped: another run holds the lock"
    QUALITY = 4, "data-quality threshold breached"


def describe(separator: str = " · ") -> str:
    """``0 ok or skipped · 1 batch failed · …``: the sentence the README and --help show."""
    return separator.join(f"{code.value} {code.meaning}" for code in ExitCode)
