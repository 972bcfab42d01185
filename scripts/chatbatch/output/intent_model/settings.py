"""Settings of the intent model step (environment variables, validated once)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from chatbatch.core.errors import ConfigError

Schedule = Literal["weekly", "nightly", "off"]
SCHEDULE_ENV = "CHATBATCH_TRAIN_INTENT"
TOLERANCE_ENV = "CHATBATCH_INTENT_F1_TOLERANCE"
SEED_ENV = "CHATBATCH_INTENT_SEED"
WEEK_DAYS = 7


@dataclass(frozen=True)
class TrainSettings:
    schedule: Schedule = "weekly"  # weekly: when no candidate was trained in the 6 nights before
    tolerance: float = 0.01  # ship when macro-F1 >= current model's macro-F1 - tolerance
    seed: int = 42

    @classmethod
    def from_env(cls) -> TrainSettings:
        schedule = os.environ.get(SCHEDULE_ENV, "weekly")
        if schedule not in ("weekly", "nightly", "off"):
            raise ConfigError(f"{SCHEDULE_ENV}={schedule!r}", "use weekly (default), nightly or off")
        try:
            tolerance = float(os.environ.get(TOLERANCE_ENV, "0.01"))
            seed = int(os.environ.get(SEED_ENV, "42"))
        except ValueError as exc:
            raise ConfigError(
                f"{TOLERANCE_ENV} or {SEED_ENV} is not a number ({exc})",
                f"{TOLERANCE_ENV}: a macro-F1 drop in [0, 1], e.g. 0.01; {SEED_ENV}: an integer",
            ) from exc
        if not 0.0 <= tolerance <= 1.0:
            raise ConfigError(f"{TOLERANCE_ENV}={tolerance}", "a macro-F1 drop in [0, 1], e.g. 0.01")
        return cls(schedule, tolerance, seed)  # type: ignore[arg-type]
