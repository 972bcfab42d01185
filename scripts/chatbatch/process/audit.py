"""Audit: the night's numbers, read once dbt's tests have passed.

Whether the numbers add up is checked once, by dbt, in the build: the load
reconciliation must balance for every entity and export day (the model test in
models/audit/_audit__models.yml), and the raw tables must hold exactly the lines the
manifest counted (tests/dbt/audit/assert_raw_lines_match_manifest.sql). A failure
there fails the build, so nothing is published. This step only reads the figures the
run record keeps: lines loaded / quarantined / duplicated on the pending export days,
records later than the lookback, and the rows of every model the night built.
"""

from __future__ import annotations

import duckdb

from chatbatch.monitor.record import BatchRecord
from chatbatch.process.gate import base_models
from chatbatch.process.night import Night, scalar
from chatbatch.process.plan import Pending

# The event time of a record, per base model: a record whose event day lies more than the
# lookback before its export day is "late beyond lookback".
EVENT_TIME_COLUMNS = {
    "base_chatbot__conversations": "started_at",
    "base_chatbot__messages": "sent_at",
    "base_chatbot__events": "occurred_at",
    "base_chatbot__feedback": "submitted_at",
    "base_langfuse__observations": "start_time",
    "base_langfuse__scores": "scored_at",
}


def audit(night: Night, work: Pending) -> None:
    with night.timed("audit"):
        con = night.connect()
        try:
            _reconciled_counts(con, night, work)
            night.record.late_beyond_lookback = sum(
                scalar(
                    con,
                    f"""
                    select count(*) from staging.{model}
                    where _batch_id > ? and _quarantine_reason is null
                        and cast({EVENT_TIME_COLUMNS[model]} as date) < _export_date - ?::integer
                    """,
                    [work.gated_through, night.options.lookback_days],
                )
                for model in base_models(night.sources)
                if model in EVENT_TIME_COLUMNS
            )
            _model_rows(con, night)
        finally:
            con.close()


def _reconciled_counts(con: duckdb.DuckDBPyConnection, night: Night, work: Pending) -> None:
    if not work.dates:
        return
    placeholders = ", ".join("?" for _ in work.dates)
    row = con.execute(
        f"""
        select coalesce(sum(loaded), 0), coalesce(sum(quarantined), 0), coalesce(sum(duplicates), 0)
        from audit.audit_load_reconciliation
        where export_date::varchar in ({placeholders})
        """,
        work.dates,
    ).fetchone()
    if row:
        night.record.loaded, night.record.quarantined, night.record.duplicates = (int(v) for v in row)


def _model_rows(con: duckdb.DuckDBPyConnection, night: Night) -> None:
    """dbt reports no row counts: count each built model's rows."""
    for name, run in night.record.models.items():
        relation = con.execute(
            "select table_schema from information_schema.tables where table_name = ? "
            "and table_schema not in ('raw', 'chatbatch')",
            [name],
        ).fetchone()
        if relation:
            run.rows = scalar(con, f'select count(*) from "{relation[0]}"."{name}"')


def alert_findings(night: Night, previous: BatchRecord | None) -> None:
    """Warnings a published night still deserves: days without exports, and records so
    late that days before the lookback changed."""
    record = night.record
    if record.missing_dates:
        details = {"missing_dates": ", ".join(record.missing_dates)}
        night.alert("warning", f"no exports landed for {len(record.missing_dates)} day(s)", details)
    if record.late_beyond_lookback and previous is not None:
        night.alert(
            "warning",
            f"{record.late_beyond_lookback:,} records arrived more than {night.options.lookback_days} "
            "days late; published days before the lookback changed",
            {},
        )
