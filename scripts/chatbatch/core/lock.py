"""Lock step: one nightly batch at a time per CHATBATCH_HOME.

The lock is an advisory ``flock`` on ``$CHATBATCH_HOME/chatbatch.lock``. The kernel
releases it when the holder dies, even on SIGKILL, so a stale lock never blocks the
next run; the file's content (pid, start time) only serves to name the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from chatbatch.core.errors import OperatorError
from chatbatch.core.exit_codes import ExitCode


class LockHeld(OperatorError):
    """Another live process holds the lock."""

    exit_code = ExitCode.LOCKED

    def __init__(self, holder: dict[str, object], path: Path) -> None:
        self.holder = holder
        super().__init__(
            f"another chatbatch run holds the lock {path}: pid {holder.get('pid')} "
            f"on {holder.get('host')} since {holder.get('started_at')} "
            f"(command: {holder.get('command')})",
            "nothing to do: that run does the work (`chatbatch status` shows it); "
            "a holder that dies releases the lock by itself",
        )


@dataclass
class BatchLock:
    path: Path
    command: str = "nightly"
    previous_holder: dict[str, object] | None = None
    _fd: int | None = None

    def acquire(self) -> BatchLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeld(holder, self.path) from None
        self.previous_holder = _read_holder(fd) or None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": self.command,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> BatchLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, object]:
    try:
        raw = os.pread(fd, 4096, 0)
        return json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        return {}
