"""Where everything lives. One environment variable, CHATBATCH_HOME, places all state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# The dbt project: the repository this package lives in, unless CHATBATCH_PROJECT_DIR
# points elsewhere (tests use it to run a copy with a planted failing test).
PROJECT_DIR = Path(os.environ.get("CHATBATCH_PROJECT_DIR") or Path(__file__).resolve().parents[3]).resolve()


@dataclass(frozen=True)
class Paths:
    home: Path

    @classmethod
    def from_env(cls) -> Paths:
        home = Path(os.environ.get("CHATBATCH_HOME", "data")).expanduser().resolve()
        return cls(home=home)

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
