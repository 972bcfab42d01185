"""The landing layout: which paths are landing files, and which do not fit.

A landing file lives at ``<landing>/<entity>/export_date=YYYY-MM-DD/<name>.jsonl[.gz]``.
Everything else in the tree is *misfiled*: it is reported with its path (relative to the
landing root) and a reason an operator can act on, and never stops the night nor is
skipped silently. A misfiled folder is reported once, not each file inside it. Names
starting with ``_`` or ``.`` (``_SUCCESS`` markers, the generator's notes, editors' files)
are ignored at every level.

Discovery only reads the file system; the ingest step loads the files and records the
misfiled paths (``chatbatch.landing_misfiled``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from chatbatch.contract import ENTITIES
from chatbatch.monitor.record import MisfiledPath

PARTITION_RE = re.compile(r"^export_date=(\d{4}-\d{2}-\d{2})$")
SUFFIXES = (".jsonl", ".jsonl.gz")

UNKNOWN_ENTITY = f"unknown entity folder (expected one of {', '.join(ENTITIES)})"
OUTSIDE_ENTITY = "file outside an entity folder (expected <entity>/export_date=YYYY-MM-DD/<name>.jsonl)"
OUTSIDE_PARTITION = "file outside an export_date=YYYY-MM-DD partition"
NOT_A_PARTITION = "not a partition folder (expected export_date=YYYY-MM-DD)"
NESTED_FOLDER = "folder inside a partition (landing files sit directly in export_date=YYYY-MM-DD)"
BAD_EXTENSION = "unexpected file extension (landing files end in .jsonl or .jsonl.gz)"


@dataclass(frozen=True)
class LandingFile:
    """One file in the landing area, addressed relative to the landing root."""

    entity: str
    export_date: date
    relative_path: str
    absolute_path: Path


@dataclass
class Discovery:
    """The landing tree read once: the files to load and the paths that do not fit."""

    files: list[LandingFile] = field(default_factory=list)
    misfiled: list[MisfiledPath] = field(default_factory=list)


def _ignored(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _entries(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.iterdir()) if not _ignored(path)]


def discover(landing: Path) -> Discovery:
    """Read the landing tree in a stable order (entity, export date, path).

    Files come in ``ENTITIES`` order; misfiled paths are sorted by path. A folder's path
    ends in ``/``.
    """
    found = Discovery()
    if not landing.exists():
        return found

    def misfiled(path: Path, reason: str) -> None:
        relative = path.relative_to(landing).as_posix() + ("/" if path.is_dir() else "")
        found.misfiled.append(MisfiledPath(relative, reason))

    top = {path.name: path for path in _entries(landing)}
    for name, path in top.items():
        if not path.is_dir():
            misfiled(path, OUTSIDE_ENTITY)
        elif name not in ENTITIES:
            misfiled(path, UNKNOWN_ENTITY)
    for entity in ENTITIES:
        entity_dir = top.get(entity)
        if entity_dir is None or not entity_dir.is_dir():
            continue
        for partition in _entries(entity_dir):
            if not partition.is_dir():
                misfiled(partition, OUTSIDE_PARTITION)
                continue
            match = PARTITION_RE.match(partition.name)
            if not match:
                misfiled(partition, NOT_A_PARTITION)
                continue
            try:
                export_date = date.fromisoformat(match.group(1))
            except ValueError:
                misfiled(partition, f"impossible export date {match.group(1)}")
                continue
            for path in _entries(partition):
                if path.is_dir():
                    misfiled(path, NESTED_FOLDER)
                elif not path.name.endswith(SUFFIXES):
                    misfiled(path, BAD_EXTENSION)
                else:
                    found.files.append(
                        LandingFile(
                            entity=entity,
                            export_date=export_date,
                            relative_path=path.relative_to(landing).as_posix(),
                            absolute_path=path,
                        )
                    )
    found.misfiled.sort(key=lambda m: m.path)
    return found
