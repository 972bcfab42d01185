"""The manifest of one dbt parse, reused by the invocations of a process that parse the same.

Every ``dbtRunner().invoke`` loads dbt's partial parse and rebuilds the manifest (~1.3 s of
this project on 2 cores), and a night invokes dbt three or four times. dbtRunner takes a
manifest (``dbtRunner(manifest=...)``, dbt's programmatic invocations: the result of
``invoke(["parse", ...])``); given one, a command skips parsing (``setup_manifest`` in
dbt/cli/requires.py keeps a manifest already set).

A manifest is what dbt parsed from the project's files with a profile, a target and
``--vars`` (read at parse time), so it is kept under a key of exactly those: the project
directory, every option of the command line but those that only choose what runs
(:data:`EXECUTION_OPTIONS`), the ``DBT_*`` and ``CHATBATCH_*`` environment (the profile
reads its target and warehouse from it; ``CHATBATCH_HOME`` ties the key to one home) and
the size and modification time of every file dbt parses. One key is kept: a night's
invocations share one; a process that moves to another home, target or vars parses again.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbatch.core.paths import PROJECT_DIR

# The commands that take a manifest from dbtRunner (@requires.manifest); `retry` parses its own
REUSING_COMMANDS = frozenset({"build", "run", "test", "seed", "compile"})
# Options that choose which nodes run and how, not what dbt parses
EXECUTION_OPTIONS = frozenset(
    {"--select", "--exclude", "--selector", "--resource-type", "--exclude-resource-type", "--full-refresh"}
)
# What dbt parses, under the project directory (dbt_project.yml's *-paths, the profile)
PARSE_INPUTS = (
    "dbt_project.yml",
    "packages.yml",
    "dependencies.yml",
    "selectors.yml",
    "profiles",
    "models",
    "macros",
    "seeds",
    "tests/dbt",
    "analyses",
    "snapshots",
)
ENV_PREFIXES = ("DBT_", "CHATBATCH_")


@dataclass(frozen=True)
class _Parsed:
    key: str
    manifest: Any  # dbt.contracts.graph.manifest.Manifest


_last: list[_Parsed] = []  # at most one: the last parse kept


def reuses_manifest(args: Sequence[str]) -> bool:
    """True when the command ``args`` runs would take a parsed manifest."""
    return bool(args) and args[0] in REUSING_COMMANDS


def parse_args(args: Sequence[str]) -> list[str]:
    """``dbt parse`` with the options of ``args`` that bear on the parse."""
    return ["parse", *_parse_options(args)]


def parse_key(args: Sequence[str]) -> str:
    """What the manifest of ``args`` depends on, as one digest (read inside ``in_home``)."""
    digest = hashlib.sha256(str(PROJECT_DIR).encode())
    for part in [*_parse_options(args), *_environment(), *_project_files()]:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


def cached(key: str) -> Any | None:
    """The manifest kept under ``key``, if it is the one kept."""
    return _last[0].manifest if _last and _last[0].key == key else None


def keep(key: str, manifest: Any) -> None:
    """Keep ``manifest`` under ``key`` instead of the one kept, if it can be reused.

    A kept manifest, and everything else the process holds by then (dbt's modules, the
    night's state), lives until the next parse: it is moved out of the garbage collector's
    reach (``gc.freeze``). Python's full collections otherwise scan its millions of
    objects again and again while dbt runs the nodes, holding the interpreter lock: 2.2 s
    of a 31-s night at the standard scale (docs/benchmark.md). ``forget`` hands it back."""
    forget()
    if is_reusable(manifest):
        _last.append(_Parsed(key, manifest))
        gc.freeze()


def forget() -> None:
    if _last:
        gc.unfreeze()  # the old manifest (and what was frozen with it) may now be collected
    _last.clear()


def is_reusable(manifest: Any) -> bool:
    """dbt compiles into the manifest's nodes. Compiling a node again re-renders its code,
    but skips injecting ephemeral models' CTEs into it once they were injected
    (``_recursively_prepend_ctes`` in dbt/compilation.py): a node that refs an ephemeral
    model would run without its CTE. The project has no ephemeral model; if one appears,
    every invocation parses again."""
    return not any(node.config.materialized == "ephemeral" for node in manifest.nodes.values())


def _parse_options(args: Sequence[str]) -> list[str]:
    kept: list[str] = []
    skipping = False
    for token in args[1:]:
        if token.startswith("--"):
            skipping = token in EXECUTION_OPTIONS
        if not skipping:
            kept.append(token)
    return kept


def _environment() -> list[str]:
    return [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)]


def _project_files() -> Iterator[str]:
    """Each parse input's path, size and modification time (a new, changed or removed file
    changes the key; dbt would re-parse it)."""
    for name in PARSE_INPUTS:
        top = PROJECT_DIR / name
        paths = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in paths:
            yield _stat(path)


def _stat(path: Path) -> str:
    stat = path.stat()
    return f"{path.relative_to(PROJECT_DIR)}:{stat.st_size}:{stat.st_mtime_ns}"
