"""Shared fixtures: every test gets its own CHATBATCH_HOME and runs the real dbt and DuckDB."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from chatbatch.core.paths import PROJECT_DIR, Paths
from chatbatch.process.dbt import PARSE_CACHE_ENV
from tests.python import nightly_reference as nightly_history

# Every home a test builds starts from the last partial parse of the project (a fresh home
# otherwise pays dbt's full parse on its first night: ~14 s each, for ~100 homes). dbt
# checks each file against it, so a stale cache costs a re-parse, never a wrong build.
os.environ.setdefault(PARSE_CACHE_ENV, str(PROJECT_DIR / "build" / "dbt-parse-cache"))

# The modules that build the most warehouses, longest first (the last CI log's
# `--durations` says how long). Workers take them first, so that the two finish together:
# a long module taken last would run alone. pyproject's `--no-loadscope-reorder` keeps
# this order (xdist would sort modules by test count). test_kb_features comes early: the
# first module that asks for `published_home` builds it.
LONGEST_MODULES = (
    "test_nightly",  # builds nightly_reference, which test_nightly_kill reads
    "test_privacy_retention",
    "test_source_equivalence",
    "test_forget",
    "test_semantic_layer",
    "test_landing_layout",
    "test_topics_nightly",
    "test_ml_loop",
    "test_kb_features",
    "test_experiments",
    "test_bench",
    "test_operator_errors",
    "test_quarantine_generated",
    "test_metrics_recompute",
    "test_staging",
    "test_source_models",
    "test_source_models_otel",
    "test_nightly_kill",  # late: the reference is built by then
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``make pytest`` runs ``-n 2 --dist loadscope``: a module's tests stay on one worker,
    so a module-scoped build happens once. The longest modules run first, the rest in
    collection order (a stable sort: every module stays in one piece)."""
    rank = {name: index for index, name in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.module.__name__.rsplit(".", 1)[-1], len(rank)))


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


def _shared_tmp(factory: pytest.TempPathFactory) -> Path:
    """The session's temp folder, the same for every xdist worker (each has its own below)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """``<session temp>/<name>``, built by ``build`` once per test session: under xdist the
    first worker that asks builds it under a file lock, the others wait and reuse it."""
    root = _shared_tmp(factory) / name
    root.mkdir(exist_ok=True)
    with (root / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "failed").exists():
            pytest.fail(f"{name}: its build failed on another worker (see there)")
        if not (root / "built").exists():
            try:
                build(root)
            except BaseException:
                (root / "failed").touch()
                raise
            (root / "built").touch()
    return root


@pytest.fixture(scope="session")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """One small home built by the real nightly batch, shared read-only by the tests of
    what analysts see (the HTML report, the README's queries): nine days of slightly dirty
    exports, one batch. Tests must not write to it (copy it first)."""
    root = _once(tmp_path_factory, "published", lambda root: _build_published_home(root / "home"))
    return Paths(home=(root / "home").resolve())


@pytest.fixture(scope="session")
def nightly_reference(tmp_path_factory: pytest.TempPathFactory) -> nightly_history.Reference:
    """The nights of test_nightly and test_nightly_kill (tests/python/nightly_reference.py)."""
    return nightly_history.load(_once(tmp_path_factory, "nightly_reference", nightly_history.build))


def _build_published_home(home: Path) -> None:
    from chatbatch_dev.generator import generate

    from chatbatch.cli import main

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
