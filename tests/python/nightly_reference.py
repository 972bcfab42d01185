"""The reference history of test_nightly and test_nightly_kill: six export days loaded in four
nights (with duplicates, late arrivals, schema drift), and a full refresh of the same files in
a second home.

Built once per test session (conftest's ``nightly_reference``; under xdist the first worker
that needs it builds it, the other reads it), so that the kill tests can run on the other
worker than the rest of test_nightly. Tests must not write to ``before_last`` or ``full``;
``home`` (the nightly home) belongs to test_nightly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from chatbatch_dev.generator import generate

from chatbatch.core.paths import Paths
from tests.python.marts import TOPIC_MODEL_ROWS, fingerprint

START = date(2026, 11, 1)
DAYS = 6
LAST = START + timedelta(days=DAYS - 1)
FINGERPRINTS = "fingerprints.json"


@dataclass(frozen=True)
class Reference:
    root: Path
    before_last: Path  # the nightly home before the last night (the kill tests start here)
    home: Path  # the nightly home after its four nights
    full: Path  # the full refresh of the same files
    nightly: dict[str, tuple]  # fingerprint of home's published marts and audit
    full_refresh: dict[str, tuple]  # fingerprint of full's
    features: list[dict[str, tuple]]  # the features schema of home and of full
    comparable: list[dict[str, tuple]]  # home's and full's, without the topic-model rows

    @property
    def landing(self) -> Path:
        return self.home / "landing"


def generate_history(landing: Path, dirty_rate: float = 0.01, days: int = DAYS, seed: int = 5) -> None:
    generate(
        landing=landing,
        start=START,
        days=days,
        conversations_per_day=60,
        seed=seed,
        dirty_rate=dirty_rate,
    )


def nights() -> list[str]:
    """The reference's run dates: every export date up to LAST is loaded, the first four
    two at a time (as after a missed night), the last two one night each. Four nights, not
    six: a night costs the suite ~45 s whatever its size."""
    return [(START + timedelta(days=offset)).isoformat() for offset in (1, 3, 4, DAYS - 1)]


def run_cli(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """chatbatch in a separate process (needed to SIGKILL it or run it concurrently)."""
    return subprocess.run(
        [sys.executable, "-m", "chatbatch.cli", *args],
        env={**os.environ, "CHATBATCH_HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def build(root: Path) -> None:
    """The nights in one home, a full refresh in another; their fingerprints to a file."""
    nightly_home, full_home = root / "nightly", root / "full"
    generate_history(nightly_home / "landing")
    shutil.copytree(nightly_home / "landing", full_home / "landing")
    for night in nights():
        if night == LAST.isoformat():
            shutil.copytree(nightly_home, root / "before_last")
        result = run_cli(nightly_home, "nightly", "--date", night)
        assert result.returncode == 0, result.stderr[-3000:]
    result = run_cli(full_home, "nightly", "--date", LAST.isoformat(), "--full-refresh")
    assert result.returncode == 0, result.stderr[-3000:]
    prints = {
        "nightly": fingerprint(nightly_home / "analytics.duckdb"),
        "full": fingerprint(full_home / "analytics.duckdb"),
        "comparable": [
            fingerprint(h / "analytics.duckdb", where=TOPIC_MODEL_ROWS) for h in (nightly_home, full_home)
        ],
        "features": [fingerprint(h / "analytics.duckdb", ("features",)) for h in (nightly_home, full_home)],
    }
    (root / FINGERPRINTS).write_text(json.dumps(prints), encoding="utf-8")


def load(root: Path) -> Reference:
    prints = json.loads((root / FINGERPRINTS).read_text(encoding="utf-8"))

    def tuples(table_prints: dict[str, list]) -> dict[str, tuple]:
        return {table: tuple(value) for table, value in table_prints.items()}

    return Reference(
        root=root,
        before_last=root / "before_last",
        home=root / "nightly",
        full=root / "full",
        nightly=tuples(prints["nightly"]),
        full_refresh=tuples(prints["full"]),
        features=[tuples(p) for p in prints["features"]],
        comparable=[tuples(p) for p in prints["comparable"]],
    )


def restore_before_last(reference: Reference, home: Path) -> Path:
    """``home`` becomes a fresh copy of the home before the last night. A test module reuses
    one such path: dbt's partial-parse cache (state/dbt/target/partial_parse.msgpack) is valid
    only for the home it was written in (the profile names the path), so the one the previous
    test left there is kept, as a real home keeps it night after night; dbt still checks it
    against the project files and parses again what changed."""
    cache = Paths(home=home).dbt_target / "partial_parse.msgpack"
    kept = cache.read_bytes() if cache.exists() else None
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(reference.before_last, home)
    if kept is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(kept)
    return home


def history_lines(home: Path) -> list[str]:
    """The run history's records; a torn line is skipped."""
    lines = (home / "state" / "run_history.jsonl").read_text().splitlines()
    out = []
    for line in lines:
        try:
            json.loads(line)
            out.append(line)
        except ValueError:
            continue
    return out
