"""Output formats of ``chatbatch generate``: the same simulated conversations, three encodings.

* ``v1``: export contract v1 (``render.py``), ``landing/<entity>/export_date=YYYY-MM-DD/``.
* ``langfuse``: a Langfuse blob-storage export (``render_langfuse.py``),
  ``landing/langfuse/<project>/{observations_v2,scores,manifests}/<ts>.*``.
* ``otel``: OpenTelemetry GenAI spans as the Collector's file exporter writes them
  (``render_otel.py``), ``landing/otel/<collector>/traces-<ts>.json[.zst]`` + ``traces.json``.

The simulation (``day.py``) is the same for every format and seed (including ``dirty_rate``,
which also sets the share of late arrivals), so the marts built from each can be compared.
Ids: conversations, users and (Langfuse) message, event and feedback ids are the v1 ids; see
``turns.py``, ``render_langfuse.py`` and ``render_otel.py`` for the exact forms.

What a format cannot carry is not written (compare these only with null / absent):

``NOT_CARRIED["langfuse"]`` and ``NOT_CARRIED["otel"]`` (both):
  conversations: channel, locale, end_reason, experiment_variant, attributes; ``ended_at`` is the
  last activity (last observation / span end), not v1's close time.
  messages: system messages (the greeting: an EVENT observation / ``create_agent`` span carries the
  conversation start, not a message), turns answered by a human agent after a handoff (their
  user messages and the human replies), intent, sentiment; message ids differ
  (``<generation or span id>:in:<v1 position>`` / ``…:out``; the Langfuse answer's generation id
  is the v1 assistant message id).
  events: fallback, handoff_requested, handoff_completed, resolution_confirmed, resolution_denied,
  conversation_closed; tool_call / retrieval / error events are carried.
  users: created_at, segment, country (only user ids appear).
  kb_documents: everything.
  Dirty lines (``dirty_rate`` defects) are v1 only; late arrivals are carried as late exports.
Langfuse only: error events have no message id (a failed generation is not an answer);
  ``source_cost_usd`` is written (cost_details from the price seed, so equal to the seed price).
OTel only: no cost (the price seed applies); event ids are span ids (``<span id>`` /
  ``<span id>:error``), feedback ids ``<span id>:eval:0``; csat / comment feedback hang on a
  span of the conversation's start trace (no message id), thumbs on the rated turn's trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .render_langfuse import CATEGORICAL_VALUES, FEEDBACK_SCORES
from .render_otel import FEEDBACK_EVALUATIONS

FORMATS: tuple[str, ...] = ("v1", "langfuse", "otel")
NOT_CARRIED: dict[str, dict[str, tuple[str, ...]]] = {
    fmt: {
        "conversations": ("channel", "locale", "end_reason", "experiment_variant", "attributes"),
        "messages": ("intent", "sentiment"),
        "message_roles": ("system", "human_agent"),
        "event_types": (
            "fallback",
            "handoff_requested",
            "handoff_completed",
            "resolution_confirmed",
            "resolution_denied",
            "conversation_closed",
        ),
        "users": ("created_at", "segment", "country"),
        "kb_documents": ("*",),
    }
    for fmt in ("langfuse", "otel")
}


@dataclass(frozen=True)
class FormatOptions:
    """How ``generate`` encodes the simulated conversations."""

    format: str = "v1"
    langfuse_format: str = "parquet"  # parquet | jsonl
    langfuse_gzip: bool = False  # text formats only; Parquet is never gzipped
    langfuse_project: str = "proj-chatbatch"
    otel_compression: str | None = None  # None | zstd
    otel_collector: str = "otelcol-gateway"
    window_hours: int = 6  # Langfuse export window / OTel file rotation period

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; one of {', '.join(FORMATS)}")


def sources_config(fmt: str) -> dict[str, Any]:
    """The ``$CHATBATCH_HOME/sources.yml`` (as data) of a home that reads ``fmt`` as ``generate``
    writes it: the source to enable and the feedback names the renderers export (the Makefile's
    ``demo`` target writes the same files)."""
    if fmt == "langfuse":
        return {
            "sources": ["langfuse"],
            "langfuse": {"feedback_scores": FEEDBACK_SCORES, "categorical_values": CATEGORICAL_VALUES},
        }
    if fmt == "otel":
        return {"sources": ["otel"], "otel": {"feedback_evaluations": FEEDBACK_EVALUATIONS}}
    if fmt == "v1":
        return {"sources": ["chatbot"]}
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
