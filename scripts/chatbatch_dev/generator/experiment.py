"""The simulated A/B test behind ``experiment_variant`` (a drift field, from mid-history on).

Assignment is per user, as an experiment platform does it: a known user keeps the variant a
hash of (seed, user) gives them, except a few conversations (:data:`CROSSOVER_RATE`, a lost
cookie) that draw one at random, so the crossover check has something to find; anonymous
conversations draw one at random.

The planted effect (:data:`RESOLUTION_LIFT`): in ``treatment_b`` of ``support-bot``, 30 in 100
more engaged conversations (not walked away) get a resolution the user confirms; most would
have been resolved anyway (implied), the others would have ended abandoned: about +8 points of
the marts' resolution rate. Every other variant and bot has no effect, so the demo shows one
significant lift and null results elsewhere. Size: the demo (14 days x 400 conversations, the
experiment in the second week) gives support-bot about 580 engaged conversations per arm,
where a two-sided 5 % test has 80 % power for about 8 points; a 5-point effect would not
reliably show.

Uses its own random stream (``rng_for(seed, day, STREAM)``) for the assignment, so the rest of
a day's data is the same draws as without the experiment (only outcomes the effect changes differ).
"""

from __future__ import annotations

import numpy as np

import chatbatch_dev.generator.catalog as C

from .users import rng_for

STREAM = 17  # this module's random stream per (seed, day)
CROSSOVER_RATE = 0.02
# (bot, variant) -> probability added to the base resolution event (0.35 in day.py); the extra
# resolutions are confirmed
RESOLUTION_LIFT: dict[tuple[str, str], float] = {("support-bot", "treatment_b"): 0.30}

_LIFT = np.zeros((len(C.BOTS), len(C.EXPERIMENT_VARIANTS)))
for (_bot, _variant), _lift in RESOLUTION_LIFT.items():
    _LIFT[C.BOTS.index(_bot), C.EXPERIMENT_VARIANTS.index(_variant)] = _lift


def _user_hash(seed: int, u_day: np.ndarray, u_k: np.ndarray) -> np.ndarray:
    """A well-mixed 64-bit hash per user (splitmix64 of seed, first day and sequence)."""
    with np.errstate(over="ignore"):
        x = (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)) ^ (
            u_day.astype(np.uint64) << np.uint64(32) | u_k.astype(np.uint64)
        )
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def assign_variants(
    seed: int, day: int, in_experiment: bool, u_day: np.ndarray, u_k: np.ndarray
) -> np.ndarray:
    """Variant index per conversation (-1 before the experiment starts)."""
    n = len(u_day)
    if not in_experiment:
        return np.full(n, -1, dtype=np.int64)
    k = len(C.EXPERIMENT_VARIANTS)
    rng = rng_for(seed, day, STREAM)
    random_pick = rng.integers(0, k, n)
    by_user = (_user_hash(seed, u_day, u_k) % np.uint64(k)).astype(np.int64)
    known = u_day >= 0
    keep = known & (rng.random(n) >= CROSSOVER_RATE)
    return np.where(keep, by_user, random_pick)


def resolution_lift(bot: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """The planted effect per conversation (0 outside the experiment)."""
    return np.where(variant >= 0, _LIFT[bot, np.maximum(variant, 0)], 0.0)
