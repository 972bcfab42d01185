"""Which days a report covers: a night (one day) or, on Mondays, the previous ISO week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

TREND_DAYS = 28  # the charts' time axis: four weeks ending with the period


@dataclass(frozen=True)
class Period:
    kind: str  # "daily" or "weekly"
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """What the headline KPIs are compared with: the 7 days before a day, the week before a week."""
        if self.kind == "daily":
            return Period("baseline", self.start - timedelta(days=7), self.start - timedelta(days=1))
        return Period("baseline", self.start - timedelta(days=7), self.end - timedelta(days=7))

    @property
    def trend_start(self) -> date:
        return self.end - timedelta(days=TREND_DAYS - 1)

    @property
    def label(self) -> str:
        if self.kind == "daily":
            return self.start.isoformat()
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def title(self) -> str:
        if self.kind == "daily":
            return f"Nightly report {self.label}"
        return f"Weekly report {self.label} ({self.start.isoformat()} to {self.end.isoformat()})"

    @property
    def filename(self) -> str:
        return f"{self.label}.html" if self.kind == "daily" else f"weekly-{self.label}.html"


def daily(day: date) -> Period:
    return Period("daily", day, day)


def previous_iso_week(day: date) -> Period:
    """The ISO week (Monday to Sunday) before the one holding `day`."""
    monday = day - timedelta(days=day.weekday()) - timedelta(days=7)
    return Period("weekly", monday, monday + timedelta(days=6))


def periods_for(run_date: date) -> list[Period]:
    """The reports a night writes: its day, and on Mondays also the week that just ended."""
    out = [daily(run_date)]
    if run_date.weekday() == 0:
        out.append(previous_iso_week(run_date))
    return out
