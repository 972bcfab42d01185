"""Order-insensitive fingerprints of published tables, to compare two warehouses."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Columns that say *when* or *in which batch* a row was processed: they legitimately
# differ between a sequence of nights and one full refresh of the same files.
PROCESS_COLUMNS = {
    "batch_id",
    "_batch_id",
    "_processed_batch_id",
    "ingested_at",
    "_ingested_at",
    "first_seen_at",
}


# Rows that depend on the topic model, not only on the data: a home that ran night by night
# fitted its model on its first nights, a full refresh on everything, so these rows differ
# by design. Given the same model they are equal (tests/python/test_topics_nightly.py); the
# incremental-versus-full-refresh comparison leaves them out (content gaps keep intent rows).
TOPIC_MODEL_ROWS = {
    "marts.dim_topics": "false",
    "marts.rpt_topics": "false",
    "marts.rpt_kb_content_gaps": "topic_id is null",
}


def fingerprint(
    database: Path, schemas: tuple[str, ...] = ("marts", "audit"), where: dict[str, str] | None = None
) -> dict[str, tuple]:
    """Per table: (row count, sum of row hashes), doubles rounded to 9 decimals (see below);
    ``where`` keeps only the rows of a table (``schema.table``) that match a SQL predicate."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ({}) order by 1, 2".format(", ".join("?" for _ in schemas)),
            list(schemas),
        ).fetchall()
        out: dict[str, tuple] = {}
        for schema, table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            parts = [
                # rounded to 9 decimals after a 1e-12 relative nudge: a value that sits on a
                # rounding boundary (0.0012070125 from a cost / 2) rounds the same way whether
                # float summation order left it 1e-19 above or below
                f'"{name}" := round("{name}" * (1 + 1e-12), 9)'
                if data_type in ("DOUBLE", "FLOAT")
                else f'"{name}" := "{name}"'
                for name, data_type in columns
                if name not in PROCESS_COLUMNS
            ]
            predicate = (where or {}).get(f"{schema}.{table}", "true")
            row = con.execute(
                f"select count(*), coalesce(sum(hash(struct_pack({', '.join(parts)}))), 0) "
                f'from "{schema}"."{table}" where {predicate}'
            ).fetchone()
            out[f"{schema}.{table}"] = tuple(row) if row else (0, 0)
        return out
    finally:
        con.close()


def query_rows(database: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` on ``database``, opened read-only."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
