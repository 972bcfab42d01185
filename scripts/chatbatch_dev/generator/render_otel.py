"""Write simulated conversations as OpenTelemetry GenAI spans, as the Collector's file exporter does.

Layout (docs/sources/otel-genai.md): ``otel/<collector>/traces-YYYY-MM-DDTHH-MM-SS.mmm.json``
rotated files (``.json.zst`` with ``compression="zstd"``: each message a
``[uint32 big-endian length][zstd frame]``), one OTLP/JSON ``TracesData`` per line (hex ids,
64-bit integers as strings, attribute value unions), plus the live file ``traces.json`` still
being written. A span is exported when its turn reached the backend (v1 ``exported_at``), in
batches of 5 s (one line per batch); a file rotates every ``rotate_hours``.

Mapping of one simulated conversation (resource ``service.name`` = bot, ``service.version`` =
bot version; every GenAI span carries ``gen_ai.conversation.id`` = the v1 conversation id and
``user.id`` when known):

* trace ``conv:start``: a ``create_agent`` span from the conversation start to the greeting.
* one trace per bot turn. The bot's **new version** (v1 ``bot_version`` rollout) is instrumented
  with semantic conventions >= 1.37: an ``invoke_agent`` span (user message to answer) with
  ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (the history with the new user message at
  index = its v1 position), ``chat`` spans below it with the model and token usage (a tool loop
  is ``chat`` -> ``execute_tool`` -> ``chat``, tokens split so the turn's sums are v1's). The
  **old version** emits v1.36 style: one ``chat`` span per turn with the messages as
  ``gen_ai.*.message`` / ``gen_ai.choice`` span events and ``gen_ai.system``.
* retrievals are ``retrieval`` spans with ``gen_ai.retrieval.documents``; an LLM error is a
  ``chat`` span with ``status.code = 2`` and ``error.type``.
* feedback is a ``gen_ai.evaluation.result`` event (names in ``FEEDBACK_EVALUATIONS``) on a
  ``user_feedback`` span: in the rated turn's trace (thumbs), in the start trace otherwise.
* now and then an exporter retry re-sends a whole message in the next file; the live file
  holds a re-send of the last messages.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .turns import Conversation, Turn
from .users import rng_for
from .windows import Buckets, stamp

# gen_ai.evaluation.name per feedback kind: match the dbt var otel_feedback_evaluations
FEEDBACK_EVALUATIONS: dict[str, list[str]] = {
    "thumbs": ["user-feedback"],
    "csat": ["csat"],
    "comment": ["comment"],
}
RESEND_RATE = 0.01
BATCH_MS = 5_000
KIND_INTERNAL, KIND_CLIENT = 1, 3
SCOPE = {"name": "chatbatch.synthetic", "version": "1.0.0"}


def _hex(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def _attr(key: str, value: object) -> dict[str, object]:
    if isinstance(value, bool):
        v: dict[str, object] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list):
        v = {"arrayValue": {"values": [{"stringValue": str(x)} for x in value]}}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


def _ns(ms: int) -> str:
    return f"{ms}000000"


def _provider(model: str) -> str:
    return "anthropic" if model.startswith("claude") else "openai"


@dataclass
class Span:
    resource: tuple[str, str]
    exported_ms: int
    body: dict[str, object]


@dataclass
class OtelStats:
    files: int = 0
    messages: int = 0
    spans: int = 0
    resent_messages: int = 0
    agent_turns: int = 0
    event_style_turns: int = 0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class _Line:
    batch: int
    data: bytes
    spans: int


class OtelWriter:
    """Collects each simulated day's spans and writes the settled rotated files."""

    def __init__(
        self,
        landing: Path,
        seed: int,
        collector: str = "otelcol-gateway",
        compression: str | None = None,
        rotate_hours: int = 6,
    ) -> None:
        if compression not in (None, "zstd"):
            raise ValueError(f"unsupported compression {compression!r}")
        self.dir = Path(landing) / "otel" / collector
        self.seed = seed
        self.compression = compression
        self.buckets: Buckets[Span] = Buckets(rotate_hours * 3_600_000)
        self.carry: list[bytes] = []  # messages re-sent in the next file
        self.last_lines: list[bytes] = []
        self.stats = OtelStats()

    # ------------------------------------------------------------------ spans
    def add_day(self, day: int, convs: list[Conversation]) -> None:
        for c in convs:
            resource = (c.bot, c.version)
            start_trace = _hex(f"{c.conversation_id}:start", 16)
            agent_span = _hex(f"{c.conversation_id}:create_agent", 8)
            common = self._common(c)
            self._span(
                resource,
                c.greeting_exported_ms,
                start_trace,
                agent_span,
                "",
                f"create_agent {c.bot}",
                KIND_CLIENT,
                c.start_ms,
                c.greeting_sent_ms,
                [
                    _attr("gen_ai.operation.name", "create_agent"),
                    _attr("gen_ai.agent.name", c.bot),
                    _attr("gen_ai.agent.version", c.version),
                    *common,
                ],
            )
            turn_spans: dict[int, tuple[str, str]] = {}
            for turn in c.turns:
                turn_spans[turn.asst_pos] = self._turn(c, turn, resource, common)
            for fb in c.feedback:
                trace, parent = turn_spans.get(
                    fb.asst_pos if fb.asst_pos is not None else -1, (start_trace, agent_span)
                )
                attrs = [_attr("gen_ai.evaluation.name", FEEDBACK_EVALUATIONS[fb.kind][0])]
                if fb.kind == "thumbs":
                    attrs += [
                        _attr("gen_ai.evaluation.score.value", float(fb.value or 0)),
                        _attr(
                            "gen_ai.evaluation.score.label", "thumbs_up" if fb.value == 1 else "thumbs_down"
                        ),
                    ]
                elif fb.kind == "csat":
                    attrs.append(_attr("gen_ai.evaluation.score.value", float(fb.value or 0)))
                else:
                    attrs.append(_attr("gen_ai.evaluation.explanation", fb.comment or ""))
                self._span(
                    resource,
                    fb.exported_ms,
                    trace,
                    _hex(fb.feedback_id, 8),
                    parent,
                    "user_feedback",
                    KIND_INTERNAL,
                    fb.at_ms,
                    fb.at_ms,
                    [_attr("gen_ai.conversation.id", c.conversation_id)],
                    events=[
                        {
                            "timeUnixNano": _ns(fb.at_ms),
                            "name": "gen_ai.evaluation.result",
                            "attributes": attrs,
                        }
                    ],
                )

    def _common(self, c: Conversation) -> list[dict[str, object]]:
        out = [_attr("gen_ai.conversation.id", c.conversation_id)]
        if c.user_id:
            out.append(_attr("user.id", c.user_id))
        return out

    def _span(
        self,
        resource: tuple[str, str],
        exported_ms: int,
        trace_id: str,
        span_id: str,
        parent: str,
        name: str,
        kind: int,
        start: int,
        end: int,
        attributes: list[dict[str, object]],
        events: list[dict[str, object]] | None = None,
        status: dict[str, object] | None = None,
    ) -> None:
        body: dict[str, object] = {
            "traceId": trace_id,
            "spanId": span_id,
            "parentSpanId": parent,
            "name": name,
            "kind": kind,
            "startTimeUnixNano": _ns(start),
            "endTimeUnixNano": _ns(end),
            "attributes": attributes,
        }
        if events:
            body["events"] = events
        body["status"] = status or {}
        self.buckets.add(exported_ms, Span(resource, exported_ms, body))

    def _turn(
        self, c: Conversation, turn: Turn, resource: tuple[str, str], common: list[dict[str, object]]
    ) -> tuple[str, str]:
        key = f"{c.conversation_id}:{turn.user_pos}"
        trace = _hex(key, 16)
        history = [{"role": "system", "parts": [{"type": "text", "content": c.greeting}]}]
        for prev in c.turns[: turn.index]:
            history += [
                {"role": "user", "parts": [{"type": "text", "content": prev.user_text}]},
                {"role": "assistant", "parts": [{"type": "text", "content": prev.asst_text}]},
            ]
        history.append({"role": "user", "parts": [{"type": "text", "content": turn.user_text}]})
        output = [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": turn.asst_text}],
                "finish_reason": "stop",
            }
        ]
        exp = turn.exported_ms
        model_attrs = [
            _attr("gen_ai.request.model", turn.model),
            _attr("gen_ai.response.model", turn.model),
        ]
        if c.new_version:
            self.stats.agent_turns += 1
            root = _hex(f"{key}:agent", 8)
            self._span(
                resource,
                exp,
                trace,
                root,
                "",
                f"invoke_agent {c.bot}",
                KIND_INTERNAL,
                turn.user_sent_ms,
                turn.asst_sent_ms,
                [
                    _attr("gen_ai.operation.name", "invoke_agent"),
                    _attr("gen_ai.agent.name", c.bot),
                    _attr("gen_ai.agent.version", c.version),
                    *common,
                    _attr("gen_ai.input.messages", json.dumps(history, ensure_ascii=False)),
                    _attr("gen_ai.output.messages", json.dumps(output, ensure_ascii=False)),
                ],
            )
            chat = [
                _attr("gen_ai.operation.name", "chat"),
                _attr("gen_ai.provider.name", _provider(turn.model)),
                *model_attrs,
                _attr("gen_ai.conversation.id", c.conversation_id),
            ]
            start, tokens = turn.user_sent_ms, (turn.input_tokens, turn.output_tokens)
            if turn.tool is not None:
                tool = turn.tool
                call_id = f"call_{tool.event_id[-8:]}"
                first = (turn.input_tokens * 2 // 5, turn.output_tokens // 5)
                self._span(
                    resource,
                    exp,
                    trace,
                    _hex(f"{key}:chat0", 8),
                    root,
                    f"chat {turn.model}",
                    KIND_CLIENT,
                    start,
                    max(start, tool.start_ms - 1),
                    [
                        *chat,
                        _attr("gen_ai.usage.input_tokens", first[0]),
                        _attr("gen_ai.usage.output_tokens", first[1]),
                        _attr("gen_ai.response.finish_reasons", ["tool_calls"]),
                    ],
                )
                self._tool(resource, exp, trace, key, root, tool, call_id)
                start = min(tool.start_ms + tool.duration_ms + 5, turn.asst_sent_ms)
                tokens = (turn.input_tokens - first[0], turn.output_tokens - first[1])
            self._span(
                resource,
                exp,
                trace,
                _hex(f"{key}:chat", 8),
                root,
                f"chat {turn.model}",
                KIND_CLIENT,
                start,
                turn.asst_sent_ms,
                [
                    *chat,
                    _attr("gen_ai.usage.input_tokens", tokens[0]),
                    _attr("gen_ai.usage.output_tokens", tokens[1]),
                    _attr("gen_ai.response.finish_reasons", ["stop"]),
                ],
            )
        else:
            self.stats.event_style_turns += 1
            root = _hex(f"{key}:chat", 8)
            events = []
            for i, msg in enumerate(history):
                role = str(msg["role"])
                text = msg["parts"][0]["content"]  # type: ignore[index]
                events.append(
                    {
                        "timeUnixNano": _ns(turn.user_sent_ms),
                        "name": f"gen_ai.{role}.message",
                        "attributes": [_attr("content", text)] + ([_attr("role", role)] if i else []),
                    }
                )
            choice = {"role": "assistant", "content": turn.asst_text}
            events.append(
                {
                    "timeUnixNano": _ns(turn.asst_sent_ms),
                    "name": "gen_ai.choice",
                    "attributes": [
                        _attr("index", 0),
                        _attr("finish_reason", "stop"),
                        _attr("message", json.dumps(choice, ensure_ascii=False)),
                    ],
                }
            )
            self._span(
                resource,
                exp,
                trace,
                root,
                "",
                f"chat {turn.model}",
                KIND_CLIENT,
                turn.user_sent_ms,
                turn.asst_sent_ms,
                [
                    _attr("gen_ai.operation.name", "chat"),
                    _attr("gen_ai.system", _provider(turn.model)),
                    *model_attrs,
                    *common,
                    _attr("gen_ai.usage.input_tokens", turn.input_tokens),
                    _attr("gen_ai.usage.output_tokens", turn.output_tokens),
                    _attr("gen_ai.response.finish_reasons", ["stop"]),
                ],
                events=events,
            )
            if turn.tool is not None:
                self._tool(resource, exp, trace, key, root, turn.tool, f"call_{turn.tool.event_id[-8:]}")
        if turn.retrieval is not None:
            r = turn.retrieval
            docs = [{"id": d, "score": s} for d, s in zip(r.document_ids, r.scores, strict=True)]
            self._span(
                resource,
                exp,
                trace,
                _hex(f"{key}:retrieval", 8),
                root,
                "retrieval kb",
                KIND_CLIENT,
                r.at_ms,
                r.at_ms + 40,
                [
                    _attr("gen_ai.operation.name", "retrieval"),
                    _attr("gen_ai.data_source.id", "kb"),
                    _attr("gen_ai.conversation.id", c.conversation_id),
                    _attr("gen_ai.retrieval.documents", json.dumps(docs)),
                ],
            )
        if turn.error is not None:
            e = turn.error
            self._span(
                resource,
                exp,
                trace,
                _hex(f"{key}:error", 8),
                root,
                f"chat {turn.model}",
                KIND_CLIENT,
                e.at_ms,
                e.at_ms,
                [
                    _attr("gen_ai.operation.name", "chat"),
                    _attr("gen_ai.provider.name", _provider(turn.model)),
                    _attr("gen_ai.request.model", turn.model),
                    _attr("gen_ai.conversation.id", c.conversation_id),
                    _attr("error.type", e.error_code),
                ],
                status={"code": 2, "message": e.error_code},
            )
        return trace, root

    def _tool(self, resource, exp, trace, key, parent, tool, call_id) -> None:  # type: ignore[no-untyped-def]
        attrs = [
            _attr("gen_ai.operation.name", "execute_tool"),
            _attr("gen_ai.tool.name", tool.tool),
            _attr("gen_ai.tool.call.id", call_id),
            _attr("gen_ai.tool.type", "function"),
        ]
        status = None
        if not tool.success:
            attrs.append(_attr("error.type", tool.error_code or "error"))
            status = {"code": 2, "message": tool.error_code or "error"}
        self._span(
            resource,
            exp,
            trace,
            _hex(f"{key}:tool", 8),
            parent,
            f"execute_tool {tool.tool}",
            KIND_INTERNAL,
            tool.start_ms,
            tool.start_ms + tool.duration_ms,
            attrs,
            status=status,
        )

    # ------------------------------------------------------------------ files
    def flush(self, now_ms: int, final: bool = False) -> list[Path]:
        written: list[Path] = []
        width = self.buckets.width_ms
        for k, spans in self.buckets.settled(now_ms, final):
            lines = self._lines(spans)
            rng = rng_for(self.seed, 81, k)
            messages = self.carry + [ln.data for ln in lines]
            self.carry = [ln.data for ln in lines if rng.random() < RESEND_RATE]
            self.stats.resent_messages += len(self.carry)
            if not messages:
                continue
            rotated = (k + 1) * width + int(rng.integers(1, 1000))
            written.append(self._write(f"traces-{stamp(rotated, millis=True)}", messages))
            self.last_lines = messages
        if final:
            # the live file: what the exporter is writing now (re-sends of the latest messages)
            tail = self.carry + self.last_lines[-2:]
            self.stats.resent_messages += len(self.last_lines[-2:])
            written.append(self._write("traces", tail, live=True))
        return written

    def _lines(self, spans: list[Span]) -> list[_Line]:
        batches: dict[int, list[Span]] = {}
        for s in sorted(spans, key=lambda s: s.exported_ms):
            batches.setdefault(s.exported_ms // BATCH_MS, []).append(s)
        out = []
        for batch, members in batches.items():
            by_resource: dict[tuple[str, str], list[dict[str, object]]] = {}
            for s in members:
                by_resource.setdefault(s.resource, []).append(s.body)
            doc = {
                "resourceSpans": [
                    {
                        "resource": {
                            "attributes": [_attr("service.name", bot), _attr("service.version", version)]
                        },
                        "scopeSpans": [{"scope": SCOPE, "spans": bodies}],
                    }
                    for (bot, version), bodies in by_resource.items()
                ]
            }
            data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
            out.append(_Line(batch, data, len(members)))
            self.stats.spans += len(members)
        return out

    def _write(self, stem: str, messages: list[bytes], live: bool = False) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.compression == "zstd":
            import zstandard

            compressor = zstandard.ZstdCompressor(level=3)
            frames = bytearray()
            for m in messages:
                frame = compressor.compress(m)
                frames += len(frame).to_bytes(4, "big") + frame
            data = bytes(frames)
            path = self.dir / (f"{stem}.json" if live else f"{stem}.json.zst")
        else:
            data = b"".join(m + b"\n" for m in messages)
            path = self.dir / f"{stem}.json"
        path.write_bytes(data)
        if not live:
            self.stats.files += 1
            self.stats.messages += len(messages)
        return path


__all__ = ["FEEDBACK_EVALUATIONS", "OtelWriter"]
