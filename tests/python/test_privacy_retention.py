"""Retention and recovery (issue 15): a home aged past every retention setting keeps its
counts, and a corrupted warehouse is restored from a snapshot after its landing files
were purged, then caught up by the next night to the marts of a home never damaged.

One home is built once (two nights); each test works on a copy of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from chatbatch.core.paths import Paths
from tests.python.marts import fingerprint, query_rows

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 4)  # night 1: Nov 1-2, night 2: Nov 3-4


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHATBATCH_HOME": str(home), "CHATBATCH_REPORT": "off"}
    return subprocess.run(
        [sys.executable, "-m", "chatbatch.cli", *args], env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from chatbatch_dev.generator import generate

    home = tmp_path_factory.mktemp("retention") / "home"
    (home / "landing").mkdir(parents=True)
    generate(
        landing=home / "landing", start=date(2026, 11, 1), days=4, conversations_per_day=15, seed=5,
        dirty_rate=0.03,
    )  # fmt: skip
    # a snapshot after every night (the default is one every 7 days: test_snapshots_are_taken_when_due)
    (home / "privacy.yml").write_text("retention:\n  snapshots_every_days: 1\n")
    for night in (FIRST, LAST):
        result = _cli(home, "nightly", "--date", night.isoformat())
        assert result.returncode == 0, result.stdout + result.stderr
    return home


def _copy(built: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(built, home)
    return home


def test_each_night_leaves_a_verified_snapshot(built: Path) -> None:
    manifests = sorted((built / "snapshots").glob("batch=*/manifest.json"))
    assert [m.parent.name for m in manifests] == ["batch=000001", "batch=000002"]
    for manifest in manifests:
        doc = json.loads(manifest.read_text())
        assert {"batch_id", "created_at", "sha256", "size_bytes", "rows", "seconds"} <= set(doc)
        assert doc["rows"]["chatbatch.landing_files"] > 0
        print(f"snapshot {manifest.parent.name}: {doc['size_bytes']:,} bytes in {doc['seconds']} s")
    assert not list((built / "snapshots").glob(".*"))  # no temporary folder left


def test_snapshots_are_taken_when_due(built: Path) -> None:
    from chatbatch.privacy import snapshots

    paths = Paths(built)
    assert snapshots.newest_verified(paths).run_date == LAST.isoformat()
    assert "one every 7 day(s)" in snapshots.due(paths, LAST + timedelta(days=6), 7)
    assert snapshots.due(paths, LAST + timedelta(days=7), 7) is None
    assert snapshots.due(paths, LAST + timedelta(days=1), 1) is None
    assert snapshots.due(Paths(built / "nowhere"), LAST, 7) is None  # no snapshot yet: due


def test_retention_ages_a_home_and_keeps_the_counts(built: Path, tmp_path: Path) -> None:
    home = _copy(built, tmp_path)
    warehouse, analytics = home / "warehouse.duckdb", home / "analytics.duckdb"
    count_sql = (
        "select (select count(*) from raw.messages),"
        " (select count(*) from staging.base_chatbot__messages),"
        " (select count(*) from staging.stg_chatbot__messages),"
        " (select count(*) from audit.quarantine_records)"
    )
    counts_before = query_rows(warehouse, count_sql)
    reconciliation_sql = "select * exclude (is_balanced) from audit.audit_load_reconciliation order by all"
    reconciliation_before = query_rows(analytics, reconciliation_sql)
    (home / "privacy.yml").write_text(
        "retention:\n  landing_files_days: 1\n  raw_lines_days: 2\n  staging_text_days: 2\n"
        "  quarantine_days: 2\n  archive_months: 1\n  ml_versions: 1\n  reports_days: 10\n"
        "  logs_days: 10\n  snapshots_keep: 1\n  snapshots_every_days: 1\n"
    )
    dry = _cli(home, "purge", "--dry-run", "--today", "2026-11-05")
    assert dry.returncode in (0, 1), dry.stderr
    assert "would drop" in dry.stdout and (home / "snapshots" / "batch=000001").is_dir()

    # 1. raw lines and quarantine texts exported before Nov 3 expire; every row stays
    result = _cli(home, "purge", "--today", "2026-11-05", "--kind", "raw_lines", "--kind", "quarantine")
    assert result.returncode == 0, result.stdout + result.stderr
    assert query_rows(warehouse, count_sql) == counts_before
    texts = query_rows(
        warehouse,
        "select _export_date < '2026-11-03', count(_line) > 0 from raw.messages group by 1 order by 1",
    )
    assert texts == [(False, True), (True, False)]
    for database in (warehouse, analytics):  # quarantine text gone before Nov 3, reasons kept
        assert query_rows(
            database,
            "select count(*), count(quarantine_reason) from audit.quarantine_records "
            "where export_date < '2026-11-03' and raw_line is null",
        ) == query_rows(
            database,
            "select count(*), count(*) from audit.quarantine_records where export_date < '2026-11-03'",
        )

    # 2. a full refresh after raw lines expired keeps the base rows and rebuilds the rest:
    # the same reconciliation, balanced (its dbt test runs on every row)
    result = _cli(home, "nightly", "--full-refresh", "--date", LAST.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "have expired" in result.stdout
    assert query_rows(analytics, reconciliation_sql) == reconciliation_before
    balanced = "select bool_and(is_balanced) from audit.audit_load_reconciliation"
    assert query_rows(analytics, balanced) == [(True,)]
    assert query_rows(warehouse, count_sql) == counts_before

    # 3. staging text: message texts of every staging and intermediate table
    result = _cli(home, "purge", "--today", "2026-11-05", "--kind", "staging_text")
    assert result.returncode == 0, result.stdout + result.stderr
    stg = query_rows(
        warehouse,
        "select _export_date < '2026-11-03', count(message_text) > 0 from staging.stg_chatbot__messages "
        "group by 1 order by 1",
    )
    assert stg == [(False, True), (True, False)]
    assert query_rows(
        warehouse,
        "select count(message_text) from intermediate.int_messages_sessionized where message_id in "
        "(select message_id from staging.stg_chatbot__messages where _export_date < '2026-11-03')",
    ) == [(0,)]

    # 4. everything past every setting
    reports, logs = home / "reports", home / "logs"
    reports.mkdir(exist_ok=True)
    logs.mkdir()
    for name in ("2026-10-01.html", "weekly-2026-W40.html", "2026-11-30.html"):
        (reports / name).write_text("<html></html>")
    (logs / "nightly-old.log").write_text("old\n")
    (logs / "nightly-new.log").write_text("new\n")
    old = datetime(2026, 10, 1).timestamp()
    os.utime(logs / "nightly-old.log", (old, old))
    for dataset in (home / "exports" / "ml").iterdir():  # an older version to drop
        shutil.copytree(sorted(dataset.glob("v=*"))[-1], dataset / "v=000000")
    result = _cli(home, "purge", "--today", "2026-12-05")
    assert result.returncode in (0, 1), result.stdout + result.stderr  # refusals are reported
    assert query_rows(warehouse, count_sql) == counts_before
    assert query_rows(warehouse, "select count(_line) from raw.messages") == [(0,)]
    assert query_rows(analytics, "select count(raw_line) from audit.quarantine_records") == [(0,)]
    assert not (home / "exports" / "archive" / "month=2026-11").exists()
    assert json.loads((home / "exports" / "archive" / "manifest.json").read_text())["days"] == {}
    for dataset in (home / "exports" / "ml").iterdir():
        assert len(list(dataset.glob("v=*"))) == 1 and not (dataset / "v=000000").exists()
    assert sorted(p.name for p in reports.iterdir()) == ["2026-11-30.html"]
    assert [p.name for p in logs.iterdir()] == ["nightly-new.log"]
    assert [p.name for p in (home / "snapshots").iterdir()] == ["batch=000003"]
    purged = [json.loads(line) for line in (home / "state" / "purged.jsonl").read_text().splitlines()]
    assert {p["entity"] for p in purged} >= {"events", "feedback", "users", "kb_documents"}
    log = [json.loads(line) for line in (home / "state" / "retention.jsonl").read_text().splitlines()]
    assert {k["kind"] for k in log[-1]["kinds"]} == {
        "raw_lines", "staging_text", "quarantine", "archive", "ml", "reports", "logs", "snapshots",
    }  # fmt: skip

    # 5. once message texts expired, a full refresh is refused (it would rebuild the ML
    # sets and the archive without them)
    result = _cli(home, "nightly", "--full-refresh", "--date", LAST.isoformat())
    assert result.returncode == 2 and "have expired (retention staging_text_days)" in result.stderr


def test_restore_after_purge_and_corruption_catches_up_to_the_same_marts(built: Path, tmp_path: Path) -> None:
    home = _copy(built, tmp_path)
    paths = Paths(home)
    # purge every landing file of night 1 (export dates Nov 1-2), then lose night 2's work
    result = _cli(home, "purge", "--older-than", "1", "--today", "2026-11-04")
    assert "purge: deleted" in result.stdout, result.stdout + result.stderr
    purged = [json.loads(line) for line in paths.purged_log.read_text().splitlines()]
    # no archive for these: a verified snapshot holds them (messages with a quarantined
    # line stay: the archive rule keeps them)
    assert {p["entity"] for p in purged} >= {"events", "feedback", "users", "kb_documents"}
    assert not any((paths.landing / p["path"]).exists() for p in purged)
    with paths.warehouse.open("r+b") as handle:  # corrupt the warehouse
        handle.seek(4096)
        handle.write(b"\xde\xad" * 8192)

    dry = _cli(home, "restore", "--snapshot", "1", "--dry-run")
    assert dry.returncode == 0 and "would restore the snapshot of batch 1" in dry.stdout, dry.stderr
    result = _cli(home, "restore", "--snapshot", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loads the " in result.stdout and "WARNING" not in result.stdout
    assert list(home.glob("warehouse.duckdb.damaged-*"))

    result = _cli(home, "nightly", "--date", LAST.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert fingerprint(paths.analytics) == fingerprint(built / "analytics.duckdb")


def test_restore_refuses_a_snapshot_that_does_not_verify(built: Path, tmp_path: Path) -> None:
    home = _copy(built, tmp_path)
    snapshot = home / "snapshots" / "batch=000002" / "warehouse.duckdb"
    with snapshot.open("r+b") as handle:
        handle.write(b"x")
    result = _cli(home, "restore")
    assert result.returncode == 1 and "does not match the sha256" in result.stderr
    assert not list(home.glob("warehouse.duckdb.damaged-*"))


def test_after_erasure_leaves_one_fresh_snapshot(built: Path, tmp_path: Path) -> None:
    from chatbatch.privacy import snapshots

    home = _copy(built, tmp_path)
    paths = Paths(home)
    fresh = snapshots.after_erasure(paths, 3, LAST.isoformat())
    assert [s.batch_id for s in snapshots.listed(paths)] == [3]
    assert fresh.verify() is None
