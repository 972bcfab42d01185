"""docs/privacy.md names every table and every file or folder a home holds (issue 15).

The matching rule is the one the page states: the first column of each row of its
"### Tables" and "### Files and folders" tables holds patterns in backticks; ``*``
matches within one name (``fnmatch``, never across a ``.`` of a table or a ``/`` of a
path); a table pattern's schema and a path pattern's first segment are literal, so a new
schema or a new top-level folder always needs a row of its own."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

import duckdb

from chatbatch.core.paths import PROJECT_DIR, Paths

DOC = PROJECT_DIR / "docs" / "privacy.md"


def _patterns(heading: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Where personal data lives", 1)[1].split("\n## ", 1)[0]
    block = section.split(f"### {heading}", 1)[1].split("\n### ", 1)[0]
    out = []
    for line in block.splitlines():
        cells = line.split("|")
        if len(cells) > 2 and not set(cells[1].strip()) <= {"-"}:
            out += re.findall(r"`([^`]+)`", cells[1])
    assert out, f"no rows under ### {heading}"
    return out


def _literal_head(first: str, sep: str) -> bool:
    """A table's schema is literal; a path's first segment too, or a literal ``name.`` then ``*``."""
    if "*" not in first:
        return True
    head = first.split("*", 1)[0]
    return sep == "/" and "." in head and not head.startswith(".")


def _covered(name: str, patterns: list[str], sep: str) -> bool:
    parts = name.rstrip("/").split(sep)
    for pattern in patterns:
        wanted = pattern.rstrip("/").split(sep)
        if not _literal_head(wanted[0], sep) or len(wanted) != len(parts):
            continue
        if all(fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=True)):
            return True
    return False


def test_patterns_follow_the_rule() -> None:
    for pattern in _patterns("Tables"):
        schema = pattern.split(".")[0]
        assert "*" not in schema and pattern.count(".") == 1, pattern
    for pattern in _patterns("Files and folders"):
        assert _literal_head(pattern.split("/")[0], "/"), pattern


def test_every_table_is_in_the_doc(published_home: Paths) -> None:
    patterns = _patterns("Tables")
    missing = []
    for database in (published_home.warehouse, published_home.analytics):
        con = duckdb.connect(str(database), read_only=True)
        try:
            tables = con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_catalog = current_database()"
            ).fetchall()
        finally:
            con.close()
        missing += [f"{database.name}: {t}" for (t,) in tables if not _covered(t, patterns, ".")]
    assert missing == [], "docs/privacy.md does not cover: " + ", ".join(missing)


def _entries(home: Path) -> list[str]:
    """Every path under the home, two levels deep, relative, folders ending in ``/``."""
    out = []
    for path in sorted(home.iterdir()):
        out.append(path.name + ("/" if path.is_dir() else ""))
        if path.is_dir():
            out += [f"{path.name}/{p.name}" + ("/" if p.is_dir() else "") for p in sorted(path.iterdir())]
    return out


def test_every_file_and_folder_is_in_the_doc(published_home: Paths) -> None:
    entries = _entries(published_home.home)
    assert {"landing/", "exports/", "snapshots/", "reports/", "state/", "analytics.duckdb"} <= set(entries)
    patterns = _patterns("Files and folders")
    missing = [e for e in entries if not _covered(e, patterns, "/")]
    assert missing == [], "docs/privacy.md does not cover: " + ", ".join(missing)


def test_the_rule_catches_what_is_new() -> None:
    tables, files = _patterns("Tables"), _patterns("Files and folders")
    assert not _covered("newschema.anything", tables, ".")
    assert _covered("staging.stg_chatbot__messages", tables, ".")
    assert not _covered("newfolder", files, "/")
    assert not _covered("newfile.duckdb", files, "/")
    assert not _covered("exports/new_export", files, "/")
    assert _covered("snapshots/batch=000001", files, "/")
