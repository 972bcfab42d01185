"""MetricFlow answers the issue-16 questions on the published home: cost and tokens by LLM
(`message__model_name`, metrics on the messages) equal rpt_model_usage, and resolution by
experiment variant (`conversation__experiment_variant`) equals fct_conversations."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import duckdb
import pytest

from chatbatch.core.paths import Paths
from tests.python.test_semantic_layer import MF, _mf, _number, _shadow_project

pytestmark = pytest.mark.skipif(MF is None, reason="MetricFlow CLI `mf` (dbt-metricflow) is not installed")


def _query(project: Path, home: Paths, out: Path, metrics: str, group_by: str) -> list[dict[str, str]]:
    result = _mf(["query", "--metrics", metrics, "--group-by", group_by, "--csv", str(out)], project, home)
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_cost_by_model_and_resolution_by_variant(published_home: Paths, tmp_path: Path) -> None:
    project = _shadow_project(tmp_path / "project")
    (project / "target").symlink_to(published_home.dbt_target)

    by_model = _query(
        project, published_home, tmp_path / "model.csv", "cost_usd,total_tokens", "message__model_name"
    )
    con = duckdb.connect(str(published_home.analytics), read_only=True)
    try:
        expected = {
            model: (cost, tokens)
            for model, cost, tokens in con.execute(
                "select model_name, sum(cost_usd), sum(total_tokens) from marts.rpt_model_usage group by 1"
            ).fetchall()
        }
        by_variant_expected = {
            (bot, variant): (engaged, resolved / engaged)
            for bot, variant, engaged, resolved in con.execute(
                """
                select bot_id, experiment_variant, count(*) filter (where is_engaged),
                    count(*) filter (where is_engaged and is_resolved)
                from marts.fct_conversations
                where experiment_variant is not null
                group by 1, 2
                """
            ).fetchall()
        }
    finally:
        con.close()
    got = {row["message__model_name"]: row for row in by_model if row["message__model_name"]}
    assert set(got) == set(expected) and len(got) >= 2
    for model, (cost, tokens) in expected.items():
        assert math.isclose(_number(got[model]["cost_usd"]) or 0.0, cost or 0.0, rel_tol=1e-9, abs_tol=1e-9)
        assert int(float(got[model]["total_tokens"])) == tokens, model

    by_variant = _query(
        project,
        published_home,
        tmp_path / "variant.csv",
        "engaged_conversations,resolution_rate",
        "conversation__bot_id,conversation__experiment_variant",
    )
    rows = {
        (row["conversation__bot_id"], row["conversation__experiment_variant"]): row
        for row in by_variant
        if row["conversation__experiment_variant"]
    }
    assert set(rows) == set(by_variant_expected) and rows
    for key, (engaged, rate) in by_variant_expected.items():
        assert int(float(rows[key]["engaged_conversations"])) == engaged, key
        assert math.isclose(_number(rows[key]["resolution_rate"]) or 0.0, rate, rel_tol=1e-9), key
