"""Cost against day volume: the nightly of one new day of N conversations, and its engine floor.

For each N of the scale (``Scale.volume_conversations``) on copies of the cold-built day-H home:

1. ``chatbatch generate --start <day H+1> --days 1 --conversations-per-day N --dirty-rate 0``
   (the scale's seed) into a scratch landing, untimed;
2. the nightly home: a copy of the day-H home whose landing keeps the days <= H and gets that
   day's files (export date H+1; hard links); the floor home: a copy of it, where an untimed
   ``chatbatch ingest`` loads the day;
3. ``chatbatch nightly --date <day H+1>`` on the nightly home (untimed warm parse first):
   timed, peak RSS, once;
4. the engine floor of that nightly (floor.py, incremental): its compiled SQL (dbt's
   ``is_incremental()`` true) on the floor home, row counts compared with the nightly's warehouse.

Each point is two steps, ``volume_nightly_<N>`` and ``volume_floor_<N>``, whose ``rows`` are the
new day's messages; ``marginal`` fits seconds against messages (least squares) for both.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chatbatch.accumulate import landing
from chatbatch.contract.sources import SourceConfig
from chatbatch.core.paths import Paths
from chatbatch_dev.bench.floor import measure as measure_floor
from chatbatch_dev.bench.harness import Bench, Step, chatbatch_argv, clone_home, run_child
from chatbatch_dev.bench.scales import Scale

NIGHTLY, FLOOR = "volume_nightly", "volume_floor"
PER_MESSAGES = 100_000  # marginal seconds are per this many new messages


@dataclass(frozen=True)
class Marginal:
    """Seconds per ``PER_MESSAGES`` new messages: the least-squares slope over the points."""

    nightly: float | None
    floor: float | None
    points: int


def measure(bench: Bench, scale: Scale, home: Path) -> None:
    """Every point of ``scale`` on copies of ``home`` (the cold build through day H)."""
    day = scale.day(scale.history_days + 1)
    work = bench.root / "volume"
    for conversations in scale.volume_conversations:
        scratch = work / f"landing_{conversations}"
        shutil.rmtree(scratch, ignore_errors=True)
        log = bench.root / "logs" / f"volume-generate-{conversations}.log"
        argv = chatbatch_argv(
            "generate",
            *("--start", day.isoformat(), "--days", "1", "--conversations-per-day", str(conversations)),
            *("--seed", str(scale.seed), "--dirty-rate", "0", "--landing", str(scratch)),
        )
        if run_child(argv, bench.env.environ(None), log).exit_code != 0:
            bench.say(f"  volume: generate of {conversations:,} conversations failed, see {log}")
            return
        summary = next((scratch / "_generator").glob("summary-*.json"))
        messages = int(json.loads(summary.read_text())["messages"])
        nightly_home, floor_home = work / f"home_{conversations}", work / f"floor_home_{conversations}"
        clone_home(home, nightly_home)
        _replace_days_after(nightly_home, scratch, day)
        clone_home(nightly_home, floor_home)
        log = bench.root / "logs" / f"volume-ingest-{conversations}.log"
        ingested = run_child(chatbatch_argv("ingest"), bench.env.environ(floor_home), log).exit_code == 0
        bench.warm_parse(nightly_home)
        label = f"day {scale.history_days + 1} of {conversations:,} conversations"
        step = bench.add_step(f"{NIGHTLY}_{conversations}", f"volume: nightly, {label}")
        run = bench.run_nightly(step, nightly_home, day, 0)
        step.rows, step.rows_label = messages, "new messages"
        if run.exit_code == 0 and ingested:
            compare = Paths(home=nightly_home).warehouse
            floor_step = measure_floor(
                bench, f"{FLOOR}_{conversations}", f"volume: engine floor, {label}", floor_home,
                source=nightly_home, incremental=True, compare=compare, in_place=True,
            )  # fmt: skip
            floor_step.rows, floor_step.rows_label = messages, "new messages"
        elif not ingested:
            bench.say(f"  volume: ingest of the floor home failed, see {log}")
        for path in (scratch, nightly_home, floor_home):
            if not bench.keep:
                shutil.rmtree(path, ignore_errors=True)


def _replace_days_after(home: Path, scratch: Path, day: date) -> None:
    """The home's landing keeps the export dates before ``day``; the scratch landing's files of
    ``day`` are hard-linked in (the landing of a copy is hard-linked: unlinking is safe)."""
    target = Paths(home=home).landing
    config = SourceConfig.load(home)
    for found in landing.discover(target, config).files:
        if found.export_date >= day:
            found.absolute_path.unlink()
    for found in landing.discover(scratch, config).files:
        if found.export_date == day:
            path = target / found.relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(found.absolute_path, path)


def points(steps: dict[str, Step], prefix: str) -> list[tuple[int, float, float | None]]:
    """(new messages, median seconds, peak RSS MiB) of the points measured, by messages."""
    found = []
    for key, step in steps.items():
        if key.startswith(prefix + "_") and key.removeprefix(prefix + "_").isdigit():
            seconds = step.median_seconds
            if seconds is not None and step.rows:
                found.append((step.rows, seconds, step.peak_rss_mib))
    return sorted(found)


def slope(found: list[tuple[int, float, float | None]]) -> float | None:
    """Seconds per ``PER_MESSAGES`` messages, least squares (None under two distinct points)."""
    if len({messages for messages, _, _ in found}) < 2:
        return None
    fit = statistics.linear_regression([p[0] for p in found], [p[1] for p in found])
    return fit.slope * PER_MESSAGES


def marginal(steps: dict[str, Step]) -> Marginal:
    nightly, floors = points(steps, NIGHTLY), points(steps, FLOOR)
    return Marginal(nightly=slope(nightly), floor=slope(floors), points=len(nightly))
