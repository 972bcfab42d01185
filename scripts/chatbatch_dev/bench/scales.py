"""Benchmark sizes. ``history_days`` days are loaded, then the nightly of the next day is measured;
``long_history_days`` repeats that nightly on a longer history (the 90-day figure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta


@dataclass(frozen=True)
class Scale:
    name: str
    conversations_per_day: int
    history_days: int
    long_history_days: int | None
    repeat: int
    # the smoke scale (inside `make test`) runs one dbt build only: the cold build of H+1 days
    incremental: bool = True
    start: date = date(2026, 11, 1)
    seed: int = 42
    # conversations of the one new day of each "cost against day volume" point (bench/volume.py)
    volume_conversations: tuple[int, ...] = ()

    @property
    def generated_days(self) -> int:
        return max(self.history_days, self.long_history_days or 0) + 1

    def day(self, number: int) -> date:
        """The date of day ``number`` (1-based) of the generated exports."""
        return self.start + timedelta(days=number - 1)

    def without_long_history(self) -> Scale:
        return replace(self, long_history_days=None)

    def without_volume(self) -> Scale:
        return replace(self, volume_conversations=())


SCALES = {
    "smoke": Scale(
        "smoke",
        conversations_per_day=40,
        history_days=1,
        long_history_days=None,
        repeat=1,
        incremental=False,
    ),
    # small: 1x, 3x and 10x the scale's day, so the volume points stay cheap
    "small": Scale(
        "small",
        conversations_per_day=1_000,
        history_days=5,
        long_history_days=15,
        repeat=3,
        volume_conversations=(1_000, 3_000, 10_000),
    ),
    "standard": Scale(
        "standard",
        conversations_per_day=10_000,
        history_days=30,
        long_history_days=None,
        repeat=3,
        volume_conversations=(10_000, 30_000, 100_000),
    ),
    "large": Scale(
        "large",
        conversations_per_day=10_000,
        history_days=30,
        long_history_days=90,
        repeat=1,
        volume_conversations=(10_000, 30_000, 100_000),
    ),
}
