"""User pools: every run-relative day has its own new users; later days reuse them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from .catalog import LOCALE_WEIGHTS, SEGMENT_WEIGHTS
from .timeutil import DAY_MS, HOUR_WEIGHTS, WEEKDAY_FACTOR, epoch_ms, locale_offsets

ANON, NEW, RETURNING, REPEAT = 0, 1, 2, 3


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed, *keys]))


@dataclass(frozen=True)
class DayPlan:
    n_conv: int
    kind: np.ndarray  # per conversation: ANON / NEW / RETURNING / REPEAT
    n_new: int
    locale: np.ndarray  # per new user
    segment: np.ndarray  # per new user
    first_start_ms: np.ndarray  # per new user: start of their first conversation (UTC ms)
    created_ms: np.ndarray  # per new user


def local_day_times(rng: np.random.Generator, n: int, day_ms: int, offsets_min: np.ndarray) -> np.ndarray:
    """UTC ms within [day_ms, day_ms + 1 day) whose local hour follows ``HOUR_WEIGHTS``."""
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS)
    local = hours * 3_600_000 + rng.integers(0, 3_600_000, n)
    return day_ms + (local - offsets_min * 60_000) % DAY_MS


@lru_cache(maxsize=64)
def day_plan(seed: int, start: date, day: int, conversations_per_day: int) -> DayPlan:
    d = start + timedelta(days=day)
    rng = rng_for(seed, day, 1)
    factor = WEEKDAY_FACTOR[d.weekday()] * float(rng.normal(1.0, 0.04))
    n_conv = max(1, round(conversations_per_day * factor))
    # kind shares: anonymous, new user, returning user, same user again today
    p = [0.03, 0.93, 0.0, 0.04] if day == 0 else [0.03, 0.55, 0.37, 0.05]
    kind = rng.choice(4, size=n_conv, p=p).astype(np.int8)
    n_new = int((kind == NEW).sum())
    urng = rng_for(seed, day, 2)
    locale = urng.choice(len(LOCALE_WEIGHTS), size=n_new, p=LOCALE_WEIGHTS)
    segment = urng.choice(len(SEGMENT_WEIGHTS), size=n_new, p=SEGMENT_WEIGHTS)
    offs = locale_offsets(d)[locale]
    first = np.sort(local_day_times(urng, n_new, epoch_ms(d), offs))
    # account age: most created minutes before the first chat, some months earlier
    age = np.where(
        urng.random(n_new) < 0.6,
        urng.integers(30_000, 3_600_000, n_new),
        urng.integers(DAY_MS, 400 * DAY_MS, n_new),
    )
    created = (first - age) // 1000 * 1000
    return DayPlan(n_conv, kind, n_new, locale, segment, first, created)


def user_ids(days: np.ndarray, ks: np.ndarray, start: date) -> np.ndarray:
    """Vectorised ``usr_<YYYYMMDD of first appearance>_<k:06d>`` strings."""
    out = np.empty(len(days), dtype=object)
    for day in np.unique(days):
        m = days == day
        stamp = (start + timedelta(days=int(day))).strftime("%Y%m%d")
        out[m] = [f"usr_{stamp}_{int(k):06d}" for k in ks[m]]
    return out
