"""The nightly ``intent_model`` step: train when due, then refresh the evaluations table and
add the night's messages to the labelling queue (labelling.py).

Due: every night with ``CHATBATCH_TRAIN_INTENT=nightly`` (or ``chatbatch nightly
--train-intent``), never with ``off``, and by default (``weekly``) when no candidate was
trained in the six nights before this run date. Even when due, training is skipped while
the latest ``ml_intent_examples`` version is the one the last candidate saw. Runs before
publishing, after the ML datasets were exported: a failure fails the night.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chatbatch.output.intent_model import evaluations, labelling
from chatbatch.output.intent_model.settings import WEEK_DAYS, TrainSettings
from chatbatch.output.intent_model.store import ModelStore
from chatbatch.output.intent_model.train import TrainResult, train_intent
from chatbatch.output.workload import Phase, WorkloadContext


def due(store: ModelStore, settings: TrainSettings, run_date: date) -> str | None:
    """Why training is not due this night, or None when it is."""
    if settings.schedule == "off":
        return "training is off (CHATBATCH_TRAIN_INTENT=off)"
    versions = store.versions()
    if settings.schedule == "weekly" and versions:
        last = date.fromisoformat(versions[-1].metrics()["run_date"])
        if run_date - last < timedelta(days=WEEK_DAYS):
            return (
                f"weekly: last trained for {last.isoformat()} (CHATBATCH_TRAIN_INTENT=nightly: every night)"
            )
    return None


class IntentModelWorkload:
    name = "intent_model"
    phase: Phase = "before_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        settings = TrainSettings.from_env()
        store = ModelStore(ctx.paths.intent_model)
        not_due = due(store, settings, ctx.run_date)
        if not_due:
            result = TrainResult("skipped", not_due)
        else:
            result = train_intent(ctx.paths, ctx.run_date, ctx.batch_id, settings)
        rows = evaluations.write_table(ctx.paths.warehouse, store)
        queued = labelling.write_queue(ctx.paths.warehouse, store, ctx.full_refresh)
        ctx.say(
            f"  intent model: {describe(result)}; {rows} evaluation rows; {queued.rows} queued for "
            f"labelling ({queued.judged} texts judged, the others judged before)"
        )
        return result.to_dict() | {
            "evaluation_rows": rows,
            "labelling_queued": queued.rows,
            "labelling_texts_judged": queued.judged,
        }


def describe(result: TrainResult) -> str:
    if result.outcome == "skipped":
        return f"skipped ({result.reason})"
    return (
        f"v={result.version:04d} {result.outcome} on {result.dataset_version}: {result.reason} "
        f"(trained in {result.seconds} s)"
    )
