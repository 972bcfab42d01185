"""The commands of the chatbatch CLI: each ``cmd_<name>(args, paths)`` does one command
and returns its exit code (``cli.py`` parses the command line and handles errors)."""

from __future__ import annotations

import argparse
import os
import sys
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
        catch_up_days=getattr(args, "catch_up_days", NightlyOptions.catch_up_days),
        say=_say,
    )


def cmd_nightly(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.nightly import Nightly
    from chatbatch.output.intent_model.settings import SCHEDULE_ENV

    if args.train_intent:  # read by the intent_model workload (output/intent_model/settings.py)
        os.environ[SCHEDULE_ENV] = "nightly"
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
    """Landing files one by one (each verdict printed; exit 1 when one is refused), then
    every other kind asked for (``privacy/retention.py``)."""
    from chatbatch.accumulate.purge import delete, plan
    from chatbatch.core.lock import BatchLock
    from chatbatch.privacy.retention import enforce
    from chatbatch.privacy.settings import KINDS, Retention

    retention = Retention.load(paths)
    kinds = tuple(args.kind or (("landing",) if args.older_than is not None else KINDS))
    today = args.today or datetime.now(UTC).date()
    verdicts = []
    lock = BatchLock(paths.lock_file, command="purge").acquire()  # LockHeld: exit 3
    try:
        days = args.older_than if args.older_than is not None else retention.landing_files_days
        if "landing" in kinds and days is not None:
            verdicts = plan(paths, days, today, args.entity)
            for v in verdicts:
                _say(f"  {'purge ' if v.verified else 'REFUSE'} {v.path}: {v.reason}")
            deleted = 0 if args.dry_run else delete(paths, verdicts)
            verb = "would delete" if args.dry_run else "deleted"
            _say(
                f"purge: {verb} {sum(v.verified for v in verdicts)} file(s), "
                f"refused {sum(not v.verified for v in verdicts)}"
                + ("" if args.dry_run else f" ({deleted} deleted)")
            )
        elif "landing" in kinds:
            _say("purge: landing files are kept forever (no landing_files_days in privacy.yml)")
        others = tuple(k for k in kinds if k != "landing")
        outcomes = enforce(paths, today, others, args.dry_run, retention) if others else []
    finally:
        lock.release()
    for outcome in outcomes:
        _say(outcome.line(args.dry_run))
    return ExitCode.FAILED if any(not v.verified for v in verdicts) else ExitCode.OK


def cmd_restore(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.core.lock import BatchLock
    from chatbatch.privacy import snapshots

    lock = BatchLock(paths.lock_file, command="restore").acquire()  # LockHeld: exit 3
    try:
        snapshot = snapshots.choose(paths, args.snapshot)
        done = snapshots.restore(paths, snapshot, args.dry_run)
    finally:
        lock.release()
    verb = "would restore" if args.dry_run else "restored"
    _say(
        f"restore: {verb} the snapshot of batch {snapshot.batch_id} (run date {snapshot.run_date}, "
        f"sha256 verified) as {paths.warehouse}"
    )
    if done.damaged:
        _say(f"  the replaced warehouse is kept as {done.damaged}")
    _say(
        f"  the next `chatbatch nightly` loads the {done.pending_files} landing file(s) this "
        "snapshot does not list and rebuilds what they touch"
    )
    if done.purged_after:
        _say(
            f"  WARNING: {done.purged_after} purged landing file(s) are not in this snapshot: "
            "their lines cannot come back (restore a newer snapshot if there is one)"
        )
    return ExitCode.OK


def cmd_forget(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.core.lock import BatchLock
    from chatbatch.privacy.forget import ForgetRequest, forget

    users = list(args.user)
    if args.file:
        try:
            users += [line.strip() for line in Path(args.file).read_text().splitlines() if line.strip()]
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc}", "pass a file of ids, one per line") from exc
    if not users:
        raise UsageError("no user to forget", "pass --user USER_ID (repeatable) or --file ids.txt")
    # dbt records the command line (run_results.json, dbt.log) and so does the error log
    # (after a failure, so it stays withheld then): the ids must not end up there
    argv, sys.argv = sys.argv, [sys.argv[0], "forget", "(ids withheld)"]
    lock = BatchLock(paths.lock_file, command="forget").acquire()  # LockHeld: exit 3
    try:
        forget(paths, ForgetRequest(tuple(dict.fromkeys(users)), args.reason, args.dry_run), _say)
    finally:
        lock.release()
    sys.argv = argv
    return ExitCode.OK


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


def cmd_train(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.monitor.history import RunHistory
    from chatbatch.output.intent_model.settings import TrainSettings
    from chatbatch.output.intent_model.train import train_intent
    from chatbatch.output.intent_model.workload import describe

    last_ok = RunHistory(paths.home).last(("ok",))
    run_date = date.fromisoformat(last_ok.run_date) if last_ok else datetime.now(UTC).date()
    result = train_intent(paths, run_date, None, TrainSettings.from_env(), force=args.force)
    _say(f"intent model: {describe(result)}")
    if result.outcome != "skipped":
        _say("the published ml_models.ml_model_evaluations table follows at the next nightly")
    return ExitCode.OK


def cmd_classify(args: argparse.Namespace, paths: Paths) -> int:
    from chatbatch.output.intent_model.classify import classify

    version, predictions = classify(paths, args.text, args.top_k)
    _say(f"intent model v={version:04d}")
    for p in predictions:
        _say(f"  {p.probability:.3f}  {p.intent}")
    return ExitCode.OK
