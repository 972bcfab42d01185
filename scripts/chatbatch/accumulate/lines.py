"""Landing bytes to text lines, never raising on bad content.

Every line of a landing file becomes one line here, in order: a line that is not UTF-8
is kept with the error ``invalid_utf8`` (its bytes backslash-escaped), a gzip stream
that is cut or corrupt yields what can be read (``truncated_gzip`` / ``corrupt_gzip``
on the file) and its partial last line is marked ``truncated_file``. One trailing
``\r`` is dropped. The ingest step (and the Spark loader) load exactly these lines,
so the load reconciliation can account for every one.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path


@dataclass
class FileLines:
    """The lines read from one file, and what went wrong reading it, if anything."""

    lines: list[str]
    line_errors: list[str | None]
    file_error: str | None
    size_bytes: int
    sha256: str


def _decompress(data: bytes) -> tuple[bytes, str | None]:
    """Gunzip what can be read (all members); a cut or corrupt stream yields its prefix."""
    out = bytearray()
    remaining = data
    while remaining:
        decompressor = zlib.decompressobj(wbits=31)
        try:
            out += decompressor.decompress(remaining)
            out += decompressor.flush()
        except zlib.error:
            return bytes(out) + _decompress_prefix(remaining), "corrupt_gzip"
        if not decompressor.eof:
            return bytes(out), "truncated_gzip"
        remaining = decompressor.unused_data
    return bytes(out), None


def _decompress_prefix(data: bytes, chunk: int = 65536) -> bytes:
    """Decompress chunk by chunk, keeping everything before the first corrupt block."""
    decompressor = zlib.decompressobj(wbits=31)
    out = bytearray()
    for start in range(0, len(data), chunk):
        try:
            out += decompressor.decompress(data[start : start + chunk])
        except zlib.error:
            break
    return bytes(out)


def read_lines(path: Path) -> FileLines:
    """Read one landing file into lines, never raising on bad content."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    file_error: str | None = None
    payload = data
    if path.name.endswith(".gz"):
        payload, file_error = _decompress(data)
    ends_cleanly = payload.endswith(b"\n") or not payload
    lines: list[str]
    errors: list[str | None]
    try:
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
    if file_error and lines and not ends_cleanly:
        errors[-1] = "truncated_file"
    return FileLines(lines, errors, file_error, len(data), sha256)
