"""Smoke test of the benchmark harness (`chatbatch bench --scale smoke`).

The bench is not a test: nothing here looks at a time. It checks that the harness still
runs end to end, writes its JSON record, and that dbt's rpt_daily_performance, the
hand-written DuckDB reference and the pandas script agree on the same clean exports.
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
    assert code == 0
