"""dbt-duckdb plugin: registers the PII redaction function on every dbt connection.

profiles/profiles.yml lists it under ``plugins`` for each DuckDB target that builds (not
``published``, which only reads), so the ``redact_pii`` macro's DuckDB implementation can
call ``redact_pii(text)`` (``chatbatch.transform.redact``).
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from chatbatch.transform.redact import register


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register(conn)
