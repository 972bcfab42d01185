"""Calendar helpers: epoch milliseconds, DST-aware locale offsets, diurnal weights."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .catalog import LOCALES

DAY_MS = 86_400_000
Z = -9999  # sentinel offset meaning "format with Z"

# share of conversations per local hour: night trough, late-morning and evening peaks
HOUR_WEIGHTS = np.array(
    [
        0.8,
        0.5,
        0.3,
        0.25,
        0.25,
        0.4,
        0.9,
        1.8,
        3.2,
        4.6,
        5.4,
        5.6,
        5.0,
        5.2,
        5.3,
        5.0,
        4.7,
        4.4,
        4.2,
        4.6,
        4.9,
        4.3,
        3.0,
        1.7,
    ],
    dtype=np.float64,
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()
WEEKDAY_FACTOR = (1.05, 1.08, 1.06, 1.04, 0.98, 0.68, 0.6)


def epoch_ms(d: date) -> int:
    return (d - date(1970, 1, 1)).days * DAY_MS


def _nth_sunday(year: int, month: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_sunday(year: int, month: int) -> date:
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def locale_offsets(d: date) -> np.ndarray:
    """UTC offset in minutes per locale for calendar day ``d`` (DST switch applied per day)."""
    out = []
    for _, _, base, rule in LOCALES:
        dst = False
        if rule == "eu":
            dst = _last_sunday(d.year, 3) <= d < _last_sunday(d.year, 10)
        elif rule == "us":
            dst = _nth_sunday(d.year, 3, 2) <= d < _nth_sunday(d.year, 11, 1)
        out.append(base + (60 if dst else 0))
    return np.array(out, dtype=np.int64)
