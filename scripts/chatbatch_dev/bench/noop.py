"""The no-op night: the nightly of day H+1 run again on the home that just ran it.

Nothing new lands, so whatever it costs is the fixed cost of a night. Run ``--repeat``
times, each on a fresh copy of the home after the nightly of day H+1, in a fresh child,
after the same untimed warm parse as the nightly (``ScaleRun.warm_parse``). A batch that
decides there is nothing to do ends ``skipped`` (``chatbatch.process.plan.decide``): that
is the no-op night as cron sees it, so ``skipped`` counts as a run, and the status is in
the step's label and every run's details (with the run record's per-step seconds).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from chatbatch_dev.bench.harness import Bench, Step, clone_home

NOOP_STATUSES = ("ok", "skipped")


def measure(bench: Bench, home: Path, day: date, days: int) -> Step:
    step = bench.add_step("noop", f"no-op nightly: day {days} again on {days} d")
    for index in range(bench.repeat):
        copy = bench.root / f"noop-{index}"
        clone_home(home, copy)
        bench.warm_parse(copy)
        run = bench.run_nightly(step, copy, day, index, accept=NOOP_STATUSES)
        shutil.rmtree(copy, ignore_errors=True)
        if run.exit_code != 0:
            break
    statuses = sorted({str(r.details.get("status")) for r in step.ok_runs})
    if statuses:
        step.label += f" (batch {'/'.join(statuses)})"
    return step
