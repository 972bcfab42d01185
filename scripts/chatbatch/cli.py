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
    cmd_classify,
    cmd_forget,
    cmd_generate,
    cmd_ingest,
    cmd_kb_search,
    cmd_nightly,
    cmd_purge,
    cmd_report,
    cmd_restore,
    cmd_status,
    cmd_summary,
    cmd_train,
)
from chatbatch.core.errors import OperatorError
from chatbatch.core.exit_codes import ExitCode, describe
from chatbatch.core.log import DEBUG_ENV, ERRORS_HELP, log_exception, unexpected_line
from chatbatch.core.paths import Paths
from chatbatch.privacy.settings import KINDS
from chatbatch.process.night import NightlyOptions

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
        "--train-intent",
        action="store_true",
        help="train the intent model tonight even if not due weekly (CHATBATCH_TRAIN_INTENT=nightly)",
    )
    night.add_argument(
        "--recluster-topics", action="store_true", help="re-fit the topic model tonight (else weekly)"
    )
    night.add_argument(
        "--catch-up-days",
        type=_non_negative,
        default=NightlyOptions.catch_up_days,
        help="catch a longer backlog up in batches of this many export dates (0: one batch; "
        "default %(default)s)",
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
        "purge", help="enforce retention (privacy.yml): delete or expire what is past its setting"
    )
    purge.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        help="only this kind of data (repeatable; default: every kind, or landing with --older-than)",
    )
    purge.add_argument(
        "--older-than", type=_non_negative, metavar="DAYS", help="landing files: this age, not the setting"
    )
    purge.add_argument("--entity", action="append", help="landing files: only this entity (repeatable)")
    purge.add_argument("--today", type=_date, help="the date ages count from (default: today, UTC)")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    purge.set_defaults(func=cmd_purge)
    fgt = sub.add_parser(
        "forget", help="erase people (GDPR / CCPA request) from every place the home keeps data"
    )
    fgt.add_argument("--user", action="append", default=[], metavar="USER_ID", help="a user id (repeatable)")
    fgt.add_argument("--file", type=Path, help="a file of user ids, one per line")
    fgt.add_argument("--reason", help="why (e.g. a ticket number); logged redacted: no personal data")
    fgt.add_argument("--dry-run", action="store_true", help="only count what would be erased")
    fgt.set_defaults(func=cmd_forget)
    rest = sub.add_parser("restore", help="put a verified warehouse snapshot back (then run nightly)")
    rest.add_argument("--snapshot", type=_positive, metavar="BATCH_ID", help="default: the newest")
    rest.add_argument("--dry-run", action="store_true", help="only verify and say what would happen")
    rest.set_defaults(func=cmd_restore)
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
    train = sub.add_parser("train", help="train, evaluate and maybe ship a model on its latest dataset")
    train.add_argument("model", choices=("intent",))
    train.add_argument(
        "--force", action="store_true", help="train even if the dataset version did not change"
    )
    train.set_defaults(func=cmd_train)
    cls = sub.add_parser("classify", help="the current intent model's top intents for a text")
    cls.add_argument("text")
    cls.add_argument("--top-k", type=_positive, default=3, help="intents to show (default 3)")
    cls.set_defaults(func=cmd_classify)
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
