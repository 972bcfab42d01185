"""The simulated day as conversations and bot turns: the seam the non-v1 renderers share.

``simulate_day`` yields column arrays shaped for contract v1; the Langfuse and OTel renderers
need the same conversations as objects (a conversation, its greeting, the user turns a bot
answered, the tool calls, retrievals and errors of each turn, the feedback). Ids are the v1
ids, so the formats can be compared record by record:

* conversation ``cv_<ymd>_<n:07d>``, user ``usr_<ymd>_<k:06d>``
* message ``ms_<ymd>_<n:07d>_<pos:03d>`` (pos 0 = the system greeting, then user / responder
  pairs: the user message of turn t at pos 2t+1, its answer at 2t+2)
* event ``ev_<ymd>_<seq:08d>``, feedback ``fb_<ymd>_<seq:07d>`` (seq = position in the day's
  event / feedback arrays, as ``render.py`` numbers them)

Turns answered by a human agent (after a handoff) are not bot turns: no LLM call produced them,
so neither their user message nor the human reply exists in a tracing export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

import chatbatch_dev.generator.catalog as C

from .day import TOOLS, DayData, RunInfo

ASSISTANT = C.ROLE["assistant"]
TOOL_CALL = C.EVENT_TYPES.index("tool_call")
RETRIEVAL = C.EVENT_TYPES.index("retrieval")
ERROR = C.EVENT_TYPES.index("error")
VERSIONS = [v for pair in C.BOT_VERSIONS for v in pair]


@dataclass
class ToolCall:
    event_id: str
    tool: str
    start_ms: int
    duration_ms: int
    success: bool
    error_code: str | None


@dataclass
class Retrieval:
    event_id: str
    at_ms: int
    document_ids: list[str]
    scores: list[float]


@dataclass
class TurnError:
    event_id: str
    at_ms: int
    error_code: str


@dataclass
class Turn:
    """One user message a bot answered (one LLM turn)."""

    index: int
    user_pos: int
    user_text: str
    user_sent_ms: int
    asst_pos: int
    asst_text: str
    asst_sent_ms: int
    model: str
    input_tokens: int
    output_tokens: int
    exported_ms: int  # when the turn reached the tracing backend (v1: the answer's exported_at)
    tool: ToolCall | None = None
    retrieval: Retrieval | None = None
    error: TurnError | None = None


@dataclass
class Feedback:
    feedback_id: str
    kind: str  # thumbs | csat | comment
    value: int | None
    comment: str | None
    at_ms: int
    exported_ms: int
    asst_pos: int | None  # the answer rated (thumbs), else None (conversation level)


@dataclass
class Conversation:
    conversation_id: str
    ymd: str
    user_id: str | None
    bot: str
    version: str
    new_version: bool
    start_ms: int
    greeting: str
    greeting_sent_ms: int
    greeting_exported_ms: int
    turns: list[Turn] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)

    def message_id(self, pos: int) -> str:
        return f"ms_{self.ymd}_{self.conversation_id[-7:]}_{pos:03d}"

    def turn_of(self, asst_pos: int) -> Turn | None:
        for turn in self.turns:
            if turn.asst_pos == asst_pos:
                return turn
        return None


def conversations(run: RunInfo, dd: DayData) -> list[Conversation]:
    """The day's conversations in start order, with their bot turns and feedback."""
    ymd = dd.date.strftime("%Y%m%d")
    run_ymds = [(run.start + timedelta(days=i)).strftime("%Y%m%d") for i in range(run.days)]
    texts = dd.texts
    cv = dd.conversations
    starts = np.flatnonzero(~cv["is_end"])
    out: list[Conversation | None] = [None] * len(starts)
    for row in starts.tolist():
        n = int(cv["conv"][row])
        u_day = int(cv["u_day"][row])
        bot = int(cv["bot"][row])
        ver = int(cv["ver"][row])
        out[n] = Conversation(
            conversation_id=f"cv_{ymd}_{n:07d}",
            ymd=ymd,
            user_id=f"usr_{run_ymds[u_day]}_{int(cv['u_k'][row]):06d}" if u_day >= 0 else None,
            bot=C.BOTS[bot],
            version=VERSIONS[bot * 2 + ver],
            new_version=bool(ver),
            start_ms=int(cv["start_ms"][row]),
            greeting="",
            greeting_sent_ms=0,
            greeting_exported_ms=0,
        )
    convs: list[Conversation] = [c for c in out if c is not None]
    ms = dd.messages
    conv, pos, role, sent = (ms[k].tolist() for k in ("conv", "pos", "role", "sent_ms"))
    text, model, exp = ms["text"].tolist(), ms["model"].tolist(), ms["exp_ms"].tolist()
    in_tok, out_tok = ms["in_tok"].tolist(), ms["out_tok"].tolist()
    for i in range(len(conv)):
        c = convs[conv[i]]
        if pos[i] == 0:
            c.greeting, c.greeting_sent_ms, c.greeting_exported_ms = texts[text[i]], sent[i], exp[i]
        elif role[i] == ASSISTANT:
            u = i - 1
            c.turns.append(
                Turn(
                    index=len(c.turns),
                    user_pos=pos[u],
                    user_text=texts[text[u]],
                    user_sent_ms=sent[u],
                    asst_pos=pos[i],
                    asst_text=texts[text[i]],
                    asst_sent_ms=sent[i],
                    model=C.MODELS[model[i]],
                    input_tokens=in_tok[i],
                    output_tokens=out_tok[i],
                    exported_ms=max(exp[i], exp[u]),
                )
            )
    _attach_events(convs, dd, ymd)
    _attach_feedback(convs, dd, ymd, texts)
    return convs


def _attach_events(convs: list[Conversation], dd: DayData, ymd: str) -> None:
    ev = dd.events
    for seq in range(len(ev["t"])):
        etype = int(ev["etype"][seq])
        if etype not in (TOOL_CALL, RETRIEVAL, ERROR):
            continue
        turn = convs[int(ev["conv"][seq])].turn_of(int(ev["msg_pos"][seq]))
        if turn is None:
            continue
        event_id = f"ev_{ymd}_{seq:08d}"
        t = int(ev["t"][seq])
        if etype == TOOL_CALL:
            e = int(ev["e"][seq])
            turn.tool = ToolCall(
                event_id,
                TOOLS[int(ev["a"][seq])],
                t,
                int(ev["c"][seq]),
                int(ev["b"][seq]) == 1,
                C.TOOL_ERRORS[e] if e >= 0 else None,
            )
        elif etype == RETRIEVAL:
            docs = [int(ev[k][seq]) for k in ("d1", "d2", "d3")]
            scores = [float(ev[k][seq]) for k in ("s1", "s2", "s3")]
            keep = [j for j, d in enumerate(docs) if d >= 0]
            turn.retrieval = Retrieval(
                event_id, t, [f"kb_{docs[j] + 1:04d}" for j in keep], [round(scores[j], 3) for j in keep]
            )
        else:
            turn.error = TurnError(event_id, t, C.ERROR_CODES[int(ev["e"][seq])])


def _attach_feedback(convs: list[Conversation], dd: DayData, ymd: str, texts: list[str]) -> None:
    fb = dd.feedback
    comment = C.FEEDBACK_KIND["comment"]
    for seq in range(len(fb["t"])):
        c = convs[int(fb["conv"][seq])]
        kind = int(fb["kind"][seq])
        msg_pos = int(fb["msg_pos"][seq])
        c.feedback.append(
            Feedback(
                feedback_id=f"fb_{ymd}_{seq:07d}",
                kind=C.FEEDBACK_KINDS[kind],
                value=None if kind == comment else int(fb["value"][seq]),
                comment=texts[int(fb["ctext"][seq])] if kind == comment else None,
                at_ms=int(fb["t"][seq]),
                exported_ms=int(fb["exp_ms"][seq]),
                asst_pos=msg_pos if msg_pos >= 0 else None,
            )
        )
