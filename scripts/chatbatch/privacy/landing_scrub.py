"""Rewrite a landing file without the records of erased subjects, in its own format.

Contract v1 and Langfuse JSONL (``.gz`` or not): lines are kept byte for byte, the erased
ones left out. Langfuse JSON arrays, CSV and Parquet: rewritten without the erased rows
(Parquet keeps its schema and codec). OTLP (plain, ``.gz``, one zstd stream, or the
Collector's length-prefixed zstd frames): the erased spans are taken out of each
``TracesData`` message, emptied scope / resource containers are dropped, and a message
left without spans is dropped; untouched messages keep their bytes. A record that is not
JSON cannot be told apart and is kept (its line was quarantined; see docs/privacy.md).

The rewrite is atomic (a temp file beside it, renamed over it); a file left without any
record is deleted. A record is erased when one of its key fields (``subjects.RECORD_KEYS``)
hashes into the register.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chatbatch.accumulate.lines import GZIP_MAGIC, gunzip
from chatbatch.accumulate.sources.otlp import LENGTH_PREFIX, ZSTD_MAGIC
from chatbatch.privacy.subjects import (
    OTEL_CONVERSATION_ATTRIBUTE,
    OTEL_TABLE,
    OTEL_USER_ATTRIBUTE,
    RECORD_KEYS,
    Register,
)


@dataclass
class ScrubResult:
    records_removed: int = 0  # lines / rows / TracesData messages removed whole
    spans_removed: int = 0  # OTLP spans removed (from messages kept or removed)
    deleted: bool = False  # the file held nothing else and was deleted
    links: set[str] = field(default_factory=set)  # ids of erased owners' records (not written)

    @property
    def changed(self) -> bool:
        return self.records_removed > 0 or self.spans_removed > 0


def record_erased(record: Any, table: str, register: Register, links: set[str] | None = None) -> bool:
    """Whether a JSON record belongs to an erased subject; ``links`` collects its link ids."""
    keys = RECORD_KEYS.get(table)
    if keys is None or not isinstance(record, dict):
        return False
    if not any(register.holds(_text(record.get(name))) for name in keys.fields):
        return False
    if links is not None:
        links.update(v for name in keys.links if (v := _text(record.get(name))))
    return True


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _attribute(attributes: Any, key: str) -> str | None:
    for item in attributes if isinstance(attributes, list) else ():
        if isinstance(item, dict) and item.get("key") == key and isinstance(item.get("value"), dict):
            value = item["value"]
            for kind in ("stringValue", "intValue"):
                if value.get(kind) is not None:
                    return str(value[kind])
    return None


def scrub_otlp_message(text: str, register: Register) -> tuple[str | None, int, set[str]]:
    """One TracesData line without the erased spans: (new line or None when nothing is
    left, spans removed, link ids of the removed spans). Unchanged lines come back as is."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return text, 0, set()
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceSpans"), list):
        return text, 0, set()
    removed, links = 0, set()
    kept_resources = []
    for resource_spans in doc["resourceSpans"]:
        resource = (resource_spans or {}).get("resource") or {}
        resource_user = _attribute(resource.get("attributes"), OTEL_USER_ATTRIBUTE)
        kept_scopes = []
        for scope_spans in (resource_spans or {}).get("scopeSpans") or []:
            spans = (scope_spans or {}).get("spans") or []
            kept = []
            for span in spans:
                attrs = span.get("attributes") if isinstance(span, dict) else None
                ids = (
                    _attribute(attrs, OTEL_USER_ATTRIBUTE) or resource_user,
                    _attribute(attrs, OTEL_CONVERSATION_ATTRIBUTE),
                    span.get("traceId") if isinstance(span, dict) else None,
                )
                if any(register.holds(v) for v in ids):
                    removed += 1
                    links.update(v for v in ids[1:] if v)
                else:
                    kept.append(span)
            if kept or not spans:
                kept_scopes.append({**scope_spans, "spans": kept} if spans else scope_spans)
        if kept_scopes:
            kept_resources.append({**resource_spans, "scopeSpans": kept_scopes})
    if not removed:
        return text, 0, set()
    if not kept_resources:
        return None, removed, links
    line = json.dumps({**doc, "resourceSpans": kept_resources}, ensure_ascii=False, separators=(",", ":"))
    return line, removed, links


def scrub_file(path: Path, table: str, register: Register, ids: set[str] | None = None) -> ScrubResult:
    """Rewrite ``path`` (a landing file of raw table ``table``) without erased records.

    With ``ids`` (``chatbatch forget`` knows them; the ingest only has hashes), a JSON-lines
    line that is not JSON is erased when its text holds one of them."""
    result = ScrubResult()
    if table != OTEL_TABLE and table not in RECORD_KEYS:
        return result
    data = path.read_bytes()
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    gzipped = data.startswith(GZIP_MAGIC)
    if table == OTEL_TABLE:
        out, empty = _otlp(data, register, result)
    elif name.endswith(".parquet"):
        out, empty = _parquet(data, table, register, result)
    else:
        payload = gunzip(data)[0] if gzipped else data
        if name.endswith(".csv"):
            body, empty = _csv(payload, table, register, result)
        elif name.endswith(".json"):
            body, empty = _json_array(payload, table, register, result)
        else:
            body, empty = _lines(
                payload, lambda line: _line_erased(line, table, register, result, ids or set()), result
            )
        out = gzip.compress(body, mtime=0) if gzipped else body
    if not result.changed:
        return result
    if empty:
        path.unlink()
        result.deleted = True
    else:
        _atomic_write(path, out)
    return result


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _line_erased(line: bytes, table: str, register: Register, result: ScrubResult, ids: set[str]) -> bool:
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return any(i.encode("utf-8") in line for i in ids)
    return record_erased(record, table, register, result.links)


def _lines(payload: bytes, erased, result: ScrubResult) -> tuple[bytes, bool]:
    """Lines kept byte for byte (a last line without its newline stays without it)."""
    parts = payload.split(b"\n")
    trailing = parts[-1] == b""
    if trailing:
        parts.pop()
    kept = []
    for part in parts:
        if erased(part):
            result.records_removed += 1
        else:
            kept.append(part)
    body = b"\n".join(kept) + (b"\n" if kept and trailing else b"")
    return body, not kept


def _csv(payload: bytes, table: str, register: Register, result: ScrubResult) -> tuple[bytes, bool]:
    text = payload.decode("utf-8", errors="surrogateescape")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return payload, True
    header, kept = rows[0], [rows[0]]
    for row in rows[1:]:
        record = {k: (v if v != "" else None) for k, v in zip(header, row, strict=False)}
        if record_erased(record, table, register, result.links):
            result.records_removed += 1
        else:
            kept.append(row)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(kept)
    return out.getvalue().encode("utf-8", errors="surrogateescape"), len(kept) == 1


def _json_array(payload: bytes, table: str, register: Register, result: ScrubResult) -> tuple[bytes, bool]:
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return payload, False
    items = doc if isinstance(doc, list) else [doc]
    kept = [item for item in items if not record_erased(item, table, register, result.links)]
    result.records_removed += len(items) - len(kept)
    return json.dumps(kept, ensure_ascii=False).encode("utf-8"), not kept


def _parquet(data: bytes, table: str, register: Register, result: ScrubResult) -> tuple[bytes, bool]:
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        rows = parquet.read()
    except (pa.ArrowException, OSError):
        return data, False  # unreadable: its rows never reached raw either
    codec = parquet.metadata.row_group(0).column(0).compression if parquet.metadata.num_row_groups else "zstd"
    columns = [n for n in RECORD_KEYS[table].fields if n in rows.column_names]
    records = rows.select(columns).to_pylist()
    mask = [not record_erased(record, table, register, result.links) for record in records]
    result.records_removed += mask.count(False)
    if not result.records_removed:
        return data, False
    kept = rows.filter(pc.equal(pa.array(mask), True))
    sink = io.BytesIO()
    pq.write_table(kept, sink, compression=codec.lower() if codec != "UNCOMPRESSED" else "none")
    return sink.getvalue(), kept.num_rows == 0


def _otlp(data: bytes, register: Register, result: ScrubResult) -> tuple[bytes, bool]:
    def scrub(message: bytes) -> bytes | None:
        try:
            text = message.decode("utf-8")
        except UnicodeDecodeError:
            return message
        line, removed, links = scrub_otlp_message(text, register)
        result.spans_removed += removed
        result.links |= links
        if line is None:
            result.records_removed += 1
            return None
        return message if line is text else line.encode("utf-8")

    if data[LENGTH_PREFIX : LENGTH_PREFIX * 2] == ZSTD_MAGIC:
        return _length_prefixed(data, scrub)
    zstd = data.startswith(ZSTD_MAGIC)
    gzipped = data.startswith(GZIP_MAGIC)
    payload = _zstd_stream(data) if zstd else data
    payload = gunzip(payload)[0] if gzipped else payload
    kept_lines: list[bytes] = []
    parts = payload.split(b"\n")
    trailing = parts[-1] == b""
    for part in parts[:-1] if trailing else parts:
        new = scrub(part)
        if new is not None:
            kept_lines.append(new)
    body = b"\n".join(kept_lines) + (b"\n" if kept_lines and trailing else b"")
    if zstd:
        body = _zstd().ZstdCompressor().compress(body)
    elif gzipped:
        body = gzip.compress(body, mtime=0)
    return body, not kept_lines


def _length_prefixed(data: bytes, scrub) -> tuple[bytes, bool]:
    zstandard = _zstd()
    out, position, kept = bytearray(), 0, 0
    while position + LENGTH_PREFIX <= len(data):
        size = int.from_bytes(data[position : position + LENGTH_PREFIX], "big")
        frame = data[position + LENGTH_PREFIX : position + LENGTH_PREFIX + size]
        position += LENGTH_PREFIX + size
        try:
            message = zstandard.ZstdDecompressor().decompressobj().decompress(frame)
        except zstandard.ZstdError:
            out += len(frame).to_bytes(LENGTH_PREFIX, "big") + frame  # kept as it is
            kept += 1
            continue
        new = scrub(message.rstrip(b"\n"))
        if new is None:
            continue
        compressed = (
            frame if new == message.rstrip(b"\n") else zstandard.ZstdCompressor().compress(new + b"\n")
        )
        out += len(compressed).to_bytes(LENGTH_PREFIX, "big") + compressed
        kept += 1
    out += data[position:]
    return bytes(out), kept == 0


def _zstd_stream(data: bytes) -> bytes:
    """Every frame of a zstd stream (what a damaged stream holds never reached raw either)."""
    zstandard, out, remaining = _zstd(), bytearray(), data
    while remaining:
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        try:
            out += decompressor.decompress(remaining)
        except zstandard.ZstdError:
            break
        remaining = decompressor.unused_data if decompressor.eof else b""
    return bytes(out)


def _zstd():
    import zstandard

    return zstandard
