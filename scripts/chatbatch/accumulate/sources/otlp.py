"""OpenTelemetry Collector file-exporter output: OTLP/JSON lines, optionally zstd-compressed.

"OpenTelemetry Protocol File Exporter" (spec, status Development): a JSON-lines file, one
``TracesData`` object (``{"resourceSpans": [...]}``) per line, UTF-8, ``\\n`` separated.

The Collector's ``fileexporter`` (opentelemetry-collector-contrib, README "File Format" and
``buildExportFunc``) writes exactly that with ``format: json`` and no compression. With
``compression: zstd`` it compresses every exported message on its own and writes it
length-prefixed instead of newline-terminated: a 4-byte big-endian unsigned length, then
that many bytes of one zstd frame holding one OTLP/JSON message. A file compressed after
the fact (``zstd traces.jsonl``) is instead one zstd stream of JSON lines. The reader tells
the three apart by their first bytes, not by the file name.

Every message becomes one line, untouched; whether it is valid OTLP/JSON is the staging
models' judgement (quarantine reason ``invalid_otlp_json``).
"""

from __future__ import annotations

import re
from pathlib import Path

from chatbatch.accumulate.lines import GZIP_MAGIC, FileLines, empty_result, gunzip, split_lines

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LENGTH_PREFIX = 4

# The landing layout (accumulate/landing.py): rotated and live file names, and the misfiled reasons
ROTATED_NAME_RE = re.compile(
    r"^(?P<name>.+)-(?P<ts>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}-\d{2}-\d{2}\.\d{3})\.(json|jsonl)(\.zst|\.gz)?$"
)
LIVE_NAME_RE = re.compile(r"^[^/]+\.(json|jsonl)(\.zst|\.gz)?$")
OUTSIDE_COLLECTOR = "file directly in otel/ (expected otel/<collector>/<name>-YYYY-MM-DDTHH-MM-SS.mmm.json)"
NESTED_FOLDER = "folder inside a collector folder (rotated files sit directly in otel/<collector>/)"
BAD_NAME = "not a rotated Collector file (expected <name>-YYYY-MM-DDTHH-MM-SS.mmm.<json|jsonl>[.zst])"
LIVE_FILE = "live file still being written by the Collector (loaded once rotated to <name>-<timestamp>.<ext>)"


def read_otlp_file(path: Path) -> FileLines:
    """Read one file-exporter output file into lines, never raising on bad content."""
    return read_otlp_bytes(path.read_bytes())


def read_otlp_bytes(data: bytes) -> FileLines:
    if data.startswith(ZSTD_MAGIC):
        return _zstd_stream(data)
    if len(data) >= LENGTH_PREFIX * 2 and data[LENGTH_PREFIX : LENGTH_PREFIX * 2] == ZSTD_MAGIC:
        return _length_prefixed_zstd(data)
    result = empty_result(data)
    payload = data
    if data.startswith(GZIP_MAGIC):
        payload, result.file_error = gunzip(data)
    result.lines, result.line_errors = split_lines(payload, cut=result.file_error is not None)
    return result


def _zstd():
    try:
        import zstandard
    except ImportError as exc:  # an environment problem, not bad content
        raise RuntimeError("reading zstd-compressed OTLP files needs the 'zstandard' package") from exc
    return zstandard


def _zstd_stream(data: bytes) -> FileLines:
    """One zstd stream (one or more concatenated frames) of JSON lines."""
    zstandard = _zstd()
    result = empty_result(data)
    out = bytearray()
    remaining = data
    while remaining:
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        try:
            out += decompressor.decompress(remaining)
        except zstandard.ZstdError:
            result.file_error = "corrupt_zstd"
            break
        if not decompressor.eof:
            result.file_error = "truncated_zstd"
            break
        remaining = decompressor.unused_data
    result.lines, result.line_errors = split_lines(bytes(out), cut=result.file_error is not None)
    return result


def _length_prefixed_zstd(data: bytes) -> FileLines:
    """The Collector's framing: [uint32 big-endian length][zstd frame of one message]..."""
    zstandard = _zstd()
    result = empty_result(data)
    position = 0
    while position < len(data):
        header = data[position : position + LENGTH_PREFIX]
        size = int.from_bytes(header, "big") if len(header) == LENGTH_PREFIX else -1
        frame = data[position + LENGTH_PREFIX : position + LENGTH_PREFIX + size] if size >= 0 else b""
        if size < 0 or len(frame) < size:
            result.file_error = "truncated_file"
            result.append("", "truncated_file")
            break
        position += LENGTH_PREFIX + size
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        try:
            message = decompressor.decompress(frame)
            complete = decompressor.eof
        except zstandard.ZstdError:
            message, complete = b"", False
        if not complete:
            result.file_error = result.file_error or "corrupt_zstd"
            result.append("", "corrupt_zstd_frame")
            continue
        lines, errors = split_lines(message.rstrip(b"\n") + b"\n")
        if len(lines) != 1:
            # a message is one JSON document; keep whatever it holds as one line
            lines, errors = [message.decode("utf-8", errors="backslashreplace")], ["multiline_message"]
        result.append(lines[0], errors[0])
    return result
