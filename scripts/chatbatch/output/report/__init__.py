"""The nightly HTML report: ``$CHATBATCH_HOME/reports/YYYY-MM-DD.html`` after every
successful night, and ``reports/weekly-YYYY-Www.html`` on Mondays (the ISO week that
just ended). Self-contained pages (inline CSS and SVG charts), readable offline.

``data`` reads the published ``analytics.duckdb`` read-only (its figures come from the
marts, mainly ``rpt_period_performance``), ``charts`` draws with matplotlib, ``render``
fills the HTML template; this module writes the files and ``workload`` runs it nightly.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from chatbatch.core.paths import Paths
from chatbatch.monitor.record import BatchRecord
from chatbatch.output.report.periods import Period, daily, periods_for, previous_iso_week

__all__ = ["Period", "daily", "previous_iso_week", "write_reports"]


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
