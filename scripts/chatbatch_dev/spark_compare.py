"""`make test-spark`: build the same dbt project on Spark and on DuckDB, compare every mart.

1. generate a small landing set (dirty, so quarantine and dedup are exercised);
2. DuckDB: the real nightly batch (``chatbatch nightly``) on it;
3. Spark: load the same files (``spark_load``) into a local in-process PySpark, then
   ``dbt build --target spark`` in the same process (dbt-spark's session method reuses
   the session), with its own target path and warehouse folder;
4. compare table by table: row counts exact, numbers within 1e-9, strings, dates and
   (UTC) timestamps exact, order-insensitive. Marts are the models under
   ``models/marts/core`` and ``models/marts/reporting``; the audit tables are compared
   too (same quarantine reasons, same reconciliation).

Exit 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from chatbatch.accumulate.landing import discover
from chatbatch.contract import ENTITIES
from chatbatch.core.paths import PROJECT_DIR

MART_DIRS = ("models/marts/core", "models/marts/reporting")
AUDIT_TABLES = ("audit.audit_load_reconciliation", "audit.quarantine_records")
# the ML outputs too: redaction (a Python UDF on both engines) and the md5 split must agree
WORKLOAD_TABLES = ("features.feat_user_daily", "ml.ml_intent_examples", "ml.ml_response_preferences")
# when a row was processed: legitimately different between two engines' runs
IGNORED_COLUMNS = {"ingested_at", "_ingested_at", "first_seen_at"}
TOLERANCE = 1e-9
# rows only DuckDB has: the topic rows of the content gaps come from the topics step, which
# runs on DuckDB only (macros/cross_db/topics.sql)
DUCKDB_ONLY_ROWS = {"marts.rpt_kb_content_gaps": "topic_id is not null"}


def mart_tables() -> list[str]:
    """``schema.table`` for every mart model (one .sql file each)."""
    names = []
    for folder in MART_DIRS:
        names += [f"marts.{path.stem}" for path in sorted((PROJECT_DIR / folder).glob("*.sql"))]
    return names


def normalise(value: Any) -> Any:
    """One comparable Python value per cell, the same for both engines."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list | tuple):
        return tuple(normalise(item) for item in value)
    return value


def sort_key(row: tuple) -> tuple:
    return tuple(
        (0, "") if v is None else (1, round(v, 6)) if isinstance(v, float) else (2, str(v)) for v in row
    )


def rows_match(left: list[tuple], right: list[tuple]) -> str | None:
    """None when equal as multisets (floats within TOLERANCE), else the first difference."""
    if len(left) != len(right):
        return f"row counts differ: duckdb {len(left)}, spark {len(right)}"
    for a, b in zip(sorted(left, key=sort_key), sorted(right, key=sort_key), strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, int | float) and isinstance(y, int | float) and not isinstance(x, bool):
                if not math.isclose(x, y, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
                    return f"duckdb {a} != spark {b}"
            elif x != y:
                return f"duckdb {a} != spark {b}"
    return None


def duckdb_rows(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[tuple]]:
    schema, name = table.split(".")
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
    ]
    if not columns:
        raise LookupError(f"{table} not found in the DuckDB warehouse")
    keep = [c for c in columns if c not in IGNORED_COLUMNS]
    select = ", ".join(f'"{c}"' for c in keep)
    where = f"where not ({DUCKDB_ONLY_ROWS[table]})" if table in DUCKDB_ONLY_ROWS else ""
    return keep, [
        tuple(normalise(v) for v in row)
        for row in con.execute(f"select {select} from {table} {where}").fetchall()
    ]


def spark_rows(spark: Any, table: str, columns: list[str]) -> list[tuple]:
    spark_columns = {field.name for field in spark.table(table).schema.fields}
    missing = [c for c in columns if c not in spark_columns]
    if missing:
        raise LookupError(f"{table}: columns missing on Spark: {missing}")
    frame = spark.table(table).select(*[f"`{c}`" for c in columns])
    return [tuple(normalise(v) for v in row) for row in frame.collect()]


def run(command: list[str], env: dict[str, str]) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env, cwd=PROJECT_DIR)


def build_duckdb(args: argparse.Namespace, env: dict[str, str], bin_dir: Path, timings: dict) -> None:
    """Generate the landing set and run the real nightly batch on it (ci target)."""
    step = time.monotonic()
    run(
        [str(bin_dir / "chatbatch"), "generate", "--start", args.start, "--days", str(args.days),
         "--conversations-per-day", str(args.conversations_per_day), "--seed", str(args.seed),
         "--dirty-rate", str(args.dirty_rate)],
        env,
    )  # fmt: skip
    # up to the latest partition, so late spills are in both builds (the Spark loader reads all)
    last_day = max(f.export_date for f in discover(Path(env["CHATBATCH_HOME"]) / "landing").files).isoformat()
    run([str(bin_dir / "chatbatch"), "nightly", "--date", last_day], {**env, "DBT_TARGET": "ci"})
    timings["duckdb generate + nightly"] = time.monotonic() - step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=PROJECT_DIR / "build" / "spark")
    parser.add_argument("--start", default="2026-11-01")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--conversations-per-day", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dirty-rate", type=float, default=0.03)
    parser.add_argument("--exclude", default="tag:duckdb_only", help="dbt selector left out on Spark")
    parser.add_argument(
        "--reuse-duckdb", action="store_true", help="keep the landing set and DuckDB build of the last run"
    )
    args = parser.parse_args(argv)

    home: Path = args.home.resolve()
    duck_home, spark_home = home / "duckdb-home", home / "spark-home"
    shutil.rmtree(spark_home if args.reuse_duckdb else home, ignore_errors=True)
    duck_home.mkdir(parents=True, exist_ok=True)
    spark_home.mkdir(parents=True)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "CHATBATCH_HOME": str(duck_home), "CHATBATCH_SPARK_HOME": str(spark_home)}
    os.environ["CHATBATCH_SPARK_HOME"] = str(spark_home)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python UDF workers see chatbatch
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: no other interface needed
    # one process loads, builds and compares: no persistent (Derby) metastore needed
    os.environ.setdefault("CHATBATCH_SPARK_CATALOG", "in-memory")
    timings: dict[str, float] = {}

    started = time.monotonic()
    landing = duck_home / "landing"
    if not args.reuse_duckdb:
        build_duckdb(args, env, bin_dir, timings)

    from chatbatch.accumulate import spark_load

    step = time.monotonic()
    spark = spark_load.spark_session(spark_load.profile_spark_conf(PROJECT_DIR))
    timings["spark start"] = time.monotonic() - step
    print(f"spark: session up in {timings['spark start']:.1f}s", flush=True)
    step = time.monotonic()
    loaded = spark_load.load(spark, landing)
    timings["spark load"] = time.monotonic() - step
    print(f"spark: load took {timings['spark load']:.1f}s", flush=True)
    print(
        f"spark: loaded {loaded['lines']:,} lines from {loaded['files']} files as batch {loaded['batch_id']}"
    )

    from dbt.cli.main import dbtRunner

    step = time.monotonic()
    # models, seeds and unit tests; the data tests are the DuckDB suite's job (and the
    # comparison below checks every mart value), and cost ~1 s each on local Spark
    result = dbtRunner().invoke(
        ["build", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR / "profiles"),
         "--target", "spark", "--target-path", str(spark_home / "target"),
         "--log-path", str(spark_home / "logs"), "--exclude", args.exclude, "--exclude-resource-type", "test"]
    )  # fmt: skip
    timings["spark dbt build"] = time.monotonic() - step
    if not result.success:
        print(f"dbt build on Spark failed: {result.exception or 'see the log above'}", file=sys.stderr)
        return 1

    failures = 0
    tables = mart_tables() + list(AUDIT_TABLES) + list(WORKLOAD_TABLES)
    con = duckdb.connect(str(duck_home / "warehouse.duckdb"), read_only=True)
    try:
        print(f"\n{'table':<40} {'duckdb':>8} {'spark':>8}  result")
        for table in tables:
            columns, left = duckdb_rows(con, table)
            right = spark_rows(spark, table, columns)
            problem = rows_match(left, right)
            failures += problem is not None
            print(f"{table:<40} {len(left):>8} {len(right):>8}  {'match' if problem is None else problem}")
    finally:
        con.close()
    spark_rows_total = sum(spark.table(f"raw.{entity}").count() for entity in ENTITIES)
    timings["total"] = time.monotonic() - started
    print("\n" + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items()))
    print(f"spark build: {timings['spark dbt build']:.1f}s for {spark_rows_total:,} landing lines")
    print(f"{len(tables) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
