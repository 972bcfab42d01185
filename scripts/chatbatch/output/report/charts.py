"""The report's charts: matplotlib figures rendered to inline SVG.

Deterministic output: a fixed ``svg.hashsalt`` (stable element ids), text kept as text
(``svg.fonttype`` none: small, searchable, no embedded glyphs), no date in the metadata.
Each chart is a function of plain rows, so rendering never touches the database.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from chatbatch.output.report.data import ReportData

RC = {
    "svg.hashsalt": "chatbatch-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}
OUTCOME_COLOURS = {
    "resolved_confirmed": "#1a7f37",
    "resolved_implied": "#7cc48a",
    "escalated": "#d1242f",
    "abandoned": "#bf8700",
    "unengaged": "#8c959f",
}
PIPELINE_ORDER = ("accumulate", "build_base", "gate", "build", "audit", "publish")
_BEFORE_SVG = re.compile(r"\A.*?(?=<svg)", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str


@contextmanager
def _figure(width: float = 6.4, height: float = 3.0) -> Iterator[tuple[Figure, Axes]]:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig, fig.add_subplot()


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _BEFORE_SVG.sub("", buffer.getvalue()).strip()


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _stacked_bars(
    ax: Axes,
    days: list[Any],
    values: dict[tuple[Any, str], Any],
    series: list[str],
    colours: dict[str, str] | None = None,
) -> None:
    """One bar per day, stacked by `series` in order; `values[(day, name)]`, missing is 0."""
    bottom = [0.0] * len(days)
    for name in series:
        heights = [float(values.get((d, name)) or 0) for d in days]
        ax.bar(range(len(days)), heights, bottom=bottom, color=(colours or {}).get(name), label=name)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]


def _day_axis(ax: Axes, days: list[Any]) -> None:
    step = max(1, len(days) // 7)
    ax.set_xticks(range(0, len(days), step))
    ax.set_xticklabels([d.strftime("%b %d") for d in days[::step]])


def volume(data: ReportData) -> Chart:
    with _figure() as (fig, ax):
        days = [r["day"] for r in data.daily]
        x = range(len(days))
        ax.bar(x, [r["conversations"] for r in data.daily], color="#0969da", label="conversations")
        ax.plot(x, [r["engaged"] for r in data.daily], color="#0a3069", marker="o", ms=3, label="engaged")
        _day_axis(ax, days)
        ax.set_ylabel("conversations per day")
        fig.legend(loc="outside lower center", ncol=2)
        return Chart("volume", "Volume", _svg(fig))


def outcomes(data: ReportData) -> Chart:
    with _figure() as (fig, ax):
        days = [r["day"] for r in data.daily]
        counts = {(r["day"], r["outcome"]): r["conversations"] for r in data.outcomes}
        _stacked_bars(ax, days, counts, list(OUTCOME_COLOURS), OUTCOME_COLOURS)
        _day_axis(ax, days)
        ax.set_ylabel("conversations")
        fig.legend(loc="outside lower center", fontsize=7, ncol=5)
        return Chart("outcomes", "Outcomes", _svg(fig))


def latency(data: ReportData) -> Chart:
    with _figure() as (fig, ax):
        days = [r["day"] for r in data.daily]
        x = range(len(days))
        ax.plot(x, [_num(r["latency_p50_ms"]) for r in data.daily], marker="o", ms=3, label="p50")
        ax.plot(x, [_num(r["latency_p95_ms"]) for r in data.daily], marker="o", ms=3, label="p95")
        _day_axis(ax, days)
        ax.set_ylabel("response latency (ms)")
        ax.set_ylim(bottom=0)
        fig.legend(loc="outside lower center", ncol=2)
        return Chart("latency", "Latency p50 / p95", _svg(fig))


def feedback(data: ReportData) -> Chart:
    with _figure() as (fig, ax):
        days = [r["day"] for r in data.daily]
        x = range(len(days))
        ax.plot(x, [_num(r["csat_avg"]) for r in data.daily], color="#8250df", marker="o", ms=3, label="CSAT")
        ax.set_ylim(1, 5)
        ax.set_ylabel("CSAT (1-5)")
        right = ax.twinx()
        right.plot(
            x,
            [_num(r["thumbs_up_ratio"]) for r in data.daily],
            color="#1a7f37",
            marker="s",
            ms=3,
            label="thumbs-up ratio",
        )
        right.set_ylim(0, 1)
        right.set_ylabel("thumbs-up ratio")
        right.grid(False)
        _day_axis(ax, days)
        fig.legend(loc="outside lower center", ncol=2)
        return Chart("feedback", "CSAT and thumbs", _svg(fig))


def intents(data: ReportData) -> Chart:
    with _figure(height=3.4) as (fig, ax):
        rows = list(reversed(data.intents))
        if not rows:
            _no_data(ax)
        else:
            ax.barh([r["intent"] for r in rows], [r["conversations"] for r in rows], color="#0969da")
            ax.set_xlabel("conversations (main intent)")
        return Chart("intents", "Top intents", _svg(fig))


def cost_by_model(data: ReportData) -> Chart:
    with _figure() as (fig, ax):
        days = [r["day"] for r in data.daily]
        models = sorted({r["model"] for r in data.cost_by_model})
        cost = {(r["day"], r["model"]): float(r["cost_usd"] or 0) for r in data.cost_by_model}
        if not models:
            _no_data(ax)
        _stacked_bars(ax, days, cost, models)
        if models:
            _day_axis(ax, days)
            ax.set_ylabel("cost (USD)")
            fig.legend(loc="outside lower center", fontsize=7, ncol=4)
        return Chart("cost", "Cost by model", _svg(fig))


def tool_failures(data: ReportData) -> Chart:
    with _figure() as (fig, ax):
        rows = data.tools
        if not rows:
            _no_data(ax)
        else:
            names = [r["tool_name"] for r in rows]
            ax.bar(
                names, [r["tool_calls"] - r["failed_tool_calls"] for r in rows], color="#8c959f", label="ok"
            )
            ax.bar(
                names,
                [r["failed_tool_calls"] for r in rows],
                bottom=[r["tool_calls"] - r["failed_tool_calls"] for r in rows],
                color="#d1242f",
                label="failed",
            )
            for i, r in enumerate(rows):
                if r["failure_rate"] is not None:
                    ax.annotate(f"{r['failure_rate']:.0%}", (i, r["tool_calls"]), ha="center", va="bottom")
            ax.tick_params(axis="x", labelrotation=35)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
            ax.set_ylabel("tool calls")
            ax.legend(loc="upper right")
        return Chart("tools", "Tool calls and failures", _svg(fig))


def quarantine(data: ReportData) -> Chart:
    with _figure(height=2.6) as (fig, ax):
        rows = list(reversed(data.quarantine))
        if not rows:
            ax.text(0.5, 0.5, "no quarantined lines", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.barh([r["reason"] for r in rows], [r["lines"] for r in rows], color="#bf8700")
            ax.set_xlabel("quarantined lines")
        return Chart("quarantine", "Quarantine by reason", _svg(fig))


def step_durations(data: ReportData) -> Chart:
    with _figure(height=2.6) as (fig, ax):
        totals: dict[str, float] = {}
        for batch in data.batches:
            for step, seconds in batch.steps.items():
                totals[step] = totals.get(step, 0.0) + float(seconds)
        if not totals:
            _no_data(ax)
        else:
            order = {step: i for i, step in enumerate(PIPELINE_ORDER)}
            steps = sorted(totals, key=lambda step: (order.get(step, len(order)), step))
            ax.barh(steps[::-1], [totals[s] for s in steps][::-1], color="#57606a")
            ax.set_xlabel("seconds")
        return Chart("steps", "Batch steps (duration)", _svg(fig))


TREND_CHARTS: tuple[Callable[[ReportData], Chart], ...] = (
    volume,
    outcomes,
    latency,
    feedback,
    intents,
    cost_by_model,
    tool_failures,
)
HEALTH_CHARTS: tuple[Callable[[ReportData], Chart], ...] = (quarantine, step_durations)
