"""Tests for the synthetic export generator (``chatbatch generate``)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import time
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from chatbatch_dev.generator import GenerateSummary, generate, planted_pii
from chatbatch_dev.generator.catalog import INTENTS, MODELS
from chatbatch_dev.generator.pii import iban_ok, luhn_ok
from jsonschema import Draft202012Validator

from chatbatch.contract import ENTITIES, json_schema

START = date(2026, 3, 1)
ROOT = Path(__file__).resolve().parents[2]


def _read(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def _data_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*.jsonl*") if "_generator" not in p.parts)


def _records(landing: Path, entity: str) -> Iterator[dict]:
    for path in sorted((landing / entity).rglob("*.jsonl*")):
        for line in _read(path).decode("utf-8").splitlines():
            yield json.loads(line)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    landing = tmp_path_factory.mktemp("clean")
    return landing, generate(landing, START, 2, 50, seed=11)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    landing = tmp_path_factory.mktemp("dirty")
    return landing, generate(landing, START, 2, 50, seed=11, dirty_rate=0.05)


def test_clean_output_validates_against_schemas(clean: tuple[Path, GenerateSummary]) -> None:
    landing, summary = clean
    seen = dict.fromkeys(ENTITIES, 0)
    for entity in ENTITIES:
        schema = json_schema(entity)
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        for rec in _records(landing, entity):
            errors = list(validator.iter_errors(rec))
            assert not errors, (entity, rec, errors[0].message)
            seen[entity] += 1
    assert all(seen.values()), seen
    defects = {
        "malformed_json",
        "wrong_type",
        "missing_required",
        "bad_timestamp",
        "invalid_enum",
        "invalid_utf8",
        "truncated_gzip",
        "duplicate",
    }
    assert not defects & set(summary.dirty_totals())
    assert summary.truncated_gzip is None


def test_layout_and_file_forms(clean: tuple[Path, GenerateSummary]) -> None:
    landing, summary = clean
    files = _data_files(landing)
    assert any(p.name.endswith(".jsonl.gz") for p in files)
    assert any(p.name.endswith(".jsonl") for p in files)
    assert (landing / "messages/export_date=2026-03-01/part-0001.jsonl.gz").exists()
    for p in files:
        assert p.parent.name.startswith("export_date=")
        data = _read(p)
        assert data.endswith(b"\n") and b"\r" not in data
    written = sorted(str(p.relative_to(landing)) for p in files)
    assert written == summary.files
    stored = json.loads((landing / "_generator/summary-2026-03-01-2.json").read_text())
    assert stored["files"] == summary.files and "seconds" not in stored


def test_content_realism(clean: tuple[Path, GenerateSummary]) -> None:
    landing, _ = clean
    msgs = list(_records(landing, "messages"))
    assert {m["role"] for m in msgs} >= {"user", "assistant", "system"}
    assert {m["model"] for m in msgs if "model" in m} <= set(MODELS)
    kb_ids = {d["document_id"] for d in _records(landing, "kb_documents")}
    cited = {d for m in msgs for d in m.get("retrieved_document_ids", [])}
    assert cited and cited <= kb_ids
    convs = list(_records(landing, "conversations"))
    ends = [c for c in convs if "ended_at" in c]
    assert ends and len(ends) < len(convs)
    stamps = [c["started_at"] for c in convs] + [m["sent_at"] for m in msgs]
    assert any(s.endswith("Z") for s in stamps) and any(s[-6] in "+-" for s in stamps)
    events = {e["event_type"] for e in _records(landing, "events")}
    assert {"retrieval", "tool_call", "conversation_closed"} <= events


def test_pii_pool_is_valid_and_planted(tmp_path: Path) -> None:
    pool = planted_pii(5)
    assert all(luhn_ok(c) for c in pool["card"])
    assert all(iban_ok(i) for i in pool["iban"])
    generate(tmp_path, START, 1, 120, seed=5)
    blob = b"".join(_read(p) for p in _data_files(tmp_path)).decode()
    missing = [v for values in pool.values() for v in values if v not in blob]
    assert not missing


def test_determinism(tmp_path: Path) -> None:
    def digests(landing: Path) -> dict[str, str]:
        return {
            str(p.relative_to(landing)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(landing.rglob("*"))
            if p.is_file()
        }

    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(tmp_path / name, START, 2, 40, seed=seed, dirty_rate=0.05)
    a, b, c = (digests(tmp_path / n) for n in "abc")
    assert a == b
    assert a != c


def test_dirty_kinds_present(dirty: tuple[Path, GenerateSummary]) -> None:
    _, summary = dirty
    totals = summary.dirty_totals()
    for kind in (
        "malformed_json",
        "wrong_type",
        "missing_required",
        "bad_timestamp",
        "invalid_enum",
        "invalid_utf8",
        "truncated_gzip",
        "duplicate",
        "late_arrival",
        "schema_drift",
        "long_text",
    ):
        assert totals.get(kind, 0) > 0, kind


def test_dirty_lines_really_broken(dirty: tuple[Path, GenerateSummary]) -> None:
    landing, summary = dirty
    assert summary.truncated_gzip is not None
    trunc = landing / str(summary.truncated_gzip["file"])
    with pytest.raises((EOFError, OSError, zlib.error)):
        gzip.decompress(trunc.read_bytes())
    plain = zlib.decompressobj(wbits=31).decompress(trunc.read_bytes())
    assert plain.count(b"\n") == summary.truncated_gzip["complete_lines"]
    bad_utf8 = bad_json = 0
    for path in _data_files(landing):
        if path == trunc:
            continue
        for line in _read(path).splitlines():
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                bad_utf8 += 1
                continue
            try:
                json.loads(text)
            except json.JSONDecodeError:
                bad_json += 1
    totals = summary.dirty_totals()
    assert bad_utf8 == totals["invalid_utf8"]
    assert bad_json == totals["malformed_json"]


def test_intent_catalogue_seed_matches_generator() -> None:
    with (ROOT / "seeds/intent_catalogue.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["intent", "category", "description", "requires_human"]
    assert len(rows) >= 25
    assert [r["intent"] for r in rows] == [it.name for it in INTENTS]
    assert {r["requires_human"] for r in rows} == {"true", "false"}
    assert next(r for r in rows if r["intent"] == "talk_to_human")["requires_human"] == "true"


def test_throughput_smoke(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    summary = generate(tmp_path, START, 2, 1000, seed=1)
    secs = time.perf_counter() - t0
    print(
        f"\ngenerate: {summary.messages} messages in {secs:.2f}s = {summary.messages / secs:,.0f} messages/s"
    )
    assert summary.messages > 0
