"""The workloads a night runs, in order within each phase (see ``workload.py``)."""

from __future__ import annotations

from chatbatch.output.archive import ArchiveExport
from chatbatch.output.features import UserFeaturesWorkload
from chatbatch.output.kb.index import KbIndexWorkload
from chatbatch.output.ml import MlDatasetsExport
from chatbatch.output.report.workload import ReportWorkload
from chatbatch.output.workload import Phase, Workload


def registered() -> list[Workload]:
    """The workloads in the order they run (within a phase)."""
    return [MlDatasetsExport(), ArchiveExport(), KbIndexWorkload(), UserFeaturesWorkload(), ReportWorkload()]


def of_phase(phase: Phase) -> list[Workload]:
    return [w for w in registered() if w.phase == phase]
