"""The MetricFlow semantic layer (models/marts/semantic/) validates against a warehouse the
real runner built, and `mf query` returns the same figures as rpt_daily_performance.

MetricFlow reads the semantic manifest from `<project>/target/semantic_manifest.json`,
while the runner keeps dbt's artefacts under `$CHATBATCH_HOME/state/dbt/target`; `mf` is
pointed (DBT_PROJECT_DIR / DBT_PROFILES_DIR) at a shadow project whose files link to the
real ones and whose `target/` links to the home's.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from chatbatch_dev.generator import generate

from chatbatch.cli import main
from chatbatch.core.paths import PROJECT_DIR, Paths

DAY = "2026-11-02"
GRAIN = ("channel", "bot_id", "bot_version")
COUNT_METRICS = ("conversations", "engaged_conversations")
RATE_METRICS = (
    "containment_rate",
    "escalation_rate",
    "resolution_rate",
    "fallback_rate",
    "recontact_rate",
    "csat_avg",
    "thumbs_up_ratio",
    "cost_usd",
    "quality_score",
    "latency_p50_ms",
    "latency_p95_ms",
)
NOT_LINKED = {"target", "logs"}  # the shadow project writes its own


def _mf_executable() -> str | None:
    beside_python = Path(sys.executable).parent / "mf"
    return str(beside_python) if beside_python.exists() else shutil.which("mf")


MF = _mf_executable()
pytestmark = pytest.mark.skipif(MF is None, reason="MetricFlow CLI `mf` (dbt-metricflow) is not installed")


def _shadow_project(folder: Path) -> Path:
    """A project folder that links to the real project's files; its target/ is the home's."""
    folder.mkdir()
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in NOT_LINKED and not entry.name.startswith("."):
            (folder / entry.name).symlink_to(entry)
    return folder


def _mf(args: list[str], project: Path, home: Paths) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CHATBATCH_HOME": str(home.home),
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project / "profiles"),
    }
    assert MF is not None
    return subprocess.run(
        [MF, *args], cwd=project, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)


def _number(text: str) -> float | None:
    return None if text in ("", "None", "nan") else float(text)


def test_semantic_layer_validates_and_matches_daily_report(home: Paths, query, tmp_path: Path) -> None:
    generate(
        landing=home.landing,
        start=date(2026, 11, 1),
        days=2,
        conversations_per_day=80,
        seed=5,
        dirty_rate=0.0,
    )
    assert main(["nightly", "--date", "2026-11-08"]) == 0
    # the runner keeps dbt's artefacts under CHATBATCH_HOME; mf looks in <project>/target
    project = _shadow_project(tmp_path / "project")
    (project / "target").symlink_to(home.dbt_target)
    assert (project / "target" / "semantic_manifest.json").exists()

    validated = _mf(["validate-configs"], project, home)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "ERRORS: 0" in validated.stdout and "Successfully validated metrics" in validated.stdout

    out = tmp_path / "mf_query.csv"
    metrics = COUNT_METRICS + RATE_METRICS
    queried = _mf(
        [
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            "metric_time__day," + ",".join(f"conversation__{column}" for column in GRAIN),
            "--where",
            f"{{{{ TimeDimension('metric_time', 'day') }}}} = '{DAY}'",
            "--csv",
            str(out),
        ],
        project,
        home,
    )
    assert queried.returncode == 0, queried.stdout + queried.stderr
    with out.open(newline="") as handle:
        mf_rows = {
            tuple(row[f"conversation__{column}"] for column in GRAIN): row for row in csv.DictReader(handle)
        }

    report = query(
        home.analytics,
        f"select {', '.join(GRAIN + metrics)} from marts.rpt_daily_performance where conversation_date = ?",
        [DAY],
    )
    assert len(report) >= 5
    assert set(mf_rows) == {row[: len(GRAIN)] for row in report}
    for row in report:
        key, values = row[: len(GRAIN)], dict(zip(metrics, row[len(GRAIN) :], strict=True))
        mf_row = mf_rows[key]
        for metric in COUNT_METRICS:
            assert int(mf_row[metric]) == values[metric], (key, metric)
        for metric in RATE_METRICS:
            assert _close(_number(mf_row[metric]), values[metric]), (
                key,
                metric,
                mf_row[metric],
                values[metric],
            )
