"""Retry transient faults with exponential backoff.

A fault is transient when waiting can cure it, and only then is it retried: anything
else (bad data, a failing test, a full disk, a bug) fails at once, since retrying would
only hide it. Recognised, by type and never by guessing at a message:

* the DuckDB file lock held by another process: ``duckdb.IOException`` whose message
  carries :data:`DUCKDB_LOCK_MESSAGE` (other ``IOException``s, such as a missing
  folder or a file that is not a database, are not transient);
* an ``OSError`` whose errno is in :data:`TRANSIENT_ERRNOS`;
* either of these as the ``__cause__`` of a wrapper (``raise Wrapper(...) from exc``,
  as dbt-duckdb does with ``DbtRuntimeError``).

dbt reports its failures as a result, not an exception: see
``chatbatch.process.dbt.dbt_failure_is_transient``.
"""

from __future__ import annotations

import errno
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

T = TypeVar("T")

# DuckDB's message when another process holds the database file: LocalFileSystem::OpenFile
# in duckdb/src/common/local_file_system.cpp throws
#   IOException("Could not set lock on file \"%s\": %s", path, "Conflicting lock is held in …")
# which Python shows as 'IO Error: Could not set lock on file "…/warehouse.duckdb": Conflicting
# lock is held in …/python3.11 (PID 6474). See also https://duckdb.org/docs/current/connect/concurrency'
# (duckdb 2.0.1, reproduced by tests/python/test_operator_errors.py). The lock is released
# when the holder closes the file or exits.
DUCKDB_LOCK_MESSAGE = "Could not set lock on file"

# errnos that name a condition which passes by itself:
#   EAGAIN (= EWOULDBLOCK) resource temporarily unavailable: a non-blocking lock or a
#                          momentary shortage of a kernel resource;
#   EBUSY                  device or resource busy: a file or mount in use by another process;
#   ETIMEDOUT              a network file system (landing or state on NFS/SMB) or the alert
#                          webhook did not answer in time;
#   ESTALE                 stale NFS file handle: the file was replaced on the server; a new
#                          open sees the new file.
# Not transient: ENOSPC and EDQUOT (a full disk stays full until someone frees space), EACCES
# and EPERM (permissions), ENOENT (a missing file), EROFS, and EIO: on a local disk an I/O
# error is a failing device or a corrupt file system, and seconds of backoff only delay the
# alert (a network mount's timeout shows as ETIMEDOUT). EINTR never reaches us: Python
# retries interrupted system calls itself (PEP 475).
TRANSIENT_ERRNOS = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE})


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` (or the exception it was raised from) is a fault waiting cures."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, duckdb.IOException):
            if DUCKDB_LOCK_MESSAGE in str(current):
                return True
        elif isinstance(current, OSError) and current.errno in TRANSIENT_ERRNOS:
            return True
        current = current.__cause__
    return False


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
