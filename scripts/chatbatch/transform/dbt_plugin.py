"""dbt-duckdb plugin: registers the project's Python functions on every dbt connection.

profiles/profiles.yml lists it under ``plugins`` for each DuckDB target that builds (not
``published``, which only reads), so the ``redact_pii`` macro's DuckDB implementation can
call ``redact_pii(text)`` (``chatbatch.transform.redact``), and the experiment statistics'
distribution functions (``chatbatch.transform.stats``: p-values and quantiles from scipy).
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from chatbatch.transform import redact, stats


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        redact.register(conn)
        stats.register(conn)
