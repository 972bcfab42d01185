"""The bench's chart: nightly seconds against history days and against new messages, beside the
engine floor, one SVG per scale (next to the JSON record; ``--publish-chart`` also writes
``docs/benchmark/latest-<scale>.svg``).

Left: the nightly of one new day at H days of history (and at the long history when it ran),
with the engine floor of the nightly at H (the volume point of the scale's own day size) and the
full refresh beside its engine floor. Right: the volume points (bench/volume.py), nightly and
engine floor against the new day's messages, with their least-squares lines. The SVG settings
are the HTML report's (``chatbatch.output.report.charts.RC``: fixed hash salt, text as text, no
date), so the same figures give the same file.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from chatbatch.output.report.charts import RC
from chatbatch_dev.bench.runner import FLOOR, ScaleRun
from chatbatch_dev.bench.volume import FLOOR as VOLUME_FLOOR
from chatbatch_dev.bench.volume import NIGHTLY as VOLUME_NIGHTLY
from chatbatch_dev.bench.volume import PER_MESSAGES, points
from chatbatch_dev.bench.volume import slope as fit_slope

NIGHTLY_COLOUR, FLOOR_COLOUR, REFRESH_COLOUR = "#0969da", "#8c959f", "#bf8700"


def _median(result: ScaleRun, key: str) -> float | None:
    step = result.steps.get(key)
    return step.median_seconds if step else None


def _history_panel(ax: Axes, result: ScaleRun) -> None:
    scale = result.scale
    nightly = [
        (days, seconds)
        for days, key in ((scale.history_days, "nightly"), (scale.long_history_days, "nightly_long"))
        if days and (seconds := _median(result, key)) is not None
    ]
    if nightly:
        ax.plot(*zip(*nightly, strict=True), "o-", color=NIGHTLY_COLOUR, label="nightly (1 new day)")
    floor_at_h = _median(result, f"{VOLUME_FLOOR}_{scale.conversations_per_day}")
    if floor_at_h is not None:
        label = "engine floor of that nightly"
        ax.plot([scale.history_days], [floor_at_h], "s", color=FLOOR_COLOUR, label=label)
    refresh, refresh_floor = _median(result, "full_refresh"), _median(result, FLOOR)
    days = scale.history_days + 1
    if refresh is not None:
        ax.plot([days], [refresh], "^", color=REFRESH_COLOUR, label="full refresh")
    if refresh_floor is not None:
        label = "engine floor of the " + ("full refresh" if refresh is not None else "cold build")
        ax.plot([days], [refresh_floor], "v", color=FLOOR_COLOUR, mfc="none", label=label)
    ax.set_xlabel("days of history")
    ax.set_ylabel("seconds")
    ax.set_xlim(0, max(scale.long_history_days or 0, days) * 1.1)
    ax.set_ylim(bottom=0)
    ax.set_title(f"{scale.name}: against history", loc="left")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")


def _volume_panel(ax: Axes, result: ScaleRun) -> None:
    series = (
        ("nightly", VOLUME_NIGHTLY, NIGHTLY_COLOUR, "o"),
        ("engine floor", VOLUME_FLOOR, FLOOR_COLOUR, "s"),
    )
    drawn = False
    for label, prefix, colour, marker in series:
        found = points(result.steps, prefix)
        if not found:
            continue
        drawn = True
        xs = [messages for messages, _, _ in found]
        ys = [seconds for _, seconds, _ in found]
        slope = fit_slope(found)
        text = label if slope is None else f"{label}: {slope:,.1f} s / 100k messages"
        ax.plot(xs, ys, marker, color=colour, label=text)
        if slope is not None:
            mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
            per_message = slope / PER_MESSAGES
            ends = [0, max(xs)]
            ax.plot(ends, [mean_y + per_message * (x - mean_x) for x in ends], "-", color=colour, lw=1)
    ax.set_title(f"{result.scale.name}: against the new day's volume", loc="left")
    if not drawn:
        ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        return
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("new messages in the day")
    ax.set_ylabel("seconds")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")


def render(result: ScaleRun) -> str:
    """The two panels of one scale as SVG text."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(10.0, 3.8), layout="constrained")
        left, right = fig.subplots(1, 2)
        _history_panel(left, result)
        _volume_panel(right, result)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def write(results: list[ScaleRun], results_dir: Path, stem: str, publish_dir: Path | None) -> list[Path]:
    """``<stem>.svg`` (one scale) or ``<stem>-<scale>.svg`` in ``results_dir``; with
    ``publish_dir`` also ``latest-<scale>.svg`` there."""
    written = []
    for result in results:
        svg = render(result)
        name = f"{stem}.svg" if len(results) == 1 else f"{stem}-{result.scale.name}.svg"
        targets = [results_dir / name]
        if publish_dir is not None:
            targets.append(publish_dir / f"latest-{result.scale.name}.svg")
        for path in targets:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(svg, encoding="utf-8")
            written.append(path)
    return written
