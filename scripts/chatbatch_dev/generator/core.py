"""Orchestrates the per-day simulation, rendering, defect injection and file writing."""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

import chatbatch_dev.generator.kb as kb
import chatbatch_dev.generator.render as render
import chatbatch_dev.generator.turns as turns
from chatbatch.contract import ENTITIES, contract
from chatbatch.contract import VERSION as CONTRACT_VERSION

from .day import DayData, RunInfo, simulate_day
from .dirty import inject
from .formats import FormatOptions
from .render_langfuse import LangfuseWriter
from .render_otel import OtelWriter
from .timeutil import DAY_MS, epoch_ms
from .users import rng_for

GZ_ENTITIES = frozenset({"messages", "events"})
# fields the generator adds mid-history: the contract's accepted-but-not-staged fields
DRIFT_FIELDS = {e: ", ".join(contract(e).drift_fields) for e in ENTITIES if contract(e).drift_fields}


@dataclass
class GenerateSummary:
    """What ``generate`` wrote. ``seconds`` is wall-clock and not written to the JSON file."""

    landing: str
    seed: int
    start: str
    days: int
    conversations_per_day: int
    dirty_rate: float
    files: list[str] = field(default_factory=list)
    lines_per_entity: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    dirty: dict[str, dict[str, int]] = field(default_factory=dict)
    late_arrival: dict[str, int] = field(default_factory=dict)
    truncated_gzip: dict[str, object] | None = None
    schema_drift: dict[str, object] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    format: str = "v1"
    format_stats: dict[str, object] = field(default_factory=dict)

    def dirty_totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kinds in self.dirty.values():
            for k, v in kinds.items():
                out[k] = out.get(k, 0) + v
        return dict(sorted(out.items()))

    def to_dict(self, include_timing: bool = True) -> dict[str, object]:
        d = asdict(self)
        d["contract_version"] = CONTRACT_VERSION
        d["dirty_totals"] = self.dirty_totals()
        if self.format == "v1":  # the v1 summary keeps its shape
            d.pop("format")
            d.pop("format_stats")
        if not include_timing:
            d.pop("seconds")
            d.pop("landing")
        return d

    def _add(self, bucket: dict, entity: str, kind: str | None, n: int) -> None:
        if kind is None:
            bucket[entity] = bucket.get(entity, 0) + n
        else:
            ent = bucket.setdefault(entity, {})
            ent[kind] = ent.get(kind, 0) + n


def _partition(landing: Path, entity: str, d: date) -> Path:
    return landing / entity / f"export_date={d.isoformat()}"


def _kb_lines(run: RunInfo, day: int, sched: kb.KbSchedule) -> bytes:
    rng = rng_for(run.seed, day, 6)
    d = run.start + timedelta(days=day)
    base = epoch_ms(d)
    out = []
    for idx, version, deleted in sched.exports[day]:
        doc = run.docs[idx]
        if day == 0:
            upd = base - int(rng.integers(1, 90)) * DAY_MS + int(rng.integers(0, DAY_MS))
            exp = base + 1_800_000
        else:
            upd = base + int(rng.integers(3_600_000, 22 * 3_600_000))
            exp = upd + 300_000
        rec: dict[str, object] = {
            "document_id": doc.document_id,
            "version": version,
            "title": kb.title(doc, version),
            "url": doc.url,
        }
        if not deleted:
            rec["body"] = kb.body(doc, version, run.seed)
        rec |= {
            "language": doc.language,
            "is_deleted": deleted,
            "updated_at": _iso(upd),
            "exported_at": _iso(exp),
        }
        out.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(out) + "\n").encode() if out else b""


def _iso(ms: int) -> str:
    d = date(1970, 1, 1) + timedelta(days=ms // DAY_MS)
    s = (ms % DAY_MS) // 1000
    return f"{d.isoformat()}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z"


def _render_day(con, run: RunInfo, dd: DayData) -> dict[str, tuple[render.Lines, np.ndarray]]:
    """Per entity: rendered lines (sorted by partition) and the partition offset per line."""
    ymd = dd.date.strftime("%Y%m%d")
    run_ymds = [(run.start + timedelta(days=i)).strftime("%Y%m%d") for i in range(run.days)]
    base_day = epoch_ms(dd.date) // DAY_MS
    dd.events["seq"] = np.arange(len(dd.events["t"]))
    dd.feedback["seq"] = np.arange(len(dd.feedback["t"]))
    specs = {
        "conversations": (dd.conversations, render.conversations_sql(ymd, run_ymds), ()),
        "messages": (dd.messages, render.messages_sql(ymd), ("text",)),
        "events": (dd.events, render.events_sql(ymd), ()),
        "feedback": (dd.feedback, render.feedback_sql(ymd), ("ctext",)),
        "users": (dd.users, render.users_sql(run_ymds), ()),
    }
    out = {}
    for entity, (cols, sql, text_cols) in specs.items():
        pday = cols["exp_ms"] // DAY_MS - base_day
        if np.any(pday[1:] < pday[:-1]):
            o = np.argsort(pday, kind="stable")
            cols = {k: v[o] for k, v in cols.items()}
            pday = pday[o]
        lines = render.run_sql(con, sql, cols, dd.texts, text_cols)
        out[entity] = (lines, pday)
    return out


def generate(
    landing: Path,
    start: date,
    days: int,
    conversations_per_day: int,
    seed: int,
    dirty_rate: float = 0.0,
    progress: Callable[[str], None] | None = None,
    options: FormatOptions | None = None,
) -> GenerateSummary:
    """Write ``days`` days of synthetic exports below ``landing``: contract v1, or with
    ``options`` the same conversations as a Langfuse export or OTel spans (``formats.py``)."""
    t0 = time.perf_counter()
    landing = Path(landing)
    say = progress or (lambda _msg: None)
    sched = kb.schedule(seed, days)
    run = RunInfo(
        seed=seed,
        start=start,
        days=days,
        conversations_per_day=conversations_per_day,
        drift_from_day=days // 2,
        rollout_day=max(1, days // 2),
        late_rate=0.005 + 0.2 * dirty_rate,
        alive=sched.alive,
        docs=kb.corpus(),
    )
    summary = GenerateSummary(str(landing), seed, start.isoformat(), days, conversations_per_day, dirty_rate)
    summary.schema_drift = {
        "from_date": (start + timedelta(days=run.drift_from_day)).isoformat(),
        "fields": DRIFT_FIELDS,
    }
    if options is not None and options.format != "v1":
        return _generate_source(landing, run, summary, options, say, t0)
    trunc_day = int(rng_for(seed, 999).integers(0, days)) if dirty_rate > 0 else -1
    con = render.connect()
    written: list[Path] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = []
        for day in range(days):
            d = start + timedelta(days=day)
            dd = simulate_day(run, day)
            rendered = _render_day(con, run, dd)
            files: list[tuple[Path, str, bytes]] = []
            for entity, (lines, pday) in rendered.items():
                files += _entity_files(landing, entity, d, lines, pday)
            kbdata = _kb_lines(run, day, sched)
            if kbdata:
                files.append(
                    (
                        _partition(landing, "kb_documents", d) / "part-0000.jsonl",
                        "kb_documents",
                        kbdata,
                    )
                )
            trunc_path = None
            if day == trunc_day:
                msgs = [f for f in files if f[1] == "messages" and "part-" in f[0].name]
                trunc_path = msgs[-1][0]
            files = _dirty(files, landing, d, dirty_rate, seed, day, summary, trunc_path)
            for _path, entity, data in files:
                summary._add(summary.lines_per_entity, entity, None, data.count(b"\n"))
            for key, val in dd.stats.items():
                summary.stats[key] = summary.stats.get(key, 0) + val
            summary.messages += dd.stats["messages"]
            _valid_kinds(summary, dd.stats)
            for f in pending:
                f.result()
            pending = [
                pool.submit(_write, p, data, p == trunc_path, summary, landing) for p, _, data in files
            ]
            written += [p for p, _, _ in files]
            say(
                f"{d.isoformat()}: {dd.stats['conversations']} conversations, "
                f"{dd.stats['messages']} messages, {len(files)} files"
            )
        for f in pending:
            f.result()
    con.close()
    summary.files = sorted(str(p.relative_to(landing)) for p in written)
    summary.seconds = round(time.perf_counter() - t0, 3)
    out = landing / "_generator" / f"summary-{start.isoformat()}-{days}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary.to_dict(include_timing=False), indent=2, sort_keys=True) + "\n")
    return summary


def _generate_source(
    landing: Path,
    run: RunInfo,
    summary: GenerateSummary,
    options: FormatOptions,
    say: Callable[[str], None],
    t0: float,
) -> GenerateSummary:
    """The same simulated days written as a Langfuse export or as OTel spans."""
    writer: LangfuseWriter | OtelWriter
    if options.format == "langfuse":
        writer = LangfuseWriter(
            landing,
            run.seed,
            project_id=options.langfuse_project,
            file_format=options.langfuse_format,
            gzipped=options.langfuse_gzip,
            window_hours=options.window_hours,
        )
    else:
        writer = OtelWriter(
            landing,
            run.seed,
            collector=options.otel_collector,
            compression=options.otel_compression,
            rotate_hours=options.window_hours,
        )
    summary.format = options.format
    written: list[Path] = []
    for day in range(run.days):
        d = run.start + timedelta(days=day)
        dd = simulate_day(run, day)
        writer.add_day(day, turns.conversations(run, dd))
        for key, val in dd.stats.items():
            summary.stats[key] = summary.stats.get(key, 0) + val
        summary.messages += dd.stats["messages"]
        new = writer.flush(epoch_ms(d + timedelta(days=1)))
        written += new
        say(f"{d.isoformat()}: {dd.stats['conversations']} conversations, {len(new)} files")
    written += writer.flush(0, final=True)
    summary.files = sorted(str(p.relative_to(landing)) for p in written)
    summary.format_stats = writer.stats.as_dict()
    summary.seconds = round(time.perf_counter() - t0, 3)
    out = landing / "_generator" / f"summary-{options.format}-{run.start.isoformat()}-{run.days}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary.to_dict(include_timing=False), indent=2, sort_keys=True) + "\n")
    return summary


def _valid_kinds(summary: GenerateSummary, stats: dict[str, int]) -> None:
    """Count the valid-but-awkward kinds (they load downstream) next to the defects."""
    for entity in ("messages", "events", "feedback"):
        n = stats[f"late_{entity}"]
        summary._add(summary.late_arrival, entity, None, n)
        summary._add(summary.dirty, entity, "late_arrival", n)
    summary._add(summary.dirty, "messages", "schema_drift", stats["drift_messages"])
    summary._add(summary.dirty, "conversations", "schema_drift", stats["drift_conversations"])
    summary._add(summary.dirty, "messages", "long_text", stats["long_text"])


def _entity_files(
    landing: Path, entity: str, d: date, lines: render.Lines, pday: np.ndarray
) -> list[tuple[Path, str, bytes]]:
    ext = ".jsonl.gz" if entity in GZ_ENTITIES else ".jsonl"
    out = []
    bounds = np.flatnonzero(np.diff(pday)) + 1
    starts = np.concatenate(([0], bounds)).astype(int)
    ends = np.concatenate((bounds, [len(pday)])).astype(int)
    for i, j in zip(starts.tolist(), ends.tolist(), strict=True):
        if j <= i:
            continue
        p = int(pday[i])
        part_dir = _partition(landing, entity, d + timedelta(days=p))
        if p == 0 and entity == "messages" and j - i >= 2:
            mid = i + (j - i) // 2
            out.append((part_dir / f"part-0000{ext}", entity, lines.chunk(i, mid)))
            out.append((part_dir / f"part-0001{ext}", entity, lines.chunk(mid, j)))
        elif p == 0:
            out.append((part_dir / f"part-0000{ext}", entity, lines.chunk(i, j)))
        else:
            out.append((part_dir / f"spill-from-{d.isoformat()}{ext}", entity, lines.chunk(i, j)))
    return out


def _dirty(
    files: list[tuple[Path, str, bytes]],
    landing: Path,
    d: date,
    rate: float,
    seed: int,
    day: int,
    summary: GenerateSummary,
    trunc_path: Path | None,
) -> list[tuple[Path, str, bytes]]:
    if rate <= 0:
        return files
    out = []
    redeliver: dict[tuple[str, int], list[bytes]] = {}
    for fi, (path, entity, data) in enumerate(files):
        if path == trunc_path:
            out.append((path, entity, data))
            continue
        rng = rng_for(seed, day, 50, ENTITIES.index(entity), fi)
        new, counts, dups = inject(entity, data, rate, rng)
        for kind, n in counts.items():
            summary._add(summary.dirty, entity, kind, n)
        for line in dups:
            redeliver.setdefault((entity, int(rng.integers(0, 3))), []).append(line)
        out.append((path, entity, new))
    for (entity, k), lines in sorted(redeliver.items()):
        path = _partition(landing, entity, d + timedelta(days=k)) / (
            f"redelivery-from-{d.isoformat()}.jsonl.gz"
        )
        out.append((path, entity, b"\n".join(lines) + b"\n"))
    return out


def _write(path: Path, data: bytes, truncate: bool, summary: GenerateSummary, landing: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        payload = gzip.compress(data, compresslevel=1, mtime=0)
        if truncate:
            payload, info = _truncate(payload, data)
            info["file"] = str(path.relative_to(landing))
            summary.truncated_gzip = info
            summary.dirty.setdefault("messages", {})["truncated_gzip"] = 1
        path.write_bytes(payload)
    else:
        path.write_bytes(data)


def _truncate(payload: bytes, data: bytes) -> tuple[bytes, dict[str, object]]:
    keep = int(len(payload) * 0.7)
    while True:
        cut = payload[:keep]
        plain = zlib.decompressobj(wbits=31).decompress(cut)
        partial = len(plain) - (plain.rfind(b"\n") + 1)
        if partial > 0 or keep < 32:
            break
        keep -= 7
    return cut, {
        "lines_total": data.count(b"\n"),
        "complete_lines": plain.count(b"\n"),
        "partial_line": partial > 0,
        "kept_bytes": keep,
        "original_bytes": len(payload),
    }
