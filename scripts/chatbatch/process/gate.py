"""Quality gate: the quarantined share of the new lines decides whether a night goes on.

The gate reads the verdicts of the base models for the batches after the last one it
let through (``chatbatch.gate``). When too many lines were quarantined, the batches
are rolled back so the night leaves no trace and the same files are pending again:

* the runner forgets them in the tables it owns (``raw.*`` and the manifest
  ``chatbatch.landing_files``), in one transaction;
* dbt forgets them in the tables it owns: every base model's pre-hook
  (``forget_rolled_back_batches``) deletes its rows whose batch the manifest no longer
  lists, and the runner runs the base models once right away. The runner never edits
  a dbt-managed table itself, and a run killed between the two steps is repaired by
  the next build, whose pre-hooks run before anything new is inserted.

Otherwise the gate records the last ingested batch as let through.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from chatbatch.contract.sources import RawTable, SourceConfig, raw_tables
from chatbatch.core import duck
from chatbatch.core.faults import checkpoint
from chatbatch.process.build import forget_rolled_back_batches
from chatbatch.process.night import Night, QualityBreach
from chatbatch.process.plan import Pending


def breaches_quality(lines: int, quarantined: int, max_rate: float, min_quarantined: int) -> bool:
    """A batch fails the gate when its quarantined share exceeds ``max_rate`` and it
    quarantined more than ``min_quarantined`` lines: on a handful of lines (a late
    spill file) a single bad line says nothing about the export, so it is quarantined
    and reported but does not fail the night."""
    return lines > 0 and quarantined > min_quarantined and quarantined / lines > max_rate


@dataclass(frozen=True)
class Verdicts:
    lines: int
    quarantined: int

    @property
    def rate(self) -> float:
        return round(self.quarantined / self.lines, 6) if self.lines else 0.0


def base_models(sources: SourceConfig) -> list[str]:
    """The base models (one row per raw line) of the sources a home reads."""
    return [table.base_model for table in raw_tables(sources)]


def verdicts(con: duckdb.DuckDBPyConnection, gated_through: int, models: list[str]) -> Verdicts:
    """Lines and quarantined lines of the batches after ``gated_through``."""
    lines = quarantined = 0
    for model in models:
        row = con.execute(
            f"select count(*), count(_quarantine_reason) from staging.{model} where _batch_id > ?",
            [gated_through],
        ).fetchone()
        lines, quarantined = lines + int(row[0] if row else 0), quarantined + int(row[1] if row else 0)
    return Verdicts(lines, quarantined)


def gate(night: Night, work: Pending) -> None:
    """Let the pending batches through, or roll them back and raise QualityBreach."""
    options = night.options
    with night.timed("gate"):
        con = night.connect()
        try:
            found = verdicts(con, work.gated_through, base_models(night.sources))
            night.record.quarantine_rate = found.rate
            if not breaches_quality(
                found.lines, found.quarantined, options.max_error_rate, options.min_quarantined
            ):
                with duck.transaction(con):
                    con.execute("delete from chatbatch.gate")
                    con.execute("insert into chatbatch.gate values (?)", [work.max_batch])
                    checkpoint("gate")
                return
            _forget_ungated(con, work.gated_through, raw_tables(night.sources))
        finally:
            con.close()
    forget_rolled_back_batches(night)
    raise QualityBreach(
        f"quarantine rate {found.rate:.2%} of {found.lines:,} new lines exceeds --max-error-rate "
        f"{options.max_error_rate:.2%}; the batch was rolled back and nothing was published "
        f"(export dates: {', '.join(work.dates)})",
        "see `chatbatch summary` for the quarantine reasons; fix the export and land it again, "
        "or rerun with a higher --max-error-rate if the rate is expected",
    )


def _forget_ungated(con: duckdb.DuckDBPyConnection, gated_through: int, tables: list[RawTable]) -> None:
    """The runner's own tables: the ungated batches' lines and manifest rows."""
    with duck.transaction(con):
        for table in tables:
            con.execute(f"delete from {table.relation} where _batch_id > ?", [gated_through])
        con.execute("delete from chatbatch.landing_files where batch_id > ?", [gated_through])
