"""Build step: run dbt in-process against the warehouse.

One function builds the dbt argument list; everything else is data. After every
invocation the adapter's connections are closed so the DuckDB file is free again for
the next step (dbt keeps it open in the process otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chatbatch.core.faults import checkpoint
from chatbatch.core.paths import PROJECT_DIR, Paths


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


@dataclass
class DbtOutcome:
    success: bool
    command: list[str]
    results: list[NodeResult] = field(default_factory=list)
    error: str | None = None

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

    paths.export()
    # Each CHATBATCH_HOME keeps its own dbt artefacts, so `dbt retry` after a failed
    # batch reads that batch's run_results.json, whoever else ran dbt meanwhile.
    args = [*args, "--target-path", str(paths.dbt_target), "--log-path", str(paths.dbt_logs)]
    runner = dbtRunner(callbacks=[_on_event])
    try:
        result = runner.invoke(args)
    finally:
        _close_adapter_connections()
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
                )
            )
    error = str(result.exception) if result.exception else None
    return DbtOutcome(success=bool(result.success), command=args, results=results, error=error)


def _on_event(event: Any) -> None:
    """Fault points inside a dbt build: ``dbt:<model>`` fires once the model is built."""
    if event.info.name == "NodeFinished":
        node = getattr(event.data, "node_info", None)
        if node is not None and node.node_status in ("success", "pass"):
            checkpoint(f"dbt:{node.unique_id.split('.')[-1]}")


def _close_adapter_connections() -> None:
    """Release the DuckDB file held by dbt-duckdb's process-wide environment."""
    try:
        from dbt.adapters.factory import cleanup_connections, reset_adapters

        cleanup_connections()
        reset_adapters()
    except Exception:  # pragma: no cover - best effort across dbt versions
        pass
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager.close_all_connections()
    except Exception:  # pragma: no cover
        pass
