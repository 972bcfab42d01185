"""Do dbt's rpt_daily_performance, the SQL reference and the pandas script agree?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

GRAIN = ("conversation_date", "channel", "bot_id", "bot_version")
# metric -> absolute tolerance (counts must match exactly; doubles up to summation order)
METRICS = {
    "conversations": 0.0,
    "engaged_conversations": 0.0,
    "escalated_conversations": 0.0,
    "resolved_conversations": 0.0,
    "containment_rate": 1e-9,
    "resolution_rate": 1e-9,
    "fallback_rate": 1e-9,
    "latency_p50_ms": 1e-6,
    "latency_p95_ms": 1e-6,
    "csat_avg": 1e-9,
    "cost_usd": 1e-6,
}
DBT_REPORT_SQL = """
select conversation_date, channel, bot_id, bot_version, conversations, engaged_conversations,
    escalated_conversations, resolved_confirmed_conversations + resolved_implied_conversations
        as resolved_conversations,
    containment_rate, resolution_rate, fallback_rate, latency_p50_ms, latency_p95_ms, csat_avg, cost_usd
from analytics.marts.rpt_daily_performance
"""


def _load(con: duckdb.DuckDBPyConnection, name: str, source: Path) -> None:
    if source.suffix == ".duckdb":
        con.execute(f"attach '{source.as_posix()}' as analytics (read_only)")
        con.execute(f"create temp table {name} as {DBT_REPORT_SQL}")
        con.execute("detach analytics")
    else:
        con.execute(f"create temp table {name} as select * from read_parquet('{source.as_posix()}')")


def _pair(con: duckdb.DuckDBPyConnection, left: str, right: str) -> dict[str, Any]:
    join = " and ".join(f"l.{c} is not distinct from r.{c}" for c in GRAIN)
    checks = []
    for metric, tolerance in METRICS.items():
        lv, rv = f"l.{metric}::double", f"r.{metric}::double"
        differs = f"(({lv} is null) <> ({rv} is null) or abs({lv} - {rv}) > {tolerance})"
        checks.append(f"count(case when {differs} then 1 end)")
        checks.append(f"coalesce(max(abs({lv} - {rv})), 0)")
    row = con.execute(
        f"""
        select count(*), count(l.conversations), count(r.conversations),
            count(case when l.conversations is null or r.conversations is null then 1 end),
            {", ".join(checks)}
        from {left} as l full join {right} as r on {join}
        """
    ).fetchone()
    assert row is not None
    mismatches = {m: int(row[4 + 2 * i]) for i, m in enumerate(METRICS)}
    max_diff = {m: float(row[5 + 2 * i]) for i, m in enumerate(METRICS)}
    unmatched = int(row[3])
    return {
        "rows": int(row[0]),
        "rows_left": int(row[1]),
        "rows_right": int(row[2]),
        "unmatched_rows": unmatched,
        "mismatches": mismatches,
        "max_abs_diff": max_diff,
        "agree": unmatched == 0 and not any(mismatches.values()),
    }


def compare_reports(sources: dict[str, Path]) -> dict[str, Any]:
    """Compare every pair of the given reports (name -> .duckdb analytics file or .parquet)."""
    con = duckdb.connect()
    try:
        present = {name: path for name, path in sources.items() if path.exists()}
        for name, path in present.items():
            _load(con, name, path)
        names = list(present)
        pairs = {f"{a} vs {b}": _pair(con, a, b) for i, a in enumerate(names) for b in names[i + 1 :]}
        totals = con.execute(f"select sum(conversations) from {names[0]}").fetchone() if names else None
    finally:
        con.close()
    return {
        "sources": {name: str(path) for name, path in sources.items()},
        "missing": sorted(set(sources) - set(present)),
        "conversations": int(totals[0]) if totals and totals[0] is not None else None,
        "pairs": pairs,
        "agree": bool(pairs) and all(p["agree"] for p in pairs.values()) and len(present) == len(sources),
    }
