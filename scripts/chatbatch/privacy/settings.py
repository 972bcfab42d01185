"""How long each kind of personal data is kept: ``$CHATBATCH_HOME/privacy.yml``.

The one definition of the retention settings (docs/privacy.md lists them with what each
covers). The file is optional; without it nothing is deleted or expired, except that
only the newest ``snapshots_keep`` warehouse snapshots are kept::

    retention:
      landing_files_days: 180     # landing files (every entity and source)
      raw_lines_days: 30          # the text of raw.*._line
      staging_text_days: 90       # message texts, comments, ... of the base_ / stg_ tables
      quarantine_days: 30         # the text of rejected lines (base_*._rejected_line, audit)
      archive_months: 24          # exports/archive/month=YYYY-MM
      ml_versions: 5              # newest versions kept per ML dataset (exports/ml/<d>/v=*)
      reports_days: 365           # reports/*.html
      logs_days: 30               # logs/, state/logs/, state/dbt/logs/
      snapshots_keep: 3           # snapshots/batch=*
      snapshots_every_days: 7     # a snapshot when the newest is this many days old

A setting that is absent or ``null`` keeps that kind forever. Ages count from the export
date (landing files, raw lines, staging text, quarantine records), the month
(archive), the report's date, or the file's modification time (logs).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import yaml

from chatbatch.core.errors import ConfigError
from chatbatch.core.paths import Paths

DEFAULT_SNAPSHOTS_KEEP = 3
# A snapshot copies the whole warehouse (3.6 GB, 11 s at the bench's standard scale), a cost
# that grows with history: weekly by default, so a night's cost grows with its new data only.
DEFAULT_SNAPSHOTS_EVERY_DAYS = 7
# settings that must be a number (no null: "forever" means nothing for them)
REQUIRED = {
    "snapshots_keep": "give how many snapshots to keep (at least 1: restore needs one)",
    "snapshots_every_days": "give the days between snapshots (1: after every published night)",
}
# the kinds of data `chatbatch purge --kind` names, each with its setting below
KINDS = (
    "landing",
    "raw_lines",
    "staging_text",
    "quarantine",
    "archive",
    "ml",
    "reports",
    "logs",
    "snapshots",
)


@dataclass(frozen=True)
class Retention:
    """One setting per kind of data; None keeps it forever."""

    landing_files_days: int | None = None
    raw_lines_days: int | None = None
    staging_text_days: int | None = None
    quarantine_days: int | None = None
    archive_months: int | None = None
    ml_versions: int | None = None
    reports_days: int | None = None
    logs_days: int | None = None
    snapshots_keep: int = DEFAULT_SNAPSHOTS_KEEP
    snapshots_every_days: int = DEFAULT_SNAPSHOTS_EVERY_DAYS

    def of(self, kind: str) -> int | None:
        """The setting of one of ``KINDS``."""
        return {
            "landing": self.landing_files_days,
            "raw_lines": self.raw_lines_days,
            "staging_text": self.staging_text_days,
            "quarantine": self.quarantine_days,
            "archive": self.archive_months,
            "ml": self.ml_versions,
            "reports": self.reports_days,
            "logs": self.logs_days,
            "snapshots": self.snapshots_keep,
        }[kind]

    def first_archive_month(self, today: date) -> date | None:
        """The oldest archive month kept as of ``today`` (``archive_months`` counting
        today's month); None keeps every month."""
        if self.archive_months is None:
            return None
        index = today.year * 12 + today.month - 1 - (self.archive_months - 1)
        return date(index // 12, index % 12 + 1, 1)

    @classmethod
    def load(cls, paths: Paths) -> Retention:
        """Read ``$CHATBATCH_HOME/privacy.yml``; the defaults when it does not exist."""
        path = paths.privacy_config
        if not path.is_file():
            return cls()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})", _HINT) from exc
        if not isinstance(doc, dict) or set(doc) - {"retention"}:
            raise ConfigError(f"{path}: expected one key, `retention:`", _HINT)
        section = doc.get("retention") or {}
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: `retention` must be a mapping of settings", _HINT)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(
                f"{path}: unknown retention setting(s) {', '.join(map(str, unknown))}",
                f"known: {', '.join(sorted(known))} (docs/privacy.md)",
            )
        values: dict[str, int | None] = {}
        for name, value in section.items():
            low = 1
            if value is None and name not in REQUIRED:
                values[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(
                    f"{path}: retention.{name} must be a whole number >= {low}, got {value!r}",
                    REQUIRED.get(name, "give a number of days / months / versions, or null to keep forever"),
                )
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]


_HINT = "see docs/privacy.md (## Retention) for the file's shape"
