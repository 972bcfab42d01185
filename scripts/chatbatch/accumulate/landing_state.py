"""The landing paths an ingest could not load: ``chatbatch.landing_misfiled`` (paths that do
not fit the layout) and ``chatbatch.landing_waiting`` (files not complete yet), each
replaced by what the last ingest found, in a transaction of its own."""

from __future__ import annotations

import duckdb

from chatbatch.accumulate.landing import WaitingFile
from chatbatch.core import duck
from chatbatch.monitor.record import MisfiledPath


def record_misfiled(con: duckdb.DuckDBPyConnection, misfiled: list[MisfiledPath], batch_id: int) -> None:
    """Replace the misfiled set in one transaction; a path seen before keeps its first_seen_at."""
    _replace_paths(con, "landing_misfiled", [(m.path, m.reason) for m in misfiled], batch_id)


def record_waiting(con: duckdb.DuckDBPyConnection, waiting: list[WaitingFile], batch_id: int) -> None:
    """Replace the waiting set in one transaction; a path seen before keeps its first_seen_at."""
    _replace_paths(con, "landing_waiting", [(w.path, w.reason) for w in waiting], batch_id)


def _replace_paths(
    con: duckdb.DuckDBPyConnection, table: str, paths: list[tuple[str, str]], batch_id: int
) -> None:
    with duck.transaction(con):
        first_seen = dict(con.execute(f"select path, first_seen_at from chatbatch.{table}").fetchall())
        con.execute(f"delete from chatbatch.{table}")
        if paths:
            con.executemany(
                f"""
                insert into chatbatch.{table}
                values (?, ?, coalesce(?, now()::timestamp), now()::timestamp, ?)
                """,
                [(path, reason, first_seen.get(path), batch_id) for path, reason in paths],
            )
