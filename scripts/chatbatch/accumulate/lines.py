"""Landing bytes to text lines, never raising on bad content: the one line reader.

Every line of a landing file becomes one line here, in order: a line that is not UTF-8
is kept with the error ``invalid_utf8`` (its bytes backslash-escaped), a gzip stream
that is cut or corrupt yields what can be read (``truncated_gzip`` / ``corrupt_gzip``
on the file) and its partial last line is marked ``truncated_file``. One trailing
``\\r`` is dropped. The ingest step, the Spark loader and the source readers
(``accumulate/sources/``: Langfuse, OTLP) all read through this module, so the load
reconciliation can account for every line whatever the source.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class FileLines:
    """The lines (records) read from one file, and what went wrong reading it, if anything.

    ``declared_rows`` is the row count the file states about itself (a Parquet footer);
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


def empty_result(data: bytes) -> FileLines:
    """No lines yet, with the size and hash of the file's bytes."""
    return FileLines([], [], None, len(data), hashlib.sha256(data).hexdigest())


def gunzip(data: bytes) -> tuple[bytes, str | None]:
    """Gunzip what can be read (all members); a cut or corrupt stream yields its prefix."""
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
    """Decompress chunk by chunk, keeping everything before the first corrupt block."""
    decompressor = zlib.decompressobj(wbits=31)
    out = bytearray()
    for start in range(0, len(data), chunk):
        try:
            out += decompressor.decompress(data[start : start + chunk])
        except zlib.error:
            break
    return bytes(out)


def split_lines(payload: bytes, cut: bool = False) -> tuple[list[str], list[str | None]]:
    """Split a byte stream into lines; ``cut`` says the stream ended early (truncated)."""
    ends_cleanly = payload.endswith(b"\n") or not payload
    lines: list[str]
    errors: list[str | None]
    try:  # the common case: the whole payload is UTF-8, decode it at once
        lines = payload.decode("utf-8").split("\n")
        errors = [None] * len(lines)
    except UnicodeDecodeError:
        lines, errors = [], []
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


def text_lines(data: bytes, gzipped: bool) -> FileLines:
    """Lines of a (possibly gzipped) text file."""
    result = empty_result(data)
    payload = data
    if gzipped:
        payload, result.file_error = gunzip(data)
    result.lines, result.line_errors = split_lines(payload, cut=result.file_error is not None)
    return result


def read_lines(path: Path) -> FileLines:
    """Read one contract v1 landing file (``.jsonl`` or ``.jsonl.gz``) into lines."""
    return text_lines(path.read_bytes(), gzipped=path.name.endswith(".gz"))
