"""The engine floor: what the SQL of a dbt build costs with no dbt and no runner around it.

dbt's own compiled output of a build (``manifest.json`` and ``compiled/`` in the home's dbt
target folder, ``Paths.dbt_target``) is executed in ONE DuckDB connection on a copy of the
home, every model in dependency order (``depends_on`` in the manifest, topological), then
every data test as ``select count(*) from (<compiled test>)``. Models and tests are timed
apart. The connection gets what dbt's gets: the project's Python functions through the
dbt-duckdb plugin (``chatbatch.transform.dbt_plugin``, e.g. ``redact_pii``), the runner's
memory limit (``chatbatch.core.duck``) and ``preserve_insertion_order = false`` (profiles.yml).

* **full** (a full refresh, or a cold build): ``create or replace table|view <relation> as
  <compiled select>`` by materialization (incremental models as tables);
* **incremental** (a nightly, compiled with ``is_incremental()`` true): incremental models
  ``create temp table`` of the compiled select, then delete the target's rows with the same
  ``unique_key`` and insert (append models: insert only); tables and views as in full.

Ephemeral models are inlined by dbt and skipped; seeds and sources are already in the copy.
Model hooks are not run (listed in the result): the floor is the models' SQL. The models
executed are the ones the build ran (its run record); a test runs when every model it
tests ran. Row counts of every table are compared with dbt's (the copy before the floor
ran, or ``compare``: the warehouse dbt built); a mismatch is reported, never raised.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb

from chatbatch.core import duck
from chatbatch_dev.bench.harness import Bench, Step, bench_step_argv, clone_home, reported_run, step_output

PLUGIN_MODULE = "chatbatch.transform.dbt_plugin"  # profiles.yml's plugin, registered as dbt-duckdb does
TABLE_KINDS = ("table", "incremental")
_NEW_ROWS = "__floor_new_rows"


@dataclass(frozen=True)
class FloorNode:
    """One model or data test of the build, with its compiled SQL."""

    unique_id: str
    name: str
    materialized: str  # table, view, incremental; "test" for a test
    relation: str  # "database"."schema"."alias" (models)
    sql: str
    unique_key: tuple[str, ...] = ()
    strategy: str | None = None
    hooks: int = 0


@dataclass
class FloorResult:
    mode: str
    models_run: int = 0
    tests_run: int = 0
    models_seconds: float = 0.0
    tests_seconds: float = 0.0
    failing_tests: list[str] = field(default_factory=list)  # tests that returned rows
    hooks_not_run: list[str] = field(default_factory=list)
    model_seconds: dict[str, float] = field(default_factory=dict)
    row_count_mismatches: dict[str, list[int | None]] = field(default_factory=dict)  # [dbt, floor]
    tables_compared: int = 0

    @property
    def seconds(self) -> float:
        return round(self.models_seconds + self.tests_seconds, 3)

    def to_dict(self) -> dict[str, Any]:
        slowest = sorted(self.model_seconds.items(), key=lambda item: item[1], reverse=True)[:8]
        data = {**asdict(self), "seconds": self.seconds, "slowest_models": dict(slowest)}
        del data["model_seconds"]
        return data


def compiled_sql(target: Path, node: dict[str, Any]) -> str | None:
    """dbt's compiled SQL of ``node`` under ``target/compiled`` (None: never compiled there)."""
    original = node["original_file_path"]
    parts = [original] if original.endswith(".sql") else [original, node["path"]]
    path = target.joinpath("compiled", node["package_name"], *parts)
    return path.read_text(encoding="utf-8") if path.exists() else None


def _unique_key(config: dict[str, Any]) -> tuple[str, ...]:
    key = config.get("unique_key")
    if not key:
        return ()
    return (key,) if isinstance(key, str) else tuple(key)


def load_nodes(target: Path, ran: set[str] | None) -> tuple[list[FloorNode], list[FloorNode]]:
    """The models (dependency order) and data tests of the build compiled into ``target``.

    ``ran``: the names of the models the build ran (its run record); None: every model."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    models: dict[str, FloorNode] = {}
    for unique_id, node in nodes.items():
        materialized = node["config"].get("materialized")
        if node["resource_type"] != "model" or materialized not in (*TABLE_KINDS, "view"):
            continue
        if ran is not None and node["name"] not in ran:
            continue
        sql = compiled_sql(target, node)
        if sql is None:
            continue
        models[unique_id] = FloorNode(
            unique_id=unique_id,
            name=node["name"],
            materialized=materialized,
            relation=node["relation_name"],
            sql=sql,
            unique_key=_unique_key(node["config"]),
            strategy=node["config"].get("incremental_strategy"),
            hooks=len(node["config"].get("pre-hook") or []) + len(node["config"].get("post-hook") or []),
        )
    graph = {
        unique_id: [d for d in nodes[unique_id]["depends_on"]["nodes"] if d in models] for unique_id in models
    }
    ordered = [models[unique_id] for unique_id in TopologicalSorter(graph).static_order()]
    tests = []
    for unique_id, node in sorted(nodes.items()):
        if node["resource_type"] != "test":
            continue
        tested = [d for d in node["depends_on"]["nodes"] if d.startswith("model.")]
        if not all(d in models for d in tested):
            continue
        sql = compiled_sql(target, node)
        if sql is not None:
            tests.append(FloorNode(unique_id, node["name"], "test", "", sql))
    return ordered, tests


def _statements(node: FloorNode, incremental: bool) -> list[str]:
    select = node.sql.strip().rstrip(";")
    if node.materialized == "view":
        return [f"create or replace view {node.relation} as (\n{select}\n)"]
    if not incremental or node.materialized != "incremental":
        return [f"create or replace table {node.relation} as (\n{select}\n)"]
    statements = [f"create or replace temp table {_NEW_ROWS} as (\n{select}\n)"]
    if node.unique_key and node.strategy != "append":
        match = " and ".join(f'target."{k}" = new_rows."{k}"' for k in node.unique_key)
        statements.append(
            f"delete from {node.relation} as target using {_NEW_ROWS} as new_rows where {match}"
        )
    statements.append(f"insert into {node.relation} by name select * from {_NEW_ROWS}")
    statements.append(f"drop table {_NEW_ROWS}")
    return statements


def _counts(
    con: duckdb.DuckDBPyConnection, models: list[FloorNode], catalog: str | None
) -> dict[str, int | None]:
    counts: dict[str, int | None] = {}
    for node in models:
        if node.materialized not in TABLE_KINDS:
            continue
        relation = node.relation
        if catalog is not None:
            relation = f'"{catalog}".' + relation.split(".", 1)[1]
        try:
            counts[node.name] = int(con.execute(f"select count(*) from {relation}").fetchall()[0][0])
        except duckdb.Error:  # a missing table counts None: reported as a mismatch
            counts[node.name] = None
    return counts


def execute(
    warehouse: Path, target: Path, ran: set[str] | None, incremental: bool, compare: Path | None = None
) -> FloorResult:
    """Run the floor on ``warehouse`` (a copy: it is rewritten) and return what it measured."""
    models, tests = load_nodes(target, ran)
    mode = "incremental" if incremental else "full"
    result = FloorResult(mode=mode, models_run=len(models), tests_run=len(tests))
    result.hooks_not_run = [m.name for m in models if m.hooks]
    con = duck.connect(warehouse)
    try:
        con.execute("set preserve_insertion_order = false")
        from dbt.adapters.duckdb.plugins import BasePlugin  # dbt's import cost stays in the child

        BasePlugin.create(PLUGIN_MODULE).configure_connection(con)
        if compare is not None:
            con.execute(f"attach '{compare.as_posix()}' as dbt_built (read_only)")
        before = _counts(con, models, "dbt_built" if compare is not None else None)
        started = time.perf_counter()
        for node in models:
            node_started = time.perf_counter()
            for statement in _statements(node, incremental):
                con.execute(statement)
            result.model_seconds[node.name] = round(time.perf_counter() - node_started, 3)
        result.models_seconds = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        for test in tests:
            rows = con.execute(f"select count(*) from (\n{test.sql.strip().rstrip(';')}\n)").fetchall()
            if rows[0][0]:
                result.failing_tests.append(test.name)
        result.tests_seconds = round(time.perf_counter() - started, 3)
        after = _counts(con, models, None)
    finally:
        con.close()
    result.tables_compared = len(before)
    result.row_count_mismatches = {
        name: [before[name], after.get(name)] for name in before if before[name] != after.get(name)
    }
    return result


def measure(
    bench: Bench,
    key: str,
    label: str,
    home: Path,
    source: Path | None = None,
    incremental: bool = False,
    compare: Path | None = None,
    in_place: bool = False,
) -> Step:
    """The floor in a fresh child (``_step floor``), ``bench.repeat`` times, each on a fresh copy
    of ``home`` (``in_place``: once, on ``home`` itself); ``source``: the home whose dbt target
    and run record say what ran (default: the copy itself). Steps ``<key>`` (models + tests),
    ``<key>_models``, ``<key>_tests``: the SQL's own seconds, without the child's start-up;
    peak RSS is the child's."""
    total = bench.add_step(key, label)
    parts = {
        "models_seconds": bench.add_step(f"{key}_models", f"{label}: models"),
        "tests_seconds": bench.add_step(f"{key}_tests", f"{label}: data tests"),
    }
    child = bench.add_step(f"{key}_child", f"{label} (child process)")
    for index in range(1 if in_place else bench.repeat):
        copy = home if in_place else bench.root / f"{key}-{index}"
        if not in_place:
            clone_home(home, copy)
        argv = bench_step_argv("floor", "--home", str(copy), "--source", str(source or copy))
        argv += (["--incremental"] if incremental else []) + (["--compare", str(compare)] if compare else [])
        run = bench.measure(child, argv, None, index)
        details = step_output(run.log) if run.exit_code == 0 else {}
        for seconds_key, step in (("seconds", total), *parts.items()):
            seconds = details.get(seconds_key)
            step.runs.append(reported_run(run, seconds, details if step is total else {}))
            step.error = child.error
        total.rows, total.rows_label = details.get("models_run"), "models"
        parts["tests_seconds"].rows, parts["tests_seconds"].rows_label = details.get("tests_run"), "tests"
        if details:
            _say_checks(bench, key, details)
        if not in_place:
            shutil.rmtree(copy, ignore_errors=True)
    del bench.steps[child.name]
    return total


def _say_checks(bench: Bench, key: str, details: dict[str, Any]) -> None:
    mismatches = details.get("row_count_mismatches") or {}
    bench.say(
        f"    {key}: models {details['models_seconds']:.1f} s, tests {details['tests_seconds']:.1f} s; "
        + (
            f"row counts differ from dbt's (dbt, floor): {mismatches}"
            if mismatches
            else f"row counts of {details.get('tables_compared')} tables equal dbt's"
        )
        + (f"; tests returning rows: {details['failing_tests']}" if details.get("failing_tests") else "")
    )
