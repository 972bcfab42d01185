"""The nightly HTML report: ``$CHATBATCH_HOME/reports/YYYY-MM-DD.html`` after every
successful night, and ``reports/weekly-YYYY-Www.html`` on Mondays (the ISO week that
just ended). Self-contained pages (inline CSS and SVG charts), readable offline.

``data`` queries the published ``analytics.duckdb`` read-only, ``charts`` draws with
matplotlib, ``render`` fills the HTML template; this module writes the files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from chatbatch.core.paths import Paths
from chatbatch.monitor.record import BatchRecord
from chatbatch.output.report.periods import Period, daily, periods_for, previous_iso_week
from chatbatch.output.workload import Phase, WorkloadContext

__all__ = ["Period", "ReportWorkload", "daily", "previous_iso_week", "write_reports"]


def write_report(paths: Paths, period: Period, batch: BatchRecord | None = None) -> Path:
    """Render one report and put it in place atomically (a reader never sees half a page)."""
    from chatbatch.output.report import data, render  # matplotlib loads only when a report is written

    html = render.render(data.load(paths.analytics, period, batch))
    target = paths.reports / period.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target)
    return target


def write_reports(paths: Paths, run_date: date, batch: BatchRecord | None = None) -> list[Path]:
    """The night's report, and the weekly one on Mondays."""
    return [write_report(paths, period, batch) for period in periods_for(run_date)]


def enabled() -> bool:
    """CHATBATCH_REPORT=off skips the nightly report (`chatbatch report` still writes one)."""
    return os.environ.get("CHATBATCH_REPORT", "on").strip().lower() not in ("off", "0", "false", "no")


@dataclass(frozen=True)
class ReportWorkload:
    name: str = "report"
    phase: Phase = "after_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        if not enabled():
            ctx.say("  report skipped (CHATBATCH_REPORT=off)")
            return {"files": [], "skipped": "CHATBATCH_REPORT=off"}
        written = write_reports(ctx.paths, ctx.run_date, ctx.record)
        for path in written:
            ctx.say(f"  report written: {path}")
        return {"files": [str(p.relative_to(ctx.paths.home)) for p in written]}
