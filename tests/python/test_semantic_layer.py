"""The MetricFlow semantic layer (models/marts/semantic/) validates against a warehouse the
real runner built, `mf query` returns the same figures as rpt_daily_performance, and it
reads the published side: a query during a nightly neither fails nor blocks the night.

`mf` runs as the README tells analysts to: with the profile target `published`
(DBT_TARGET=published: an in-memory DuckDB with `analytics.duckdb` attached read-only under
the warehouse's name), never the working `warehouse.duckdb`. MetricFlow reads the semantic
manifest from `<project>/target/semantic_manifest.json`, while the runner keeps dbt's
artefacts under `$CHATBATCH_HOME/state/dbt/target`; `mf` is pointed (DBT_PROJECT_DIR /
DBT_PROFILES_DIR) at a shadow project whose files link to the real ones and whose
`target/` links to the home's, or is its own (written by `dbt parse`, as in the README).
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from chatbatch_dev.generator import generate

import chatbatch
from chatbatch.cli import main
from chatbatch.core.paths import PROJECT_DIR, Paths
from chatbatch.output.publish import PUBLISHED_SCHEMAS

DAY = "2026-11-01"  # the first night's day: published before and after the second
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
ANALYST_TARGET = "published"  # profiles/profiles.yml: analytics.duckdb, read-only


def _executable(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.exists() else shutil.which(name)


MF = _executable("mf")
pytestmark = pytest.mark.skipif(MF is None, reason="MetricFlow CLI `mf` (dbt-metricflow) is not installed")


def _shadow_project(folder: Path) -> Path:
    """A project folder that links to the real project's files; its target/ is the home's."""
    folder.mkdir()
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in NOT_LINKED and not entry.name.startswith("."):
            (folder / entry.name).symlink_to(entry)
    return folder


def _analyst_env(project: Path, home: Paths) -> dict[str, str]:
    """The environment the README gives `dbt parse` and `mf`: the `published` target."""
    return {
        **os.environ,
        "CHATBATCH_HOME": str(home.home),
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project / "profiles"),
        "DBT_TARGET": ANALYST_TARGET,
    }


def _mf(args: list[str], project: Path, home: Paths) -> subprocess.CompletedProcess[str]:
    assert MF is not None
    return subprocess.run(
        [MF, *args],
        cwd=project,
        env=_analyst_env(project, home),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)


def _number(text: str) -> float | None:
    return None if text in ("", "None", "nan") else float(text)


@pytest.fixture(scope="module")
def first_night(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """Two days of exports, the first night run and published (DAY only). Both tests use
    this home: the first reads DAY, the second runs the next night on it (DAY stays)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHATBATCH_HOME", str(tmp_path_factory.mktemp("semantic") / "home"))
        home = Paths.from_env()
        home.export()
        generate(
            landing=home.landing,
            start=date(2026, 11, 1),
            days=2,
            conversations_per_day=60,
            seed=5,
            dirty_rate=0.0,
        )
        assert main(["nightly", "--date", DAY]) == 0  # publishes the first day only
    return home


def test_semantic_layer_validates_and_matches_daily_report(first_night: Paths, query, tmp_path: Path) -> None:
    home = first_night
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


@dataclass
class MfRun:
    """One `mf query` while a nightly ran: its exit code, rows, and whether the night
    was still running when the query had returned."""

    returncode: int
    rows: list[dict[str, str]]
    during_nightly: bool
    seconds: float
    output: str


def _runner_env(home: Paths) -> dict[str, str]:
    """The nightly's environment: this checkout's code, the dbt builds' default target."""
    scripts = str(Path(chatbatch.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != "DBT_TARGET"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [scripts, os.environ.get("PYTHONPATH")]))
    env["CHATBATCH_HOME"] = str(home.home)
    return env


def _query_day_totals(project: Path, home: Paths, out: Path, nightly: subprocess.Popen[str]) -> MfRun:
    started = time.monotonic()
    out.unlink(missing_ok=True)
    result = _mf(
        [
            "query",
            "--metrics",
            "conversations,resolution_rate",
            "--group-by",
            "metric_time__day",
            "--csv",
            str(out),
        ],
        project,
        home,
    )
    during = nightly.poll() is None
    rows = list(csv.DictReader(out.open(newline=""))) if result.returncode == 0 and out.exists() else []
    return MfRun(result.returncode, rows, during, time.monotonic() - started, result.stdout + result.stderr)


def test_mf_query_reads_the_published_side_while_a_nightly_builds(first_night: Paths, tmp_path: Path) -> None:
    chatbatch_cli, dbt = _executable("chatbatch"), _executable("dbt")
    assert chatbatch_cli is not None and dbt is not None
    home = first_night  # the first day published; the second day's files wait

    # the README's path: `dbt parse` with the published target writes the project's manifest
    project = _shadow_project(tmp_path / "project")
    parsed = subprocess.run(
        [dbt, "parse", "--quiet"],
        cwd=project,
        env=_analyst_env(project, home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    manifest = json.loads((project / "target" / "semantic_manifest.json").read_text())
    relations = [model["node_relation"] for model in manifest["semantic_models"]]
    relations += [spine["node_relation"] for spine in manifest["project_configuration"]["time_spines"]]
    assert relations
    for relation in relations:  # every relation MetricFlow reads is in the published file
        assert relation["database"] == "warehouse" and relation["schema_name"] in PUBLISHED_SCHEMAS, relation

    # the next night runs in its own process; analysts query meanwhile (a few times at most)
    log = tmp_path / "nightly.log"
    with log.open("w") as output:
        nightly = subprocess.Popen(
            [chatbatch_cli, "nightly", "--date", "2026-11-02"],
            env=_runner_env(home),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            runs: list[MfRun] = []
            while nightly.poll() is None and len(runs) < 4:
                runs.append(_query_day_totals(project, home, tmp_path / f"during_{len(runs)}.csv", nightly))
            returncode = nightly.wait(timeout=900)
        finally:
            if nightly.poll() is None:
                nightly.kill()
                nightly.wait()
    assert returncode == 0, log.read_text()[-4000:]
    assert runs and all(run.returncode == 0 for run in runs), [run.output[-2000:] for run in runs]
    during = [run for run in runs if run.during_nightly and run.rows]
    assert during, [(run.seconds, run.during_nightly, len(run.rows)) for run in runs]
    assert "2026-11-01" in {row["metric_time__day"][:10] for row in during[0].rows}

    # once published, the same query sees the new day
    after = _query_day_totals(project, home, tmp_path / "after.csv", nightly)
    assert after.returncode == 0, after.output
    days = {row["metric_time__day"][:10] for row in after.rows}
    assert days == {"2026-11-01", "2026-11-02"}, days
