"""Build step: run dbt in-process against the warehouse.

One function builds the dbt argument list; everything else is data. After every
invocation the warehouse file is released (:func:`release_warehouse`), so the next step,
or another process, can open it: dbt-duckdb keeps it open in the process otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatbatch.core.errors import ConfigError
from chatbatch.core.faults import checkpoint
from chatbatch.core.paths import PROJECT_DIR, Paths
from chatbatch.core.retry import is_transient
from chatbatch.process import manifests

# profiles.yml targets that read the published file and never build (README, "The semantic layer")
READ_ONLY_TARGETS = ("published",)
# The warehouse as profiles.yml names it while the runner's dbt runs inside the home
WAREHOUSE_ENV = "CHATBATCH_DBT_WAREHOUSE"
# A folder where dbt's partial parse is kept for every home that has none yet (tests, bench)
PARSE_CACHE_ENV = "CHATBATCH_DBT_PARSE_CACHE"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@dataclass(frozen=True)
class NodeResult:
    """One node of a dbt invocation, as its run results report it."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    seconds: float
    failures: int | None
    message: str | None
    # a failing data test's SQL (it returns the failing rows), for the on-call's message
    compiled_code: str | None = None


@dataclass
class DbtOutcome:
    success: bool
    command: list[str]
    results: list[NodeResult] = field(default_factory=list)
    error: str | None = None
    # what dbt raised, when the invocation itself failed (not a node): e.g. the
    # duckdb.IOException of a warehouse another process holds
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def failures(self) -> list[NodeResult]:
        return [r for r in self.results if r.status in ("error", "fail", "runtime error")]


def dbt_args(
    command: str,
    *,
    target: str | None = None,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    variables: dict[str, Any] | None = None,
    full_refresh: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """The dbt command line for this project, built in one place."""
    args = [
        command,
        "--quiet",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR / "profiles"),
    ]
    if target:
        args += ["--target", target]
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    if variables:
        args += ["--vars", json.dumps(variables, sort_keys=True)]
    if full_refresh:
        args.append("--full-refresh")
    return args + list(extra)


def run_dbt(args: list[str], paths: Paths) -> DbtOutcome:
    """Invoke dbt programmatically and collect per-node results."""
    from dbt.cli.main import dbtRunner

    if os.environ.get("DBT_TARGET") in READ_ONLY_TARGETS:
        raise ConfigError(
            f"DBT_TARGET={os.environ['DBT_TARGET']} is the analysts' read-only target (mf query)",
            "unset DBT_TARGET, or set it to dev, ci or prod, for chatbatch and dbt builds",
        )
    args, cache = _ready(args, paths)
    try:
        with in_home(paths.home):
            result = dbtRunner(manifest=_manifest_for(args), callbacks=[_on_event]).invoke(args)
        if isinstance(result.exception, BaseException):
            _clear_frames(result.exception)  # its frames' locals may hold dbt-duckdb's connection
    finally:
        release_warehouse()
    if cache is not None:
        _copy_atomically(paths.dbt_target / PARTIAL_PARSE_FILE, cache)
    results: list[NodeResult] = []
    if result.result is not None and hasattr(result.result, "results"):
        for node_result in result.result.results:
            node = node_result.node
            results.append(
                NodeResult(
                    unique_id=node.unique_id,
                    name=node.name,
                    resource_type=str(node.resource_type),
                    status=str(node_result.status),
                    seconds=round(float(node_result.execution_time or 0.0), 3),
                    failures=node_result.failures,
                    message=node_result.message,
                    compiled_code=getattr(node, "compiled_code", None)
                    if str(node_result.status) == "fail"
                    else None,
                )
            )
    exception = result.exception if isinstance(result.exception, BaseException) else None
    error = str(result.exception) if result.exception else None
    return DbtOutcome(
        success=bool(result.success), command=args, results=results, error=error, exception=exception
    )


def parse_ahead(args: list[str], paths: Paths) -> None:
    """Import dbt and parse the manifest ``args`` will run with, so that ``run_dbt(args)``
    (or any invocation of the same parse, process/manifests.py) finds it parsed.

    The nightly runs this in a thread while the ingest loads the night's files (DuckDB
    works there without the GIL): about 2.3 s a night (1.2 s of imports, 1.1 s of parse)
    that used to open the first dbt invocation. A parse never opens the warehouse. No
    other dbt invocation may start before it ends (``process/build.py`` waits for it)."""
    from dbt.cli.main import dbtRunner  # noqa: F401  (half of the cost: dbt's imports)

    args, _ = _ready(args, paths)
    with in_home(paths.home):
        _manifest_for(args)


def _ready(args: list[str], paths: Paths) -> tuple[list[str], Path | None]:
    """The home's dbt folders on the command line, its partial parse readied; the parse
    cache it shares (``_parse_cache``), if any."""
    paths.export()
    # Each CHATBATCH_HOME keeps its own dbt artefacts, so `dbt retry` after a failed
    # batch reads that batch's run_results.json, whoever else ran dbt meanwhile.
    args = [*args, "--target-path", str(paths.dbt_target), "--log-path", str(paths.dbt_logs)]
    _forget_other_projects_parse(paths.dbt_target)
    cache = _parse_cache(args)
    if cache is not None:
        _copy_atomically(cache, paths.dbt_target / PARTIAL_PARSE_FILE, only_if_missing=True)
        _forget_other_projects_parse(paths.dbt_target)
    return args, cache


def _manifest_for(args: list[str]) -> Any | None:
    """The parsed manifest ``args`` can run with (process/manifests.py), parsed now unless
    this process parsed the same already; None where the command parses for itself, or
    where the parse failed (the command then parses and reports the error)."""
    if not manifests.reuses_manifest(args):
        return None
    key = manifests.parse_key(args)
    manifest = manifests.cached(key)
    if manifest is not None:
        return manifest
    manifests.forget()  # before parsing: one manifest in memory at a time
    from dbt.cli.main import dbtRunner

    try:
        parsed = dbtRunner().invoke(manifests.parse_args(args))
    finally:
        release_warehouse()  # the command registers its adapter with its own flags
    if not parsed.success or parsed.result is None:
        return None
    manifests.keep(key, parsed.result)
    return parsed.result


@contextmanager
def in_home(home: Path) -> Iterator[None]:
    """Run dbt with the home as working directory and the warehouse named relative to it.

    dbt drops its partial parse whenever the profile's connection settings change, and
    the warehouse path is one of them: with an absolute path every new or copied home
    paid a full parse (~14 s of this project on 2 cores) on its first night. Named
    ``warehouse.duckdb`` from inside the home, the profile is the same for every home.
    Every other path dbt gets (project, profiles, target, logs) is absolute."""
    previous_cwd, previous_env = os.getcwd(), os.environ.get(WAREHOUSE_ENV)
    os.chdir(home)
    os.environ[WAREHOUSE_ENV] = "warehouse.duckdb"
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        if previous_env is None:
            os.environ.pop(WAREHOUSE_ENV, None)
        else:
            os.environ[WAREHOUSE_ENV] = previous_env


def _forget_other_projects_parse(target: Path) -> None:
    """A partial parse is of one project directory. dbt does not check that: given the parse
    of a copy of the project (``CHATBATCH_PROJECT_DIR``: a checkout under test, a
    benchmarked commit), it re-parses the files whose contents differ and keeps the others
    pointing into the copy (tests found a check planted in a copy running in the original,
    and seeds read from a deleted copy). So a parse whose project files lie elsewhere is
    dropped before dbt runs."""
    parse = target / PARTIAL_PARSE_FILE
    if parse.is_file() and not _parse_is_of_this_project(parse):
        parse.unlink()


def _parse_is_of_this_project(parse: Path) -> bool:
    import msgpack  # dbt's own dependency, which writes the file

    try:
        manifest = msgpack.unpackb(parse.read_bytes(), raw=False, strict_map_key=False)
        roots = {entry["path"]["project_root"] for entry in manifest["files"].values()}
    except Exception:  # unreadable: dbt would parse from scratch anyway
        return False
    import dbt.include  # dbt's and the adapter's own macro projects live under it

    packages = next(iter(dbt.include.__path__))
    return all(root == str(PROJECT_DIR) or root.startswith(packages) for root in roots)


def _parse_cache(args: list[str]) -> Path | None:
    """With ``CHATBATCH_DBT_PARSE_CACHE`` set (the tests set it), the file
    holding the last partial parse of this project with these vars and target, which a
    home without one starts from. dbt checks every file's checksum against it, so a stale
    one costs a re-parse of what changed, never a wrong manifest."""
    folder = os.environ.get(PARSE_CACHE_ENV)
    if not folder:
        return None
    variables = args[args.index("--vars") + 1] if "--vars" in args else ""
    key = "\0".join([str(PROJECT_DIR), variables, os.environ.get("DBT_TARGET", "")])
    return Path(folder) / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.msgpack"


def _copy_atomically(source: Path, target: Path, only_if_missing: bool = False) -> None:
    if not source.is_file() or (only_if_missing and target.exists()):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def dbt_failure_is_transient(outcome: DbtOutcome) -> bool:
    """True when a failed invocation is worth retrying: the warehouse was locked.

    dbt-duckdb opens the one warehouse file before the first node runs, so a lock held by
    another process fails the invocation itself: dbtRunner hands back DuckDB's
    ``IOException`` ('IO Error: Could not set lock on file …', core/retry.py's
    DUCKDB_LOCK_MESSAGE) as ``result.exception`` and no node results (reproduced with
    dbt-core 1.11 / dbt-duckdb 1.11.1 by tests/python/test_operator_errors.py). A failing
    node (a model's SQL, a test) is never transient: rerunning gives the same answer.
    """
    return not outcome.success and outcome.exception is not None and is_transient(outcome.exception)


def _on_event(event: Any) -> None:
    """Fault points inside a dbt build: ``dbt:<model>`` fires once the model is built."""
    if event.info.name == "NodeFinished":
        node = getattr(event.data, "node_info", None)
        if node is not None and node.node_status in ("success", "pass"):
            checkpoint(f"dbt:{node.unique_id.split('.')[-1]}")


def _clear_frames(exc: BaseException) -> None:
    """Drop the local variables of the finished frames ``exc`` (and what it chains) went
    through, so that keeping the exception does not keep dbt-duckdb's DuckDB connection."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        pending += [current.__cause__, current.__context__]


def release_warehouse() -> None:
    """Close the DuckDB file dbt-duckdb keeps open after an invocation, by public calls only.

    dbt already cleans up its connections at the end of ``invoke()``, but dbt-duckdb's
    profile default ``keep_open: true`` keeps the database itself open in a process-wide
    environment for the next invocation. ``reset_adapters`` (dbt.adapters.factory) closes
    every adapter connection and forgets the adapters (the next invoke registers them
    again); ``DuckDBConnectionManager.close_all_connections`` (what dbt-duckdb registers
    with ``atexit``) drops that environment, whose connection closes with it. Nothing is
    caught: if the file cannot be released the next step must not pretend it was.
    (``keep_open: false`` in profiles.yml would release it too, but then dbt-duckdb closes
    and reopens, and checkpoints, the file whenever no thread holds a connection:
    between nodes, many times a night.)
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    try:
        reset_adapters()
    finally:
        DuckDBConnectionManager.close_all_connections()
