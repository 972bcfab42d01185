"""``chatbatch generate --format langfuse|otel``: the v1 conversations, read back with the source readers."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from chatbatch_dev.generator import generate
from chatbatch_dev.generator.formats import FormatOptions
from chatbatch_dev.generator.render_langfuse import FEEDBACK_SCORES
from chatbatch_dev.generator.render_otel import FEEDBACK_EVALUATIONS

from chatbatch.accumulate.sources import langfuse, otlp

START = date(2026, 3, 1)
DAYS, PER_DAY, SEED = 3, 60, 17


def _gen(root: Path, options: FormatOptions | None = None) -> Path:
    generate(root, START, DAYS, PER_DAY, seed=SEED, options=options)
    return root


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _gen(tmp_path_factory.mktemp("v1"))


@pytest.fixture(scope="module")
def lf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _gen(tmp_path_factory.mktemp("lf"), FormatOptions(format="langfuse"))


@pytest.fixture(scope="module")
def lf_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _gen(
        tmp_path_factory.mktemp("lfj"),
        FormatOptions(format="langfuse", langfuse_format="jsonl", langfuse_gzip=True),
    )


@pytest.fixture(scope="module")
def otel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _gen(tmp_path_factory.mktemp("otel"), FormatOptions(format="otel"))


def _v1(landing: Path, entity: str) -> list[dict]:
    out = []
    for path in sorted((landing / entity).rglob("*.jsonl*")):
        raw = path.read_bytes()
        raw = gzip.decompress(raw) if path.name.endswith(".gz") else raw
        out += [json.loads(line) for line in raw.decode().splitlines()]
    return out


def _langfuse_runs(landing: Path) -> list[tuple[langfuse.Manifest, dict[str, list[dict]]]]:
    root = landing / "langfuse"
    runs = []
    for path in sorted(root.glob("*/manifests/*.json")):
        manifest = langfuse.read_manifest(path)
        tables: dict[str, list[dict]] = {}
        for f in manifest.files:
            read = langfuse.read_data_file(root / f.key)
            assert read.file_error is None and not any(read.line_errors), f.key
            expected = f.row_count if f.row_count is not None else read.declared_rows
            assert expected == len(read.lines), f.key  # the manifest (or Parquet footer) count holds
            assert f.size_bytes == (root / f.key).stat().st_size
            tables[f.table] = [json.loads(line) for line in read.lines]
        runs.append((manifest, tables))
    return runs


def _latest(runs, table: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for _, tables in runs:
        for rec in tables.get(table, []):
            old = out.get(rec["id"])
            if old is None or (rec["updated_at"], rec.get("end_time") or "") >= (
                old["updated_at"],
                old.get("end_time") or "",
            ):
                out[rec["id"]] = rec
    return out


def _otel_spans(landing: Path) -> tuple[list[dict], list[Path]]:
    rotated = sorted(p for p in (landing / "otel").rglob("traces-*"))
    spans = []
    for path in rotated:
        read = otlp.read_otlp_file(path)
        assert read.file_error is None and not any(read.line_errors), path
        for line in read.lines:
            doc = json.loads(line)
            for rs in doc["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    spans += ss["spans"]
    return spans, rotated


def _attrs(span: dict) -> dict[str, object]:
    out = {}
    for a in span.get("attributes", []):
        ((_kind, value),) = a["value"].items()
        out[a["key"]] = value
    return out


def test_langfuse_manifests_rows_and_layout(lf: Path) -> None:
    runs = _langfuse_runs(lf)
    assert runs
    for manifest, _ in runs:
        assert {f.table for f in manifest.files} == {"observations_v2", "scores"}
        for f in manifest.files:
            assert f.file_type == "parquet" and f.row_count is None
            stem = langfuse.parse_key(f.key)
            assert stem is not None and stem.stem == manifest.window_max[:19].replace(":", "-")
    # windows are contiguous and share their boundary
    for (a, _), (b, _) in itertools.pairwise(runs):
        assert a.window_max == b.window_min


def test_langfuse_boundary_duplicates_and_reexports(lf: Path) -> None:
    runs = _langfuse_runs(lf)
    seen: Counter[str] = Counter()
    versions: dict[str, set[str]] = {}
    for _, tables in runs:
        for rec in tables["observations_v2"] + tables["scores"]:
            seen[rec["id"]] += 1
            versions.setdefault(rec["id"], set()).add(json.dumps(rec, sort_keys=True))
    boundary = [i for i, n in seen.items() if n > 1 and len(versions[i]) == 1]
    reexported = [i for i, v in versions.items() if len(v) > 1]
    assert boundary, "a record at a window boundary appears in both windows"
    assert reexported, "an observation is re-exported with a later end time"
    latest = _latest(runs, "observations_v2")
    for obs_id in reexported:
        assert latest[obs_id]["end_time"] is not None and latest[obs_id]["output"]
    summary = json.loads(next((lf / "_generator").glob("summary-langfuse-*.json")).read_text())
    assert summary["format_stats"]["retried_runs"]


def test_langfuse_carries_the_v1_conversations(v1: Path, lf: Path, lf_jsonl: Path) -> None:
    conversations = {c["conversation_id"]: c for c in _v1(v1, "conversations")}
    messages = _v1(v1, "messages")
    feedback = {f["feedback_id"]: f for f in _v1(v1, "feedback")}
    events = _v1(v1, "events")
    for landing in (lf, lf_jsonl):
        runs = _langfuse_runs(landing)
        obs = _latest(runs, "observations_v2")
        scores = _latest(runs, "scores")
        assert {o["session_id"] for o in obs.values()} == set(conversations)
        assert {o["user_id"] for o in obs.values() if o["user_id"]} == {
            c["user_id"] for c in conversations.values() if "user_id" in c
        }
        answers = {m["message_id"]: m for m in messages if m["role"] == "assistant"}
        generations = {i: o for i, o in obs.items() if o["type"] == "GENERATION" and o["level"] != "ERROR"}
        assert set(answers) <= set(generations)
        for mid, m in answers.items():
            g = generations[mid]
            assert json.loads(g["output"])["content"] == m["text"]
            assert g["provided_model_name"] == m["model"]
        # tokens per turn: the tool-loop generations sum to v1's
        for mid, m in answers.items():
            turn = [g for i, g in generations.items() if i in (mid, f"{mid}-call")]
            assert sum(g["usage_details"]["input"] for g in turn) == m["usage"]["input_tokens"]
            assert sum(g["usage_details"]["output"] for g in turn) == m["usage"]["output_tokens"]
        carried = {e["event_id"] for e in events if e["event_type"] in ("tool_call", "retrieval", "error")}
        assert carried == {
            i for i, o in obs.items() if o["type"] in ("TOOL", "RETRIEVER") or o["level"] == "ERROR"
        }
        assert set(scores) == set(feedback)
        names = {n for group in FEEDBACK_SCORES.values() for n in group}
        assert {s["name"] for s in scores.values()} <= names
        assert {s["data_type"] for s in scores.values()} == {"BOOLEAN", "CATEGORICAL", "NUMERIC", "TEXT"}


def test_otel_spans_parse_and_carry_the_v1_conversations(v1: Path, otel: Path) -> None:
    spans, rotated = _otel_spans(otel)
    assert rotated and (otel / "otel/otelcol-gateway/traces.json").exists()
    keys = [(s["traceId"], s["spanId"]) for s in spans]
    assert len(set(keys)) < len(keys), "exporter retries re-send spans"
    by_op: dict[str, list[dict]] = {}
    for s in spans:
        assert len(s["traceId"]) == 32 and len(s["spanId"]) == 16
        assert int(s["startTimeUnixNano"]) <= int(s["endTimeUnixNano"])
        by_op.setdefault(str(_attrs(s).get("gen_ai.operation.name")), []).append(s)
    assert {"create_agent", "invoke_agent", "chat", "execute_tool", "retrieval"} <= set(by_op)
    conversations = {c["conversation_id"] for c in _v1(v1, "conversations")}
    assert {_attrs(s)["gen_ai.conversation.id"] for s in by_op["create_agent"]} == conversations
    unique = {(s["traceId"], s["spanId"]): s for s in spans}
    turns = [s for s in unique.values() if _attrs(s).get("gen_ai.operation.name") == "invoke_agent"]
    old_style = [s for s in unique.values() if any(e["name"] == "gen_ai.choice" for e in s.get("events", []))]
    assert turns and old_style
    answers = [m for m in _v1(v1, "messages") if m["role"] == "assistant"]
    assert len(turns) + len(old_style) == len(answers)
    tokens = sum(
        int(_attrs(s).get("gen_ai.usage.output_tokens", 0))
        for s in unique.values()
        if _attrs(s).get("gen_ai.operation.name") == "chat"
    )
    assert tokens == sum(m["usage"]["output_tokens"] for m in answers)
    evaluations = [
        e for s in unique.values() for e in s.get("events", []) if e["name"] == "gen_ai.evaluation.result"
    ]
    names = Counter(_attrs(e)["gen_ai.evaluation.name"] for e in evaluations)
    v1_kinds = Counter(f["kind"] for f in _v1(v1, "feedback"))
    assert names == Counter({FEEDBACK_EVALUATIONS[k][0]: n for k, n in v1_kinds.items()})


def test_otel_zstd_frames(tmp_path: Path) -> None:
    landing = _gen(tmp_path / "z", FormatOptions(format="otel", otel_compression="zstd"))
    plain = _gen(tmp_path / "p", FormatOptions(format="otel"))
    z = sorted((landing / "otel").rglob("traces-*.json.zst"))
    p = sorted((plain / "otel").rglob("traces-*.json"))
    assert len(z) == len(p)
    for a, b in zip(z, p, strict=True):
        assert a.read_bytes()[4:8] == otlp.ZSTD_MAGIC
        assert otlp.read_otlp_file(a).lines == otlp.read_otlp_file(b).lines


@pytest.mark.parametrize("options", [FormatOptions(format="langfuse"), FormatOptions(format="otel")])
def test_determinism(tmp_path: Path, options: FormatOptions) -> None:
    def digests(landing: Path) -> dict[str, str]:
        return {
            str(p.relative_to(landing)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(landing.rglob("*"))
            if p.is_file()
        }

    a = digests(_gen(tmp_path / "a", options))
    b = digests(_gen(tmp_path / "b", options))
    assert a == b
