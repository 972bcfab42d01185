"""Source readers (issue 14): Langfuse export files and manifests, OTLP file-exporter output."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chatbatch.accumulate.sources import langfuse, otlp

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
LANGFUSE = FIXTURES / "langfuse" / "proj-demo"
OTEL = FIXTURES / "otel"


def test_manifest_lists_files_with_row_counts():
    manifest = langfuse.read_manifest(LANGFUSE / "manifests" / "2026-03-04T00-00-00.json")
    assert manifest.project_id == "proj-demo"
    assert manifest.window_min == "2026-03-03T00:00:00.000Z"
    assert [(f.table, f.row_count, f.compressed) for f in manifest.files] == [
        ("observations_v2", 6, False),
        ("scores", 1, False),
    ]
    for entry in manifest.files:
        key = langfuse.parse_key(entry.key)
        assert key is not None and key.table == entry.table and key.stem == "2026-03-04T00-00-00"
        lines = langfuse.read_data_file(LANGFUSE.parent / entry.key)
        assert len(lines.lines) == entry.row_count  # the reconciliation the loader will do


def test_manifest_errors_name_the_file(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text('{"version": 1, "files": []}')
    with pytest.raises(langfuse.ManifestError, match=r"m\.json"):
        langfuse.read_manifest(bad)
    bad.write_text("{not json")
    with pytest.raises(langfuse.ManifestError, match=r"m\.json"):
        langfuse.read_manifest(bad)


def test_run_without_manifest_is_recognisable():
    manifests = {p.stem for p in (LANGFUSE / "manifests").iterdir()}
    stems = {p.name.split(".")[0] for p in (LANGFUSE / "observations_v2").iterdir()}
    assert stems - manifests == {"2026-03-05T00-00-00"}
    assert langfuse.is_manifest_key("proj-demo/manifests/2026-03-04T00-00-00.json")
    assert langfuse.parse_key("pre/fix/proj-demo/scores/2026-03-04T00-00-00.csv.gz") == langfuse.DataFileKey(
        "proj-demo", "scores", "2026-03-04T00-00-00", "csv", True
    )


def test_jsonl_lines_untouched_and_malformed_line_kept():
    path = LANGFUSE / "observations_v2" / "2026-03-04T00-00-00.jsonl"
    result = langfuse.read_data_file(path)
    assert result.lines == path.read_text().splitlines()
    assert result.file_error is None and set(result.line_errors) == {None}
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.lines[-1])  # kept for staging to quarantine as malformed_json


def test_gzip_jsonl_and_truncated_gzip(tmp_path):
    source = LANGFUSE / "observations_v2" / "2026-03-03T00-00-00.jsonl"
    packed = tmp_path / "2026-03-03T00-00-00.jsonl.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    assert langfuse.read_data_file(packed).lines == source.read_text().splitlines()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed.read_bytes()[: len(packed.read_bytes()) * 2 // 3])
    result = langfuse.read_data_file(cut)
    assert result.file_error == "truncated_gzip"
    assert result.line_errors[-1] == "truncated_file"


def _records(name: str) -> list[dict]:
    return [json.loads(line) for line in (LANGFUSE / "scores" / name).read_text().splitlines()]


def test_json_array_and_csv_give_one_object_per_record(tmp_path):
    records = _records("2026-03-03T00-00-00.jsonl")
    as_json = tmp_path / "s.json.gz"
    as_json.write_bytes(gzip.compress(json.dumps(records).encode()))
    assert [json.loads(line) for line in langfuse.read_data_file(as_json).lines] == records

    as_csv = tmp_path / "s.csv"
    header = list(records[0])
    rows = [",".join(header)]
    for record in records:
        rows.append(",".join("" if record[k] is None else json.dumps(str(record[k])) for k in header))
    as_csv.write_text("\n".join(rows) + "\n")
    parsed = [json.loads(line) for line in langfuse.read_data_file(as_csv).lines]
    assert len(parsed) == len(records)
    assert parsed[0]["timestamp"] == "2026-03-02 10:00:09.000000"  # text, untouched
    assert parsed[1]["observation_id"] is None  # empty field is null
    as_csv.write_text(rows[0] + "\nonly,three,fields\n")
    assert langfuse.read_data_file(as_csv).line_errors == ["csv_field_count"]


def test_parquet_rows_become_the_same_json_lines(tmp_path):
    """Timestamps typed in Parquet come back in the export's text form; maps become objects."""
    lines = (LANGFUSE / "observations_v2" / "2026-03-03T00-00-00.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    ts = pa.timestamp("us", tz="UTC")

    def when(text):
        return None if text is None else dt.datetime.fromisoformat(text + "+00:00")

    columns = {
        "id": pa.array([r["id"] for r in records]),
        "start_time": pa.array([when(r["start_time"]) for r in records], type=ts),
        "end_time": pa.array([when(r["end_time"]) for r in records], type=ts),
        "usage_details": pa.array(
            [list(r["usage_details"].items()) for r in records], type=pa.map_(pa.string(), pa.uint64())
        ),
        "tool_call_names": pa.array([r["tool_call_names"] for r in records], type=pa.list_(pa.string())),
        "total_cost": pa.array([r["total_cost"] for r in records], type=pa.float64()),
    }
    path = tmp_path / "2026-03-03T00-00-00.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=2)
    result = langfuse.read_data_file(path)
    assert result.declared_rows == len(records) == len(result.lines)
    for line, record in zip(result.lines, records, strict=True):
        got = json.loads(line)
        assert got == {key: record[key] for key in columns}


def test_damaged_parquet_is_flagged_not_raised(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 not really")
    result = langfuse.read_data_file(path)
    assert result.file_error == "invalid_parquet" and result.lines == []


# --- OTLP ---------------------------------------------------------------------------


def _otel_lines() -> tuple[Path, list[str]]:
    path = OTEL / "traces-2026-03-03T09-00-00.000.json"
    return path, path.read_bytes().decode("utf-8").split("\n")[:-1]


def test_otlp_plain_lines_and_bad_line_kept():
    path, expected = _otel_lines()
    result = otlp.read_otlp_file(path)
    assert result.lines == expected
    assert result.file_error is None
    bad = [i for i, line in enumerate(result.lines) if not line.startswith('{"resourceSpans"')]
    assert bad, "the fixture holds at least one line that is not OTLP/JSON"


def test_otlp_invalid_utf8_line(tmp_path):
    path = tmp_path / "t.json"
    path.write_bytes(b'{"resourceSpans":[]}\n\xff\xfe{"resourceSpans":[]}\n')
    result = otlp.read_otlp_file(path)
    assert result.line_errors == [None, "invalid_utf8"]


def test_otlp_zstd_stream_and_collector_framing(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    _, expected = _otel_lines()
    payload = "".join(line + "\n" for line in expected).encode()

    stream = tmp_path / "traces.json.zst"
    stream.write_bytes(zstandard.ZstdCompressor().compress(payload))
    assert otlp.read_otlp_file(stream).lines == expected

    # the Collector (compression: zstd): each message its own frame, length-prefixed
    framed = bytearray()
    for line in expected:
        frame = zstandard.ZstdCompressor().compress(line.encode())
        framed += len(frame).to_bytes(4, "big") + frame
    collector = tmp_path / "traces-2026-03-03T09-00-00.000.json"
    collector.write_bytes(bytes(framed))
    result = otlp.read_otlp_file(collector)
    assert result.lines == expected and result.file_error is None

    collector.write_bytes(bytes(framed[:-5]))
    cut = otlp.read_otlp_file(collector)
    assert cut.lines[:-1] == expected[:-1]
    assert cut.line_errors[-1] == "truncated_file" and cut.file_error == "truncated_file"

    truncated = tmp_path / "cut.zst"
    truncated.write_bytes(stream.read_bytes()[:-8])
    assert otlp.read_otlp_file(truncated).file_error in {"truncated_zstd", "corrupt_zstd"}


def test_expected_files_name_existing_fixture_lines():
    for name in ("langfuse", "otel"):
        expected = json.loads((FIXTURES / name / "expected.json").read_text())
        for entry in expected["quarantine"]:
            assert (FIXTURES / name / entry["file"]).exists(), entry
