"""Inject one unambiguous defect into selected JSON lines (pure function of the rng)."""

from __future__ import annotations

import json

import numpy as np

from chatbatch.contract import ENTITIES, contract

LINE_KINDS: tuple[str, ...] = (
    "malformed_json",
    "wrong_type",
    "missing_required",
    "bad_timestamp",
    "invalid_enum",
    "invalid_utf8",
)
DUP_ENTITIES = frozenset({"messages", "events", "feedback"})

REQUIRED: dict[str, tuple[str, ...]] = {e: contract(e).required for e in ENTITIES}
# the required event-time field that ``bad_timestamp`` corrupts (users have none)
EVENT_TIME: dict[str, str] = {
    "conversations": "started_at",
    "messages": "sent_at",
    "events": "occurred_at",
    "feedback": "submitted_at",
    "kb_documents": "updated_at",
}
BAD_TIMESTAMPS = ("yesterday", "2026-02-30T25:61:00Z", "31/12/2026 10:00", "not-a-date")
ENUM_FIELDS: dict[str, tuple[str, str]] = {
    "conversations": ("channel", "telegram"),
    "messages": ("role", "bot"),
    "events": ("event_type", "escalation"),
    "feedback": ("kind", "stars"),
    "users": ("segment", "platinum"),
}


def _wrong_type_options(entity: str, rec: dict) -> list[tuple[str, str]]:
    """(dotted field, replacement string) pairs applicable to this record."""
    opts: list[tuple[str, str]] = []
    if entity == "messages":
        if "latency_ms" in rec:
            opts += [("latency_ms", "slow"), ("usage.input_tokens", "many")]
        if isinstance(rec.get("intent"), dict):
            opts.append(("intent.confidence", "high"))
    elif entity == "feedback" and isinstance(rec.get("value"), int):
        opts.append(("value", "five"))
    elif entity == "kb_documents":
        opts.append(("version", "v2"))
    return opts


def applicable(entity: str) -> tuple[str, ...]:
    kinds = ["malformed_json", "missing_required", "invalid_utf8"]
    if entity in ("messages", "feedback", "kb_documents"):
        kinds.append("wrong_type")
    if entity in EVENT_TIME:
        kinds.append("bad_timestamp")
    if entity in ENUM_FIELDS:
        kinds.append("invalid_enum")
    if entity in DUP_ENTITIES:
        kinds.append("duplicate")
    return tuple(kinds)


def _dump(rec: dict) -> bytes:
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()


def corrupt(entity: str, line: bytes, kind: str, rng: np.random.Generator) -> bytes | None:
    """Return the defective line, or None when ``kind`` does not apply to this line."""
    if kind == "malformed_json":
        if rng.random() < 0.5:
            return line[:-1] + b","  # broken closing brace
        cut = len(line) // 2
        while cut > 1 and line[cut] >= 0x80:  # never split a UTF-8 sequence
            cut -= 1
        return line[:cut]
    if kind == "invalid_utf8":
        i = line.index(b'":"') + 3
        return line[:i] + b"\xff\xfe" + line[i:]
    rec = json.loads(line)
    if kind == "missing_required":
        fields = REQUIRED[entity]
        del rec[fields[int(rng.integers(0, len(fields)))]]
    elif kind == "bad_timestamp":
        rec[EVENT_TIME[entity]] = BAD_TIMESTAMPS[int(rng.integers(0, len(BAD_TIMESTAMPS)))]
    elif kind == "invalid_enum":
        field, value = ENUM_FIELDS[entity]
        if field not in rec:
            return None
        rec[field] = value
    elif kind == "wrong_type":
        opts = _wrong_type_options(entity, rec)
        if not opts:
            return None
        dotted, value = opts[int(rng.integers(0, len(opts)))]
        parts = dotted.split(".")
        target = rec
        for p in parts[:-1]:
            target = target[p]
        target[parts[-1]] = value
    return _dump(rec)


def inject(
    entity: str, data: bytes, rate: float, rng: np.random.Generator
) -> tuple[bytes, dict[str, int], list[bytes]]:
    """Corrupt ~``rate`` of the lines. Returns (new data, counts per kind, lines to re-deliver)."""
    counts: dict[str, int] = {}
    if rate <= 0 or not data:
        return data, counts, []
    lines = data.split(b"\n")[:-1]
    n_def = int(rng.binomial(len(lines), rate))
    if n_def == 0:
        return data, counts, []
    kinds = applicable(entity)
    idx = np.sort(rng.choice(len(lines), size=n_def, replace=False))
    choice = rng.integers(0, len(kinds), n_def)
    dups: list[bytes] = []
    for i, kc in zip(idx.tolist(), choice.tolist(), strict=True):
        kind = kinds[kc]
        if kind == "duplicate":
            dups.append(lines[i])
        else:
            new = corrupt(entity, lines[i], kind, rng)
            if new is None:
                kind = "malformed_json"
                new = corrupt(entity, lines[i], kind, rng)
            assert new is not None
            lines[i] = new
        counts[kind] = counts.get(kind, 0) + 1
    return b"\n".join(lines) + b"\n", counts, dups
