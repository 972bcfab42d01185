"""After an erasure: rebuild every dbt model from raw (full refresh) and publish, with the
nightly's own steps (build, audit, the workloads, publish), recorded in the run history as
a batch of command ``forget``. No ingest and no quality gate: nothing new is loaded, and
a full refresh recomputes every published table, archive month and export from raw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from chatbatch.core.paths import Paths
from chatbatch.monitor.history import RunHistory
from chatbatch.monitor.record import BatchRecord, utc_now
from chatbatch.nightly import next_batch_id
from chatbatch.output.finish import audit_and_publish
from chatbatch.process import build, plan
from chatbatch.process.night import Night, NightlyOptions


def rebuild(paths: Paths, say: Callable[[str], None]) -> BatchRecord:
    """Full refresh and publish, as of the last published night's run date."""
    history = RunHistory(paths.home)
    last = history.last(("ok",))
    run_date = date.fromisoformat(last.run_date) if last else datetime.now(UTC).date() - timedelta(days=1)
    options = NightlyOptions(run_date=run_date, command="forget", full_refresh=True, say=say)
    batch_id = next_batch_id(paths, history)
    record = BatchRecord(batch_id=batch_id, command="forget", run_date=run_date.isoformat())
    night = Night(paths, options, record)
    history.append(record)
    say(f"batch {record.batch_id}: rebuild after erasure (full refresh, run date {record.run_date})")
    try:
        work = plan.plan(night)
        build.build_base(night)
        build.build_rest(night)
        audit_and_publish(night, work)
    except BaseException as exc:
        record.status, record.published = "failed", False
        record.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record.finished_at = utc_now()
        night.history.append(record)
    return record
