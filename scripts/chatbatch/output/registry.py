"""The workloads a night runs, in order within each phase (see ``workload.py``), and
the loop that runs a phase."""

from __future__ import annotations

import traceback

from chatbatch.output.archive import ArchiveExport
from chatbatch.output.features import UserFeaturesWorkload
from chatbatch.output.intent_model.workload import IntentModelWorkload
from chatbatch.output.kb.index import KbIndexWorkload
from chatbatch.output.ml import MlDatasetsExport
from chatbatch.output.report.workload import ReportWorkload
from chatbatch.output.workload import Phase, Workload, WorkloadContext
from chatbatch.privacy.retention import RetentionWorkload
from chatbatch.privacy.snapshots import SnapshotWorkload
from chatbatch.process.night import BatchFailed, Night


def registered() -> list[Workload]:
    """The workloads in the order they run (within a phase): after publishing, retention
    runs before the snapshot, so a snapshot never holds what retention dropped."""
    return [
        MlDatasetsExport(),
        IntentModelWorkload(),  # trains on the version MlDatasetsExport just exported
        ArchiveExport(),
        KbIndexWorkload(),
        UserFeaturesWorkload(),
        ReportWorkload(),
        RetentionWorkload(),
        SnapshotWorkload(),
    ]


def of_phase(phase: Phase) -> list[Workload]:
    return [w for w in registered() if w.phase == phase]


def run_phase(night: Night, phase: Phase) -> None:
    """Exports before publishing (a failure fails the batch), pages after it (a failure
    warns: the night's marts are already published)."""
    for workload in of_phase(phase):
        ctx = WorkloadContext(
            paths=night.paths,
            batch_id=night.record.batch_id,
            run_date=night.options.run_date,
            say=night.say,
            record=night.record,
            full_refresh=night.options.recomputes_history,
        )
        try:
            with night.timed(workload.name):
                night.record.outputs[workload.name] = workload.run(ctx)
        except Exception as exc:
            if phase == "before_publish":
                raise BatchFailed(workload.name, f"{type(exc).__name__}: {exc}") from exc
            traceback.print_exc()
            night.alert("warning", f"{workload.name} failed after publishing", {"error": str(exc)})
