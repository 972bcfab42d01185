"""chatbatch: the nightly batch runner of chatbot-analytics.

Exit codes: 0 ok or skipped, 1 batch failed, 2 usage error, 3 another run holds the
lock, 4 data-quality threshold breached.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from chatbatch.core import duck
from chatbatch.core.paths import Paths
from chatbatch.nightly import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_QUALITY, NightlyOptions

EXIT_USAGE = 2
__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_QUALITY", "EXIT_USAGE", "main"]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from exc


def _number_in(convert: Callable[[str], float], low: float, high: float, what: str) -> Callable[[str], Any]:
    """An argparse type: a number converted by `convert`, within [low, high]."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from exc
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_rate = _number_in(float, 0.0, 1.0, "a number in [0, 1]")
_positive = _number_in(int, 1, math.inf, "a positive integer")
_non_negative = _number_in(int, 0, math.inf, "an integer >= 0")


def _batch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-error-rate",
        type=_rate,
        default=0.05,
        help="fail with exit 4 when the quarantined share of new lines exceeds this",
    )
    parser.add_argument(
        "--min-quarantined",
        type=_non_negative,
        default=10,
        help="the error rate fails a batch only when more lines than this were quarantined",
    )
    parser.add_argument("--lookback-days", type=_non_negative, default=3)
    parser.add_argument("--retries", type=_positive, default=3, help="attempts for transient faults")


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_generate(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch_dev.generator import generate

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
    from chatbatch.accumulate.ingest import ingest

    paths.export()
    con = duck.connect(str(paths.warehouse))
    try:
        result = ingest(con, paths.landing, progress=_say)
    finally:
        con.close()
    _say(
        f"batch {result.batch_id}: loaded {len(result.files_loaded):,} new files "
        f"({result.lines_read:,} lines), {result.files_skipped:,} already known"
    )
    return EXIT_OK


def _nightly_options(args: argparse.Namespace, command: str) -> NightlyOptions:
    return NightlyOptions(
        run_date=getattr(args, "date", None) or (datetime.now(UTC).date() - timedelta(days=1)),
        command=command,
        full_refresh=getattr(args, "full_refresh", False),
        dry_run=getattr(args, "dry_run", False),
        min_new_records=getattr(args, "min_new_records", 0),
        max_error_rate=args.max_error_rate,
        min_quarantined=args.min_quarantined,
        lookback_days=args.lookback_days,
        retries=args.retries,
        say=_say,
    )


def cmd_nightly(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.nightly import Nightly

    return Nightly(paths, _nightly_options(args, "nightly")).run()


def cmd_backfill(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.history import RunHistory
    from chatbatch.nightly import Nightly

    if args.end < args.start:
        print("chatbatch: --end must not be before --start", file=sys.stderr)
        return EXIT_USAGE
    options = _nightly_options(args, "backfill")
    # A backfill reprocesses; it loads no exports beyond what the nightly has reached.
    last_ok = RunHistory(paths.home).last(("ok",))
    cutoff = date.fromisoformat(last_ok.run_date) if last_ok else args.end
    options.run_date = args.date or cutoff
    options.backfill_start, options.backfill_end = args.start, args.end
    return Nightly(paths, options).run()


def cmd_status(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.history import RunHistory
    from chatbatch.monitor.status import format_status

    _say(format_status(RunHistory(paths.home).records()[-args.last :]))
    return EXIT_OK


def cmd_summary(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.summary import warehouse_summary

    if not paths.warehouse.exists():
        print(f"no warehouse at {paths.warehouse}; run `chatbatch nightly` first", file=sys.stderr)
        return EXIT_FAILED
    _say(warehouse_summary(paths.warehouse))
    return EXIT_OK


def cmd_purge(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.accumulate.purge import delete, plan
    from chatbatch.core.lock import BatchLock, LockHeld
    from chatbatch.nightly import EXIT_LOCKED

    try:
        lock = BatchLock(paths.lock_file, command="purge").acquire()
    except LockHeld as exc:
        print(f"chatbatch: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    try:
        verdicts = plan(paths, args.older_than, datetime.now(UTC).date(), args.entity)
        for v in verdicts:
            _say(f"  {'purge ' if v.verified else 'REFUSE'} {v.path}: {v.reason}")
        deleted = 0 if args.dry_run else delete(paths, verdicts)
    finally:
        lock.release()
    refused = sum(not v.verified for v in verdicts)
    verb = "would delete" if args.dry_run else "deleted"
    _say(
        f"purge: {verb} {sum(v.verified for v in verdicts)} file(s), refused {refused}"
        + ("" if args.dry_run else f" ({deleted} deleted)")
    )
    return EXIT_FAILED if refused else EXIT_OK


def cmd_report(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.history import RunHistory
    from chatbatch.output.report import write_reports

    if not paths.analytics.exists():
        print(f"nothing published at {paths.analytics}; run `chatbatch nightly` first", file=sys.stderr)
        return EXIT_FAILED
    last_ok = RunHistory(paths.home).last(("ok",))
    day = args.date or (date.fromisoformat(last_ok.run_date) if last_ok else date.today())
    for path in write_reports(paths, day):
        _say(f"report written: {path}")
    return EXIT_OK


def cmd_kb_search(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.output.kb.search import format_hits, search

    if not paths.analytics.exists():
        print(f"nothing published at {paths.analytics}; run `chatbatch nightly` first", file=sys.stderr)
        return EXIT_FAILED
    try:
        hits = search(paths.analytics, args.question, k=args.k, bm25_weight=args.bm25_weight)
    except (LookupError, duckdb.CatalogException) as exc:
        print(f"chatbatch kb-search: no KB index in {paths.analytics} ({exc})", file=sys.stderr)
        return EXIT_FAILED
    _say(format_hits(hits, args.question))
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

    night = sub.add_parser(
        "nightly",
        help="run the nightly batch (lock, ingest, build, audit, publish)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    night.add_argument("--date", type=_date, help="process exports up to this date (default: yesterday, UTC)")
    night.add_argument("--full-refresh", action="store_true", help="rebuild every model")
    night.add_argument("--dry-run", action="store_true", help="list what would be loaded")
    night.add_argument(
        "--min-new-records",
        type=_non_negative,
        default=0,
        help="skip quietly (exit 0) while fewer new lines are pending",
    )
    _batch_options(night)
    night.set_defaults(func=cmd_nightly)

    back = sub.add_parser("backfill", help="reprocess a window of conversation days idempotently")
    back.add_argument("--start", type=_date, required=True)
    back.add_argument("--end", type=_date, required=True)
    back.add_argument(
        "--date",
        type=_date,
        help="also load exports up to this date (default: the last successful batch's date)",
    )
    _batch_options(back)
    back.set_defaults(func=cmd_backfill)

    # `chatbatch bench ...` is handed to chatbatch_dev.bench whole (see main); listed here for --help
    sub.add_parser(
        "bench", help="benchmark the nightly batch (development tool; see docs/benchmark.md)", add_help=False
    )

    stat = sub.add_parser("status", help="print the run history")
    stat.add_argument("--last", type=_positive, default=10)
    stat.set_defaults(func=cmd_status)

    summ = sub.add_parser("summary", help="rows per layer and quarantine by reason")
    summ.set_defaults(func=cmd_summary)

    purge = sub.add_parser(
        "purge", help="delete landing files older than N days whose records are verified archived"
    )
    purge.add_argument("--older-than", type=_non_negative, required=True, metavar="DAYS")
    purge.add_argument("--entity", action="append", help="only this entity (repeatable)")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    purge.set_defaults(func=cmd_purge)
    rep = sub.add_parser("report", help="(re)write the HTML report of a night (and of its week on Mondays)")
    rep.add_argument("--date", type=_date, help="the night (default: the last successful batch's run date)")
    rep.set_defaults(func=cmd_report)
    kbs = sub.add_parser("kb-search", help="search the published knowledge-base index")
    kbs.add_argument("question")
    kbs.add_argument("-k", type=_positive, default=5, help="chunks to show (default 5)")
    kbs.add_argument(
        "--bm25-weight",
        type=_rate,
        default=0.3,
        help="share of the normalised BM25 score in the ranking, 0..1 (default 0.3)",
    )
    kbs.set_defaults(func=cmd_kb_search)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # a development tool: loaded only when asked for
        from chatbatch_dev.bench import main as bench_main

        return bench_main(argv[1:], prog="chatbatch bench")
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args, Paths.from_env()))


if __name__ == "__main__":
    sys.exit(main())
