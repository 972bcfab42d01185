"""``chatbatch bench``: how fast and how lean is the nightly batch, against references.

One run generates exports and measures, each step in a fresh child process (wall time,
peak RSS): a cold build, the nightly of one new day, the no-op nightly (nothing new), the
nightly of one new day at three day sizes, a full refresh, the engine floor (the full refresh's
compiled SQL alone, one DuckDB connection; and each day size's), the same daily
report from a hand-written DuckDB script and from a pandas script, and (``large``) the
nightly on 90 days of history; with ``--formats`` the same history as a Langfuse export or OTel
spans, each with its own cold build and nightly, against v1's. It prints one table with
medians and the goal ratios and writes everything to ``bench/results/<timestamp>.json``, and the
chart to ``<timestamp>.svg`` beside it. It asserts no times.

``chatbatch bench ...`` hands its arguments to ``main`` here.
Standalone: ``python -m chatbatch_dev.bench --scale small``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from chatbatch_dev.bench.scales import SCALES
from chatbatch_dev.generator.formats import FORMATS

__all__ = ["main", "run"]

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "chatbatch_bench"


def _scales(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCALES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scale {unknown or text!r}; choose from {', '.join(SCALES)}"
        )
    return names


def _formats(text: str) -> tuple[str, ...]:
    """``v1,langfuse,otel``: v1 always first (the other formats are measured against it)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown format {unknown or text!r}; choose from {', '.join(FORMATS)}"
        )
    return ("v1", *dict.fromkeys(n for n in names if n != "v1"))


def configure(parser: argparse.ArgumentParser) -> None:
    """The bench's options (shared by ``chatbatch bench`` and ``python -m chatbatch_dev.bench``)."""
    parser.add_argument(
        "--scale",
        "--scales",
        dest="scales",
        type=_scales,
        default=["small"],
        help=f"one or more of {', '.join(SCALES)}, comma separated (default small)",
    )
    parser.add_argument(
        "--formats",
        "--format",
        dest="formats",
        type=_formats,
        default=("v1",),
        help=(
            f"source formats of the landing, comma separated, from {', '.join(FORMATS)} (default v1; "
            "v1 always runs): each other format gets the same history, its own cold build and nightly, "
            "and the ratio nightly(format) / nightly(v1)"
        ),
    )
    parser.add_argument("--repeat", type=int, help="runs per measured step (default: per scale)")
    parser.add_argument("--skip-large", action="store_true", help="leave out the long-history (90 d) steps")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas script")
    parser.add_argument(
        "--skip-volume", action="store_true", help="leave out the cost-against-day-volume points"
    )
    parser.add_argument(
        "--publish-chart",
        action="store_true",
        help="also write the chart to docs/benchmark/latest-<scale>.svg (the one docs/benchmark.md shows)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help="bench state (default %(default)s)"
    )
    parser.add_argument(
        "--results-dir", type=Path, help="where the JSON goes (default <project>/bench/results)"
    )
    parser.add_argument(
        "--project-dir", type=Path, help="the dbt project to benchmark (default: this checkout)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench homes (they can be large)")


def run(args: argparse.Namespace) -> int:
    """Run the selected scales; 0 when every step ran and the daily reports agree."""
    from chatbatch.core.paths import PROJECT_DIR
    from chatbatch_dev.bench.harness import ChildEnv
    from chatbatch_dev.bench.report import format_table, format_where_time_goes, record, write_record
    from chatbatch_dev.bench.runner import ScaleRun

    started = datetime.now(UTC)
    project_dir = (args.project_dir or PROJECT_DIR).resolve()
    workdir = args.workdir.resolve()
    results = []
    for name in args.scales:
        scale = SCALES[name].without_long_history() if args.skip_large else SCALES[name]
        scale = scale.without_volume() if args.skip_volume else scale
        root = workdir / name
        result = ScaleRun(
            scale=scale,
            root=root,
            env=ChildEnv(workdir=root, project_dir=args.project_dir and project_dir),
            repeat=max(1, args.repeat or scale.repeat),
            say=_say,
            with_pandas=not args.skip_pandas,
            keep=args.keep,
            formats=args.formats,
        )
        result.run()
        results.append(result)
        _say("")
        _say(format_table(result))
        _say(format_where_time_goes(result))
    from chatbatch_dev.bench.chart import write as write_chart

    results_dir = args.results_dir or project_dir / "bench/results"
    path = write_record(record(results, project_dir, started), results_dir, started)
    _say(f"\nwrote {path}")
    publish = project_dir / "docs/benchmark" if args.publish_chart else None
    for svg in write_chart(results, results_dir, path.stem, publish):
        _say(f"wrote {svg}")
    healthy = all(
        not any(s.error for s in r.steps.values()) and r.agreement is not None and r.agreement["agree"]
        for r in results
    )
    return 0 if healthy else 1


def _say(message: str) -> None:
    print(message, flush=True)


def run_internal_step(argv: list[str]) -> int:
    """``_step reference|pandas --landing L --until D --out F``: one measured script.

    ``_step redaction --warehouse W``: redaction alone over W's messages, both ways (redaction.py).

    ``_step floor --home H [--source S] [--incremental] [--compare W]``: the engine floor on
    home H (rewritten) from S's dbt target and run record (floor.py).

    ``_step parse``: dbt's parse of the project for the home in ``CHATBATCH_HOME``, with
    the vars of a default nightly (the set-up of a copied home: ``ScaleRun._warm_parse`` in runner.py).
    """
    parser = argparse.ArgumentParser(prog="chatbatch_dev.bench _step")
    parser.add_argument("kind", choices=["reference", "pandas", "parse", "redaction", "floor"])
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--landing", type=Path)
    parser.add_argument("--until", type=date.fromisoformat)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args(argv)
    if args.kind == "floor":
        if args.home is None:
            parser.error("floor needs --home")
        return _floor_step(args.home, args.source or args.home, args.incremental, args.compare)
    if args.kind == "parse":
        from chatbatch.core.paths import Paths
        from chatbatch.process.dbt import dbt_args, run_dbt
        from chatbatch.process.night import NightlyOptions, dbt_vars

        variables = dbt_vars(NightlyOptions(run_date=date.today()))  # lookback_days as a nightly
        outcome = run_dbt(dbt_args("parse", variables=variables), Paths.from_env())
        return 0 if outcome.success else 1
    if args.kind == "redaction":
        from chatbatch_dev.bench.redaction import measure

        if args.warehouse is None:
            parser.error("redaction needs --warehouse")
        print(json.dumps(measure(args.warehouse)), flush=True)
        return 0
    if args.landing is None or args.until is None or args.out is None:
        parser.error(f"{args.kind} needs --landing, --until and --out")
    started = time.perf_counter()
    if args.kind == "reference":
        from chatbatch_dev.bench.reference import daily_report

        rows = daily_report(args.landing, args.until, args.out)
    else:
        from chatbatch_dev.bench.pandas_report import daily_report as pandas_daily_report
        from chatbatch_dev.bench.reference import PRICES_PATH

        rows = pandas_daily_report(args.landing, args.until, args.out, PRICES_PATH)
    print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - started, 3)}), flush=True)
    return 0


def _floor_step(home: Path, source: Path, incremental: bool, compare: Path | None) -> int:
    from chatbatch.core.paths import Paths
    from chatbatch_dev.bench.floor import execute
    from chatbatch_dev.bench.harness import last_history_record

    ran = set((last_history_record(source).get("models") or {}).keys()) or None
    result = execute(Paths(home=home).warehouse, Paths(home=source).dbt_target, ran, incremental, compare)
    print(json.dumps(result.to_dict()), flush=True)
    return 0


def main(argv: list[str] | None = None, prog: str = "python -m chatbatch_dev.bench") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_step"]:
        return run_internal_step(argv[1:])
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure(parser)
    return run(parser.parse_args(argv))
