"""The commands of the chatbatch CLI: each ``cmd_<name>(args, paths)`` does one command
and returns its exit code (``cli.py`` parses the command line and handles errors)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from chatbatch.core import duck
from chatbatch.core.errors import OperatorError, UsageError
from chatbatch.core.exit_codes import ExitCode
from chatbatch.core.paths import Paths
from chatbatch.process.night import NightlyOptions


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_generate(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch_dev.generator import generate
    from chatbatch_dev.generator.formats import FormatOptions

    landing = Path(args.landing) if args.landing else paths.landing
    options = FormatOptions(
        format=args.format,
        langfuse_format=args.langfuse_format,
        langfuse_gzip=args.langfuse_gzip,
        otel_compression=None if args.otel_compression == "none" else args.otel_compression,
    )
    summary = generate(
        landing=landing,
        start=args.start,
        days=args.days,
        conversations_per_day=args.conversations_per_day,
        seed=args.seed,
        dirty_rate=args.dirty_rate,
        progress=_say,
        options=options,
    )
    data = summary.to_dict()
    _say(
        f"generated {len(data.get('files', [])):,} files, {data.get('messages', 0):,} messages "
        f"into {landing} in {data.get('seconds', 0):.1f} s"
    )
    return ExitCode.OK


def cmd_ingest(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.accumulate.ingest import ingest
    from chatbatch.transform.topics import tables

    paths.export()
    con = duck.connect(str(paths.warehouse))
    try:
        result = ingest(con, paths.landing, progress=_say)
        con.execute(tables.DDL)  # dbt's source `topics`, for a plain `dbt build` after this
    finally:
        con.close()
    _say(
        f"batch {result.batch_id}: loaded {len(result.files_loaded):,} new files "
        f"({result.lines_read:,} lines), {result.files_skipped:,} already known"
        + (f", {len(result.misfiled)} misfiled path(s) not loaded" if result.misfiled else "")
    )
    return ExitCode.OK


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
        recluster_topics=getattr(args, "recluster_topics", False),
        say=_say,
    )


def cmd_nightly(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.nightly import Nightly

    return Nightly(paths, _nightly_options(args, "nightly")).run()


def cmd_backfill(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.history import RunHistory
    from chatbatch.nightly import Nightly

    if args.end < args.start:
        raise UsageError(
            f"--end {args.end} is before --start {args.start}", "give --start on or before --end"
        )
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
    return ExitCode.OK


def cmd_summary(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.summary import warehouse_summary

    if not paths.warehouse.exists():
        raise OperatorError(f"no warehouse at {paths.warehouse}", "run `chatbatch nightly` first")
    _say(warehouse_summary(paths.warehouse))
    return ExitCode.OK


def cmd_purge(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.accumulate.purge import delete, plan
    from chatbatch.core.lock import BatchLock

    lock = BatchLock(paths.lock_file, command="purge").acquire()  # LockHeld: exit 3
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
    return ExitCode.FAILED if refused else ExitCode.OK


def _nothing_published(paths: Paths) -> OperatorError:
    return OperatorError(f"nothing published at {paths.analytics}", "run `chatbatch nightly` first")


def cmd_report(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.history import RunHistory
    from chatbatch.output.report import write_reports

    if not paths.analytics.exists():
        raise _nothing_published(paths)
    last_ok = RunHistory(paths.home).last(("ok",))
    day = args.date or (date.fromisoformat(last_ok.run_date) if last_ok else date.today())
    for path in write_reports(paths, day):
        _say(f"report written: {path}")
    return ExitCode.OK


def cmd_kb_search(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.output.kb.search import format_hits, search

    if not paths.analytics.exists():
        raise _nothing_published(paths)
    try:
        hits = search(paths.analytics, args.question, k=args.k, bm25_weight=args.bm25_weight)
    except (LookupError, duckdb.CatalogException) as exc:
        raise OperatorError(
            f"no KB index in {paths.analytics} ({exc})",
            "the nightly builds it from landing/kb_documents/: run `chatbatch nightly` once they landed",
        ) from exc
    _say(format_hits(hits, args.question))
    return ExitCode.OK
