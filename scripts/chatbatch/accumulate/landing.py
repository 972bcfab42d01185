"""The landing layout: which paths are landing files, which wait, and which do not fit.

Contract v1 (source ``chatbot``): ``<landing>/<entity>/export_date=YYYY-MM-DD/<name>.jsonl[.gz]``.
The other sources have a *source root* each, read only when ``sources.yml`` enables them
(``chatbatch.contract.sources``):

* ``langfuse/<project-id>/{observations_v2,scores,traces,observations}/<ts>.<parquet|jsonl|json|csv>[.gz]``
  and ``langfuse/<project-id>/manifests/<ts>.json``. A run is loaded once its manifest exists
  and every file it lists has landed: the listed data files, then the manifest itself
  (``raw.langfuse_manifests``). Until then its files are *waiting*, as is a data file no
  manifest lists (a run being written or retried). Export date: the UTC date of the
  manifest's ``window.maxTimestamp``.
* ``otel/<collector>/<name>-YYYY-MM-DDTHH-MM-SS.mmm.<json|jsonl>[.zst|.gz]``: rotated
  Collector files; the live file (no timestamp) is *waiting*. Export date: the UTC date of
  the rotation timestamp.

Everything else in the tree is *misfiled*: it is reported with its path (relative to the
landing root) and a reason an operator can act on, and never stops the night nor is
skipped silently. A misfiled folder is reported once, not each file inside it; a source
root whose source is not enabled is one misfiled folder. Names starting with ``_`` or
``.`` (``_SUCCESS`` markers, the generator's notes, editors' files) are ignored at every
level. A waiting file is neither an error nor misfiled: it is listed (dry run,
``chatbatch summary``) and loaded by the night after it is complete.

Discovery only reads the file system; the ingest step loads the files and records the
misfiled and waiting paths (``chatbatch.landing_misfiled``, ``chatbatch.landing_waiting``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from chatbatch.accumulate.sources import langfuse, otlp
from chatbatch.contract import ENTITIES
from chatbatch.contract.sources import CONFIG_FILE, SOURCES, RawTable, SourceConfig, raw_table
from chatbatch.monitor.record import MisfiledPath

PARTITION_RE = re.compile(r"^export_date=(\d{4}-\d{2}-\d{2})$")
SUFFIXES = (".jsonl", ".jsonl.gz")

UNKNOWN_ENTITY = f"unknown entity folder (expected one of {', '.join(ENTITIES)})"
OUTSIDE_ENTITY = "file outside an entity folder (expected <entity>/export_date=YYYY-MM-DD/<name>.jsonl)"
OUTSIDE_PARTITION = "file outside an export_date=YYYY-MM-DD partition"
NOT_A_PARTITION = "not a partition folder (expected export_date=YYYY-MM-DD)"
NESTED_FOLDER = "folder inside a partition (landing files sit directly in export_date=YYYY-MM-DD)"
BAD_EXTENSION = "unexpected file extension (landing files end in .jsonl or .jsonl.gz)"


def not_enabled(source: str) -> str:
    """The reason a source root is misfiled when its source is switched off."""
    return f"source '{source}' is not enabled in $CHATBATCH_HOME/{CONFIG_FILE}"


@dataclass(frozen=True)
class LandingFile:
    """One file in the landing area, addressed relative to the landing root.

    ``entity`` names the raw table the file loads into (``raw.<entity>``): a contract v1
    entity, or ``langfuse_observations``, ``langfuse_manifests``, ``otel_traces``, ...
    (``chatbatch.contract.sources.ALL_RAW_TABLES``). A Langfuse file carries the manifest
    that lists it and the row count the manifest declares (null for Parquet, whose footer
    declares it instead).
    """

    entity: str
    export_date: date
    relative_path: str
    absolute_path: Path
    manifest: str | None = None
    declared_rows: int | None = None

    @property
    def raw_table(self) -> RawTable:
        return raw_table(self.entity)

    @property
    def source(self) -> str:
        return self.raw_table.source


@dataclass(frozen=True)
class WaitingFile:
    """A path that will be loaded once it is complete (a Langfuse run without its manifest,
    a live OTel file); ``path`` is relative to the landing root."""

    path: str
    reason: str


@dataclass
class Discovery:
    """The landing tree read once: the files to load, the paths that do not fit, and the
    files that are not complete yet."""

    files: list[LandingFile] = field(default_factory=list)
    misfiled: list[MisfiledPath] = field(default_factory=list)
    waiting: list[WaitingFile] = field(default_factory=list)


def _ignored(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _entries(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.iterdir()) if not _ignored(path)]


class _Walk:
    """One discovery in progress: what it found, relative to the landing root."""

    def __init__(self, landing: Path) -> None:
        self.landing = landing
        self.found = Discovery()

    def relative(self, path: Path) -> str:
        return path.relative_to(self.landing).as_posix()

    def misfiled(self, path: Path, reason: str) -> None:
        relative = self.relative(path) + ("/" if path.is_dir() else "")
        self.found.misfiled.append(MisfiledPath(relative, reason))

    def waiting(self, path: Path, reason: str) -> None:
        self.found.waiting.append(WaitingFile(self.relative(path), reason))

    def file(
        self,
        path: Path,
        entity: str,
        export_date: date,
        manifest: str | None = None,
        declared_rows: int | None = None,
    ) -> None:
        self.found.files.append(
            LandingFile(entity, export_date, self.relative(path), path, manifest, declared_rows)
        )


def discover(landing: Path, sources: SourceConfig | None = None) -> Discovery:
    """Read the landing tree in a stable order.

    Contract v1 files come first, in ``ENTITIES`` order (then export date, path), then the
    Langfuse runs (project, manifest name; a run's data files before its manifest), then the
    OTel files (collector, name). Misfiled and waiting paths are sorted by path; a folder's
    path ends in ``/``. ``sources`` defaults to contract v1 only.
    """
    sources = sources or SourceConfig()
    walk = _Walk(landing)
    if not landing.exists():
        return walk.found
    readers: dict[str, Callable[[_Walk, Path], None]] = {"langfuse": _langfuse_root, "otel": _otel_root}
    top = {path.name: path for path in _entries(landing)}
    for name, path in top.items():
        if not path.is_dir():
            walk.misfiled(path, OUTSIDE_ENTITY)
        elif name in readers and not sources.enabled(name):
            walk.misfiled(path, not_enabled(name))
        elif name in ENTITIES and not sources.enabled("chatbot"):
            walk.misfiled(path, not_enabled("chatbot"))
        elif name not in ENTITIES and name not in readers:
            walk.misfiled(path, UNKNOWN_ENTITY)
    if sources.enabled("chatbot"):
        for entity in ENTITIES:
            entity_dir = top.get(entity)
            if entity_dir is not None and entity_dir.is_dir():
                _entity_folder(walk, entity, entity_dir)
    for source in SOURCES:
        root = top.get(source)
        if source in readers and root is not None and root.is_dir() and sources.enabled(source):
            readers[source](walk, root)
    walk.found.misfiled.sort(key=lambda m: m.path)
    walk.found.waiting.sort(key=lambda w: w.path)
    return walk.found


def _entity_folder(walk: _Walk, entity: str, entity_dir: Path) -> None:
    """``<entity>/export_date=YYYY-MM-DD/<name>.jsonl[.gz]`` (contract v1)."""
    for partition in _entries(entity_dir):
        if not partition.is_dir():
            walk.misfiled(partition, OUTSIDE_PARTITION)
            continue
        match = PARTITION_RE.match(partition.name)
        if not match:
            walk.misfiled(partition, NOT_A_PARTITION)
            continue
        try:
            export_date = date.fromisoformat(match.group(1))
        except ValueError:
            walk.misfiled(partition, f"impossible export date {match.group(1)}")
            continue
        for path in _entries(partition):
            if path.is_dir():
                walk.misfiled(path, NESTED_FOLDER)
            elif not path.name.endswith(SUFFIXES):
                walk.misfiled(path, BAD_EXTENSION)
            else:
                walk.file(path, entity, export_date)


# -- Langfuse -------------------------------------------------------------------------


def _langfuse_root(walk: _Walk, root: Path) -> None:
    for project in _entries(root):
        if not project.is_dir():
            walk.misfiled(project, langfuse.OUTSIDE_PROJECT)
        else:
            _langfuse_project(walk, project)


def _langfuse_project(walk: _Walk, project: Path) -> None:
    """Runs of one project: each manifest gates the files it lists."""
    data_files: dict[tuple[str, str], Path] = {}  # (table folder, file name) -> path
    manifests: list[Path] = []
    for folder in _entries(project):
        if not folder.is_dir():
            walk.misfiled(folder, langfuse.OUTSIDE_TABLE)
            continue
        if folder.name not in (*langfuse.RAW_TABLES, langfuse.MANIFESTS_FOLDER):
            walk.misfiled(folder, langfuse.UNKNOWN_FOLDER)
            continue
        pattern = (
            langfuse.MANIFEST_NAME_RE if folder.name == langfuse.MANIFESTS_FOLDER else langfuse.FILE_NAME_RE
        )
        for path in _entries(folder):
            if path.is_dir():
                walk.misfiled(path, langfuse.NESTED_FOLDER)
            elif not pattern.match(path.name):
                bad = (
                    langfuse.BAD_MANIFEST_NAME
                    if folder.name == langfuse.MANIFESTS_FOLDER
                    else langfuse.BAD_NAME
                )
                walk.misfiled(path, bad)
            elif folder.name == langfuse.MANIFESTS_FOLDER:
                manifests.append(path)
            else:
                data_files[(folder.name, path.name)] = path
    listed: set[tuple[str, str]] = set()
    for manifest_path in manifests:
        listed |= _langfuse_run(walk, project, manifest_path, data_files, listed)
    for key, path in sorted(data_files.items()):
        if key not in listed:
            walk.waiting(path, langfuse.UNLISTED)


def _langfuse_run(
    walk: _Walk,
    project: Path,
    manifest_path: Path,
    data_files: dict[tuple[str, str], Path],
    taken: set[tuple[str, str]],
) -> set[tuple[str, str]]:
    """One run: its files are loaded when all have landed, else all of them wait.

    Returns the (table, file name) pairs the manifest lists, so they are not reported as
    unlisted.
    """
    try:
        manifest = langfuse.read_manifest(manifest_path)
        export_date = _utc_date(manifest.window_max)
    except (langfuse.ManifestError, ValueError) as exc:
        walk.misfiled(manifest_path, f"unusable Langfuse manifest: {_without_path(exc, manifest_path)}")
        return set()
    manifest_relative = walk.relative(manifest_path)
    entries = [(entry, (entry.table, entry.key.rsplit("/", 1)[-1])) for entry in manifest.files]
    listed = {key for _, key in entries}
    both_layouts = {"observations", "observations_v2"} <= {entry.table for entry in manifest.files}
    missing = [key for _, key in entries if key not in data_files]
    if missing:
        names = ", ".join(f"{table}/{name}" for table, name in missing)
        for table, name in missing:
            expected_at = f"{walk.relative(project)}/{table}/{name}"
            not_landed = f"listed in {manifest_relative}, not landed yet"
            walk.found.waiting.append(WaitingFile(expected_at, not_landed))
        reason = f"run {manifest_path.stem}: waiting for {len(missing)} listed file(s): {names}"
        for _, key in entries:
            if key in data_files:
                walk.waiting(data_files[key], reason)
        walk.waiting(manifest_path, reason)
        return listed
    for entry, key in entries:
        if key in taken:
            continue  # listed by an earlier manifest too: loaded with that run
        path = data_files[key]
        if both_layouts and entry.table == "observations":
            walk.misfiled(path, langfuse.BOTH_LAYOUTS)
            continue
        walk.file(
            path,
            langfuse.RAW_TABLES[entry.table],
            export_date,
            manifest=manifest_relative,
            declared_rows=entry.row_count,
        )
    walk.file(manifest_path, "langfuse_manifests", export_date, manifest=manifest_relative)
    return listed


def _utc_date(timestamp: str) -> date:
    """The UTC date of an ISO timestamp (``2026-03-04T00:00:00.000Z``); naive means UTC."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError as exc:
        raise ValueError(f"window.maxTimestamp {timestamp!r} is not an ISO timestamp") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _without_path(exc: Exception, path: Path) -> str:
    return str(exc).removeprefix(f"{path}: ")


# -- OpenTelemetry --------------------------------------------------------------------


def _otel_root(walk: _Walk, root: Path) -> None:
    for collector in _entries(root):
        if not collector.is_dir():
            walk.misfiled(collector, otlp.OUTSIDE_COLLECTOR)
            continue
        for path in _entries(collector):
            if path.is_dir():
                walk.misfiled(path, otlp.NESTED_FOLDER)
                continue
            match = otlp.ROTATED_NAME_RE.match(path.name)
            if match:
                try:
                    export_date = date.fromisoformat(match["ts"])
                except ValueError:
                    walk.misfiled(path, f"impossible rotation date {match['ts']}")
                    continue
                walk.file(path, "otel_traces", export_date)
            elif otlp.LIVE_NAME_RE.match(path.name):
                walk.waiting(path, otlp.LIVE_FILE)
            else:
                walk.misfiled(path, otlp.BAD_NAME)
