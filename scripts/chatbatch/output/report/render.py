"""HTML rendering: one self-contained page (inline CSS and SVG, no external requests)."""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup

import chatbatch.output.report.charts as charts
from chatbatch.output.report.data import KPIS, ReportData


def _change(kind: str, value: float | None, baseline: float | None, scale: float) -> dict[str, Any]:
    """The KPI's change against the comparison period, as text and a direction. Counts
    are compared per day: `scale` is the period's days / the comparison's days."""
    if value is None or baseline is None:
        return {"text": "n/a", "direction": "flat"}
    if kind == "count":
        baseline = baseline * scale
    if kind == "rate":
        delta = (value - baseline) * 100
        text = f"{delta:+.1f} pp"
    else:
        if baseline == 0:
            return {"text": "n/a", "direction": "flat"}
        delta = (value - baseline) / abs(baseline) * 100
        text = f"{delta:+.1f} %"
    direction = "up" if delta > 0.05 else "down" if delta < -0.05 else "flat"
    return {"text": text, "direction": direction, "baseline": baseline}


def _tone(direction: str, better: str) -> str:
    """good / bad / neutral: whether the change went the way one wants."""
    if direction == "flat" or better == "neutral":
        return "neutral"
    return "good" if direction == better else "bad"


def _format(kind: str, key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if kind == "rate":
        return f"{value:.1%}"
    if key.endswith("_usd"):
        return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"
    if kind == "count":
        return f"{value:,.0f}"
    if key.endswith("_ms"):
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _format_baseline(kind: str, key: str, value: float | None) -> str:
    """A count's baseline is a per-day average: one decimal, unless it is money."""
    if kind == "count" and value is not None and not key.endswith("_usd"):
        return f"{value:,.1f}"
    return _format(kind, key, value)


def kpi_rows(data: ReportData) -> list[dict[str, Any]]:
    rows = []
    for key, label, kind, better in KPIS:
        value = data.kpis.get(key)
        baseline = data.baseline.get(key)
        change = _change(kind, value, baseline, data.period.days / data.baseline_days)
        shown_baseline = change.get("baseline", baseline)
        rows.append(
            {
                "key": key,
                "label": label,
                "value": _format(kind, key, value),
                "baseline": _format_baseline(kind, key, shown_baseline),
                "change": change["text"],
                "direction": change["direction"],
                "tone": _tone(change["direction"], better),
            }
        )
    return rows


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chatbatch", "output/report"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")


def render(data: ReportData) -> str:
    template = _template()
    period = data.period
    baseline = period.previous
    return template.render(
        period=period,
        comparison=(
            f"the per-day average of {baseline.start.isoformat()} to {baseline.end.isoformat()}"
            if period.kind == "daily"
            else f"the week {baseline.label} ({baseline.start.isoformat()} to {baseline.end.isoformat()})"
        ),
        trend=f"{data.trend_start.isoformat()} to {period.end.isoformat()}",
        has_data=data.has_data,
        kpis=kpi_rows(data),
        trend_charts=[_markup(chart(data)) for chart in charts.TREND_CHARTS],
        health_charts=[_markup(chart(data)) for chart in charts.HEALTH_CHARTS],
        batches=data.batches,
        quarantine=data.quarantine,
        experiments=[_experiment_row(row) for row in data.experiments],
        reasons=data.reasons,
    )


NONE = "\u2013"  # an en dash for a missing figure


def _pct(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f} %"


def _p(value: float | None) -> str:
    return NONE if value is None else "<0.0001" if value < 0.0001 else f"{value:.4f}"


def _experiment_row(row: dict[str, Any]) -> dict[str, Any]:
    """One variant of an experiment, formatted; `significant` when p < 0.05 and readable."""
    readable = not row["is_sample_too_small"] and not row["has_sample_ratio_mismatch"]
    p = row["resolution_p_value"]
    lift = row["resolution_lift_abs"]
    return {
        "experiment": row["experiment_id"],
        "variant": row["variant"] + (" (control)" if row["is_control"] else ""),
        "days": f"{row['period_start_date'].isoformat()} … {row['period_end_date'].isoformat()}",
        "conversations": f"{row['conversations']:,}",
        "resolution": f"{_pct(row['resolution_rate'])} "
        f"[{_pct(row['resolution_rate_ci_low'])}, {_pct(row['resolution_rate_ci_high'])}]",
        "lift": NONE if lift is None else f"{lift * 100:+.1f} pp",
        "p_value": _p(p),
        "escalation_p": _p(row["escalation_p_value"]),
        "csat": NONE if row["csat_avg"] is None else f"{row['csat_avg']:.2f} (p {_p(row['csat_p_value'])})",
        "cost": NONE
        if row["cost_per_conversation_usd"] is None
        else f"{row['cost_per_conversation_usd']:.4f}",
        "flags": ", ".join(
            flag
            for flag, on in (
                ("too small", row["is_sample_too_small"]),
                (f"SRM (p {_p(row['srm_p_value'])})", row["has_sample_ratio_mismatch"]),
                (f"{row['crossover_users']} crossover users", row["crossover_users"] > 0),
            )
            if on
        ),
        "significant": readable and p is not None and p < 0.05,
    }


def _markup(chart: charts.Chart) -> dict[str, Any]:
    return {"key": chart.key, "title": chart.title, "svg": Markup(chart.svg)}  # our own SVG, from matplotlib
