"""The bench's figures: one table, the goal ratios, and the JSON record."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from chatbatch_dev.bench.runner import AGREEMENT_SCOPE, FLOOR, ScaleRun
from chatbatch_dev.bench.volume import FLOOR as VOLUME_FLOOR
from chatbatch_dev.bench.volume import NIGHTLY as VOLUME_NIGHTLY
from chatbatch_dev.bench.volume import marginal as volume_marginal
from chatbatch_dev.bench.volume import points as volume_points

GIB_MIB = 1024.0
# (key, description, goal operator, goal value)
GOALS = [
    ("nightly_over_full_refresh", "nightly (1 day on H) / full refresh of H+1 days", "<=", 0.15),
    ("noop_over_full_refresh", "no-op nightly (nothing new) / full refresh", "<=", 0.05),
    ("full_refresh_over_engine_floor", "full refresh / engine floor (its SQL alone)", "<=", 1.5),
    ("marginal_nightly_over_floor", "marginal s per 100k new messages: nightly / floor", "<=", 2.0),
    ("marginal_nightly_per_100k", "nightly s per 100k new messages (marginal; no goal)", None, None),
    ("marginal_floor_per_100k", "floor s per 100k new messages (marginal; no goal)", None, None),
    ("nightly_long_over_nightly", "nightly at long history / nightly at H days beside it", "<=", 1.15),
    ("full_refresh_over_reference", "full refresh / hand-written DuckDB script", "<=", 1.5),
    ("pandas_over_full_refresh", "pandas script / full refresh", ">=", 10.0),
    ("peak_rss_long_gib", "peak RSS of the long-history steps (GiB)", "<=", 2.0),
    ("generator_messages_per_30s", "generator messages per 30 s (millions)", ">=", 1.0),
    ("redaction_share_before", "redaction row by row / full refresh (before; no goal)", None, None),
    ("redaction_share_after", "redaction vectorised / full refresh (now; no goal)", None, None),
    ("redaction_share_drop", "redaction's share of a full refresh: before / now", ">=", 5.0),
]
# per extra source format (``--formats``): its nightly against v1's on the same history (issue 14),
# and its cold build against v1's (no goal: what a first night on that landing costs)
FORMAT_NIGHTLY_GOAL = ("<=", 1.5)


def format_goals(result: ScaleRun) -> list[tuple[str, str, str | None, float | None]]:
    """The goal rows of the extra formats, as ``GOALS`` rows (operator and goal None: no goal)."""
    rows: list[tuple[str, str, str | None, float | None]] = []
    for fmt in result.formats:
        if fmt == "v1":
            continue
        rows.append(
            (f"nightly_{fmt}_over_v1", f"nightly on {fmt} landing / nightly on v1", *FORMAT_NIGHTLY_GOAL)
        )
        rows.append(
            (f"cold_build_{fmt}_over_v1", f"cold build on {fmt} landing / on v1 (no goal)", None, None)
        )
    return rows


def _median(result: ScaleRun, key: str) -> float | None:
    step = result.steps.get(key)
    return step.median_seconds if step else None


def _nightly_beside_long(result: ScaleRun) -> float | None:
    """The nightly at H days measured before, between and after the long-history nights
    (their median), else the first nightly at H days (a run with fewer than two)."""
    step = result.steps.get("nightly_beside_long")
    if step and len(step.ok_runs) >= 2:
        return step.median_seconds
    return _median(result, "nightly")


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _redaction_shares(result: ScaleRun) -> tuple[float | None, float | None]:
    """Redaction's share of a full refresh, before (row by row) and now (vectorised).

    The full refresh ran the vectorised redaction; "before" is that full refresh with the
    row-by-row seconds in place of the vectorised ones.
    """
    rowwise, vectorised = _median(result, "redaction_rowwise"), _median(result, "redaction_vectorised")
    full_refresh = _median(result, "full_refresh")
    if rowwise is None or vectorised is None or full_refresh is None:
        return None, None
    return _ratio(rowwise, full_refresh - vectorised + rowwise), _ratio(vectorised, full_refresh)


def ratios(result: ScaleRun) -> dict[str, float | None]:
    peaks = [result.steps[k].peak_rss_mib for k in ("cold_build_long", "nightly_long") if k in result.steps]
    peaks_known = [p for p in peaks if p is not None]
    generate = result.steps.get("generate")
    throughput = None
    if generate and generate.rows and generate.median_seconds:
        throughput = generate.rows / generate.median_seconds * 30 / 1e6
    before, after = _redaction_shares(result)
    marginal = volume_marginal(result.steps)
    return {
        "noop_over_full_refresh": _ratio(_median(result, "noop"), _median(result, "full_refresh")),
        "full_refresh_over_engine_floor": _ratio(_median(result, "full_refresh"), _median(result, FLOOR)),
        "marginal_nightly_over_floor": _ratio(marginal.nightly, marginal.floor),
        "marginal_nightly_per_100k": marginal.nightly,
        "marginal_floor_per_100k": marginal.floor,
        "redaction_share_before": before,
        "redaction_share_after": after,
        "redaction_share_drop": _ratio(before, after),
        "nightly_over_full_refresh": _ratio(_median(result, "nightly"), _median(result, "full_refresh")),
        "nightly_long_over_nightly": _ratio(_median(result, "nightly_long"), _nightly_beside_long(result)),
        "full_refresh_over_reference": _ratio(_median(result, "full_refresh"), _median(result, "reference")),
        "pandas_over_full_refresh": _ratio(_median(result, "pandas"), _median(result, "full_refresh")),
        "peak_rss_long_gib": max(peaks_known) / GIB_MIB if peaks_known else None,
        "generator_messages_per_30s": throughput,
        **{
            f"{kind}_{fmt}_over_v1": _ratio(_median(result, f"{kind}_{fmt}"), _median(result, kind))
            for fmt in result.formats
            if fmt != "v1"
            for kind in ("nightly", "cold_build")
        },
    }


def goal_rows(result: ScaleRun) -> list[dict[str, Any]]:
    values = ratios(result)
    rows = []
    for key, description, operator, goal in [*GOALS, *format_goals(result)]:
        value = values[key]
        met = None
        if value is not None and operator is not None and goal is not None:
            met = value <= goal if operator == "<=" else value >= goal
        rows.append(
            {
                "key": key,
                "description": description,
                "value": value,
                "goal": None if operator is None or goal is None else f"{operator} {goal:g}",
                "met": met,
            }
        )
    return rows


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def format_table(result: ScaleRun) -> str:
    """The aligned table of steps, then the goals, then the agreement of the reports."""
    scale = result.scale
    header = ("step", "median s", "runs", "peak RSS MiB", "rows / messages")
    rows = [header]
    for step in result.steps.values():
        if step.skipped:
            rows.append((step.label, "skipped", "0", "-", step.skipped))
            continue
        volume = f"{step.rows:,} {step.rows_label}" if step.rows is not None else ""
        if step.error and not step.runs:  # failed before its child ran (e.g. the copy of a home)
            volume = "not run: " + step.error.splitlines()[0][:100]
        runs = f"{len(step.ok_runs)}" + (
            "" if not step.error else f" ({len(step.runs) - len(step.ok_runs)} failed)"
        )
        rows.append((step.label, _fmt(step.median_seconds), runs, _fmt(step.peak_rss_mib, 0), volume))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"bench {scale.name}: {scale.conversations_per_day:,} conversations/day, history "
        f"{scale.history_days} d" + (f" and {scale.long_history_days} d" if scale.long_history_days else "")
    ]
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:4], widths[1:4], strict=True)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    for goal in goal_rows(result):
        verdict = {True: "met", False: "MISSED", None: "n/a"}[goal["met"]]
        if goal["goal"] is None:
            lines.append(f"{goal['description']:<52} {_fmt(goal['value'], 3):>8}")
            continue
        lines.append(
            f"{goal['description']:<52} {_fmt(goal['value'], 3):>8}  goal {goal['goal']:<7} {verdict}"
        )
    if result.agreement:
        lines.append("")
        lines.append(
            f"daily report agreement (conversations {result.agreement.get('conversations') or 0:,}): "
            + ("all agree" if result.agreement["agree"] else "DISAGREE")
        )
        if any(fmt != "v1" for fmt in result.formats):
            lines.append(f"  v1 landing only: {AGREEMENT_SCOPE}")
        for pair, info in result.agreement["pairs"].items():
            bad = {k: v for k, v in info["mismatches"].items() if v}
            lines.append(
                f"  {pair}: {info['rows']} rows, {info['unmatched_rows']} unmatched"
                + (f", mismatches {bad}" if bad else ", all metrics equal")
            )
        if result.agreement["missing"]:
            lines.append(f"  missing reports: {', '.join(result.agreement['missing'])}")
    return "\n".join(lines)


def where_time_goes(result: ScaleRun, top: int = 8) -> dict[str, Any]:
    """Per dbt step and slowest models of the median run of each nightly-type step."""
    summary = {}
    for key, step in result.steps.items():
        run = step.median_run()
        if not run or "models" not in run.details:
            continue
        models = sorted(((s or 0.0, m) for m, s in run.details["models"].items()), reverse=True)
        summary[key] = {
            "steps": run.details.get("steps", {}),
            "peak_rss_mib_after_step": run.details.get("peak_rss_mib", []),
            "model_seconds_total": round(sum(s for s, _ in models), 3),
            "slowest_models": {m: s for s, m in models[:top]},
        }
    return summary


def _memory_jumps(peaks: list[list[Any]]) -> str:
    """The steps that raised the process's peak RSS, with the peak after each (MiB)."""
    jumps, previous = [], 0.0
    for step, peak in peaks:
        if peak > previous + 32:
            jumps.append(f"{step} {peak:,.0f}")
        previous = max(previous, peak)
    return ", ".join(jumps)


def format_where_time_goes(result: ScaleRun) -> str:
    lines = []
    for key, info in where_time_goes(result, top=5).items():
        steps = ", ".join(f"{k} {v:.1f}" for k, v in info["steps"].items())
        models = ", ".join(f"{m} {s:.1f}" for m, s in info["slowest_models"].items())
        total = f"models total {info['model_seconds_total']:.1f} s; slowest: {models}"
        lines.append(f"  {key}: steps [{steps}]; {total if models else 'no models'}")
        memory = _memory_jumps(info["peak_rss_mib_after_step"])
        if memory:
            lines.append(f"    peak RSS reached in: {memory}")
    return "where time goes (median run, seconds):\n" + "\n".join(lines) if lines else ""


def volume_summary(result: ScaleRun) -> dict[str, Any]:
    """The cost-against-day-volume points (new messages, median s, peak RSS MiB) and the slopes."""
    marginal = volume_marginal(result.steps)
    return {
        "nightly_points": volume_points(result.steps, VOLUME_NIGHTLY),
        "floor_points": volume_points(result.steps, VOLUME_FLOOR),
        "marginal_seconds_per_100k_messages": {"nightly": marginal.nightly, "floor": marginal.floor},
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(project_dir: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(project_dir), *args], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def environment(project_dir: Path) -> dict[str, Any]:
    status = _git(project_dir, "status", "--porcelain")
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            p: _version(p) for p in ("duckdb", "dbt-core", "dbt-duckdb", "pandas", "numpy", "pyarrow")
        },
        "project_dir": str(project_dir),
        "git_commit": _git(project_dir, "rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "memory_measure": "os.wait4 ru_maxrss of each fresh child process (includes its waited-for children)",
    }


def record(results: list[ScaleRun], project_dir: Path, started: datetime) -> dict[str, Any]:
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": environment(project_dir),
        "scales": [
            {
                "scale": result.scale.name,
                "settings": {**{k: str(v) for k, v in vars(result.scale).items()}, "repeat": result.repeat},
                "steps": {k: s.to_dict() for k, s in result.steps.items()},
                "ratios": goal_rows(result),
                "formats": list(result.formats),
                "agreement": result.agreement,
                "agreement_scope": f"v1 landing only: {AGREEMENT_SCOPE}",
                "where_time_goes": where_time_goes(result),
                "volume": volume_summary(result),
            }
            for result in results
        ],
    }


def write_record(data: dict[str, Any], results_dir: Path, started: datetime) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    return path
