"""The report's figures, queried read-only from the published ``analytics.duckdb``.

Only published tables are read (``marts.*``, ``audit.quarantine_records``,
``ops.batch_runs``), so a report can be written at any time, even while the next batch
builds. Rates are recomputed from their numerators and denominators over the period
(never averaged), with the definitions of docs/metrics.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
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

_KPI_SQL = """
with conversations as (
    select *
    from marts.fct_conversations
    where conversation_date between ? and ?
),

turns as (
    select response_latency_ms
    from marts.fct_turns
    where conversation_date between ? and ? and is_answered
),

counts as (
    select
        count(*) as conversations,
        count(*) filter (where is_engaged) as engaged_conversations,
        count(*) filter (where outcome = 'escalated') as escalated,
        count(*) filter (where outcome in ('resolved_confirmed', 'resolved_implied')) as resolved,
        count(*) filter (where outcome = 'abandoned') as abandoned,
        sum(fallback_event_count) as fallback_events,
        sum(assistant_message_count) as assistant_messages,
        avg(csat_score) as csat_avg,
        sum(thumbs_up_count) as thumbs_up,
        sum(thumbs_down_count) as thumbs_down,
        coalesce(sum(cost_usd), 0) as cost_usd,
        avg(quality_score) filter (where is_engaged) as quality_score
    from conversations
),

latency as (
    select
        quantile_cont(response_latency_ms, 0.5) as latency_p50_ms,
        quantile_cont(response_latency_ms, 0.95) as latency_p95_ms
    from turns
)

select * from counts cross join latency
"""


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

    @property
    def has_data(self) -> bool:
        return bool(self.kpis.get("conversations"))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return float(numerator) / float(denominator)


def kpis(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict[str, float | None]:
    row = _rows(con, _KPI_SQL, [start, end, start, end])[0]
    engaged = row["engaged_conversations"]
    escalation = _ratio(row["escalated"], engaged)
    thumbs = (row["thumbs_up"] or 0) + (row["thumbs_down"] or 0)
    return {
        "conversations": float(row["conversations"]),
        "engaged_conversations": float(engaged),
        "containment_rate": None if escalation is None else 1 - escalation,
        "resolution_rate": _ratio(row["resolved"], engaged),
        "escalation_rate": escalation,
        "abandonment_rate": _ratio(row["abandoned"], engaged),
        "fallback_rate": _ratio(row["fallback_events"], row["assistant_messages"]),
        "latency_p50_ms": row["latency_p50_ms"],
        "latency_p95_ms": row["latency_p95_ms"],
        "csat_avg": row["csat_avg"],
        "thumbs_up_ratio": _ratio(row["thumbs_up"], thumbs),
        "cost_usd": float(row["cost_usd"]),
        "cost_per_resolved_usd": _ratio(row["cost_usd"], row["resolved"]),
        "quality_score": row["quality_score"],
    }


def _daily(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict[str, Any]]:
    return _rows(
        con,
        """
        with days as (
            select cast(day as date) as day
            from range(cast(? as date), cast(? as date) + interval 1 day, interval 1 day) as t (day)
        ),

        conversations as (
            select
                conversation_date as day,
                count(*) as conversations,
                count(*) filter (where is_engaged) as engaged,
                avg(csat_score) as csat_avg,
                sum(thumbs_up_count) as thumbs_up,
                sum(thumbs_down_count) as thumbs_down
            from marts.fct_conversations
            where conversation_date between ? and ?
            group by 1
        ),

        latency as (
            select
                conversation_date as day,
                quantile_cont(response_latency_ms, 0.5) as latency_p50_ms,
                quantile_cont(response_latency_ms, 0.95) as latency_p95_ms
            from marts.fct_turns
            where conversation_date between ? and ? and is_answered
            group by 1
        )

        select
            days.day,
            coalesce(c.conversations, 0) as conversations,
            coalesce(c.engaged, 0) as engaged,
            c.csat_avg,
            c.thumbs_up / nullif(c.thumbs_up + c.thumbs_down, 0) as thumbs_up_ratio,
            l.latency_p50_ms,
            l.latency_p95_ms
        from days
        left join conversations as c on days.day = c.day
        left join latency as l on days.day = l.day
        order by days.day
        """,
        [start, end, start, end, start, end],
    )


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
            "select min(conversation_date) from marts.fct_conversations where conversation_date >= ?",
            [period.trend_start],
        ).fetchone()
        trend_start = (
            min(max(period.trend_start, first[0]), period.start) if first and first[0] else period.start
        )
        window = [trend_start, period.end]
        return ReportData(
            period=period,
            kpis=kpis(con, period.start, period.end),
            baseline=kpis(con, baseline.start, baseline.end),
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
                select
                    intent,
                    sum(conversations) as conversations,
                    sum(resolved_conversations) / nullif(sum(engaged_conversations), 0) as resolution_rate
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
                select
                    tool_name,
                    sum(tool_calls) as tool_calls,
                    sum(failed_tool_calls) as failed_tool_calls,
                    sum(failed_tool_calls) / nullif(sum(tool_calls), 0) as failure_rate
                from marts.rpt_tool_usage
                where conversation_date between ? and ?
                group by 1
                order by 3 desc, 1
                """,
                [period.start, period.end],
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
        )
    finally:
        con.close()
