"""Load landing files into Spark tables: the Spark twin of ``ingest.py``.

The same raw tables (``raw.<entity>``: one row per landing line with file, line number,
line error and batch id) and the same manifest (``chatbatch.landing_files``) as the
DuckDB path, so the dbt sources, the base models and the load reconciliation are the
same. Bytes are read by ``ingest.read_lines`` (gzip salvage, UTF-8 check, line
numbering, sha256): Spark's text and JSON readers replace undecodable bytes with
U+FFFD and stop at a cut gzip stream, which would lose the ``invalid_utf8`` /
``truncated_file`` verdicts and break the reconciliation. Parsing and judging each
line is then Spark's own JSON parser (``from_json``) in the base models.

Needs the ``[spark]`` extra (pyspark) and Java 17.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import yaml

from chatbatch.accumulate.landing import discover
from chatbatch.accumulate.lines import read_lines
from chatbatch.contract import ENTITIES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

RAW_COLUMNS = """
    _file_path string,
    _export_date date,
    _line_number int,
    _line string,
    _line_error string,
    _batch_id int,
    _ingested_at timestamp
"""
MANIFEST_COLUMNS = """
    file_path string,
    entity string,
    export_date date,
    size_bytes bigint,
    sha256 string,
    lines_read bigint,
    file_error string,
    batch_id int,
    first_seen_at timestamp,
    ingested_at timestamp,
    mtime_ns bigint
"""


def require_java() -> None:
    """Fail early, and clearly, when no Java runtime is available."""
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise SystemExit(
            "Spark needs a Java runtime (17 recommended): no `java` on PATH and JAVA_HOME is not set. "
            "Install one (e.g. apt-get install openjdk-17-jre-headless) and retry."
        )


def profile_spark_conf(project_dir: Path, target: str = "spark") -> dict[str, str]:
    """The Spark settings of the dbt profile's target, rendered like dbt renders them."""
    profiles = yaml.safe_load((project_dir / "profiles" / "profiles.yml").read_text())
    output = profiles["chatbot_analytics"]["outputs"][target]

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise KeyError(f"environment variable {name} is not set")
        return value

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        key: env.from_string(str(value)).render(env_var=env_var)
        for key, value in output.get("server_side_parameters", {}).items()
    }


def spark_session(conf: dict[str, str]) -> SparkSession:
    """Start (or reuse) the in-process session with the profile's settings.

    dbt-spark's ``session`` method calls ``getOrCreate``, so a dbt run in this process
    reuses it: one JVM, one embedded metastore.
    """
    require_java()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("chatbatch").enableHiveSupport()
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    register_functions(session)
    return session


def register_functions(session: SparkSession) -> None:
    """The project's Python functions, under the names the ``default__`` macros call:
    ``redact_pii`` (``chatbatch.transform.redact.redact``, the single implementation of the PII
    rules; the dbt-duckdb plugin registers the same function on DuckDB) and the experiment
    statistics' distribution functions (``chatbatch.transform.stats.FUNCTIONS``)."""
    from chatbatch.transform.redact import redact
    from chatbatch.transform.stats import FUNCTIONS

    session.udf.register("redact_pii", redact, "string")
    for name, (function, _arity) in FUNCTIONS.items():
        session.udf.register(name, function, "double")


def ensure_state(spark: SparkSession) -> None:
    """Create the raw tables and the manifest (parquet) if the metastore is new."""
    spark.sql("create database if not exists raw")
    spark.sql("create database if not exists chatbatch")
    spark.sql(f"create table if not exists chatbatch.landing_files ({MANIFEST_COLUMNS}) using parquet")
    for entity in ENTITIES:
        spark.sql(f"create table if not exists raw.{entity} ({RAW_COLUMNS}) using parquet")


def load(spark: SparkSession, landing: Path) -> dict[str, Any]:
    """Load every landing file not yet in the manifest as one new batch.

    Raw lines are appended first, the manifest rows last, one insert per table. Plain
    parquet tables have no transactions: a load killed between the two leaves raw rows
    without manifest rows, which the audit's raw-vs-manifest check reports (on a real
    cluster, use Delta or Iceberg tables for raw and the manifest).
    """
    from pyspark.sql.types import _parse_datatype_string

    ensure_state(spark)
    known = {row.file_path for row in spark.sql("select file_path from chatbatch.landing_files").collect()}
    max_batch = spark.sql("select coalesce(max(batch_id), 0) as b from chatbatch.landing_files").first()
    batch_id = int(max_batch.b if max_batch else 0) + 1
    now = datetime.now(UTC)
    raw_rows: dict[str, list[tuple]] = {entity: [] for entity in ENTITIES}
    manifest_rows: list[tuple] = []
    for landing_file in discover(landing).files:
        if landing_file.relative_path in known:
            continue
        mtime_ns = landing_file.absolute_path.stat().st_mtime_ns
        content = read_lines(landing_file.absolute_path)
        raw_rows[landing_file.entity].extend(
            (landing_file.relative_path, landing_file.export_date, number, line, error, batch_id, now)
            for number, (line, error) in enumerate(zip(content.lines, content.line_errors, strict=True), 1)
        )
        manifest_rows.append(
            (
                landing_file.relative_path,
                landing_file.entity,
                landing_file.export_date,
                content.size_bytes,
                content.sha256,
                len(content.lines),
                content.file_error,
                batch_id,
                now,
                now,
                mtime_ns,
            )
        )
    raw_schema = _parse_datatype_string(RAW_COLUMNS)
    for entity, rows in raw_rows.items():
        if rows:
            spark.createDataFrame(rows, raw_schema).write.insertInto(f"raw.{entity}")
    if manifest_rows:
        manifest_schema = _parse_datatype_string(MANIFEST_COLUMNS)
        spark.createDataFrame(manifest_rows, manifest_schema).write.insertInto("chatbatch.landing_files")
    return {
        "batch_id": batch_id,
        "files": len(manifest_rows),
        "lines": sum(len(rows) for rows in raw_rows.values()),
    }
