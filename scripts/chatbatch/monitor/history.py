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
from pathlib import Path

from chatbatch.core.faults import armed, checkpoint
from chatbatch.core.paths import Paths
from chatbatch.monitor.record import BatchRecord, Status


class RunHistory:
    def __init__(self, home: Path) -> None:
        self.path = Paths(home=home).run_history

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

    def records(self) -> list[BatchRecord]:
        """The latest record of every batch, oldest batch first."""
        latest: dict[int, BatchRecord] = {}
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = BatchRecord.from_dict(json.loads(line))
                except (ValueError, TypeError, KeyError):
                    continue  # a torn last line from a killed run
                latest[record.batch_id] = record
        out = [latest[key] for key in sorted(latest)]
        for record in out:
            if record.status == "running" and not _alive(record.pid):
                record.status = "interrupted"
        return out

    def last(self, statuses: tuple[Status, ...] | None = None) -> BatchRecord | None:
        for record in reversed(self.records()):
            if statuses is None or record.status in statuses:
                return record
        return None

    def max_batch_id(self) -> int:
        records = self.records()
        return max((r.batch_id for r in records), default=0)


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
