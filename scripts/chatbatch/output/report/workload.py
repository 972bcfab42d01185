"""The report as a night's workload (after publish): writes the night's pages unless
``CHATBATCH_REPORT=off``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from chatbatch.output.report import write_reports
from chatbatch.output.workload import Phase, WorkloadContext


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
