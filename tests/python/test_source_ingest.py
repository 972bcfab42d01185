"""Ingest of the Langfuse and OTel sources (issue 14): layout, waiting runs, raw rows per file.

The spec fixtures of tests/python/fixtures/sources/ are copied into a landing laid out as
docs/sources/*.md say, with ``sources.yml`` enabling both sources. No dbt: raw rows only.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chatbatch.accumulate import landing
from chatbatch.accumulate.ingest import ContentChangedError, ingest
from chatbatch.accumulate.sources import langfuse, otlp
from chatbatch.contract.sources import ALL_RAW_TABLES, SourceConfig, raw_tables
from chatbatch.core.errors import ConfigError
from chatbatch.monitor.record import MisfiledPath

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
OTEL_FILE = "traces-2026-03-03T09-00-00.000.json"
BOTH = "sources: [chatbot, langfuse, otel]\n"


def _home(tmp_path: Path, config: str = BOTH) -> Path:
    """A home whose landing holds the Langfuse fixture project and one OTel collector."""
    home = tmp_path / "home"
    shutil.copytree(FIXTURES / "langfuse" / "proj-demo", home / "landing" / "langfuse" / "proj-demo")
    collector = home / "landing" / "otel" / "gateway"
    collector.mkdir(parents=True)
    shutil.copy(FIXTURES / "otel" / OTEL_FILE, collector / OTEL_FILE)
    (home / "sources.yml").write_text(config)
    return home


def _raw_counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    return dict(con.execute(f"select _file_path, count(*) from raw.{table} group by 1").fetchall())


def _manifest_rows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int, int | None]]:
    rows = con.execute("select file_path, entity, lines_read, declared_rows from chatbatch.landing_files")
    return {path: (entity, lines, declared) for path, entity, lines, declared in rows.fetchall()}


def _write_manifest(project: Path, stem: str, files: list[tuple[str, str, int | None]]) -> Path:
    path = project / "manifests" / f"{stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    day = stem[:10]
    doc = {
        "version": 1,
        "projectId": project.name,
        "exportSource": "EVENTS",
        "window": {"minTimestamp": f"{day}T00:00:00.000Z", "maxTimestamp": f"{day}T23:00:00.000Z"},
        "files": [
            {"key": f"{project.name}/{table}/{name}", "table": table, "rowCount": rows}
            for table, name, rows in files
        ],
    }
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_fixtures_load_one_raw_row_per_record_and_match_the_manifests(tmp_path: Path) -> None:
    home = _home(tmp_path)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    result = ingest(con, home / "landing")
    project = home / "landing" / "langfuse" / "proj-demo"
    manifests = sorted((project / "manifests").iterdir())
    expected_files = []
    for manifest_path in manifests:
        for entry in langfuse.read_manifest(manifest_path).files:
            expected_files.append(f"langfuse/{entry.key}")
        expected_files.append(f"langfuse/proj-demo/manifests/{manifest_path.name}")
    assert result.files_loaded == [*expected_files, f"otel/gateway/{OTEL_FILE}"]

    loaded = _manifest_rows(con)
    for manifest_path in manifests:
        manifest = langfuse.read_manifest(manifest_path)
        for entry in manifest.files:
            path = f"langfuse/{entry.key}"
            reader_lines = len(langfuse.read_data_file(home / "landing" / path).lines)
            table = landing.langfuse.RAW_TABLES[entry.table]
            assert _raw_counts(con, table)[path] == reader_lines == entry.row_count
            assert loaded[path] == (table, reader_lines, entry.row_count)
        manifest_file = f"langfuse/proj-demo/manifests/{manifest_path.name}"
        assert _raw_counts(con, "langfuse_manifests")[manifest_file] == 1
        [(line, day)] = con.execute(
            "select _line, _export_date from raw.langfuse_manifests where _file_path = ?", [manifest_file]
        ).fetchall()
        assert json.loads(line) == json.loads(manifest_path.read_text())  # one line, same document
        assert day.isoformat() == manifest.window_max[:10]

    otel_path = f"otel/gateway/{OTEL_FILE}"
    otel_lines = otlp.read_otlp_file(FIXTURES / "otel" / OTEL_FILE).lines
    assert _raw_counts(con, "otel_traces") == {otel_path: len(otel_lines)}
    assert loaded[otel_path] == ("otel_traces", len(otel_lines), None)
    assert con.execute("select distinct _export_date::varchar from raw.otel_traces").fetchall() == [
        ("2026-03-03",)
    ]
    assert [w.path for w in result.waiting] == [
        "langfuse/proj-demo/observations_v2/2026-03-05T00-00-00.jsonl"
    ]
    assert result.misfiled == []
    # contract v1's raw tables exist too (its staging is part of every build)
    for table in ALL_RAW_TABLES:
        con.execute(f"select count(*) from {table.relation}")


def test_a_run_waits_for_its_manifest_and_every_listed_file(tmp_path: Path) -> None:
    home = _home(tmp_path)
    project = home / "landing" / "langfuse" / "proj-demo"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest(con, home / "landing")
    late = "langfuse/proj-demo/observations_v2/2026-03-05T00-00-00.jsonl"
    assert late not in _manifest_rows(con)
    waiting = con.execute("select path, reason from chatbatch.landing_waiting order by path").fetchall()
    assert waiting == [(late, langfuse.UNLISTED)]

    # the retried run rewrites its file freely before its manifest exists
    rows = (project / "observations_v2" / "2026-03-04T00-00-00.jsonl").read_text().splitlines()
    (project / "observations_v2" / "2026-03-05T00-00-00.jsonl").write_text("\n".join(rows[:2]) + "\n")
    # its manifest lists a scores file that has not landed: the whole run waits
    manifest = _write_manifest(
        project,
        "2026-03-05T00-00-00",
        [("observations_v2", "2026-03-05T00-00-00.jsonl", 2), ("scores", "2026-03-05T00-00-00.jsonl", 1)],
    )
    second = ingest(con, home / "landing")
    assert second.files_loaded == []
    assert {w.path for w in second.waiting} == {
        late,
        "langfuse/proj-demo/manifests/2026-03-05T00-00-00.json",
        "langfuse/proj-demo/scores/2026-03-05T00-00-00.jsonl",
    }
    assert all("run 2026-03-05T00-00-00" in w.reason or "not landed yet" in w.reason for w in second.waiting)

    score = (project / "scores" / "2026-03-03T00-00-00.jsonl").read_text().splitlines()[0]
    (project / "scores" / "2026-03-05T00-00-00.jsonl").write_text(score + "\n")
    third = ingest(con, home / "landing")
    assert third.files_loaded == [
        late,
        "langfuse/proj-demo/scores/2026-03-05T00-00-00.jsonl",
        "langfuse/proj-demo/manifests/2026-03-05T00-00-00.json",
    ]
    assert third.waiting == []
    assert con.execute("select count(*) from chatbatch.landing_waiting").fetchone() == (0,)
    assert _raw_counts(con, "langfuse_observations")[late] == 2
    assert _manifest_rows(con)[late] == ("langfuse_observations", 2, 2)

    # once loaded, the run is final: rewriting it is refused with the Langfuse hint
    (project / "observations_v2" / "2026-03-05T00-00-00.jsonl").write_text(rows[0] + "\n")
    with pytest.raises(ContentChangedError) as refused:
        ingest(con, home / "landing")
    assert "2026-03-05T00-00-00.jsonl" in refused.value.what and refused.value.hint == langfuse.CHANGED_HINT
    assert manifest.exists()


def test_live_otel_file_waits_and_zstd_and_gzip_load(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    home = _home(tmp_path)
    collector = home / "landing" / "otel" / "gateway"
    (collector / "traces.json").write_text('{"resourceSpans": []}\n')
    lines = (FIXTURES / "otel" / OTEL_FILE).read_bytes().decode().split("\n")[:-1]
    framed = bytearray()
    for line in lines:  # the Collector with compression: zstd
        frame = zstandard.ZstdCompressor().compress(line.encode())
        framed += len(frame).to_bytes(4, "big") + frame
    (collector / "traces-2026-03-04T09-00-00.000.json").write_bytes(bytes(framed))
    (collector / "traces-2026-03-05T09-00-00.000.json.zst").write_bytes(
        zstandard.ZstdCompressor().compress("".join(line + "\n" for line in lines).encode())
    )
    project = home / "landing" / "langfuse" / "proj-demo"
    plain = project / "scores" / "2026-03-03T00-00-00.jsonl"
    (project / "scores" / "2026-03-06T00-00-00.jsonl.gz").write_bytes(gzip.compress(plain.read_bytes()))
    _write_manifest(project, "2026-03-06T00-00-00", [("scores", "2026-03-06T00-00-00.jsonl.gz", 4)])

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    result = ingest(con, home / "landing")
    assert landing.WaitingFile("otel/gateway/traces.json", otlp.LIVE_FILE) in result.waiting
    otel = _raw_counts(con, "otel_traces")
    assert otel == {
        f"otel/gateway/{OTEL_FILE}": len(lines),
        "otel/gateway/traces-2026-03-04T09-00-00.000.json": len(lines),
        "otel/gateway/traces-2026-03-05T09-00-00.000.json.zst": len(lines),
    }
    assert con.execute(
        "select count(distinct _line) from raw.otel_traces where _line_error is null"
    ).fetchone() == (len(set(lines)),)
    gz = "langfuse/proj-demo/scores/2026-03-06T00-00-00.jsonl.gz"
    assert _manifest_rows(con)[gz] == ("langfuse_scores", 4, 4)
    assert result.file_errors == {}


def test_parquet_declares_its_rows_in_the_footer(tmp_path: Path) -> None:
    home = _home(tmp_path)
    project = home / "landing" / "langfuse" / "proj-demo"
    records = [
        json.loads(line)
        for line in (project / "scores" / "2026-03-03T00-00-00.jsonl").read_text().splitlines()
    ]
    table = pa.table({"id": [r["id"] for r in records], "name": [r["name"] for r in records]})
    pq.write_table(table, project / "scores" / "2026-03-07T00-00-00.parquet")
    _write_manifest(project, "2026-03-07T00-00-00", [("scores", "2026-03-07T00-00-00.parquet", None)])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest(con, home / "landing")
    path = "langfuse/proj-demo/scores/2026-03-07T00-00-00.parquet"
    assert _manifest_rows(con)[path] == ("langfuse_scores", len(records), len(records))
    lines = con.execute(
        "select _line from raw.langfuse_scores where _file_path = ? order by _line_number", [path]
    )
    assert [json.loads(line)["id"] for (line,) in lines.fetchall()] == [r["id"] for r in records]


def test_a_disabled_source_root_is_misfiled_with_the_reason(tmp_path: Path) -> None:
    home = _home(tmp_path, "sources: [chatbot, langfuse]\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    result = ingest(con, home / "landing")
    assert result.misfiled == [
        MisfiledPath("otel/", "source 'otel' is not enabled in $CHATBATCH_HOME/sources.yml")
    ]
    assert "otel_traces" not in {
        t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()
    }
    default = landing.discover(home / "landing")  # no configuration: contract v1 only
    assert [m.path for m in default.misfiled] == ["langfuse/", "otel/"]
    assert default.files == [] and default.waiting == []


def test_paths_inside_a_source_root_that_do_not_fit_are_misfiled(tmp_path: Path) -> None:
    home = _home(tmp_path)
    root = home / "landing"
    for relative in (
        "langfuse/stray.json",
        "langfuse/proj-demo/notes.txt",
        "langfuse/proj-demo/sessions/2026-03-03T00-00-00.jsonl",
        "langfuse/proj-demo/scores/2026-03-03T00-00-00.xlsx",
        "langfuse/proj-demo/scores/nested/x.jsonl",
        "langfuse/proj-demo/manifests/2026-03-09T00-00-00.txt",
        "langfuse/proj-demo/manifests/2026-03-10T00-00-00.json",
        "otel/stray.json",
        "otel/gateway/traces-2026-13-45T00-00-00.000.json",
        "otel/gateway/traces.csv",
        "otel/gateway/old/traces.json",
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("{not a manifest\n")
    found = landing.discover(root, SourceConfig.load(home))
    assert found.misfiled == [
        MisfiledPath("langfuse/proj-demo/manifests/2026-03-09T00-00-00.txt", langfuse.BAD_MANIFEST_NAME),
        MisfiledPath(
            "langfuse/proj-demo/manifests/2026-03-10T00-00-00.json",
            found.misfiled[1].reason,
        ),
        MisfiledPath("langfuse/proj-demo/notes.txt", langfuse.OUTSIDE_TABLE),
        MisfiledPath("langfuse/proj-demo/scores/2026-03-03T00-00-00.xlsx", langfuse.BAD_NAME),
        MisfiledPath("langfuse/proj-demo/scores/nested/", langfuse.NESTED_FOLDER),
        MisfiledPath("langfuse/proj-demo/sessions/", langfuse.UNKNOWN_FOLDER),
        MisfiledPath("langfuse/stray.json", langfuse.OUTSIDE_PROJECT),
        MisfiledPath("otel/gateway/old/", otlp.NESTED_FOLDER),
        MisfiledPath(
            "otel/gateway/traces-2026-13-45T00-00-00.000.json", "impossible rotation date 2026-13-45"
        ),
        MisfiledPath("otel/gateway/traces.csv", otlp.BAD_NAME),
        MisfiledPath("otel/stray.json", otlp.OUTSIDE_COLLECTOR),
    ]
    assert found.misfiled[1].reason.startswith("unusable Langfuse manifest: not a JSON manifest")
    assert str(root) not in found.misfiled[1].reason  # relative paths only


def test_source_config(tmp_path: Path) -> None:
    assert SourceConfig.load(tmp_path) == SourceConfig()
    assert [t.name for t in raw_tables(SourceConfig())] == [
        t.name for t in ALL_RAW_TABLES if t.source == "chatbot"
    ]
    (tmp_path / "sources.yml").write_text(
        "sources: [chatbot, langfuse]\n"
        "langfuse:\n  feedback_scores: {thumbs: [user-feedback], csat: [csat]}\n"
        "otel:\n  feedback_evaluations: {thumbs: [x]}\n"
    )
    config = SourceConfig.load(tmp_path)
    assert config.dbt_vars() == {
        "sources": ["chatbot", "langfuse"],
        "langfuse_feedback_scores": {"thumbs": ["user-feedback"], "csat": ["csat"]},
    }
    assert [t.base_model for t in raw_tables(config) if t.source == "langfuse"] == [
        "base_langfuse__observations",
        "base_langfuse__scores",
        "base_langfuse__traces",
        "base_langfuse__manifests",
    ]
    for text, message in (
        ("sources: [chatbot, zendesk]\n", "unknown source 'zendesk'"),
        ("sources: [chatbot\n", "not valid YAML"),
        ("langfuse:\n  feedback: {}\n", "unknown setting langfuse.feedback"),
        ("source: [chatbot]\n", r"unknown key\(s\) source"),
        ("sources: []\n", "non-empty list"),
    ):
        (tmp_path / "sources.yml").write_text(text)
        with pytest.raises(ConfigError, match=message) as error:
            SourceConfig.load(tmp_path)
        assert str(tmp_path / "sources.yml") in error.value.what
