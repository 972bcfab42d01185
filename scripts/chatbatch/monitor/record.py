"""The run record: one typed record per batch, the run's state from start to finish.

Every step writes its part into the record (files and lines from accumulate, model
results from the build, counts from the audit, outputs from the workloads); the run
history stores it as one JSON line and ``ops.batch_runs`` publishes it. ``to_dict`` and
``from_dict`` are the only places its JSON shape is written and read.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["running", "ok", "skipped", "failed", "quality_failed", "interrupted"]
FINAL_STATUSES: tuple[Status, ...] = ("ok", "skipped", "failed", "quality_failed", "interrupted")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ModelRun:
    """One dbt model (or seed) of the batch: dbt's status, its seconds, its rows after."""

    status: str
    seconds: float
    rows: int | None = None


@dataclass
class MisfiledPath:
    """A path in the landing tree that does not fit the layout, and why."""

    path: str
    reason: str


@dataclass
class BatchRecord:
    batch_id: int
    command: str
    run_date: str
    status: Status = "running"
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
    misfiled: list[MisfiledPath] = field(default_factory=list)
    models: dict[str, ModelRun] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    # [step, MiB] in the order the steps ran: the process's peak resident memory at the
    # end of each step. It only grows, so the step where it jumps needed the memory.
    peak_rss_mib: list[tuple[str, float]] = field(default_factory=list)
    published: bool = False
    error: str | None = None
    failed_step: str | None = None
    alerts: list[str] = field(default_factory=list)
    # each workload's summary (rows, files, versions): JSON-able, its shape the workload's own
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.steps.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchRecord:
        """Read a stored record; keys a newer or older runner wrote are tolerated."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["models"] = {
            name: ModelRun(**{k: v for k, v in run.items() if k in ("status", "seconds", "rows")})
            for name, run in (data.get("models") or {}).items()
        }
        values["misfiled"] = [MisfiledPath(**m) for m in data.get("misfiled") or []]
        values["peak_rss_mib"] = [(str(step), float(mib)) for step, mib in data.get("peak_rss_mib") or []]
        return cls(**values)
