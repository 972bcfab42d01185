"""Which source systems a home reads, and the raw tables each one loads into.

``$CHATBATCH_HOME/sources.yml`` is optional; without it a home reads export contract v1
only (source ``chatbot``), exactly as before issue 14::

    sources: [chatbot, langfuse, otel]
    langfuse:
      feedback_scores: {thumbs: [user-feedback], csat: [csat], comment: [comment]}
      categorical_values: {positive: 1, negative: -1}
    otel:
      feedback_evaluations: {thumbs: [user-feedback]}

This module is the one place Python reads that file (``SourceConfig.load``) and the one
list of raw tables (``ALL_RAW_TABLES``; ``raw_tables(config)`` for the enabled sources).
dbt gets the same configuration as vars (``SourceConfig.dbt_vars``): ``sources`` (the
list) and ``<source>_<setting>`` per setting (``langfuse_feedback_scores``, ...).
docs/sources/*.md describe the sources and their settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chatbatch.contract import ENTITIES
from chatbatch.contract.project import project_vars
from chatbatch.core.errors import ConfigError

CONFIG_FILE = "sources.yml"
SOURCES: tuple[str, ...] = ("chatbot", "langfuse", "otel")
DEFAULT_SOURCES: tuple[str, ...] = ("chatbot",)
# the per-source settings sources.yml may hold (each a mapping, handed to dbt as <source>_<name>)
SETTINGS: dict[str, tuple[str, ...]] = {
    "chatbot": (),
    "langfuse": ("feedback_scores", "categorical_values", "metadata_keys"),
    "otel": ("feedback_evaluations",),
}
EXAMPLE = "sources: [chatbot, langfuse, otel] (docs/sources/)"


@dataclass(frozen=True)
class RawTable:
    """A table ``raw.<name>`` the ingest step loads, and the dbt base model that reads it."""

    source: str
    name: str
    base_model: str

    @property
    def relation(self) -> str:
        return f"raw.{self.name}"


def _source_raw_tables() -> tuple[RawTable, ...]:
    """Contract v1's raw tables (its entities), then each other source's, from
    ``vars.source_raw_tables`` in dbt_project.yml (the macro raw_tables() reads the same)."""
    others = project_vars().get("source_raw_tables") or {}
    return (
        *(RawTable("chatbot", entity, f"base_chatbot__{entity}") for entity in ENTITIES),
        *(
            RawTable(source, str(t["name"]), str(t["base"]))
            for source, tables in others.items()
            for t in tables
        ),
    )


ALL_RAW_TABLES: tuple[RawTable, ...] = _source_raw_tables()


def raw_table(name: str) -> RawTable:
    """The raw table called ``name`` (``messages``, ``langfuse_scores``, ...)."""
    for table in ALL_RAW_TABLES:
        if table.name == name:
            return table
    raise KeyError(f"unknown raw table {name!r}")


@dataclass(frozen=True)
class SourceSetting:
    """One per-source setting of sources.yml, handed to dbt as the var ``<source>_<name>``."""

    source: str
    name: str
    value: Any

    @property
    def var(self) -> str:
        return f"{self.source}_{self.name}"


@dataclass(frozen=True)
class SourceConfig:
    """The sources a home reads (``sources.yml``, default: contract v1 only)."""

    sources: tuple[str, ...] = DEFAULT_SOURCES
    settings: tuple[SourceSetting, ...] = field(default=())
    path: Path | None = None  # the file it was read from; None: the default

    def enabled(self, source: str) -> bool:
        return source in self.sources

    def dbt_vars(self) -> dict[str, Any]:
        """The vars dbt gets: ``sources`` and the enabled sources' settings."""
        variables: dict[str, Any] = {"sources": list(self.sources)}
        variables.update({s.var: s.value for s in self.settings if self.enabled(s.source)})
        return variables

    @classmethod
    def load(cls, home: Path) -> SourceConfig:
        """Read ``<home>/sources.yml``; the default when it does not exist."""
        path = home / CONFIG_FILE
        if not path.is_file():
            return cls()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            what = f"{path}: not valid YAML ({exc})".replace("\n", " ")
            raise ConfigError(what, f"fix it; e.g. {EXAMPLE}") from exc
        return _parse(path, doc)


def _parse(path: Path, doc: Any) -> SourceConfig:
    if doc is None:
        return SourceConfig(path=path)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with the key 'sources'", f"write e.g. {EXAMPLE}")
    unknown = sorted(str(key) for key in doc if key != "sources" and key not in SOURCES)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)}",
            f"keys are 'sources' and one section per source ({', '.join(SOURCES)})",
        )
    listed = doc.get("sources", list(DEFAULT_SOURCES))
    if isinstance(listed, str):
        listed = [listed]
    if not isinstance(listed, list) or not listed:
        raise ConfigError(f"{path}: 'sources' must be a non-empty list", f"write e.g. {EXAMPLE}")
    for name in listed:
        if name not in SOURCES:
            raise ConfigError(
                f"{path}: unknown source {name!r} in 'sources'",
                f"use one or more of {', '.join(SOURCES)}",
            )
    if len(set(listed)) != len(listed):
        raise ConfigError(f"{path}: a source is listed twice in 'sources'", "list each source once")
    settings: list[SourceSetting] = []
    for source in SOURCES:
        section = doc.get(source)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: '{source}' must be a mapping of settings", _settings_hint(source))
        for name, value in section.items():
            if name not in SETTINGS[source]:
                raise ConfigError(f"{path}: unknown setting {source}.{name}", _settings_hint(source))
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{path}: {source}.{name} must be a mapping",
                    f"see docs/sources/ for the shape of {source}.{name}",
                )
            settings.append(SourceSetting(source, str(name), value))
    return SourceConfig(sources=tuple(listed), settings=tuple(settings), path=path)


def _settings_hint(source: str) -> str:
    known = SETTINGS[source]
    if not known:
        return f"source '{source}' has no settings"
    return f"settings of '{source}': {', '.join(known)} (docs/sources/)"


def raw_tables(config: SourceConfig) -> list[RawTable]:
    """The raw tables of the enabled sources, in ``ALL_RAW_TABLES`` order."""
    return [table for table in ALL_RAW_TABLES if config.enabled(table.source)]
