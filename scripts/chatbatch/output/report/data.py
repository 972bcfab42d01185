"""The report's figures, queried read-only from the published ``analytics.duckdb``.

Only published tables are read (``marts.*``, ``audit.quarantine_records``,
``ops.batch_runs``), so a report can be written at any time, even while the next batch
builds. Every figure comes ready-made from a mart: the KPIs, their baselines and the
daily trends from ``marts.rpt_period_performance``, the tool failures from
``marts.rpt_period_tool_usage`` (both built with the macros of ``macros/metrics/``, the
one definition of each metric; see docs/metrics.md); the rest selects or adds up rows
(outcomes, intents, cost by model). No rate or ratio is computed here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from chatbatch.core import duck
from chatbatch.monitor.record import BatchRecord
from chatbatch.output.report.periods import Period

# One KPI: (key, label, kind, better). kind "count" compares per-day averages in percent,
# "rate" compares in percentage points, "value" in percent; better is the good direction.
KPIS: tuple[tuple[str, str, str, str], ...] = (
    ("conversations", "Conversations", "count", "neutral"),
    ("engaged_conversations", "Engaged conversations", "count", "neutral"),
    ("containment_rate", "Containment rate", "rate", "up"),
    ("resolution_rate", "Resolution rate", "rate", "up"),
    ("escalation_rate", "Escalation rate", "rate", "down"),
    ("abandonment_rate", "Abandonment rate", "rate", "down"),
    ("fallback_rate", "Fallback rate", "rate", "down"),
    ("latency_p50_ms", "Latency p50 (ms)", "value", "down"),
    ("latency_p95_ms", "Latency p95 (ms)", "value", "down"),
    ("csat_avg", "CSAT (1-5)", "value", "up"),
    ("thumbs_up_ratio", "Thumbs-up ratio", "rate", "up"),
    ("cost_usd", "Cost (USD)", "count", "down"),
    ("cost_per_resolved_usd", "Cost per resolved conversation (USD)", "value", "down"),
    ("quality_score", "Quality score", "value", "up"),
)
# the report's periods (all channels and bots together), its columns named as the KPIs;
# marts.rpt_period_tool_usage holds the same periods per tool
# the experiments table: each experiment's whole run (marts.rpt_experiments)
EXPERIMENT_COLUMNS = (
    "experiment_id",
    "variant",
    "is_control",
    "period_start_date",
    "period_end_date",
    "conversations",
    "engaged_conversations",
    "resolution_rate",
    "resolution_rate_ci_low",
    "resolution_rate_ci_high",
    "resolution_lift_abs",
    "resolution_p_value",
    "escalation_rate",
    "escalation_p_value",
    "csat_avg",
    "csat_p_value",
    "cost_per_conversation_usd",
    "is_sample_too_small",
    "has_sample_ratio_mismatch",
    "srm_p_value",
    "crossover_users",
)
PERFORMANCE = "marts.rpt_period_performance"


@dataclass
class ReportData:
    period: Period
    kpis: dict[str, float | None]
    baseline: dict[str, float | None]
    baseline_days: int
    daily: list[dict[str, Any]]  # one row per day of the trend window
    outcomes: list[dict[str, Any]]  # day, outcome, conversations
    intents: list[dict[str, Any]]  # top intents of the period
    cost_by_model: list[dict[str, Any]]  # day, model, cost
    tools: list[dict[str, Any]]  # per tool over the period
    batches: list[BatchRecord]  # run records of the period's batches
    trend_start: date  # the charts' first day: four weeks back, or the first day with data
    quarantine: list[dict[str, Any]] = field(default_factory=list)  # reason, lines
    experiments: list[dict[str, Any]] = field(default_factory=list)  # rpt_experiments run rows
    reasons: list[dict[str, Any]] = field(default_factory=list)  # fallback / handoff reasons

    @property
    def has_data(self) -> bool:
        return bool(self.kpis.get("conversations"))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def mart_period(period: Period) -> tuple[str, date]:
    """The key of a report period's row in rpt_period_performance: a day, or the 7-day
    window from its first day (a week, the 7 days before a day)."""
    kinds = {1: "day", 7: "7_days"}
    if period.days not in kinds:
        raise ValueError(f"rpt_period_performance has no {period.days}-day periods ({period})")
    return kinds[period.days], period.start


def kpis(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, float | None]:
    """The KPIs of one period; with no conversation, counts are 0 and the rest n/a."""
    period_kind, start = mart_period(period)
    rows = _rows(
        con,
        f"""
        select {", ".join(key for key, *_ in KPIS)}
        from {PERFORMANCE}
        where period_kind = ? and period_start_date = ?
        """,
        [period_kind, start],
    )
    row = rows[0] if rows else {}
    return {key: float(row.get(key) or 0) if kind == "count" else row.get(key) for key, _, kind, _ in KPIS}


def _daily(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    """One row per day from `start` to `end`; a day without conversations has 0 of them."""
    found = {
        row["day"]: row
        for row in _rows(
            con,
            f"""
            select
                period_start_date as day,
                conversations,
                engaged_conversations as engaged,
                csat_avg,
                thumbs_up_ratio,
                latency_p50_ms,
                latency_p95_ms
            from {PERFORMANCE}
            where period_kind = 'day' and period_start_date between ? and ?
            """,
            [start, end],
        )
    }
    empty = dict.fromkeys(("csat_avg", "thumbs_up_ratio", "latency_p50_ms", "latency_p95_ms"))
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [found.get(day) or {"day": day, "conversations": 0, "engaged": 0, **empty} for day in days]


def _batches(con: duckdb.DuckDBPyConnection, period: Period) -> list[BatchRecord]:
    rows = _rows(
        con,
        """
        select record
        from ops.batch_runs
        where run_date between ? and ? and status = 'ok'
        order by batch_id
        """,
        [period.start, period.end],
    )
    return [BatchRecord.from_dict(json.loads(r["record"])) for r in rows]


def load(analytics: Path, period: Period, batch: BatchRecord | None = None) -> ReportData:
    """Every figure of one report. `batch` (the night's run record, with its final
    steps) replaces the published copy of the same batch, if it ran in the period."""
    con = duck.connect(str(analytics), read_only=True)
    try:
        baseline = period.previous
        batches = _batches(con, period)
        if batch is not None and period.start <= date.fromisoformat(batch.run_date) <= period.end:
            batches = [b for b in batches if b.batch_id != batch.batch_id] + [batch]
        batch_ids = [b.batch_id for b in batches] or [-1]
        first = con.execute(
            f"select min(period_start_date) from {PERFORMANCE} "
            "where period_kind = 'day' and period_start_date >= ?",
            [period.trend_start],
        ).fetchone()
        trend_start = (
            min(max(period.trend_start, first[0]), period.start) if first and first[0] else period.start
        )
        window = [trend_start, period.end]
        return ReportData(
            period=period,
            kpis=kpis(con, period),
            baseline=kpis(con, baseline),
            baseline_days=baseline.days,
            daily=_daily(con, *window),
            outcomes=_rows(
                con,
                """
                select conversation_date as day, outcome, count(*) as conversations
                from marts.fct_conversations
                where conversation_date between ? and ?
                group by 1, 2
                order by 1, 2
                """,
                window,
            ),
            intents=_rows(
                con,
                """
                select intent, sum(conversations) as conversations
                from marts.rpt_intent_distribution
                where conversation_date between ? and ?
                group by 1
                order by 2 desc, 1
                limit 10
                """,
                [period.start, period.end],
            ),
            cost_by_model=_rows(
                con,
                """
                select conversation_date as day, model_name as model, sum(cost_usd) as cost_usd
                from marts.fct_messages
                where conversation_date between ? and ? and model_name is not null
                group by 1, 2
                order by 1, 2
                """,
                window,
            ),
            tools=_rows(
                con,
                """
                select tool_name, tool_calls, failed_tool_calls, failure_rate
                from marts.rpt_period_tool_usage
                where period_kind = ? and period_start_date = ?
                order by failed_tool_calls desc, tool_name
                """,
                list(mart_period(period)),
            ),
            batches=batches,
            trend_start=trend_start,
            quarantine=_rows(
                con,
                """
                select reason_code as reason, count(*) as lines
                from audit.quarantine_records
                where batch_id in (select unnest(?))
                group by 1
                order by 2 desc, 1
                """,
                [batch_ids],
            ),
            experiments=_rows(
                con,
                f"""
                select {", ".join(EXPERIMENT_COLUMNS)}
                from marts.rpt_experiments
                where period_kind = 'run' and period_start_date <= ?
                order by experiment_id, variant
                """,
                [period.end],
            ),
            reasons=_rows(
                con,
                """
                select reason_kind, reason, sum(messages) as messages, sum(conversations) as conversations
                from marts.rpt_fallback_handoff_reasons
                where conversation_date between ? and ?
                group by 1, 2
                order by 1, 3 desc, 2
                """,
                [period.start, period.end],
            ),
        )
    finally:
        con.close()
