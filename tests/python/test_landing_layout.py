"""A stray file never stops the night and is never silently skipped (issue 13).

discover() reports every path that does not fit ``<entity>/export_date=YYYY-MM-DD/<name>.jsonl[.gz]``
with a reason, once per misfiled folder; ingest records them in ``chatbatch.landing_misfiled``;
a night with stray files publishes every good line, lists the strays and alerts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from chatbatch_dev.generator import generate

from chatbatch.accumulate import landing
from chatbatch.accumulate.ingest import ingest
from chatbatch.contract import ENTITIES
from chatbatch.monitor.history import RunHistory
from chatbatch.monitor.record import MisfiledPath
from tests.python.conftest import write_lines
from tests.python.marts import query_rows


def _touch(path: Path, text: str = '{"a": 1}\n') -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- discover(): one test per kind of misfiled path ------------------------------------


def test_good_layout_has_nothing_misfiled(tmp_path: Path) -> None:
    write_lines(tmp_path, "messages", "2026-11-01", "part-0000.jsonl.gz", [{"m": 1}])
    write_lines(tmp_path, "users", "2026-11-01", "part-0000.jsonl", [{"u": 1}])
    found = landing.discover(tmp_path)
    assert [f.relative_path for f in found.files] == [
        "messages/export_date=2026-11-01/part-0000.jsonl.gz",
        "users/export_date=2026-11-01/part-0000.jsonl",
    ]
    assert found.files[0].export_date == date(2026, 11, 1)
    assert found.misfiled == []


def test_missing_landing_is_empty(tmp_path: Path) -> None:
    assert landing.discover(tmp_path / "nowhere") == landing.Discovery()


def test_upper_case_extension(tmp_path: Path) -> None:
    _touch(tmp_path / "messages/export_date=2026-11-01/part-0000.JSONL")
    _touch(tmp_path / "messages/export_date=2026-11-01/part-0001.json")
    found = landing.discover(tmp_path)
    assert found.files == []
    assert found.misfiled == [
        MisfiledPath("messages/export_date=2026-11-01/part-0000.JSONL", landing.BAD_EXTENSION),
        MisfiledPath("messages/export_date=2026-11-01/part-0001.json", landing.BAD_EXTENSION),
    ]
    assert ".jsonl or .jsonl.gz" in landing.BAD_EXTENSION


def test_file_directly_under_an_entity(tmp_path: Path) -> None:
    _touch(tmp_path / "messages/part-0000.jsonl")
    assert landing.discover(tmp_path).misfiled == [
        MisfiledPath("messages/part-0000.jsonl", "file outside an export_date=YYYY-MM-DD partition")
    ]


def test_impossible_export_date_is_reported_once_for_the_folder(tmp_path: Path) -> None:
    _touch(tmp_path / "messages/export_date=2026-13-45/part-0000.jsonl")
    _touch(tmp_path / "messages/export_date=2026-13-45/part-0001.jsonl")
    assert landing.discover(tmp_path).misfiled == [
        MisfiledPath("messages/export_date=2026-13-45/", "impossible export date 2026-13-45")
    ]


def test_folder_that_is_not_a_partition(tmp_path: Path) -> None:
    _touch(tmp_path / "messages/2026-11-01/part-0000.jsonl")
    _touch(tmp_path / "messages/export_date=20261101/part-0000.jsonl")
    reason = "not a partition folder (expected export_date=YYYY-MM-DD)"
    assert landing.discover(tmp_path).misfiled == [
        MisfiledPath("messages/2026-11-01/", reason),
        MisfiledPath("messages/export_date=20261101/", reason),
    ]


def test_unknown_entity_folder_is_reported_once(tmp_path: Path) -> None:
    _touch(tmp_path / "tickets/export_date=2026-11-01/part-0000.jsonl")
    _touch(tmp_path / "tickets/export_date=2026-11-02/part-0000.jsonl")
    [misfiled] = landing.discover(tmp_path).misfiled
    assert misfiled.path == "tickets/"
    assert misfiled.reason.startswith("unknown entity folder (expected one of conversations, messages")
    assert all(entity in misfiled.reason for entity in ENTITIES)


def test_file_at_the_landing_root(tmp_path: Path) -> None:
    _touch(tmp_path / "messages.jsonl")
    assert landing.discover(tmp_path).misfiled == [MisfiledPath("messages.jsonl", landing.OUTSIDE_ENTITY)]


def test_folder_inside_a_partition(tmp_path: Path) -> None:
    _touch(tmp_path / "users/export_date=2026-11-01/retry/part-0000.jsonl")
    assert landing.discover(tmp_path).misfiled == [
        MisfiledPath("users/export_date=2026-11-01/retry/", landing.NESTED_FOLDER)
    ]


def test_underscore_and_dot_names_stay_ignored_at_every_level(tmp_path: Path) -> None:
    good = write_lines(tmp_path, "users", "2026-11-01", "part-0000.jsonl", [{"u": 1}])
    for relative in (
        "_generator/summary.json",
        ".DS_Store",
        "users/_SUCCESS",
        "users/.hidden",
        "users/_tmp/part-0000.jsonl",
        "users/.staging/export_date=2026-13-45/x.txt",
        "users/export_date=2026-11-01/_SUCCESS",
        "users/export_date=2026-11-01/.part-0001.jsonl.crc",
        "users/export_date=2026-11-01/_attempt/part-0000.jsonl",
    ):
        _touch(tmp_path / relative)
    found = landing.discover(tmp_path)
    assert [f.absolute_path for f in found.files] == [good]
    assert found.misfiled == []


def test_ingest_replaces_the_misfiled_set_and_loads_a_renamed_file(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    write_lines(root, "users", "2026-11-01", "part-0000.jsonl", [{"user_id": "u1"}])
    stray = write_lines(root, "users", "2026-11-01", "part-0001.JSONL", [{"user_id": "u2"}])
    _touch(root / "tickets/export_date=2026-11-01/part-0000.jsonl")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    first = ingest(con, root)
    assert [m.path for m in first.misfiled] == ["tickets/", "users/export_date=2026-11-01/part-0001.JSONL"]
    rows = con.execute(
        "select path, reason, first_seen_at, last_batch_id from chatbatch.landing_misfiled order by path"
    ).fetchall()
    assert [(path, reason, batch) for path, reason, _, batch in rows] == [
        (m.path, m.reason, first.batch_id) for m in first.misfiled
    ]
    tickets_first_seen = rows[0][2]

    stray.rename(stray.with_suffix(".jsonl"))
    second = ingest(con, root)
    assert second.files_loaded == ["users/export_date=2026-11-01/part-0001.jsonl"]
    assert [m.path for m in second.misfiled] == ["tickets/"]
    assert con.execute(
        "select path, first_seen_at, last_seen_at >= first_seen_at, last_batch_id "
        "from chatbatch.landing_misfiled"
    ).fetchall() == [("tickets/", tickets_first_seen, True, second.batch_id)]
    assert con.execute("select count(*) from raw.users").fetchone() == (2,)

    shutil.rmtree(root / "tickets")
    assert ingest(con, root).misfiled == []
    assert con.execute("select count(*) from chatbatch.landing_misfiled").fetchone() == (0,)


# -- a night with stray files ------------------------------------------------------------

START = date(2026, 11, 1)
UPPER = "conversations/export_date=2026-11-01/part-0000-resend.JSONL"
EXPECTED = [
    ("conversations/export_date=2026-11-01/part-0000-resend.JSONL", landing.BAD_EXTENSION),
    ("messages/export_date=2026-13-45/", "impossible export date 2026-13-45"),
    ("messages/stray.jsonl", "file outside an export_date=YYYY-MM-DD partition"),
    ("tickets/", landing.UNKNOWN_ENTITY),
]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chatbatch.cli", *args],
        env={**os.environ, "CHATBATCH_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def _lines_by_day(home: Path) -> list[tuple]:
    """Raw rows per entity and export date: every line of every landing file loaded."""
    union = " union all ".join(
        f"select '{e}', _export_date, count(*) from raw.{e} group by all" for e in ENTITIES
    )
    return query_rows(home / "warehouse.duckdb", f"{union} order by all")


def _reconciled_by_day(home: Path) -> list[tuple]:
    """What the audit accounted for (loaded + quarantined + duplicates = lines read)."""
    return query_rows(
        home / "warehouse.duckdb",
        "select entity, export_date, lines_read from audit.audit_load_reconciliation "
        "where loaded + quarantined + duplicates = lines_read order by all",
    )


def _raw_counts(home: Path) -> dict[str, int]:
    return {
        entity: query_rows(home / "warehouse.duckdb", f"select count(*) from raw.{entity}")[0][0]
        for entity in ENTITIES
    }


def _misfiled_table(home: Path) -> list[tuple]:
    return query_rows(
        home / "warehouse.duckdb",
        "select path, reason, first_seen_at, last_batch_id from chatbatch.landing_misfiled order by path",
    )


def _layout_alerts(stderr: str) -> list[dict]:
    alerts = [
        json.loads(line.split(" ", 1)[1])
        for line in stderr.splitlines()
        if line.startswith("CHATBATCH_ALERT ")
    ]
    return [a for a in alerts if "do not fit the layout" in a["title"]]


def _add_strays(root: Path) -> None:
    good = root / "conversations/export_date=2026-11-01/part-0000.jsonl"
    shutil.copy(good, root / UPPER)
    shutil.copy(good, root / "messages/stray.jsonl")
    _touch(root / "messages/export_date=2026-13-45/part-0000.jsonl")
    _touch(root / "tickets/export_date=2026-11-01/part-0000.jsonl", '{"ticket_id": "t1"}\n')
    _touch(root / "messages/export_date=2026-11-01/_SUCCESS", "")
    _touch(root / "messages/.hidden")


def test_a_night_with_stray_files_publishes_every_good_line(tmp_path: Path) -> None:
    bad, clean = tmp_path / "bad", tmp_path / "clean"
    generate(landing=clean / "landing", start=START, days=2, conversations_per_day=30, seed=13)
    shutil.copytree(clean / "landing", bad / "landing")
    _add_strays(bad / "landing")
    night = max(f.export_date for f in landing.discover(clean / "landing").files).isoformat()

    dry = _cli(bad, "nightly", "--date", night, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    for path, reason in EXPECTED:
        assert f"would not load {path}: {reason}" in dry.stdout

    first = _cli(bad, "nightly", "--date", night)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Traceback" not in first.stdout + first.stderr
    twin = _cli(clean, "ingest")  # the clean twin: every line of the same good files, no stray
    assert twin.returncode == 0, twin.stderr[-3000:]

    assert (bad / "analytics.duckdb").exists()
    record = RunHistory(bad).records()[-1]
    assert (record.status, record.published) == ("ok", True)
    assert record.misfiled == [MisfiledPath(path, reason) for path, reason in EXPECTED]
    assert any("do not fit the layout" in a for a in record.alerts)
    # every good line loaded and accounted for, and nothing else: the clean twin's numbers
    assert _lines_by_day(bad) == _lines_by_day(clean)
    assert _reconciled_by_day(bad) == _lines_by_day(clean)
    table = _misfiled_table(bad)
    assert [(path, reason) for path, reason, _, _ in table] == EXPECTED
    assert {batch for *_, batch in table} == {record.batch_id}
    [alert] = _layout_alerts(first.stderr)
    assert alert["severity"] == "warning" and alert["title"].startswith("4 landing path(s)")
    for path, reason in EXPECTED:
        assert alert["details"]["paths"].count(f"{path} ({reason})") == 1

    summary = _cli(bad, "summary")
    assert summary.returncode == 0, summary.stderr[-3000:]
    for path, reason in EXPECTED:
        assert summary.stdout.count(f"{path}: {reason}") == 1
    assert "_SUCCESS" not in summary.stdout and ".hidden" not in summary.stdout

    # the operator renames the upper-case file: the next night loads it, the list shrinks
    resend = (bad / "landing" / UPPER).with_suffix(".jsonl")
    (bad / "landing" / UPPER).rename(resend)
    resend_lines = len(resend.read_text().splitlines())
    raw_before = _raw_counts(bad)
    second = _cli(bad, "nightly", "--date", night)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Traceback" not in second.stdout + second.stderr
    record = RunHistory(bad).records()[-1]
    assert (record.status, record.published) == ("ok", True)
    assert record.misfiled == [MisfiledPath(path, reason) for path, reason in EXPECTED[1:]]
    assert record.files == 1 and record.lines_read == resend_lines
    assert _raw_counts(bad)["conversations"] == raw_before["conversations"] + resend_lines
    loaded = query_rows(
        bad / "warehouse.duckdb",
        f"select batch_id from chatbatch.landing_files where file_path = '{UPPER[: -len('.JSONL')]}.jsonl'",
    )
    assert loaded == [(record.batch_id,)]
    second_table = _misfiled_table(bad)
    assert [(path, reason) for path, reason, _, _ in second_table] == EXPECTED[1:]
    # still misfiled: first seen in the first night, last seen now
    assert [first_seen for _, _, first_seen, _ in second_table] == [
        first_seen for _, _, first_seen, _ in table[1:]
    ]
    assert {batch for *_, batch in second_table} == {record.batch_id}
    [alert] = _layout_alerts(second.stderr)
    assert alert["title"].startswith("3 landing path(s)") and UPPER not in alert["details"]["paths"]


@pytest.mark.parametrize("name", ["part-0000.JSONL", "part-0000.jsonl.GZ", "part-0000.txt", "part-0000"])
def test_every_wrong_extension_is_misfiled(tmp_path: Path, name: str) -> None:
    _touch(tmp_path / "events/export_date=2026-11-01" / name)
    assert landing.discover(tmp_path).misfiled == [
        MisfiledPath(f"events/export_date=2026-11-01/{name}", landing.BAD_EXTENSION)
    ]
