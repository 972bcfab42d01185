"""The publish's standby: the previous published version, kept beside ``analytics.duckdb``
as ``analytics.duckdb.standby`` and brought up to date in place by the next publish instead
of a copy of the whole published file (``publish.py`` says how it is patched).

The file analysts open is never written in place: the standby is a hard link to the file a
publish is about to replace, so it is a different inode from the one published after it.
It is patched only when it is usable (``start``): it holds a published batch no newer than
the published file's, no process has it open (DuckDB will not write a file another process
reads), it is not the published file itself (a kill between the link and the rename) and it
is not too far behind. Anything else copies the published file, as publish did before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import duckdb

from chatbatch.core import duck

# The standby is patched only while at most this share of the patched tables' rows changed
# since its batch, else the published file is copied. Measured at 90 days: copying the
# 1.1 GB file took 1.4 s; publish took ~3.6 s from a standby one night behind and 7.5 s from
# one a 30-day catch-up slice (a third of the rows) behind.
STANDBY_MAX_BEHIND = 0.1


def standby_of(analytics: Path) -> Path:
    """The previous published version, which the next publish patches."""
    return analytics.with_name(analytics.name + ".standby")


def discard_standby(analytics: Path) -> None:
    """Forget the standby: the next publish starts from a copy of the published file.
    Anything that rewrites the published file outside a publish (retention's expiry, an
    erasure) calls it: an expired or erased value must not come back with the next patch."""
    remove(standby_of(analytics))


def published_batch(analytics: Path, read_only: bool = True) -> int | None:
    """The batch the published file holds, or None when there is no usable file (with
    ``read_only=False``: none either when another process has it open)."""
    if not analytics.exists():
        return None
    try:
        con = duck.connect(str(analytics), read_only=read_only)
    except duckdb.Error:
        return None
    try:
        row = con.execute("select max(batch_id) from ops.published_batch").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return int(row[0]) if row and row[0] is not None else None


def start(warehouse: Path, analytics: Path, work: Path, stamps: Mapping[tuple[str, str], str]) -> int | None:
    """Put the file a publish patches at ``work``: the standby when it is usable, else a copy
    of the published file; return the batch it holds (None: nothing to patch). ``stamps``
    are the patched tables, each with its stamp column (the batch that wrote a row)."""
    published = published_batch(analytics)
    if published is None:
        return None
    standby = standby_of(analytics)
    # a kill between the link and the rename leaves the standby a link to the published
    # file itself, which must never be written in place: then the copy
    usable = standby.exists() and not os.path.samefile(standby, analytics)
    base = published_batch(standby) if usable else None
    if base is not None and base <= published and _share_newer(warehouse, base, stamps) <= STANDBY_MAX_BEHIND:
        os.replace(standby, work)
        if published_batch(work, read_only=False) == base:  # None: a reader has it open
            return base
        remove(work)
    shutil.copyfile(analytics, work)
    return published


def _share_newer(warehouse: Path, batch: int, stamps: Mapping[tuple[str, str], str]) -> float:
    """The share of the patched tables' rows in the warehouse stamped after ``batch``."""
    newer = total = 0
    con = duck.connect(":memory:")
    try:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = 'warehouse'"
        ).fetchall()
        present = {(str(s), str(t), str(c)) for s, t, c in columns}
        for (schema, table), stamp in sorted(stamps.items()):
            if (schema, table, stamp) not in present:
                continue
            row = con.execute(
                f'select count(*) filter (where "{stamp}" > ?), count(*) from warehouse."{schema}"."{table}"',
                [batch],
            ).fetchone()
            newer, total = newer + int(row[0]), total + int(row[1])
    finally:
        con.close()
    return newer / total if total else 0.0


def keep(warehouse: Path, analytics: Path, stamps: Mapping[tuple[str, str], str]) -> None:
    """Link the published file as the next standby before the rename replaces it, unless
    this publish brings more than ``STANDBY_MAX_BEHIND`` of the rows (a slice of a long
    catch-up): the next night would then copy instead of patching it, so the new file is
    copied as the standby after the rename (``copy_if_none``). A kill after the link leaves
    the standby a link to the published file: ``start`` copies."""
    discard_standby(analytics)
    published = published_batch(analytics)
    if published is None or _share_newer(warehouse, published, stamps) > STANDBY_MAX_BEHIND:
        return
    with contextlib.suppress(OSError):  # no hard links here: ``copy_if_none`` copies
        os.link(analytics, standby_of(analytics))


def copy_if_none(analytics: Path) -> None:
    """A publish that replaced no file of its lineage (the first, a full refresh, a
    backfill) copies everything anyway, and one that brought many rows (``keep``) left no
    standby: it copies its file as the standby, so that the next night patches instead of
    copying. Written under a temporary name, then renamed."""
    if standby_of(analytics).exists():
        return
    partial = partial_copy(analytics)
    shutil.copyfile(analytics, partial)
    os.replace(partial, standby_of(analytics))


def partial_copy(analytics: Path) -> Path:
    """Where ``copy_if_none`` writes (a kill leaves it; the next publish removes it)."""
    return analytics.with_name(analytics.name + ".standby-copy")


def remove(database: Path) -> None:
    """A DuckDB file and its WAL."""
    database.unlink(missing_ok=True)
    database.with_name(database.name + ".wal").unlink(missing_ok=True)
