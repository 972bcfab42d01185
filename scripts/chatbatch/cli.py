"""chatbatch: the nightly batch runner of chatbot-analytics."""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from chatbatch.commands import (
    cmd_backfill,
    cmd_generate,
    cmd_ingest,
    cmd_kb_search,
    cmd_nightly,
    cmd_purge,
    cmd_report,
    cmd_status,
    cmd_summary,
)
from chatbatch.core.errors import OperatorError
from chatbatch.core.exit_codes import ExitCode, describe
from chatbatch.core.log import DEBUG_ENV, ERRORS_HELP, log_exception, unexpected_line
from chatbatch.core.paths import Paths

__all__ = ["main"]

DESCRIPTION = "\n\n".join(
    textwrap.fill(text, 88) for text in (str(__doc__), f"Exit codes: {describe(', ')}.", ERRORS_HELP)
)


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


class _Parser(argparse.ArgumentParser):
    """argparse with chatbatch's usage exit code (its subcommand parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chatbatch",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"show the traceback of an unexpected error on stderr too (or {DEBUG_ENV}=1)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write synthetic chatbot exports to the landing area")
    gen.add_argument("--start", type=_date, required=True, help="first export date")
    gen.add_argument("--days", type=_positive, required=True)
    gen.add_argument("--conversations-per-day", type=_positive, required=True)
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--dirty-rate", type=_rate, default=0.0, help="share of defective lines")
    gen.add_argument("--landing", help="landing folder (default $CHATBATCH_HOME/landing)")
    gen.add_argument(
        "--format",
        choices=("v1", "langfuse", "otel"),
        default="v1",
        help="export contract v1, a Langfuse blob-storage export, or OTel GenAI spans (Collector files)",
    )
    gen.add_argument(
        "--langfuse-format", choices=("parquet", "jsonl"), default="parquet", help="Langfuse data files"
    )
    gen.add_argument("--langfuse-gzip", action="store_true", help="gzip Langfuse JSONL files")
    gen.add_argument(
        "--otel-compression", choices=("none", "zstd"), default="none", help="Collector file compression"
    )
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="load new landing files into the raw tables")
    ing.set_defaults(func=cmd_ingest)

    night = sub.add_parser(
        "nightly",
        help="run the nightly batch (lock, ingest, build, audit, publish)",
        description=DESCRIPTION,
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
    night.add_argument(
        "--recluster-topics", action="store_true", help="re-fit the topic model tonight (else weekly)"
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
    args = build_parser().parse_args(argv)
    if args.debug:
        os.environ[DEBUG_ENV] = "1"  # read by core/log.py, also for the nightly's own faults
    home: Path | None = None
    try:
        paths = Paths.from_env()
        home = paths.home
        return int(args.func(args, paths))
    except OperatorError as exc:
        print("\n".join(exc.lines()), file=sys.stderr)
        return int(exc.exit_code)
    except Exception as exc:  # a bug or an unforeseen fault: one line here, the traceback in the log
        log = log_exception(exc, home or Path.cwd())
        print(unexpected_line(exc, log), file=sys.stderr)
        return int(ExitCode.FAILED)


if __name__ == "__main__":
    sys.exit(main())
