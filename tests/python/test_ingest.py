"""The ingest step: every line of every file becomes one raw row, nothing is lost."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from chatbatch.accumulate.ingest import ContentChangedError, ingest
from chatbatch.accumulate.landing import discover
from chatbatch.accumulate.lines import read_lines
from tests.python.conftest import write_lines


def test_read_lines_plain_gzip_crlf_and_invalid_utf8(tmp_path: Path) -> None:
    plain = tmp_path / "a.jsonl"
    plain.write_bytes(b'{"a":1}\r\n{"a":2}\n{"a":"\xff\xfe"}\n')
    content = read_lines(plain)
    assert content.lines[:2] == ['{"a":1}', '{"a":2}']
    assert content.line_errors == [None, None, "invalid_utf8"]
    assert "\\xff" in content.lines[2]

    multi = tmp_path / "b.jsonl.gz"
    multi.write_bytes(gzip.compress(b"1\n2\n", mtime=0) + gzip.compress(b"3\n", mtime=0))
    assert read_lines(multi).lines == ["1", "2", "3"]


def test_truncated_gzip_keeps_what_can_be_read(tmp_path: Path) -> None:
    body = b"".join(b'{"n": %d, "pad": "%s"}\n' % (i, b"x" * (i % 97)) for i in range(5000))
    path = tmp_path / "cut.jsonl.gz"
    full = gzip.compress(body, mtime=0)
    path.write_bytes(full[: len(full) * 2 // 3])
    content = read_lines(path)
    assert content.file_error == "truncated_gzip"
    assert 0 < len(content.lines) < 5000
    assert content.line_errors[-1] == "truncated_file"
    assert all(error is None for error in content.line_errors[:-1])


def test_discover_names_the_offending_path(tmp_path: Path) -> None:
    (tmp_path / "messages" / "2026-11-01").mkdir(parents=True)
    [misfiled] = discover(tmp_path).misfiled
    assert misfiled.path == "messages/2026-11-01/"
    assert "export_date=YYYY-MM-DD" in misfiled.reason


def test_ingest_is_idempotent_and_refuses_changed_files(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    path = write_lines(landing, "users", "2026-11-01", "u.jsonl", [{"user_id": "u1"}])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    first = ingest(con, landing)
    second = ingest(con, landing)
    assert (first.lines_read, len(first.files_loaded)) == (1, 1)
    assert (second.lines_read, second.files_skipped) == (0, 1)
    assert con.execute("select count(*) from raw.users").fetchone() == (1,)

    path.write_text('{"user_id": "u2"}\n')
    with pytest.raises(ContentChangedError, match=r"users/export_date=2026-11-01/u\.jsonl"):
        ingest(con, landing)
    assert con.execute("select count(*) from raw.users").fetchone() == (1,)
