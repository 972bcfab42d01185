"""Bytes to text lines, never raising on bad content (shared by the source readers).

The rules are those of ``chatbatch.accumulate.ingest.read_lines`` for contract v1: split on
``\\n``, drop one trailing ``\\r``, keep a line that is not UTF-8 with the error
``invalid_utf8`` (its bytes backslash-escaped), and mark the last line of a stream that was
cut mid-line ``truncated_file``.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class RecordLines:
    """The records read from one file, one text line each, and what went wrong reading it.

    ``declared_rows`` is the row count the file states about itself (Parquet metadata);
    ``None`` when the format has no such count.
    """

    lines: list[str]
    line_errors: list[str | None]
    file_error: str | None
    size_bytes: int
    sha256: str
    declared_rows: int | None = None

    def append(self, line: str, error: str | None = None) -> None:
        self.lines.append(line)
        self.line_errors.append(error)


def empty_result(data: bytes) -> RecordLines:
    return RecordLines([], [], None, len(data), hashlib.sha256(data).hexdigest())


def split_lines(payload: bytes, cut: bool = False) -> tuple[list[str], list[str | None]]:
    """Split a byte stream into lines; ``cut`` says the stream ended early (truncated)."""
    ends_cleanly = payload.endswith(b"\n") or not payload
    lines: list[str] = []
    errors: list[str | None] = []
    for raw in payload.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
            errors.append(None)
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", errors="backslashreplace"))
            errors.append("invalid_utf8")
    if ends_cleanly:
        lines.pop()
        errors.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if cut and lines and not ends_cleanly:
        errors[-1] = "truncated_file"
    return lines, errors


def gunzip(data: bytes) -> tuple[bytes, str | None]:
    """Gunzip every member that can be read; a cut or corrupt stream yields its prefix."""
    out = bytearray()
    remaining = data
    while remaining:
        decompressor = zlib.decompressobj(wbits=31)
        try:
            out += decompressor.decompress(remaining)
            out += decompressor.flush()
        except zlib.error:
            return bytes(out) + _gunzip_prefix(remaining), "corrupt_gzip"
        if not decompressor.eof:
            return bytes(out), "truncated_gzip"
        remaining = decompressor.unused_data
    return bytes(out), None


def _gunzip_prefix(data: bytes, chunk: int = 65536) -> bytes:
    decompressor = zlib.decompressobj(wbits=31)
    out = bytearray()
    for start in range(0, len(data), chunk):
        try:
            out += decompressor.decompress(data[start : start + chunk])
        except zlib.error:
            break
    return bytes(out)


def text_lines(data: bytes, gzipped: bool) -> RecordLines:
    """Lines of a (possibly gzipped) text file."""
    result = empty_result(data)
    payload = data
    if gzipped:
        payload, result.file_error = gunzip(data)
    result.lines, result.line_errors = split_lines(payload, cut=result.file_error is not None)
    return result
