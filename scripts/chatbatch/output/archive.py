"""The redacted conversation archive: one Parquet file per day of conversations, by month.

``Paths.archive`` (``exports/archive/``): ``month=YYYY-MM/transcripts-YYYY-MM-DD.parquet``
(the messages of the conversations that started that day, UTC) and ``manifest.json`` (per
day: file, rows, conversations, sha256, the ``fingerprint`` of its rows; the ingest batch
the archive is complete up to).

A night fingerprints (``files.fingerprints``, one scan) the days holding conversations
processed since the manifest's watermark (every day after a full refresh or backfill) and
writes a day only when its rows differ from its entry's fingerprint or its file no longer
has the sha256 the entry lists: a full refresh that changed nothing writes nothing. Days,
not months, so a night's cost follows its new data: at 30 days x 10,000 conversations a
night's late messages touch about seven days, 0.7 s to write, where rewriting the two
months holding them took 3.5 s (2.5 M rows). When the archive's row count then differs
from the manifest's (a conversation moved to another day, a day lost all its rows), every
day is fingerprinted and days that no longer hold rows are deleted.

A manifest written before days (``months``: ``month=YYYY-MM/transcripts.parquet``) is read
as it is; the next export writes those months as days and deletes their month files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb

from chatbatch.core.digest import sha256_of
from chatbatch.output import files
from chatbatch.output.workload import WorkloadContext
from chatbatch.privacy.settings import Retention

RELATION = "archive.archive_transcripts"
DAY = "archive_date"  # the UTC date of STARTED_AT
STARTED_AT = "conversation_started_at"
# rows of a range of days, by the start timestamp: row groups' min/max skip the other days
# (a filter on the day itself read every row group: 0.15 s a day against 0.03 s)
BETWEEN = f"{STARTED_AT} >= ? and {STARTED_AT} < ?"
ORDER = ["conversation_id", "message_sequence", "message_id"]
EXCLUDE = ("archive_month", DAY)  # in the file's path


def day_file(day: date) -> str:
    """A day's file, relative to the archive folder."""
    return f"month={day:%Y-%m}/transcripts-{day:%Y-%m-%d}.parquet"


@dataclass(frozen=True)
class DayEntry:
    file: str  # relative to the archive folder
    rows: int
    conversations: int
    sha256: str
    fingerprint: str = ""  # the day's rows (files.fingerprints); "" when unknown: written again

    def intact(self, root: Path) -> bool:
        """The file is there with the bytes this entry lists."""
        path = root / self.file
        return path.is_file() and sha256_of(path) == self.sha256


@dataclass
class ArchiveManifest:
    processed_batch_id: int = 0  # the archive holds every row processed up to this batch
    # "YYYY-MM-DD" -> its file; a "YYYY-MM" key is a month file written before days
    days: dict[str, DayEntry] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> ArchiveManifest:
        document = load_manifest(root)
        entries = document.get("days", document.get("months", {}))
        days = {key: DayEntry(**entry) for key, entry in entries.items()}
        return cls(int(document["processed_batch_id"]), days)

    def to_dict(self) -> dict[str, Any]:
        days = {key: asdict(self.days[key]) for key in sorted(self.days)}
        return {"processed_batch_id": self.processed_batch_id, "days": days}

    def months(self) -> set[str]:
        """The "YYYY-MM" of every entry."""
        return {key[:7] for key in self.days}

    def month_files(self) -> set[str]:
        """Entries that are whole months (written before days)."""
        return {key for key in self.days if len(key) == len("YYYY-MM")}

    def rows(self, first_month: str = "") -> int:
        """Rows of the entries from ``first_month`` ("YYYY-MM") on."""
        return sum(entry.rows for key, entry in self.days.items() if key[:7] >= first_month)


@dataclass(frozen=True)
class ArchiveResult:
    days_written: list[str]
    days_unchanged: list[str]
    days_removed: list[str]
    days: int
    months: int
    rows: int
    manifest_changed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_manifest(root: Path) -> dict[str, Any]:
    """The archive manifest as JSON (an empty archive if there is none yet)."""
    return files.read_manifest(root / files.MANIFEST) or {"processed_batch_id": 0, "days": {}}


def _changed_days(con: duckdb.DuckDBPyConnection, since: int) -> list[date]:
    rows = con.execute(
        f"select distinct {DAY} from {RELATION} where _processed_batch_id > {int(since)}"
    ).fetchall()
    return [day for (day,) in rows]


def _bounds(first: date, last: date) -> list[datetime]:
    """The parameters of ``BETWEEN`` for the days ``first`` to ``last``."""
    return [datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())]


def _fingerprints(con: duckdb.DuckDBPyConnection, days: list[date] | None) -> dict[date, str]:
    """The fingerprint of each of ``days`` that holds rows (None: every day)."""
    if days is None:
        return files.fingerprints(con, RELATION, DAY, exclude=EXCLUDE)
    if not days:
        return {}
    where = f"{BETWEEN} and {DAY} in ({', '.join('?' for _ in days)})"
    return files.fingerprints(con, RELATION, DAY, where, [*_bounds(min(days), max(days)), *days], EXCLUDE)


def _conversations(con: duckdb.DuckDBPyConnection, day: date) -> int:
    query = f"select count(distinct conversation_id) from {RELATION} where {BETWEEN}"
    row = con.execute(query, _bounds(day, day)).fetchone()
    return int(row[0]) if row else 0


def export_archive(
    con: duckdb.DuckDBPyConnection, root: Path, recheck: bool, keep_from: date | None = None
) -> ArchiveResult:
    """``recheck``: fingerprint every day (a full refresh or backfill). ``keep_from``: the
    first month retention keeps (privacy.yml ``archive_months``); older days are never
    written again, even by a full refresh."""
    files.remove_stale_temps(root)
    manifest = ArchiveManifest.read(root)
    first = f"{keep_from:%Y-%m}" if keep_from else ""
    row = con.execute(
        f"select coalesce(max(_processed_batch_id), 0), count(*) filter (where {DAY} >= ?) from {RELATION}",
        [keep_from or date.min],
    ).fetchone()
    watermark, total = (int(row[0]), int(row[1])) if row else (0, 0)
    kept = {key for key in manifest.days if key[:7] >= first}
    # month files (written before days) are written again as days, which checks every day
    everything = recheck or bool(manifest.month_files() & kept)
    found = _fingerprints(con, None if everything else _changed_days(con, manifest.processed_batch_id))
    # a day the manifest lists whose file went missing is checked again
    missing = [
        date.fromisoformat(key)
        for key in kept - manifest.month_files()
        if not (root / manifest.days[key].file).is_file()
    ]
    found |= _fingerprints(con, [day for day in missing if day not in found])
    written, unchanged = _write_days(con, root, manifest, found, keep_from)
    removed: list[str] = []
    if everything or manifest.rows(first) != total:
        # rows left a day the changed conversations no longer name: check every day
        if not everything:
            found = _fingerprints(con, None)
            more, same = _write_days(con, root, manifest, found, keep_from)
            written, unchanged = written + more, unchanged + same
        removed = _remove_days(root, manifest, {f"{day:%Y-%m-%d}" for day in found}, kept)
    manifest.processed_batch_id = watermark
    _, manifest_changed = files.write_manifest(root / files.MANIFEST, manifest.to_dict())
    return ArchiveResult(
        days_written=sorted(set(written)),
        days_unchanged=sorted(set(unchanged) - set(written)),
        days_removed=removed,
        days=len(manifest.days),
        months=len(manifest.months()),
        rows=manifest.rows(),
        manifest_changed=manifest_changed,
    )


def _write_days(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    manifest: ArchiveManifest,
    found: dict[date, str],
    keep_from: date | None,
) -> tuple[list[str], list[str]]:
    """Write each day of ``found`` whose rows or file differ from its entry; return the
    (written, unchanged) days."""
    query = files.relation_query(con, RELATION, ORDER, BETWEEN, EXCLUDE)
    written, unchanged = [], []
    for day, fingerprint in sorted(found.items()):
        key = f"{day:%Y-%m-%d}"
        if keep_from is not None and day < keep_from:
            continue
        listed = manifest.days.get(key)
        if listed is not None and listed.fingerprint == fingerprint and listed.intact(root):
            unchanged.append(key)  # the same rows as the file holds: nothing to write
            continue
        parquet = files.write_parquet(con, query, root / day_file(day), _bounds(day, day))
        entry = DayEntry(day_file(day), parquet.rows, _conversations(con, day), parquet.sha256, fingerprint)
        if not parquet.replaced and listed == entry:
            unchanged.append(key)
            continue
        manifest.days[key] = entry
        written.append(key)
    return written, unchanged


def _remove_days(root: Path, manifest: ArchiveManifest, present: set[str], kept: set[str]) -> list[str]:
    """Delete the entries (and files) of kept days that hold no rows any more, and the month
    files of months now written as days; return the days removed."""
    removed = []
    for key in sorted(kept):
        if key in present:
            continue
        (root / manifest.days[key].file).unlink(missing_ok=True)
        del manifest.days[key]
        if len(key) > len("YYYY-MM"):
            removed.append(key)
    return removed


@dataclass(frozen=True)
class ArchiveExport:
    name: str = "archive"
    phase: Literal["before_publish"] = "before_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        con = files.connect(ctx.paths.warehouse)
        try:
            keep_from = Retention.load(ctx.paths).first_archive_month(ctx.run_date)
            out = export_archive(con, ctx.paths.archive, ctx.full_refresh, keep_from)
        finally:
            con.close()
        ctx.say(
            f"  archive: {out.rows:,} messages in {out.days} day(s) of {out.months} month(s); "
            f"written: {', '.join(out.days_written) or 'none'}"
            + (f"; removed: {', '.join(out.days_removed)}" if out.days_removed else "")
        )
        return out.to_dict()
