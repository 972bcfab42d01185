"""Smoke test of the benchmark harness (`chatbatch bench --scale smoke`).

The bench is not a test: nothing here looks at a time. It checks that the harness still
runs end to end, writes its JSON record and chart, that dbt's rpt_daily_performance, the
hand-written DuckDB reference and the pandas script agree on the same clean exports, and
that the engine floor (the cold build's compiled SQL alone) builds the same tables as dbt.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chatbatch_dev import bench

pytest.importorskip("pandas", reason="the bench's pandas script needs the dev/bench extra")


def test_bench_smoke_runs_writes_json_and_reports_agree(tmp_path: Path) -> None:
    results = tmp_path / "results"
    code = bench.main(
        ["--scale", "smoke", "--workdir", str(tmp_path / "work"), "--results-dir", str(results)]
    )
    files = list(results.glob("*.json"))
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    (scale,) = record["scales"]
    assert scale["scale"] == "smoke"
    steps = scale["steps"]
    for key in ("generate", "cold_build", "reference", "pandas"):
        assert steps[key]["error"] is None, steps[key]["error"]
        assert steps[key]["runs"] == 1
        assert steps[key]["peak_rss_mib"] > 0
    agreement = scale["agreement"]
    assert set(agreement["sources"]) == {"dbt_cold_build", "sql_reference", "pandas"}
    assert agreement["conversations"] > 0
    for pair, info in agreement["pairs"].items():
        assert info["unmatched_rows"] == 0, pair
        assert not any(info["mismatches"].values()), (pair, info["mismatches"])
    assert agreement["agree"]
    assert record["environment"]["versions"]["duckdb"]
    # the engine floor of the cold build: its compiled SQL alone, the same tables as dbt's
    floor = steps["engine_floor"]
    assert floor["error"] is None, floor["error"]
    assert floor["runs"] == 1 and floor["rows"] > 0
    assert steps["engine_floor_models"]["median_seconds"] > 0
    assert steps["engine_floor_tests"]["rows"] > 0
    details = floor["all_runs"][0]["details"]
    assert details["tables_compared"] > 0
    assert details["row_count_mismatches"] == {}
    assert len(list(results.glob("*.svg"))) == 1
    assert code == 0


def test_formats_option_and_their_goal_ratios(tmp_path: Path) -> None:
    """``--formats``: v1 always first, unknown names refused; the per-format ratios (no dbt run).

    The measured path itself is the same as v1's (``ScaleRun.other_format``); running it here
    would add two dbt builds to ``make test``.
    """
    import argparse

    from chatbatch_dev.bench.harness import ChildEnv, Run, Step
    from chatbatch_dev.bench.report import format_table, goal_rows
    from chatbatch_dev.bench.runner import ScaleRun
    from chatbatch_dev.bench.scales import SCALES

    parser = argparse.ArgumentParser()
    bench.configure(parser)
    assert parser.parse_args([]).formats == ("v1",)
    assert parser.parse_args(["--formats", "otel,v1,langfuse,otel"]).formats == ("v1", "otel", "langfuse")
    with pytest.raises(SystemExit):
        parser.parse_args(["--formats", "v2"])

    result = ScaleRun(
        SCALES["small"], tmp_path, ChildEnv(tmp_path), 1, print, formats=("v1", "langfuse", "otel")
    )
    for key, seconds in {"nightly": 10.0, "nightly_langfuse": 12.0, "nightly_otel": 16.0}.items():
        result.steps[key] = Step(key, key, runs=[Run(seconds, 100.0, 0, "log")])
    rows = {row["key"]: row for row in goal_rows(result)}
    assert rows["nightly_langfuse_over_v1"]["value"] == pytest.approx(1.2)
    assert (rows["nightly_langfuse_over_v1"]["goal"], rows["nightly_langfuse_over_v1"]["met"]) == (
        "<= 1.5",
        True,
    )
    assert rows["nightly_otel_over_v1"]["met"] is False
    assert (
        rows["cold_build_otel_over_v1"]["goal"] is None and rows["cold_build_otel_over_v1"]["value"] is None
    )
    assert "nightly on otel landing / nightly on v1" in format_table(result)


def test_redaction_before_and_after_share_of_a_full_refresh(tmp_path: Path) -> None:
    """The redaction figures: its share of a full refresh row by row (before) and vectorised
    (now), and the drop between them against the goal of 5 (no dbt run: the steps are given)."""
    from chatbatch_dev.bench.harness import ChildEnv, Run, Step
    from chatbatch_dev.bench.report import goal_rows
    from chatbatch_dev.bench.runner import ScaleRun
    from chatbatch_dev.bench.scales import SCALES

    result = ScaleRun(SCALES["small"], tmp_path, ChildEnv(tmp_path), 1, print)
    for key, seconds in {
        "full_refresh": 100.0,
        "redaction_rowwise": 20.0,
        "redaction_vectorised": 2.0,
    }.items():
        result.steps[key] = Step(key, key, runs=[Run(seconds, 100.0, 0, "log")])
    rows = {row["key"]: row for row in goal_rows(result)}
    assert rows["redaction_share_before"]["value"] == pytest.approx(20.0 / 118.0)
    assert rows["redaction_share_after"]["value"] == pytest.approx(0.02)
    assert rows["redaction_share_drop"]["value"] == pytest.approx(20.0 / 118.0 / 0.02)
    assert (rows["redaction_share_drop"]["goal"], rows["redaction_share_drop"]["met"]) == (">= 5", True)


def test_new_goals_noop_floor_and_marginal_cost(tmp_path: Path) -> None:
    """The no-op, engine floor and cost-against-volume ratios from given steps (no dbt run):
    the marginal seconds are the least-squares slopes of seconds over new messages."""
    import argparse

    from chatbatch_dev.bench.harness import ChildEnv, Run, Step
    from chatbatch_dev.bench.report import goal_rows, volume_summary
    from chatbatch_dev.bench.runner import ScaleRun
    from chatbatch_dev.bench.scales import SCALES

    parser = argparse.ArgumentParser()
    bench.configure(parser)
    assert parser.parse_args(["--skip-volume", "--publish-chart"]).skip_volume
    assert SCALES["small"].without_volume().volume_conversations == ()

    result = ScaleRun(SCALES["small"], tmp_path, ChildEnv(tmp_path), 1, print)
    steps = {
        "full_refresh": (100.0, None),
        "nightly": (12.0, None),
        "noop": (4.0, None),
        "engine_floor": (50.0, None),
        "volume_nightly_1000": (10.0, 10_000),
        "volume_nightly_3000": (13.0, 30_000),
        "volume_nightly_10000": (23.5, 100_000),
        "volume_floor_1000": (1.0, 10_000),
        "volume_floor_3000": (3.0, 30_000),
        "volume_floor_10000": (10.0, 100_000),
    }
    for key, (seconds, rows) in steps.items():
        result.steps[key] = Step(key, key, runs=[Run(seconds, 100.0, 0, "log")], rows=rows)
    rows = {row["key"]: row for row in goal_rows(result)}
    assert (rows["nightly_over_full_refresh"]["goal"], rows["nightly_over_full_refresh"]["met"]) == (
        "<= 0.15",
        True,
    )
    assert rows["noop_over_full_refresh"]["value"] == pytest.approx(0.04)
    assert rows["noop_over_full_refresh"]["met"] is True
    assert rows["full_refresh_over_engine_floor"]["value"] == pytest.approx(2.0)
    assert rows["full_refresh_over_engine_floor"]["met"] is False
    assert rows["marginal_nightly_per_100k"]["value"] == pytest.approx(15.0)
    assert rows["marginal_floor_per_100k"]["value"] == pytest.approx(10.0)
    assert rows["marginal_nightly_over_floor"]["value"] == pytest.approx(1.5)
    assert rows["marginal_nightly_over_floor"]["met"] is True
    summary = volume_summary(result)
    assert [p[0] for p in summary["nightly_points"]] == [10_000, 30_000, 100_000]

    # the long nights against the H-day night: the first H-day night without the runs beside
    # the long ones, their median with two or more (the first H-day night ran ~20 minutes
    # earlier); the long nights' median either way
    result.steps["nightly_long"] = Step("nightly_long", "", runs=[Run(14.0, 100.0, 0, "log")])
    first = {row["key"]: row for row in goal_rows(result)}["nightly_long_over_nightly"]
    assert first["value"] == pytest.approx(14.0 / 12.0)
    beside = [Run(seconds, 100.0, 0, "log") for seconds in (12.5, 13.5)]
    result.steps["nightly_beside_long"] = Step("nightly_beside_long", "", runs=beside)
    long_row = {row["key"]: row for row in goal_rows(result)}["nightly_long_over_nightly"]
    assert (long_row["value"], long_row["met"]) == (pytest.approx(14.0 / 13.0), True)
    beside.append(Run(20.0, 100.0, 0, "log"))  # an outlier among three moves nothing
    result.steps["nightly_long"].runs.append(Run(16.0, 100.0, 0, "log"))
    long_row = {row["key"]: row for row in goal_rows(result)}["nightly_long_over_nightly"]
    assert (long_row["value"], long_row["met"]) == (pytest.approx(15.0 / 13.5), True)


def test_a_home_that_cannot_be_copied_fails_its_step_not_the_bench(tmp_path: Path) -> None:
    """Two large runs lost every figure when the copy of the 90-day home filled the disk: the
    exception ended the bench before it wrote its JSON. Now the step fails, says why, and
    the run goes on (here: a home that does not exist, the same OSError path)."""
    from chatbatch_dev.bench.harness import ChildEnv
    from chatbatch_dev.bench.report import format_table
    from chatbatch_dev.bench.runner import ScaleRun
    from chatbatch_dev.bench.scales import SCALES

    result = ScaleRun(SCALES["small"], tmp_path, ChildEnv(tmp_path), 1, print)
    assert result.nightly(tmp_path / "no_such_home", 90, "_long") is None
    failed = result.steps["nightly_long"]
    assert failed.error and "could not copy the home" in failed.error and not failed.runs
    assert "not run: could not copy the home" in format_table(result)
    assert not (result.root / "nightly_long-0").exists()


def test_clone_home_links_the_write_once_files_and_copies_the_rest(tmp_path: Path) -> None:
    """Landing files and snapshots are hard-linked (a 90-day home holds ~21 GB of snapshots),
    the warehouse, which the nightly writes in place, is copied."""
    from chatbatch_dev.bench.harness import clone_home

    source = tmp_path / "home"
    names = (
        "landing/messages/export_date=2026-11-01/part-0000.jsonl",
        "snapshots/batch=000001/warehouse.duckdb",
        "warehouse.duckdb",
    )
    for name in names:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(name)
    clone_home(source, tmp_path / "copy")
    same = {name: (source / name).stat().st_ino == (tmp_path / "copy" / name).stat().st_ino for name in names}
    assert list(same.values()) == [True, True, False]
