"""The nightly batch: incremental equals full refresh, failures never publish, the lock
holds, analysts can always read (kills are repaired: test_nightly_kill)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest
from chatbatch_dev.generator import generate, planted_pii

from chatbatch.cli import main
from chatbatch.core.digest import sha256_of
from chatbatch.core.lock import BatchLock
from chatbatch.core.paths import PROJECT_DIR, Paths
from chatbatch.output.archive import ArchiveExport
from chatbatch.output.ml import MlDatasetsExport
from chatbatch.output.workload import WorkloadContext
from tests.python.marts import TOPIC_MODEL_ROWS, fingerprint
from tests.python.nightly_reference import (
    LAST,
    START,
    Reference,
    history_lines,
    restore_before_last,
    run_cli,
)


@pytest.fixture
def reference(nightly_reference: Reference) -> Reference:
    """Four nights over six export days and a full refresh of the same files
    (tests/python/nightly_reference.py)."""
    return nightly_reference


@pytest.fixture(scope="module")
def rerun_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one path this module's tests restore the home before the last night to
    (nightly_reference.restore_before_last)."""
    return tmp_path_factory.mktemp("rerun") / "home"


def test_incremental_nights_equal_a_full_refresh(reference: Reference) -> None:
    """Every published mart and audit table, row for row; the rows that depend on the topic
    model (marts.TOPIC_MODEL_ROWS) are compared given the same model in test_topics_nightly."""
    nightly, full = reference.comparable
    assert nightly == full
    assert set(nightly) == set(reference.nightly)
    assert any(count for count, _ in nightly.values())
    nightly_features, full_features = reference.features
    assert nightly_features == full_features and nightly_features["features.feat_user_daily"][0] > 0


def test_a_night_recomputes_messages_only_of_conversations_whose_rows_changed(reference: Reference) -> None:
    """A returning user's earlier conversations are recomputed for recontact
    (fct_conversations), their messages are not: a night costs what its data touches. Of
    those conversations only the ones whose row changed are written again (macro
    unchanged_rows_left_out): the others keep their stamp, so the reports keyed on it do not
    recompute their days. That the rows kept are right: test_incremental_nights_equal_a_full_refresh."""
    con = duckdb.connect(str(reference.home / "warehouse.duckdb"), read_only=True)
    try:
        last = con.execute("select max(batch_id) from intermediate.int_conversations_changed").fetchone()
        listed, conversations_recomputed, messages_recomputed = con.execute(
            """
            with messages as (
                select conversation_id, max(_processed_batch_id) as processed_batch_id
                from marts.fct_messages
                group by 1
            )
            select
                count(*),
                count(*) filter (where conversations._processed_batch_id = changes.batch_id),
                count(*) filter (where messages.processed_batch_id = changes.batch_id)
            from intermediate.int_conversations_changed as changes
            inner join marts.fct_conversations as conversations
                on changes.conversation_id = conversations.conversation_id
            left join messages
                on changes.conversation_id = messages.conversation_id
            where changes.batch_id = ? and not changes.is_content_changed
            """,
            [last[0]],
        ).fetchone()
    finally:
        con.close()
    assert listed > 0  # returning users: the last night listed their earlier conversations
    # the conversation before a returning user's new one gets its next_conversation_started_at
    # (rewritten); older ones did not change (kept with their stamp)
    assert 0 < conversations_recomputed < listed
    assert messages_recomputed == 0


def _blocks(warehouse: Path) -> tuple[int, int]:
    """(blocks in the file, of which free): DuckDB's ``pragma database_size``."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
    finally:
        con.close()
    return int(row[0]), int(row[1])


def test_a_full_refresh_rebuilds_in_the_storage_it_replaces(reference: Reference, tmp_path: Path) -> None:
    """A full refresh over a built warehouse drops the tables it rebuilds first
    (macros/utils/full_refresh.sql), so the file does not grow by a second copy of them,
    which every later snapshot would copy; the marts are the same."""
    home = tmp_path / "home"
    shutil.copytree(reference.full, home)
    warehouse = home / "warehouse.duckdb"
    blocks_before, _ = _blocks(warehouse)
    result = run_cli(home, "nightly", "--date", LAST.isoformat(), "--full-refresh")
    assert result.returncode == 0, result.stderr[-3000:]
    blocks_after, free_after = _blocks(warehouse)
    log = (Paths(home=home).dbt_logs / "dbt.log").read_text(encoding="utf-8")
    assert "full refresh: dropped" in log
    # without the drop the file grew by about the rebuilt tables (+60 % here, +49 % at
    # the bench's 30 days) and a third of it was free
    assert blocks_after <= blocks_before * 1.1, (blocks_before, blocks_after)
    assert free_after <= blocks_after * 0.1, (blocks_after, free_after)
    assert fingerprint(home / "analytics.duckdb", where=TOPIC_MODEL_ROWS) == reference.comparable[1]


def test_same_night_twice_is_a_noop(reference: Reference, tmp_path: Path) -> None:
    home = reference.home
    before = (home / "analytics.duckdb").stat().st_mtime_ns
    result = run_cli(home, "nightly", "--date", LAST.isoformat())
    assert result.returncode == 0
    assert "skipped (no new data)" in result.stdout
    assert (home / "analytics.duckdb").stat().st_mtime_ns == before
    assert fingerprint(home / "analytics.duckdb") == reference.nightly


def test_backfill_reprocesses_a_window_idempotently(reference: Reference) -> None:
    home = reference.home
    result = run_cli(home, "backfill", "--start", "2026-11-02", "--end", "2026-11-04")
    assert result.returncode == 0, result.stderr[-3000:]
    assert fingerprint(home / "analytics.duckdb") == reference.nightly
    record = json.loads(history_lines(home)[-1])
    assert (record["command"], record["status"]) == ("backfill", "ok")


def __history_lines_by_batch(home: Path) -> dict[int, str]:
    return {json.loads(line)["batch_id"]: line for line in history_lines(home)}


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received = []
    monkeypatch.setenv("CHATBATCH_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    yield _Hook.received
    server.shutdown()


def test_failing_dbt_test_blocks_publish_and_alerts(
    reference: Reference, rerun_home: Path, tmp_path: Path, webhook: list[dict]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(".git", ".venv", "target", "logs", "data", "build"),
    )
    planted = project / "tests" / "dbt" / "planted_failure.sql"
    planted.write_text("-- planted by the test: always fails\nselect 1 as failure\n")
    # and one impossible property and one reference to a parent without the night's values
    # among a mart's model_checks: the alert names both checks
    models_yml = project / "models" / "marts" / "core" / "_core__models.yml"
    checks, references = "            expressions:\n", "            references:\n"
    assert checks in models_yml.read_text() and references in models_yml.read_text()
    planted_checks = (
        models_yml.read_text()
        .replace(checks, checks + "                - message_count < 0\n", 1)
        .replace(references, references + "                bot_version: dim_intents.intent\n", 1)
    )
    models_yml.write_text(planted_checks)
    home = restore_before_last(reference, rerun_home)
    before = fingerprint(home / "analytics.duckdb")
    env = {
        "CHATBATCH_PROJECT_DIR": str(project),
        "CHATBATCH_WEBHOOK_URL": os.environ["CHATBATCH_WEBHOOK_URL"],
    }
    result = run_cli(home, "nightly", "--date", LAST.isoformat(), env=env)
    assert result.returncode == 1
    assert "planted_failure" in result.stderr
    assert "model_checks_fct_conversations" in result.stderr
    assert "expression(message_count < 0)" in result.stderr
    assert "references(bot_version -> dim_intents.intent)" in result.stderr
    assert fingerprint(home / "analytics.duckdb") == before
    assert webhook and "failed" in webhook[-1]["text"]
    assert webhook[-1]["details"]["exit_code"] == 1


def test_quality_breach_exits_4_and_publishes_nothing(
    reference: Reference, rerun_home: Path, tmp_path: Path, webhook: list[dict]
) -> None:
    home = restore_before_last(reference, rerun_home)
    before = fingerprint(home / "analytics.duckdb")
    dirty = tmp_path / "dirty"
    bad_day = LAST + timedelta(days=10)
    generate(landing=dirty, start=bad_day, days=1, conversations_per_day=60, seed=9, dirty_rate=0.3)
    for path in dirty.rglob(f"export_date={bad_day.isoformat()}/*"):
        target = home / "landing" / path.relative_to(dirty)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    env = {"CHATBATCH_WEBHOOK_URL": os.environ["CHATBATCH_WEBHOOK_URL"]}
    result = run_cli(home, "nightly", "--date", bad_day.isoformat(), env=env)
    assert result.returncode == 4, result.stdout[-2000:]
    assert "max-error-rate" in result.stderr
    assert fingerprint(home / "analytics.duckdb") == before
    assert webhook and webhook[-1]["severity"] == "error"
    # rolled back: the same files are pending again, and a lenient threshold accepts them
    retry = run_cli(home, "nightly", "--date", bad_day.isoformat(), "--max-error-rate", "0.9")
    assert retry.returncode == 0, retry.stderr[-2000:]
    assert fingerprint(home / "analytics.duckdb") != before


def test_concurrent_run_exits_3_naming_the_holder(home: Paths, capsys: pytest.CaptureFixture) -> None:
    with BatchLock(home.home / "chatbatch.lock"):
        code = main(["nightly", "--date", START.isoformat()])
    assert code == 3
    err = capsys.readouterr().err
    assert f"pid {os.getpid()}" in err and "since" in err


def test_analyst_reads_while_a_build_runs(reference: Reference, rerun_home: Path) -> None:
    home = restore_before_last(reference, rerun_home)
    analyst = duckdb.connect(str(home / "analytics.duckdb"), read_only=True)
    batch_id = len(__history_lines_by_batch(home)) + 1
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbatch.cli", "nightly", "--date", LAST.isoformat()],
        env={**os.environ, "CHATBATCH_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Never touch warehouse.duckdb here: even a read-only connection takes a file lock
    # that would block the build. The run history (plain JSONL) says when it runs.
    reads_during_build = 0
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        running = [
            json.loads(line)["status"] == "running"
            for line in history_lines(home)
            if json.loads(line)["batch_id"] == batch_id
        ]
        fresh = duckdb.connect(str(home / "analytics.duckdb"), read_only=True)
        assert fresh.execute("select count(*) from audit.audit_load_reconciliation").fetchone()
        fresh.close()
        assert analyst.execute("select count(*) from ops.batch_runs").fetchone()
        if running and running[-1]:
            reads_during_build += 1
        time.sleep(0.05)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]
    assert reads_during_build > 10
    analyst.close()


# --- ML datasets, redacted archive and purge (they reuse the reference nights) --------


def _export_snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every exported file: the sha256 of its bytes and its mtime (a rewrite changes it)."""
    return {
        str(p.relative_to(folder)): (sha256_of(p), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _latest_ml_files(home: Path, dataset: str) -> dict[str, dict]:
    latest = sorted((home / "exports" / "ml" / dataset).glob("v=*"))[-1]
    return json.loads((latest / "manifest.json").read_text())["files"]


def test_exports_have_manifests_and_match_a_full_refresh(reference: Reference) -> None:
    nightly, full = reference.home / "exports", reference.home.parent / "full" / "exports"
    archive = json.loads((nightly / "archive" / "manifest.json").read_text())
    assert archive["days"]["2026-11-06"]["rows"] > 0
    assert archive["days"] == json.loads((full / "archive" / "manifest.json").read_text())["days"]
    for dataset in ("ml_intent_examples", "ml_response_preferences"):
        versions = sorted((nightly / "ml" / dataset).glob("v=*"))
        manifest = json.loads((versions[-1] / "manifest.json").read_text())
        # one file per split and ISO week (its Monday), all of them listed
        week_file = re.compile(r"(train|valid|test)/\d{4}-\d{2}-\d{2}\.parquet")
        assert all(week_file.fullmatch(name) for name in manifest["files"])
        on_disk = {str(p.relative_to(versions[-1])) for p in versions[-1].rglob("*.parquet")}
        assert set(manifest["files"]) == on_disk
        assert manifest["rows"] == sum(f["rows"] for f in manifest["files"].values())
        assert _latest_ml_files(reference.home, dataset) == _latest_ml_files(full.parent, dataset)
        if dataset == "ml_response_preferences":
            # pairs only between answers to the same prompt (issue 17): this small history has
            # none; tests/python/test_ml_loop.py checks pairs on a bigger home
            continue
        assert manifest["rows"] > 0
        assert manifest["source_window"]["conversation_date_max"] <= LAST.isoformat()
        assert manifest["label_distribution"]["train"]
        # one version per night whose content changed, each kept as written
        assert len(versions) > 1
        # a week whose rows did not change is the previous version's file, linked, not rewritten
        previous = versions[-2]
        linked = [
            name
            for name in manifest["files"]
            if (previous / name).is_file()
            and (previous / name).stat().st_ino == (versions[-1] / name).stat().st_ino
        ]
        assert manifest["files_linked"] == len(linked) > 0


def test_no_planted_pii_in_any_exported_text(reference: Reference) -> None:
    pool = [value for values in planted_pii(5).values() for value in values]
    files = sorted((reference.home / "exports").rglob("*.parquet"))
    con = duckdb.connect()
    texts: list[str] = []
    for path in files:
        relation = con.read_parquet(str(path))
        for name, kind in zip(relation.columns, relation.dtypes, strict=True):
            if str(kind) == "VARCHAR":
                rows = con.execute(f'select "{name}" from read_parquet(?)', [str(path)]).fetchall()
                texts += [value for (value,) in rows if value]
    # the rejected lines analysts see in the published audit schema are redacted too
    published = duckdb.connect(str(reference.home / "analytics.duckdb"), read_only=True)
    try:
        texts += [
            line for (line,) in published.execute("select raw_line from audit.quarantine_records").fetchall()
        ]
    finally:
        published.close()
    blob = "\n".join(texts)
    leaked = [value for value in pool if value in blob]
    tags = {tag: blob.count(tag) for tag in ("[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[IPV4]", "[IPV6]")}
    print(f"\nscanned {len(files)} Parquet files, {len(texts):,} text values: {len(leaked)} leaks; {tags}")
    assert not leaked
    assert all(tags.values()), tags  # every kind was planted, and redacted


def test_exports_rerun_rewrites_nothing(reference: Reference, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(reference.home, home)
    before = _export_snapshot(home / "exports")
    # recomputed from scratch, as after a full refresh or backfill: the same bytes
    ctx = WorkloadContext(Paths(home=home), 999, LAST, lambda _: None, {}, full_refresh=True)
    ml = MlDatasetsExport().run(ctx)
    archive = ArchiveExport().run(ctx)
    assert not any(result["written"] for result in ml.values())
    assert archive["days_written"] == [] and not archive["manifest_changed"]
    assert _export_snapshot(home / "exports") == before
    # the day's rows have the fingerprint its entry lists, so it was not even written; a
    # file changed on disk since is written again, whatever the fingerprint says
    day = home / "exports" / "archive" / "month=2026-11" / "transcripts-2026-11-04.parquet"
    original = day.read_bytes()
    day.write_bytes(original + b"x")
    assert ArchiveExport().run(ctx)["days_written"] == ["2026-11-04"]
    assert day.read_bytes() == original


def test_archive_writes_only_changed_days_and_repairs_the_rest(reference: Reference, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(reference.home, home)
    root = home / "exports" / "archive"
    manifest = json.loads((root / "manifest.json").read_text())
    # each night wrote only the days its changed conversations started on (a backfill
    # another test runs on this home after them rewrites nothing: the same rows)
    records = [json.loads(line) for line in (home / "state" / "run_history.jsonl").read_text().splitlines()]
    nights = [r for r in records if r["status"] == "ok" and r["command"] == "nightly"]
    written = nights[-1]["outputs"]["archive"]["days_written"]
    assert written and len(written) < len(manifest["days"])
    ctx = WorkloadContext(Paths(home=home), 999, LAST, lambda _: None, {})
    # a day whose conversations all left it (forgotten, moved): its file goes
    stray = dict(manifest["days"]["2026-11-04"], file="month=2026-10/transcripts-2026-10-31.parquet")
    (root / "month=2026-10").mkdir()
    shutil.copy(root / manifest["days"]["2026-11-04"]["file"], root / stray["file"])
    legacy = {**manifest["days"], "2026-10-31": stray}
    (root / "manifest.json").write_text(json.dumps({**manifest, "days": legacy}))
    result = ArchiveExport().run(ctx)
    assert result["days_removed"] == ["2026-10-31"] and result["days_written"] == []
    assert not (root / stray["file"]).exists()
    assert json.loads((root / "manifest.json").read_text()) == manifest
    # a manifest from before days (one file per month): its month is written as days
    day_files = {key: (root / entry["file"]).read_bytes() for key, entry in manifest["days"].items()}
    month = {"file": "month=2026-11/transcripts.parquet", "rows": 1, "conversations": 1, "sha256": "x"}
    for entry in manifest["days"].values():
        (root / entry["file"]).unlink()
    (root / month["file"]).write_bytes(b"a month file")
    (root / "manifest.json").write_text(json.dumps({"processed_batch_id": 999, "months": {"2026-11": month}}))
    result = ArchiveExport().run(ctx)
    assert sorted(result["days_written"]) == sorted(manifest["days"])
    assert not (root / month["file"]).exists()
    assert {key: (root / e["file"]).read_bytes() for key, e in manifest["days"].items()} == day_files
    assert json.loads((root / "manifest.json").read_text())["days"] == manifest["days"]


def test_purge_deletes_only_archived_files_and_says_why(reference: Reference, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(reference.home, home)
    # without a snapshot, files that have no archive (events, ...) cannot be purged;
    # purging them once a snapshot holds them: tests/python/test_privacy_retention.py
    shutil.rmtree(home / "snapshots")
    days = str((datetime.now(UTC).date() - LAST).days - 1)  # every export up to LAST
    day = home / "exports" / "archive" / "month=2026-11" / "transcripts-2026-11-05.parquet"
    original = day.read_bytes()
    day.write_bytes(original + b"x")  # the archive no longer matches its manifest
    result = run_cli(home, "purge", "--older-than", days)
    assert result.returncode == 1 and "does not match the sha256 of its manifest" in result.stdout
    day.write_bytes(original)

    landing = sorted(str(p.relative_to(home / "landing")) for p in (home / "landing").rglob("*.jsonl*"))
    result = run_cli(home, "purge", "--older-than", days)
    assert result.returncode == 1, result.stderr  # some files refused ...
    refused = [line for line in result.stdout.splitlines() if "REFUSE" in line]
    assert any("events records are not archived" in line for line in refused)
    assert any("quarantined line(s) are kept only in this file" in line for line in refused)
    purged = [json.loads(line) for line in (home / "state" / "purged.jsonl").read_text().splitlines()]
    assert purged and all(p["verified"] and p["entity"] in ("messages", "conversations") for p in purged)
    left = sorted(str(p.relative_to(home / "landing")) for p in (home / "landing").rglob("*.jsonl*"))
    assert sorted(set(landing) - set(left)) == sorted(p["path"] for p in purged)  # ... the rest deleted
    # the next night neither misses nor reloads the purged files
    result = run_cli(home, "nightly", "--date", LAST.isoformat())
    assert result.returncode == 0 and "skipped (no new data)" in result.stdout, result.stdout
