"""chatbatch: the nightly batch runner of chatbot-analytics.

Exit codes: 0 ok or skipped, 1 batch failed, 2 usage error, 3 another run holds the
lock, 4 data-quality threshold breached.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from chatbatch.paths import Paths

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from exc


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from exc
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_generate(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.generate import generate

    landing = Path(args.landing) if args.landing else paths.landing
    summary = generate(
        landing=landing,
        start=args.start,
        days=args.days,
        conversations_per_day=args.conversations_per_day,
        seed=args.seed,
        dirty_rate=args.dirty_rate,
        progress=_say,
    )
    data = summary.to_dict()
    _say(
        f"generated {len(data.get('files', [])):,} files, {data.get('messages', 0):,} messages "
        f"into {landing} in {data.get('seconds', 0):.1f} s"
    )
    return EXIT_OK


def cmd_ingest(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.ingest import ingest

    paths.export()
    con = duckdb.connect(str(paths.warehouse))
    try:
        result = ingest(con, paths.landing, progress=_say)
    finally:
        con.close()
    _say(
        f"batch {result.batch_id}: loaded {len(result.files_loaded):,} new files "
        f"({result.lines_read:,} lines), {result.files_skipped:,} already known"
    )
    return EXIT_OK


def cmd_build(args: argparse.Namespace, paths: Paths) -> int:
    """Ingest new landing files, then run dbt build (seeds, models, tests)."""
    from chatbatch.build import dbt_args, run_dbt

    started = time.monotonic()
    _say(f"ingesting new landing files from {paths.landing}")
    cmd_ingest(args, paths)
    _say("running dbt build")
    outcome = run_dbt(
        dbt_args("build", target=args.target, full_refresh=args.full_refresh), paths
    )
    if not outcome.success:
        for failure in outcome.failures:
            print(f"FAILED {failure['name']}: {failure['message']}", file=sys.stderr)
        if outcome.error:
            print(f"dbt error: {outcome.error}", file=sys.stderr)
        return EXIT_FAILED
    _say(f"dbt build passed ({len(outcome.results)} nodes) in {time.monotonic() - started:.1f} s")
    return EXIT_OK


def cmd_summary(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.summary import warehouse_summary

    if not paths.warehouse.exists():
        print(f"no warehouse at {paths.warehouse}; run `chatbatch build` first", file=sys.stderr)
        return EXIT_FAILED
    _say(warehouse_summary(paths.warehouse))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbatch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write synthetic chatbot exports to the landing area")
    gen.add_argument("--start", type=_date, required=True, help="first export date")
    gen.add_argument("--days", type=_positive, required=True)
    gen.add_argument("--conversations-per-day", type=_positive, required=True)
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--dirty-rate", type=_rate, default=0.0, help="share of defective lines")
    gen.add_argument("--landing", help="landing folder (default $CHATBATCH_HOME/landing)")
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="load new landing files into the raw tables")
    ing.set_defaults(func=cmd_ingest)

    build = sub.add_parser("build", help="ingest new files, then dbt build")
    build.add_argument("--target", default=None, help="dbt target (default: DBT_TARGET or dev)")
    build.add_argument("--full-refresh", action="store_true")
    build.set_defaults(func=cmd_build)

    summ = sub.add_parser("summary", help="rows per layer and quarantine by reason")
    summ.set_defaults(func=cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args, Paths.from_env()))


if __name__ == "__main__":
    sys.exit(main())
