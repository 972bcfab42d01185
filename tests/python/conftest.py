"""Shared fixtures: every test gets its own CHATBATCH_HOME and runs the real dbt and DuckDB."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from chatbatch.core.paths import Paths

# The groups that build the most warehouses, longest first (seconds on one worker of the
# 2-core CI machine; the table is in the last CI log, `--durations`). They are handed out
# first so that the two workers finish together: a long group taken last would run alone.
# pyproject's `--no-loadscope-reorder` keeps this order (xdist would sort by test count).
LONGEST_GROUPS = (
    "test_nightly",
    "published_home",
    "test_source_equivalence",
    "test_semantic_layer",
    "test_landing_layout",
    "test_bench",
    "test_operator_errors",
    "test_quarantine_generated",
    "test_metrics_recompute",
    "test_staging",
    "test_source_models",
    "test_source_models_otel",
)


def _group(item: pytest.Item) -> str:
    fixtures = getattr(item, "fixturenames", ())
    return "published_home" if "published_home" in fixtures else item.module.__name__.rsplit(".", 1)[-1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make pytest`` runs ``-n 2 --dist loadgroup``) a module's tests
    stay on one worker, so a module-scoped build happens once; the modules that read the
    session's ``published_home`` share one worker, so it is built once too. The longest
    groups run first (``LONGEST_GROUPS``), the rest in collection order."""
    rank = {group: index for index, group in enumerate(LONGEST_GROUPS)}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    items.sort(key=lambda item: rank.get(_group(item), len(rank)))  # stable: modules stay whole


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """A fresh CHATBATCH_HOME for one test."""
    monkeypatch.setenv("CHATBATCH_HOME", str(tmp_path / "home"))
    paths = Paths.from_env()
    paths.export()
    return paths


def write_lines(
    landing: Path, entity: str, export_date: str, name: str, lines: list[str | bytes | dict]
) -> Path:
    """Write a landing file; dicts become JSON, str/bytes are written as they are."""
    folder = landing / entity / f"export_date={export_date}"
    folder.mkdir(parents=True, exist_ok=True)
    payload = b""
    for line in lines:
        if isinstance(line, dict):
            line = json.dumps(line)
        payload += (line.encode() if isinstance(line, str) else line) + b"\n"
    path = folder / name
    if name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path


@pytest.fixture
def query() -> Iterator:
    """Run one query read-only against a DuckDB file and return all rows."""

    def run(database: Path, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(database), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    yield run


@pytest.fixture(autouse=True, scope="session")
def _no_nightly_report() -> Iterator[None]:
    """The nightly HTML report costs a few seconds a night; only the tests about it
    (which build `published_home`) write it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHATBATCH_REPORT", "off")
        yield


# A Monday: its night writes the daily report and the weekly one of the ISO week before.
PUBLISHED_LAST_NIGHT = "2026-11-09"


@pytest.fixture(scope="session")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """One small home built by the real nightly batch, shared read-only by the tests of
    what analysts see (the HTML report, the README's queries): nine days of slightly dirty
    exports, one batch. Tests must not write to it (copy it first)."""
    from chatbatch_dev.generator import generate

    from chatbatch.cli import main

    home = tmp_path_factory.mktemp("published") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHATBATCH_HOME", str(home))
        patch.setenv("CHATBATCH_REPORT", "on")
        paths = Paths.from_env()
        paths.export()
        generate(
            landing=paths.landing,
            start=date(2026, 11, 1),
            days=9,
            conversations_per_day=30,
            seed=11,
            dirty_rate=0.02,
        )
        assert main(["nightly", "--date", PUBLISHED_LAST_NIGHT]) == 0
    return paths
