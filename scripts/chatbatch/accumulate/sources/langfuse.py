"""Langfuse blob-storage export: data files to JSON-object lines, and the run manifest.

Layout (Langfuse docs, "Export to blob storage" and "Blob Storage Export Field Reference"):
``{prefix}{project-id}/{table}/{timestamp}.{parquet|jsonl|json|csv}[.gz]`` with table
``observations_v2`` or ``scores`` (legacy: ``traces``, ``observations``), and
``{prefix}{project-id}/manifests/{timestamp}.json`` written last, once every data file of
the run is uploaded. A run without a manifest is incomplete and must not be read.

Every record becomes one line holding one JSON object whose keys are the field reference's
column names. Values are passed through: timestamps stay ``YYYY-MM-DD HH:MM:SS.ffffff``
strings (Parquet timestamp columns are written in that form, in UTC), CSV values stay text.
Judging the records (types, timestamps, enums) is the staging models' job.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbatch.accumulate.lines import FileLines, empty_result, gunzip, split_lines
from chatbatch.accumulate.sources.parquet_rows import read_parquet

TABLES: tuple[str, ...] = ("observations_v2", "scores", "traces", "observations")
FILE_TYPES: tuple[str, ...] = ("parquet", "jsonl", "json", "csv")
KEY_RE = re.compile(
    r"^(?P<prefix>.*?)(?P<project>[^/]+)/(?P<table>observations_v2|scores|traces|observations)/"
    r"(?P<stem>[^/]+)\.(?P<file_type>parquet|jsonl|json|csv)(?P<gz>\.gz)?$"
)
MANIFEST_KEY_RE = re.compile(r"^(?P<prefix>.*?)(?P<project>[^/]+)/manifests/(?P<stem>[^/]+)\.json$")

# The landing layout (accumulate/landing.py): table folder -> raw table, and the misfiled reasons
RAW_TABLES: dict[str, str] = {
    "observations_v2": "langfuse_observations",
    "observations": "langfuse_observations",  # legacy layout; base model tells them apart by path
    "scores": "langfuse_scores",
    "traces": "langfuse_traces",
}
MANIFESTS_FOLDER = "manifests"
FILE_NAME_RE = re.compile(r"^(?P<stem>[^.]+)\.(?P<file_type>parquet|jsonl|json|csv)(?P<gz>\.gz)?$")
MANIFEST_NAME_RE = re.compile(r"^(?P<stem>[^.]+)\.json$")
OUTSIDE_PROJECT = (
    "file directly in langfuse/ (expected langfuse/<project-id>/<table>/<ts>.<parquet|jsonl|json|csv>[.gz])"
)
UNKNOWN_FOLDER = f"unknown Langfuse folder (expected one of {', '.join([*RAW_TABLES, MANIFESTS_FOLDER])})"
OUTSIDE_TABLE = "file directly in a Langfuse project folder (expected <table>/<ts>.<format>)"
NESTED_FOLDER = "folder inside a Langfuse table folder (export files sit directly in it)"
BAD_NAME = "not a Langfuse export file name (expected <ts>.<parquet|jsonl|json|csv>[.gz])"
BAD_MANIFEST_NAME = "not a Langfuse manifest name (expected manifests/<ts>.json)"
BOTH_LAYOUTS = (
    "legacy observations file of a run that also exports observations_v2: not loaded "
    "(Langfuse: do not load both observation layouts)"
)
# a loaded file rewritten (ContentChangedError); docs/sources/langfuse.md, "Retried runs"
CHANGED_HINT = (
    "a Langfuse run is final once loaded (it is loaded only after its manifest was written): "
    "put the loaded files back, and export the window again as a new run, whose records are "
    "deduplicated by id (docs/sources/langfuse.md, retried runs)"
)
UNLISTED = "no manifest lists it yet (the run is still being written or retried)"


class ManifestError(Exception):
    """A manifest that cannot be used to gate a run; the message names the file."""


@dataclass(frozen=True)
class DataFileKey:
    """What an object key says about a data file."""

    project_id: str
    table: str
    stem: str
    file_type: str
    gzipped: bool


@dataclass(frozen=True)
class ManifestFile:
    """One entry of a manifest's ``files[]``."""

    key: str
    table: str
    file_type: str
    format: str
    compressed: bool
    size_bytes: int | None
    row_count: int | None  # null for Parquet: count from the file's metadata instead


@dataclass(frozen=True)
class Manifest:
    """A completed export run: its window and every data file it wrote."""

    version: int
    project_id: str
    export_source: str
    window_min: str
    window_max: str
    created_at: str | None
    tables: tuple[str, ...]
    files: tuple[ManifestFile, ...]


def parse_key(key: str) -> DataFileKey | None:
    """Table, timestamp stem and format of a data-file key; None if it is not one."""
    match = KEY_RE.match(key)
    if not match:
        return None
    return DataFileKey(
        project_id=match["project"],
        table=match["table"],
        stem=match["stem"],
        file_type=match["file_type"],
        gzipped=match["gz"] is not None,
    )


def is_manifest_key(key: str) -> bool:
    return MANIFEST_KEY_RE.match(key) is not None


def read_manifest(path: Path) -> Manifest:
    """Read a run manifest; unknown fields are ignored (Langfuse adds fields additively)."""
    try:
        doc = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: not a JSON manifest ({exc})") from exc
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: a manifest is a JSON object")
    try:
        version = int(doc["version"])
        window = doc["window"]
        files = tuple(_manifest_file(path, entry) for entry in doc["files"])
        manifest = Manifest(
            version=version,
            project_id=str(doc["projectId"]),
            export_source=str(doc.get("exportSource") or ""),
            window_min=str(window["minTimestamp"]),
            window_max=str(window["maxTimestamp"]),
            created_at=doc.get("createdAt"),
            tables=tuple(doc.get("tables") or sorted({f.table for f in files})),
            files=files,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"{path}: missing or invalid manifest field ({exc!r})") from exc
    if manifest.version != 1:
        raise ManifestError(f"{path}: manifest version {manifest.version} is not supported (1 is)")
    return manifest


def read_manifest_line(path: Path) -> FileLines:
    """A manifest as one raw line (``raw.langfuse_manifests``): its JSON, compacted.

    A manifest that is no longer JSON (replaced after discovery read it) is kept as one
    line with the error ``invalid_json``, for staging to quarantine.
    """
    data = path.read_bytes()
    result = empty_result(data)
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        text = data.decode("utf-8", errors="backslashreplace").replace("\r", " ").replace("\n", " ")
        result.file_error = "invalid_json"
        result.append(text, "invalid_json")
        return result
    result.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    return result


def _manifest_file(path: Path, entry: Any) -> ManifestFile:
    if not isinstance(entry, dict):
        raise ManifestError(f"{path}: files[] holds objects")
    key = str(entry["key"])
    parsed = parse_key(key)
    table = str(entry.get("table") or (parsed.table if parsed else ""))
    if table not in TABLES:
        raise ManifestError(f"{path}: unknown table {table!r} for {key}")
    row_count = entry.get("rowCount")
    size = entry.get("sizeBytes")
    return ManifestFile(
        key=key,
        table=table,
        file_type=str(entry.get("fileType") or (parsed.file_type if parsed else "")).lower(),
        format=str(entry.get("format") or ""),
        compressed=bool(entry.get("compressed", parsed.gzipped if parsed else False)),
        size_bytes=None if size is None else int(size),
        row_count=None if row_count is None else int(row_count),
    )


def read_data_file(path: Path, file_type: str | None = None, gzipped: bool | None = None) -> FileLines:
    """Read one data file into one JSON-object line per record, never raising on bad content.

    The format comes from the file name unless given (``file_type``: parquet, jsonl, json,
    csv; ``gzipped`` for the text formats).
    """
    name = path.name
    if gzipped is None:
        gzipped = name.endswith(".gz")
    if file_type is None:
        base = name[:-3] if name.endswith(".gz") else name
        file_type = base.rsplit(".", 1)[-1].lower()
    if file_type not in FILE_TYPES:
        raise ValueError(f"{path}: unknown Langfuse file type {file_type!r}")
    data = path.read_bytes()
    if file_type == "parquet":
        return read_parquet(data)
    result = empty_result(data)
    payload = data
    if gzipped:
        payload, result.file_error = gunzip(data)
    cut = result.file_error is not None
    if file_type == "jsonl":
        result.lines, result.line_errors = split_lines(payload, cut=cut)
    elif file_type == "json":
        _read_json_array(payload, result)
    else:
        _read_csv(payload, result, cut)
    return result


def _read_json_array(payload: bytes, result: FileLines) -> None:
    """A JSON export is one array of objects: one line per element."""
    try:
        doc = json.loads(payload.decode("utf-8")) if payload.strip() else []
    except (UnicodeDecodeError, json.JSONDecodeError):
        result.file_error = result.file_error or "invalid_json"
        text = payload.decode("utf-8", errors="backslashreplace")
        result.append(text, "invalid_json")
        return
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        result.append(json.dumps(doc, ensure_ascii=False), "not_an_object")
        return
    for element in doc:
        error = None if isinstance(element, dict) else "not_an_object"
        result.append(json.dumps(element, ensure_ascii=False, separators=(",", ":")), error)


def _read_csv(payload: bytes, result: FileLines, cut: bool) -> None:
    """CSV: every value is text, an empty field is null (field reference, CSV notes)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = payload.decode("utf-8", errors="backslashreplace")
        result.file_error = result.file_error or "invalid_utf8"
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    rows = list(reader)
    for index, row in enumerate(rows):
        error: str | None = None
        if len(row) != len(header):
            error = "truncated_file" if cut and index == len(rows) - 1 else "csv_field_count"
        record = {name: (value if value != "" else None) for name, value in zip(header, row, strict=False)}
        result.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")), error)
