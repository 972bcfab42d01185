"""Write simulated conversations as a Langfuse blob-storage export (enriched observations).

Layout (docs/sources/langfuse.md): ``langfuse/<project>/observations_v2/<ts>.<parquet|jsonl[.gz]>``,
``scores/<ts>.<...>`` and ``manifests/<ts>.json`` written last, one run per export window,
``<ts>`` the window end as ``YYYY-MM-DDTHH-MM-SS``. A record belongs to the window holding its
``updated_at``; windows share their inclusive boundary, so a record updated exactly at a
boundary is in both runs.

Mapping of one simulated conversation:

* session ``session_id`` = the v1 ``conversation_id``; ``trace_name`` = bot, ``release`` = bot
  version, ``user_id`` = v1 user (``""`` when anonymous).
* trace ``tr_<ymd>_<n>_000``: an EVENT observation ``greeting`` (id = the v1 system message id)
  from the conversation start to the greeting; it carries the conversation's start.
* one trace per bot turn ``tr_<ymd>_<n>_<user pos>``: a GENERATION whose id is the v1 assistant
  message id (input = the chat history as OpenAI messages, the new user message at index = its
  v1 position; output = the answer; start = user message, end = answer, so latency is v1's;
  usage and cost from the price seed). A turn with a tool call is a tool loop: GENERATION
  ``<answer id>-call`` returning ``tool_calls``, the TOOL observation (id = the v1 event id),
  then the answering GENERATION; tokens are split between the two so the turn's sums are v1's.
  Retrievals are RETRIEVER observations (id = v1 event id, output ``[{id, score}]``); an error is
  a GENERATION with ``level = ERROR`` (id = v1 event id) without usage.
* feedback as scores (id = v1 feedback id), names in ``FEEDBACK_SCORES``: thumbs on the answering
  generation as BOOLEAN ``user-feedback`` (bot's old version) or CATEGORICAL ``user-sentiment``
  ``positive``/``negative`` (new version); csat as NUMERIC ``csat`` and comments as TEXT ``comment``
  on the turn's trace of the conversation's last bot turn.
* now and then a generation is exported first while streaming (``end_time`` null, no output,
  no usage) and re-exported in a later window with its end, output, usage and a later
  ``updated_at``; now and then a run is retried (its data files are written twice under the
  same keys before the manifest appears).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from chatbatch.core.paths import PROJECT_DIR

from .turns import Conversation, Turn
from .users import rng_for
from .windows import Buckets, iso_ms, stamp, ts_text

PRICES_PATH = PROJECT_DIR / "seeds" / "model_prices.csv"
# score names per feedback kind: match the dbt var langfuse_feedback_scores
FEEDBACK_SCORES: dict[str, list[str]] = {
    "thumbs": ["user-feedback", "user-sentiment"],
    "csat": ["csat"],
    "comment": ["comment"],
}
CATEGORICAL_VALUES: dict[str, int] = {"positive": 1, "negative": -1}  # var langfuse_categorical_values
REEXPORT_RATE = 0.03
RETRY_EVERY = 12  # every 12th run (from the third) is a retried one
BOUNDARY_SNAP_MS = 900_000
TIME_FIELDS = frozenset({"start_time", "end_time", "completion_start_time", "created_at", "updated_at"})
SCORE_TIME_FIELDS = frozenset({"timestamp", "created_at", "updated_at"})

_MAP_STR = pa.map_(pa.string(), pa.string())
_TS = pa.timestamp("us", tz="UTC")
OBSERVATION_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("trace_id", pa.string()),
        ("project_id", pa.string()),
        ("environment", pa.string()),
        ("type", pa.string()),
        ("parent_observation_id", pa.string()),
        ("start_time", _TS),
        ("end_time", _TS),
        ("name", pa.string()),
        ("metadata", _MAP_STR),
        ("level", pa.string()),
        ("status_message", pa.string()),
        ("version", pa.string()),
        ("input", pa.string()),
        ("output", pa.string()),
        ("provided_model_name", pa.string()),
        ("model_parameters", pa.string()),
        ("usage_details", pa.map_(pa.string(), pa.int64())),
        ("cost_details", pa.map_(pa.string(), pa.float64())),
        ("completion_start_time", _TS),
        ("prompt_name", pa.string()),
        ("prompt_version", pa.int32()),
        ("total_cost", pa.float64()),
        ("latency", pa.float64()),
        ("time_to_first_token", pa.float64()),
        ("model_id", pa.string()),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("prompt_id", pa.string()),
        ("tool_calls", pa.list_(pa.string())),
        ("tool_call_names", pa.list_(pa.string())),
        ("tool_definitions", _MAP_STR),
        ("usage_pricing_tier_id", pa.string()),
        ("usage_pricing_tier_name", pa.string()),
        ("user_id", pa.string()),
        ("session_id", pa.string()),
        ("trace_name", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("release", pa.string()),
        ("bookmarked", pa.bool_()),
        ("public", pa.bool_()),
        ("is_root_observation", pa.bool_()),
    ]
)
SCORE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("timestamp", _TS),
        ("project_id", pa.string()),
        ("environment", pa.string()),
        ("trace_id", pa.string()),
        ("observation_id", pa.string()),
        ("session_id", pa.string()),
        ("dataset_run_id", pa.string()),
        ("name", pa.string()),
        ("value", pa.float64()),
        ("source", pa.string()),
        ("comment", pa.string()),
        ("data_type", pa.string()),
        ("string_value", pa.string()),
        ("created_at", _TS),
        ("updated_at", _TS),
    ]
)


def load_prices(path: Path = PRICES_PATH) -> dict[str, list[tuple[date, float, float]]]:
    """Per model: (valid_from, usd per 1k input tokens, per 1k output tokens), oldest first."""
    out: dict[str, list[tuple[date, float, float]]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["model_name"], []).append(
                (
                    date.fromisoformat(row["valid_from"]),
                    float(row["input_usd_per_1k_tokens"]),
                    float(row["output_usd_per_1k_tokens"]),
                )
            )
    return {k: sorted(v) for k, v in out.items()}


@dataclass
class Row:
    """One exported record: its table, fields and the window it was exported in."""

    table: str
    fields: dict[str, object]
    snap: bool = True  # may be moved to the next window boundary (a boundary record)


@dataclass
class LangfuseStats:
    runs: int = 0
    retried_runs: list[str] = field(default_factory=list)
    observations: int = 0
    scores: int = 0
    boundary_duplicates: int = 0
    reexported_observations: int = 0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class LangfuseWriter:
    """Collects the records of each simulated day and writes the settled export runs."""

    def __init__(
        self,
        landing: Path,
        seed: int,
        project_id: str = "proj-chatbatch",
        file_format: str = "parquet",
        gzipped: bool = False,
        window_hours: int = 6,
    ) -> None:
        if file_format not in ("parquet", "jsonl"):
            raise ValueError(f"unsupported Langfuse file format {file_format!r}")
        self.root = Path(landing) / "langfuse"
        self.seed = seed
        self.project = project_id
        self.file_format = file_format
        self.gzipped = gzipped and file_format != "parquet"  # Parquet is never gzipped
        self.buckets: Buckets[Row] = Buckets(window_hours * 3_600_000)
        self.prices = load_prices()
        self.stats = LangfuseStats()

    # ---------------------------------------------------------------- records
    def add_day(self, day: int, convs: list[Conversation]) -> None:
        rng = rng_for(self.seed, day, 70)
        for c in convs:
            self._greeting(c)
            for turn in c.turns:
                self._turn(c, turn, rng)
            self._scores(c)

    def _base(self, c: Conversation, trace_id: str) -> dict[str, object]:
        return {
            "trace_id": trace_id,
            "project_id": self.project,
            "environment": "production",
            "user_id": c.user_id or "",
            "session_id": c.conversation_id,
            "trace_name": c.bot,
            "release": c.version,
        }

    def _obs(
        self,
        c: Conversation,
        trace_id: str,
        obs_id: str,
        type_: str,
        name: str,
        start: int,
        end: int | None,
        updated: int,
        parent: str = "",
        **extra: object,
    ) -> dict[str, object]:
        base = self._base(c, trace_id)
        rec: dict[str, object] = {
            "id": obs_id,
            "trace_id": trace_id,
            "project_id": self.project,
            "environment": "production",
            "type": type_,
            "parent_observation_id": parent,
            "start_time": start,
            "end_time": end,
            "name": name,
            "metadata": {},
            "level": "DEFAULT",
            "status_message": "",
            "version": "",
            "input": "",
            "output": "",
            "provided_model_name": "",
            "model_parameters": "",
            "usage_details": {},
            "cost_details": {},
            "completion_start_time": None,
            "prompt_name": "",
            "prompt_version": None,
            "total_cost": None,
            "latency": None,
            "time_to_first_token": None,
            "model_id": "",
            "created_at": updated,
            "updated_at": updated,
            "prompt_id": "",
            "tool_calls": [],
            "tool_call_names": [],
            "tool_definitions": {},
            "usage_pricing_tier_id": None,
            "usage_pricing_tier_name": None,
            "user_id": base["user_id"],
            "session_id": base["session_id"],
            "trace_name": base["trace_name"],
            "tags": [],
            "release": base["release"],
            "bookmarked": False,
            "public": False,
            "is_root_observation": parent == "",
        }
        rec.update(extra)
        return rec

    def _add(self, row: Row) -> None:
        self.buckets.add(int(row.fields["updated_at"]), row)  # type: ignore[arg-type]

    def _greeting(self, c: Conversation) -> None:
        trace_id = f"tr_{c.ymd}_{c.conversation_id[-7:]}_000"
        rec = self._obs(
            c,
            trace_id,
            c.message_id(0),
            "EVENT",
            "greeting",
            c.start_ms,
            c.greeting_sent_ms,
            c.greeting_exported_ms,
            output=json.dumps({"role": "system", "content": c.greeting}, ensure_ascii=False),
        )
        self._add(Row("observations_v2", rec))

    def _cost(self, model: str, at_ms: int, input_tokens: int, output_tokens: int) -> dict[str, float]:
        day = _utc_date(at_ms)
        valid = [p for p in self.prices.get(model, []) if p[0] <= day]
        if not valid:
            return {}
        _, pin, pout = valid[-1]
        cin, cout = input_tokens * pin / 1000, output_tokens * pout / 1000
        return {"input": cin, "output": cout, "total": cin + cout}

    def _generation(
        self,
        c: Conversation,
        turn: Turn,
        trace_id: str,
        obs_id: str,
        start: int,
        tokens: tuple[int, int],
        messages: list[dict[str, object]],
        output: dict[str, object],
        tool_names: list[str],
    ) -> dict[str, object]:
        cost = self._cost(turn.model, turn.asst_sent_ms, *tokens)
        tool_calls = [json.dumps(tc, ensure_ascii=False) for tc in output.get("tool_calls", [])]  # type: ignore[union-attr]
        return self._obs(
            c,
            trace_id,
            obs_id,
            "GENERATION",
            "chat",
            start,
            turn.asst_sent_ms if not tool_names else max(start, turn.tool.start_ms - 1),  # type: ignore[union-attr]
            turn.exported_ms,
            input=json.dumps(messages, ensure_ascii=False),
            output=json.dumps(output, ensure_ascii=False),
            provided_model_name=turn.model,
            usage_details={"input": tokens[0], "output": tokens[1], "total": tokens[0] + tokens[1]},
            cost_details=cost,
            total_cost=cost.get("total"),
            tool_calls=tool_calls,
            tool_call_names=tool_names,
        )

    def _turn(self, c: Conversation, turn: Turn, rng: np.random.Generator) -> None:
        trace_id = f"tr_{c.ymd}_{c.conversation_id[-7:]}_{turn.user_pos:03d}"
        history: list[dict[str, object]] = [{"role": "system", "content": c.greeting}]
        for prev in c.turns[: turn.index]:
            history += [
                {"role": "user", "content": prev.user_text},
                {"role": "assistant", "content": prev.asst_text},
            ]
        history.append({"role": "user", "content": turn.user_text})
        answer_id = c.message_id(turn.asst_pos)
        answer = {"role": "assistant", "content": turn.asst_text}
        rows: list[Row] = []
        start = turn.user_sent_ms
        tokens = (turn.input_tokens, turn.output_tokens)
        messages = history
        if turn.tool is not None:
            tool = turn.tool
            call = {
                "id": f"call_{tool.event_id[-8:]}",
                "type": "function",
                "function": {"name": tool.tool, "arguments": "{}"},
            }
            first_tokens = (turn.input_tokens * 2 // 5, turn.output_tokens // 5)
            first = self._generation(
                c,
                turn,
                trace_id,
                f"{answer_id}-call",
                start,
                first_tokens,
                history,
                {"role": "assistant", "content": "", "tool_calls": [call]},
                [tool.tool],
            )
            rows.append(Row("observations_v2", first))
            tool_end = tool.start_ms + tool.duration_ms
            rows.append(
                Row(
                    "observations_v2",
                    self._obs(
                        c,
                        trace_id,
                        tool.event_id,
                        "TOOL",
                        tool.tool,
                        tool.start_ms,
                        tool_end,
                        turn.exported_ms,
                        parent=f"{answer_id}-call",
                        level="DEFAULT" if tool.success else "ERROR",
                        status_message=tool.error_code or "",
                        input="{}",
                        output=json.dumps({"ok": tool.success}),
                    ),
                )
            )
            start = min(tool_end + 5, turn.asst_sent_ms)
            tokens = (turn.input_tokens - first_tokens[0], turn.output_tokens - first_tokens[1])
            messages = [
                *history,
                {"role": "assistant", "content": "", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps({"ok": tool.success})},
            ]
        final = self._generation(c, turn, trace_id, answer_id, start, tokens, messages, answer, [])
        if turn.retrieval is not None:
            r = turn.retrieval
            docs = [{"id": d, "score": s} for d, s in zip(r.document_ids, r.scores, strict=True)]
            rows.append(
                Row(
                    "observations_v2",
                    self._obs(
                        c,
                        trace_id,
                        r.event_id,
                        "RETRIEVER",
                        "kb-search",
                        r.at_ms,
                        r.at_ms + 40,
                        turn.exported_ms,
                        input=json.dumps(turn.user_text, ensure_ascii=False),
                        output=json.dumps(docs),
                    ),
                )
            )
        if turn.error is not None:
            e = turn.error
            rows.append(
                Row(
                    "observations_v2",
                    self._obs(
                        c,
                        trace_id,
                        e.event_id,
                        "GENERATION",
                        "chat",
                        e.at_ms,
                        e.at_ms,
                        turn.exported_ms,
                        level="ERROR",
                        status_message=e.error_code,
                        provided_model_name=turn.model,
                    ),
                )
            )
        if rng.random() < REEXPORT_RATE:
            self._reexport(final, rng)
        rows.append(Row("observations_v2", final))
        for row in rows:
            self._add(row)

    def _reexport(self, final: dict[str, object], rng: np.random.Generator) -> None:
        """First export while streaming; the final version lands in a later window."""
        start = int(final["start_time"])  # type: ignore[arg-type]
        first_at = start + int(rng.integers(100, 2_000))
        partial = dict(final)
        partial.update(
            end_time=None,
            output="",
            usage_details={},
            cost_details={},
            total_cost=None,
            created_at=first_at,
            updated_at=first_at,
        )
        self._add(Row("observations_v2", partial, snap=False))
        width = self.buckets.width_ms
        later = int(final["updated_at"])  # type: ignore[arg-type]
        if later // width == first_at // width:
            later = (first_at // width + 1) * width + int(rng.integers(1_000, 600_000))
        final.update(created_at=first_at, updated_at=later)
        self.stats.reexported_observations += 1

    def _scores(self, c: Conversation) -> None:
        if not c.feedback:
            return
        last_trace = f"tr_{c.ymd}_{c.conversation_id[-7:]}_{c.turns[-1].user_pos:03d}" if c.turns else ""
        for fb in c.feedback:
            rec: dict[str, object] = {
                "id": fb.feedback_id,
                "timestamp": fb.at_ms,
                "project_id": self.project,
                "environment": "production",
                "trace_id": last_trace,
                "observation_id": None,
                "session_id": None,
                "dataset_run_id": None,
                "name": "",
                "value": 0.0,
                "source": "API",
                "comment": None,
                "data_type": "",
                "string_value": None,
                "created_at": fb.exported_ms,
                "updated_at": fb.exported_ms,
            }
            if fb.kind == "thumbs":
                turn = c.turn_of(fb.asst_pos) if fb.asst_pos is not None else None
                if turn is None:
                    continue
                rec["trace_id"] = f"tr_{c.ymd}_{c.conversation_id[-7:]}_{turn.user_pos:03d}"
                rec["observation_id"] = c.message_id(turn.asst_pos)
                if c.new_version:
                    label = "positive" if fb.value == 1 else "negative"
                    rec.update(
                        name="user-sentiment",
                        data_type="CATEGORICAL",
                        string_value=label,
                        value=float(sorted(CATEGORICAL_VALUES).index(label)),
                    )
                else:
                    rec.update(
                        name="user-feedback",
                        data_type="BOOLEAN",
                        value=1.0 if fb.value == 1 else 0.0,
                        string_value="True" if fb.value == 1 else "False",
                    )
            elif fb.kind == "csat":
                rec.update(name="csat", data_type="NUMERIC", value=float(fb.value or 0))
            else:
                rec.update(name="comment", data_type="TEXT", string_value=fb.comment)
            if not rec["trace_id"]:
                continue
            self._add(Row("scores", rec))

    # ----------------------------------------------------------------- files
    def flush(self, now_ms: int, final: bool = False) -> list[Path]:
        """Write every settled window as one run: data files, then the manifest."""
        written: list[Path] = []
        width = self.buckets.width_ms
        for k, rows in self.buckets.settled(now_ms, final):
            boundary = (k + 1) * width
            snapped = self._snap(rows, boundary)
            if snapped is not None:
                self.buckets.pending.setdefault(k + 1, []).append(snapped)
                self.stats.boundary_duplicates += 1
            written += self._write_run(k, rows)
        return written

    def _snap(self, rows: list[Row], boundary: int) -> Row | None:
        """The window's latest record, when close to the end, is updated exactly at the boundary."""
        candidates = [r for r in rows if r.snap]
        if not candidates:
            return None
        last = max(candidates, key=lambda r: (int(r.fields["updated_at"]), str(r.fields["id"])))  # type: ignore[arg-type]
        if boundary - int(last.fields["updated_at"]) > BOUNDARY_SNAP_MS:  # type: ignore[arg-type]
            return None
        last.fields["updated_at"] = boundary
        return Row(last.table, dict(last.fields), snap=False)

    def _write_run(self, k: int, rows: list[Row]) -> list[Path]:
        width = self.buckets.width_ms
        lo, hi = k * width, (k + 1) * width
        ts = stamp(hi)
        project_dir = self.root / self.project
        retried = self.stats.runs % RETRY_EVERY == 2  # a failed first attempt, retried
        entries = []
        written = []
        for table, schema, time_fields in (
            ("observations_v2", OBSERVATION_SCHEMA, TIME_FIELDS),
            ("scores", SCORE_SCHEMA, SCORE_TIME_FIELDS),
        ):
            recs = [r.fields for r in rows if r.table == table]
            recs.sort(key=lambda f: (int(f["updated_at"]), str(f["id"])))  # type: ignore[arg-type]
            data, ext = self._encode(recs, schema, time_fields)
            key = f"{self.project}/{table}/{ts}.{ext}"
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            if retried and data:
                path.write_bytes(data[: len(data) // 2])  # the failed attempt, overwritten below
            path.write_bytes(data)
            written.append(path)
            entries.append(self._manifest_entry(key, table, data, len(recs)))
            if table == "observations_v2":
                self.stats.observations += len(recs)
            else:
                self.stats.scores += len(recs)
        created = hi + (3_600_000 if retried else 41_512)
        manifest = {
            "version": 1,
            "projectId": self.project,
            "exportSource": "EVENTS",
            "window": {"minTimestamp": iso_ms(lo), "maxTimestamp": iso_ms(hi)},
            "maxTimestamp": iso_ms(hi),
            "createdAt": iso_ms(created),
            "tables": ["observations_v2", "scores"],
            "files": entries,
        }
        path = project_dir / "manifests" / f"{ts}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest, indent=2) + "\n")
        written.append(path)
        self.stats.runs += 1
        if retried:
            self.stats.retried_runs.append(f"{self.project}/manifests/{ts}.json")
        return written

    def _encode(
        self, recs: list[dict[str, object]], schema: pa.Schema, time_fields: frozenset[str]
    ) -> tuple[bytes, str]:
        if self.file_format == "parquet":
            cols = {}
            for name in schema.names:
                values = [r[name] for r in recs]
                if name in time_fields:
                    values = [None if v is None else int(v) * 1000 for v in values]  # type: ignore[call-overload]
                elif isinstance(schema.field(name).type, pa.MapType):
                    values = [list(v.items()) for v in values]  # type: ignore[union-attr]
                cols[name] = values
            table = pa.table(cols, schema=schema)
            buf = io.BytesIO()
            pq.write_table(table, buf, compression="snappy")
            return buf.getvalue(), "parquet"
        lines = []
        for r in recs:
            out = {k: (ts_text(int(v)) if k in time_fields and v is not None else v) for k, v in r.items()}  # type: ignore[call-overload]
            lines.append(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
        data = "".join(line + "\n" for line in lines).encode()
        if self.gzipped:
            return gzip.compress(data, compresslevel=6, mtime=0), "jsonl.gz"
        return data, "jsonl"

    def _manifest_entry(self, key: str, table: str, data: bytes, rows: int) -> dict[str, object]:
        if self.file_format == "parquet":
            kind, fmt, content = "PARQUET", "parquet", "application/vnd.apache.parquet"
        elif self.gzipped:
            kind, fmt, content = "JSONL", "jsonl-gzip", "application/gzip"
        else:
            kind, fmt, content = "JSONL", "jsonl-raw", "application/x-ndjson; charset=utf-8"
        return {
            "key": key,
            "table": table,
            "fileType": kind,
            "format": fmt,
            "compressed": self.gzipped,
            "contentType": content,
            "sizeBytes": len(data),
            # Langfuse leaves rowCount null for Parquet: the footer's num_rows is the count
            "rowCount": None if self.file_format == "parquet" else rows,
        }


def _utc_date(ms: int) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + ms // 86_400_000)
