"""Time buckets shared by the Langfuse and OTel writers: records wait in windows until no
later simulated day can still add to them (late arrivals are at most ~5 days late)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from .timeutil import DAY_MS

T = TypeVar("T")
# v1 lateness: up to 5 days + 6 h after the record, plus the export delay
SETTLE_MS = 6 * DAY_MS


def ts_text(ms: int) -> str:
    """Langfuse's timestamp form: ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def iso_ms(ms: int) -> str:
    """``2026-03-03T00:00:00.000Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def stamp(ms: int, millis: bool = False) -> str:
    """File-name timestamp: ``2026-03-03T00-00-00`` (``.mmm`` appended with ``millis``)."""
    text = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H-%M-%S")
    return text + f".{ms % 1000:03d}" if millis else text


@dataclass
class Buckets(Generic[T]):
    """Records by window index ``k`` (window ``[k * width, (k + 1) * width)``)."""

    width_ms: int
    pending: dict[int, list[T]] = field(default_factory=dict)
    first: int | None = None
    next_out: int | None = None

    def add(self, at_ms: int, record: T) -> int:
        k = at_ms // self.width_ms
        if self.next_out is not None and k < self.next_out:
            raise RuntimeError(f"record at {at_ms} reached window {k} after it was written")
        self.pending.setdefault(k, []).append(record)
        self.first = k if self.first is None else min(self.first, k)
        return k

    def settled(self, now_ms: int, final: bool = False) -> Iterator[tuple[int, list[T]]]:
        """Windows no later record can reach, in order, empty ones included."""
        if self.first is None:
            return
        if self.next_out is None:
            self.next_out = self.first
        while self.pending and self.next_out <= max(self.pending):
            k = self.next_out
            if not final and (k + 1) * self.width_ms > now_ms - SETTLE_MS:
                return
            self.next_out += 1
            yield k, self.pending.pop(k, [])
