"""Where everything lives. One environment variable, CHATBATCH_HOME, places all state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from chatbatch.core.errors import ConfigError

# The dbt project: the repository this package lives in, unless CHATBATCH_PROJECT_DIR
# points elsewhere (tests use it to run a copy with a planted failing test).
PROJECT_DIR = Path(os.environ.get("CHATBATCH_PROJECT_DIR") or Path(__file__).resolve().parents[3]).resolve()


@dataclass(frozen=True)
class Paths:
    home: Path

    @classmethod
    def from_env(cls) -> Paths:
        """``$CHATBATCH_HOME``, default ``./data``, except on the prod target, which has no default."""
        home = os.environ.get("CHATBATCH_HOME")
        if not home and os.environ.get("DBT_TARGET") == "prod":
            raise ConfigError(
                "CHATBATCH_HOME is not set, and DBT_TARGET=prod has no default",
                "set CHATBATCH_HOME to the batch's state folder (see deploy/chatbatch.env.example)",
            )
        return cls(home=Path(home or "data").expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        """The working DuckDB file dbt builds into (locked while a build runs)."""
        return self.home / "warehouse.duckdb"

    @property
    def analytics(self) -> Path:
        """The published DuckDB file analysts open read-only."""
        return self.home / "analytics.duckdb"

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for the runner's builds (manifest, run results)."""
        return self.home / "state" / "dbt" / "target"

    @property
    def dbt_logs(self) -> Path:
        return self.home / "state" / "dbt" / "logs"

    def export(self) -> None:
        """Make dbt (which reads CHATBATCH_HOME from the environment) agree with us."""
        self.home.mkdir(parents=True, exist_ok=True)
        os.environ["CHATBATCH_HOME"] = str(self.home)
