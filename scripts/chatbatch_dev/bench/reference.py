"""The hand-written DuckDB reference: one SQL script over the landing files (reference.sql)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from string import Template

import duckdb

from chatbatch.core.paths import PROJECT_DIR

SQL_PATH = Path(__file__).with_name("reference.sql")
PRICES_PATH = PROJECT_DIR / "seeds" / "model_prices.csv"
REPORT_TABLE = "bench_daily_report"
_SAFE_PATH = re.compile(r"^[\w./\-+=:@ ]+$")


def _sql_path(path: Path) -> str:
    """A path for a SQL string literal; refuse anything that could end the literal."""
    text = path.resolve().as_posix()
    if not _SAFE_PATH.match(text):
        raise ValueError(f"unsupported characters in path {text!r}")
    return text


def render(landing: Path, until: date, prices: Path = PRICES_PATH) -> str:
    """The reference script with its placeholders filled."""
    return Template(SQL_PATH.read_text()).substitute(
        landing=_sql_path(landing), until=until.isoformat(), prices=_sql_path(prices)
    )


def daily_report(landing: Path, until: date, out: Path, threads: int | None = None) -> int:
    """Run the reference script in an in-memory DuckDB, write the report to Parquet; rows."""
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"set threads = {int(threads)}")
        con.execute("set preserve_insertion_order = false")
        con.execute(render(landing, until))
        con.execute(f"copy {REPORT_TABLE} to '{_sql_path(out)}' (format parquet)")
        row = con.execute(f"select count(*) from {REPORT_TABLE}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()
