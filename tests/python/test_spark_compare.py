"""The Spark-vs-DuckDB comparison itself (pure Python, no Spark: make test-spark runs that)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from chatbatch_dev.spark_compare import mart_tables, normalise, rows_match


def test_normalise_makes_engine_values_comparable() -> None:
    assert normalise(datetime(2026, 11, 1, 8, 0, tzinfo=UTC)) == "2026-11-01 08:00:00"
    assert normalise(datetime(2026, 11, 1, 8, 0)) == "2026-11-01 08:00:00"
    assert normalise(date(2026, 11, 1)) == "2026-11-01"
    assert normalise(Decimal("0.25")) == 0.25
    assert normalise(["a", date(2026, 1, 2)]) == ("a", "2026-01-02")


def test_rows_match_is_order_insensitive_with_a_float_tolerance() -> None:
    left = [("a", 1, 0.1 + 0.2), ("b", 2, None)]
    right = [("b", 2, None), ("a", 1, 0.3)]
    assert rows_match(left, right) is None


def test_rows_match_reports_counts_and_values() -> None:
    assert rows_match([("a", 1)], []) == "row counts differ: duckdb 1, spark 0"
    assert rows_match([("a", 1.0)], [("a", 1.001)]) is not None
    assert rows_match([("a", None)], [("a", 0)]) is not None
    assert rows_match([("a", "x")], [("a", "y")]) is not None


def test_every_core_and_reporting_mart_is_compared() -> None:
    tables = mart_tables()
    assert "marts.fct_conversations" in tables
    assert "marts.rpt_daily_performance" in tables
    assert not any("metricflow" in table for table in tables)
