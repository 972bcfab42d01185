"""Record step: one record per batch, kept across runs in an append-only JSONL file.

``$CHATBATCH_HOME/state/run_history.jsonl`` is never locked by a build, so operators
can read it while a batch runs. A record is appended when a batch starts (status
``running``) and again when it ends; the latest record of a batch wins. A run killed
mid-write leaves at most one torn last line, which readers skip. A ``running`` record
whose process is gone is reported as ``interrupted``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatbatch.faults import armed, checkpoint

FINAL_STATUSES = ("ok", "skipped", "failed", "quality_failed", "interrupted")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class BatchRecord:
    batch_id: int
    command: str
    run_date: str
    status: str = "running"
    pid: int = field(default_factory=os.getpid)
    started_at: str = field(default_factory=utc_now)
    finished_at: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    pending_dates: list[str] = field(default_factory=list)
    missing_dates: list[str] = field(default_factory=list)
    files: int = 0
    lines_read: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicates: int = 0
    quarantine_rate: float | None = None
    late_beyond_lookback: int = 0
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    # [step, MiB] in the order the steps ran: the process's peak resident memory at the
    # end of each step. It only grows, so the step where it jumps needed the memory.
    peak_rss_mib: list[tuple[str, float]] = field(default_factory=list)
    published: bool = False
    error: str | None = None
    failed_step: str | None = None
    alerts: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RunHistory:
    def __init__(self, home: Path) -> None:
        self.path = home / "state" / "run_history.jsonl"

    def append(self, record: BatchRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record.to_dict(), sort_keys=True, default=str) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            if record.status != "running" and armed("record:torn"):
                handle.write(line[: len(line) // 2])
                handle.flush()
                checkpoint("record:torn")
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def records(self) -> list[dict[str, Any]]:
        """The latest record of every batch, oldest batch first."""
        latest: dict[int, dict[str, Any]] = {}
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a torn last line from a killed run
                latest[int(record["batch_id"])] = record
        out = [latest[key] for key in sorted(latest)]
        for record in out:
            if record["status"] == "running" and not _alive(int(record.get("pid", 0))):
                record["status"] = "interrupted"
        return out

    def last(self, statuses: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        for record in reversed(self.records()):
            if statuses is None or record["status"] in statuses:
                return record
        return None

    def max_batch_id(self) -> int:
        records = self.records()
        return max((int(r["batch_id"]) for r in records), default=0)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
