"""Retry transient faults with exponential backoff.

Transient: the DuckDB file lock held by another process, and I/O errors. Anything else
(bad data, a failing test, a bug) is not retried: retrying would only hide it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

T = TypeVar("T")

TRANSIENT_MESSAGES = (
    "could not set lock on file",
    "conflicting lock",
    "resource temporarily unavailable",
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, duckdb.IOException | OSError):
        return True
    text = str(exc).lower()
    return any(message in text for message in TRANSIENT_MESSAGES)


def with_retries(
    action: Callable[[], T],
    *,
    what: str,
    attempts: int = 3,
    base_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action``; on a transient fault wait base_delay * 2**n and try again."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            delay = base_delay * 2 ** (attempt - 1)
            print(
                f"chatbatch: {what} failed with a transient error ({exc}); "
                f"retry {attempt}/{attempts - 1} in {delay:.1f} s",
                file=sys.stderr,
            )
            sleep(delay)
    raise AssertionError("unreachable")


def dbt_failure_is_transient(outcome: object) -> bool:
    """A failed dbt invocation worth retrying (placeholder until typed classification)."""
    error = str(getattr(outcome, "error", "") or "")
    messages = [str(f.message) for f in getattr(outcome, "failures", [])]
    return is_transient(RuntimeError(" ".join([error, *messages])))
