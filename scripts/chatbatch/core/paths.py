"""Where everything lives. One environment variable, CHATBATCH_HOME, places all state.

Every file or folder the runner reads or writes under the home is named here once
(the README's "Where state lives" table); modules take it from ``Paths``."""

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
    def lock_file(self) -> Path:
        """The batch lock (holder's pid and start time)."""
        return self.home / "chatbatch.lock"

    @property
    def state(self) -> Path:
        """The runner's own state: run history, purge log, dbt's artefacts."""
        return self.home / "state"

    @property
    def run_history(self) -> Path:
        """One record per batch (never locked; ``chatbatch status`` reads it)."""
        return self.state / "run_history.jsonl"

    @property
    def purged_log(self) -> Path:
        """Landing files ``chatbatch purge`` deleted."""
        return self.state / "purged.jsonl"

    @property
    def privacy(self) -> Path:
        """The erasure register (salt, salted hashes of erased subjects) and the erasure
        log (``chatbatch.privacy.subjects``; docs/privacy.md)."""
        return self.state / "privacy"

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for the runner's builds (manifest, run results)."""
        return self.state / "dbt" / "target"

    @property
    def dbt_logs(self) -> Path:
        return self.state / "dbt" / "logs"

    @property
    def logs(self) -> Path:
        """The cron wrapper's run logs (its default; CHATBATCH_LOG_DIR may move them)."""
        return self.home / "logs"

    @property
    def exports(self) -> Path:
        """Everything the workloads export, one folder each."""
        return self.home / "exports"

    @property
    def ml_exports(self) -> Path:
        """ML training sets: ``<dataset>/v=<batch>/{train,valid,test}/<week>.parquet`` + manifest."""
        return self.exports / "ml"

    @property
    def models_export(self) -> Path:
        """Trained models: ``<model>/v=N/`` (model file, metrics.json, model card) and ``<model>/current``."""
        return self.exports / "models"

    @property
    def intent_model(self) -> Path:
        """The intent classifier's versions and its ``current`` pointer."""
        return self.models_export / "intent"

    @property
    def archive(self) -> Path:
        """The redacted conversation archive: ``month=YYYY-MM/transcripts-YYYY-MM-DD.parquet`` + manifest."""
        return self.exports / "archive"

    @property
    def kb_export(self) -> Path:
        """The KB index files (chunks, chunk terms, term statistics) + manifest."""
        return self.exports / "kb"

    @property
    def features_export(self) -> Path:
        """The latest user features + manifest."""
        return self.exports / "features"

    @property
    def reports(self) -> Path:
        """The nightly and weekly HTML reports."""
        return self.home / "reports"

    @property
    def snapshots(self) -> Path:
        """Verified copies of the warehouse: ``batch=<id>/{warehouse.duckdb,manifest.json}``."""
        return self.home / "snapshots"

    @property
    def privacy_config(self) -> Path:
        """The retention settings (``chatbatch.privacy.settings``; optional)."""
        return self.home / "privacy.yml"

    @property
    def retention_log(self) -> Path:
        """What retention deleted or expired, per run (counts and dates, no personal data)."""
        return self.state / "retention.jsonl"

    def export(self) -> None:
        """Make dbt (which reads CHATBATCH_HOME from the environment) agree with us."""
        self.home.mkdir(parents=True, exist_ok=True)
        os.environ["CHATBATCH_HOME"] = str(self.home)
