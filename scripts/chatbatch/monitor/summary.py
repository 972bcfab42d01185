"""Summary of a warehouse: rows per layer, quarantined lines by reason, misfiled and waiting landing paths."""

from __future__ import annotations

from pathlib import Path

import duckdb

from chatbatch.core import duck

LAYERS = ("raw", "staging", "intermediate", "marts", "audit")


def warehouse_summary(database: Path) -> str:
    """A short, human-readable account of what the warehouse holds."""
    con = duck.connect(str(database), read_only=True)
    try:
        lines = [f"Warehouse: {database}"]
        tables = con.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_schema in ({})
            order by 1, 2
            """.format(", ".join("?" for _ in LAYERS)),
            list(LAYERS),
        ).fetchall()
        current = None
        for schema, table in tables:
            if schema != current:
                lines.append(f"  {schema}:")
                current = schema
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            lines.append(f"    {table:<40} {count[0] if count else 0:>12,} rows")
        if ("audit", "quarantine_records") in tables:
            lines.append("  quarantined lines by reason:")
            for reason, count in con.execute(
                """
                select quarantine_reason, count(*)
                from audit.quarantine_records
                group by 1
                order by 2 desc, 1
                """
            ).fetchall():
                lines.append(f"    {reason:<40} {count:>12,}")
        if ("audit", "audit_load_reconciliation") in tables:
            row = con.execute(
                """
                select
                    sum(lines_read), sum(loaded), sum(quarantined), sum(duplicates),
                    count(*) filter (where not is_balanced)
                from audit.audit_load_reconciliation
                """
            ).fetchone()
            if row:
                read, loaded, quarantined, duplicates, unbalanced = row
                lines.append(
                    f"  reconciliation: {read or 0:,} lines read = {loaded or 0:,} loaded "
                    f"+ {quarantined or 0:,} quarantined + {duplicates or 0:,} duplicates"
                    + ("" if not unbalanced else f"  ({unbalanced} UNBALANCED entity-days)")
                )
        lines += _misfiled_lines(con)
        lines += _waiting_lines(con)
        return "\n".join(lines)
    finally:
        con.close()


def _misfiled_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Landing paths the last ingest found outside the layout (``chatbatch.landing_misfiled``)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'chatbatch' and table_name = 'landing_misfiled'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    rows = con.execute(
        "select path, reason, first_seen_at from chatbatch.landing_misfiled order by path"
    ).fetchall()
    if not rows:
        return ["  misfiled landing paths: none"]
    lines = [f"  misfiled landing paths (not loaded; move or rename them to fit the layout): {len(rows)}"]
    lines += [
        f"    {path}: {reason} (since {first_seen:%Y-%m-%d %H:%M})" for path, reason, first_seen in rows
    ]
    return lines


def _waiting_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Landing files the last ingest found not complete yet (``chatbatch.landing_waiting``):
    a Langfuse run without its manifest, a live OTel file. Not an error."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'chatbatch' and table_name = 'landing_waiting'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    rows = con.execute(
        "select path, reason, first_seen_at from chatbatch.landing_waiting order by path"
    ).fetchall()
    if not rows:
        return []
    lines = [f"  waiting landing files (loaded once complete): {len(rows)}"]
    lines += [
        f"    {path}: {reason} (since {first_seen:%Y-%m-%d %H:%M})" for path, reason, first_seen in rows
    ]
    return lines
