"""Vectorised simulation of one day of chatbot traffic into column arrays per entity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

import chatbatch_dev.generator.catalog as C

from . import experiment
from .kb import N_DOCS, KbDoc
from .phrasing import Phraser
from .pii import pii_flat
from .timeutil import DAY_MS, Z, epoch_ms, locale_offsets
from .unlabelled import plant
from .users import ANON, NEW, REPEAT, RETURNING, day_plan, local_day_times, rng_for

Cols = dict[str, np.ndarray]

N_INT = len(C.INTENTS)
INT_W = np.array([it.weight for it in C.INTENTS]) / sum(it.weight for it in C.INTENTS)
INT_HUMAN = np.array([it.requires_human for it in C.INTENTS])
CATS = sorted({it.category for it in C.INTENTS})
INT_CAT = np.array([CATS.index(it.category) for it in C.INTENTS])
INT_SMALLTALK = CATS.index("smalltalk") == INT_CAT
TOOLS = sorted({it.tool for it in C.INTENTS if it.tool})
INT_TOOL = np.array([TOOLS.index(it.tool) if it.tool else -1 for it in C.INTENTS])
INT_BOT = np.array(
    [
        1 if it.category in C.BILLING_CATEGORIES else 2 if it.category in C.SALES_CATEGORIES else 0
        for it in C.INTENTS
    ]
)
MOBILE = np.array([c in ("ios", "android", "whatsapp") for c in C.CHANNELS])
SEGMENT_CHANGE = np.array([C.SEGMENT[C.SEGMENT_CHANGE[s]] for s in C.SEGMENTS])


class TextBank:
    """Dictionary of message texts; rows reference it by index (arrow dictionary array)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._index: dict[str, int] = {}
        self.utt_off = np.zeros(N_INT, dtype=np.int64)
        self.rep_off = np.zeros(N_INT, dtype=np.int64)
        for i, it in enumerate(C.INTENTS):
            self.utt_off[i] = self._add(it.utterances)
            self.rep_off[i] = self._add(it.replies)
        self.greet = self._add(C.GREETINGS)
        self.follow = self._add(C.FOLLOW_UPS)
        self.human = self._add(C.HUMAN_AGENT_TEXTS)
        self.comment = self._add(C.COMMENTS)
        self.fallback = self._add((C.FALLBACK_TEXT,))
        self.handoff = self._add((C.HANDOFF_TEXT,))
        self.base = len(self.texts)

    def _add(self, items: tuple[str, ...]) -> int:
        off = len(self.texts)
        self.texts.extend(items)
        return off

    def intern(self, text: str) -> int:
        """The index of ``text``, added once however often it is used."""
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = self.extra(text)
        return found

    def extra(self, text: str) -> int:
        self.texts.append(text)
        return len(self.texts) - 1


@dataclass
class DayData:
    """Column arrays per entity; every entity has ``exp_ms`` (exported_at, UTC ms)."""

    day: int
    date: date
    texts: list[str]
    conversations: Cols
    messages: Cols
    events: Cols
    feedback: Cols
    users: Cols
    stats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInfo:
    seed: int
    start: date
    days: int
    conversations_per_day: int
    drift_from_day: int
    rollout_day: int
    late_rate: float
    alive: list[np.ndarray]
    docs: list[KbDoc]


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int):
    return np.exp(np.log(median) + sigma * rng.standard_normal(n))


def _seg_pos(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """owner index per element, position within owner, first element index per owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    pos = np.arange(int(counts.sum())) - first[owner]
    return owner, pos, first


def _lateness(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    late = rng.random(n) < rate
    days = rng.choice(np.arange(1, 6), size=n, p=[0.45, 0.25, 0.15, 0.1, 0.05])
    return np.where(late, days * DAY_MS + rng.integers(0, 6 * 3_600_000, n), 0)


def simulate_day(run: RunInfo, day: int) -> DayData:
    seed, start = run.seed, run.start
    d = start + timedelta(days=day)
    day_ms = epoch_ms(d)
    plan = day_plan(seed, start, day, run.conversations_per_day)
    rng = rng_for(seed, day, 3)
    offs = locale_offsets(d)
    n = plan.n_conv
    bank = TextBank()
    stats: dict[str, int] = {}

    # ---------------------------------------------------------------- users per conversation
    kind = plan.kind.copy()
    u_day = np.full(n, -1, dtype=np.int64)
    u_k = np.full(n, -1, dtype=np.int64)
    locale = rng.choice(len(C.LOCALES), size=n, p=C.LOCALE_WEIGHTS)
    start_ms = local_day_times(rng, n, day_ms, offs[locale])
    new_idx = np.flatnonzero(kind == NEW)
    u_day[new_idx] = day
    u_k[new_idx] = np.arange(len(new_idx))
    locale[new_idx] = plan.locale
    start_ms[new_idx] = plan.first_start_ms
    ret = np.flatnonzero(kind == RETURNING)
    if len(ret):
        back = np.where(rng.random(len(ret)) < 0.5, 1, rng.integers(1, 31, len(ret)))
        src = np.maximum(day - back, 0)
        for j in np.unique(src):
            pj = day_plan(seed, start, int(j), run.conversations_per_day)
            m = ret[src == j]
            if pj.n_new == 0:
                kind[m] = ANON
                continue
            k = rng.integers(0, pj.n_new, len(m))
            u_day[m], u_k[m], locale[m] = j, k, pj.locale[k]
    rep = np.flatnonzero(kind == REPEAT)
    if len(rep):
        earlier = np.searchsorted(plan.first_start_ms, start_ms[rep])
        ok = earlier > 0
        kind[rep[~ok]] = ANON
        rep = rep[ok]
        k = (rng.random(len(rep)) * earlier[ok]).astype(np.int64)
        u_day[rep], u_k[rep], locale[rep] = day, k, plan.locale[k]
        start_ms[rep] = np.maximum(start_ms[rep], plan.first_start_ms[k] + 600_000)
    start_ms = start_ms // 1000 * 1000
    order = np.argsort(start_ms, kind="stable")
    kind, u_day, u_k, locale, start_ms = (a[order] for a in (kind, u_day, u_k, locale, start_ms))

    # ------------------------------------------------------------ conversation shape
    channel = rng.choice(len(C.CHANNELS), size=n, p=C.CHANNEL_WEIGHTS)
    intent = rng.choice(N_INT, size=n, p=INT_W)
    bot = INT_BOT[intent]
    share_new = np.clip((day - run.rollout_day + 1) / 3.0, 0.0, 1.0)
    ver = (rng.random(n) < share_new).astype(np.int64)
    engaged = rng.random(n) >= 0.08
    n_turns = np.clip(2 + rng.poisson(2.8, n), 1, 8)
    n_turns = np.where(rng.random(n) < 0.1, 1, n_turns)
    variant = experiment.assign_variants(seed, day, day >= run.drift_from_day, u_day, u_k)
    abandoned = engaged & (rng.random(n) < 0.11)
    p_hand = np.where(INT_HUMAN[intent], 0.55, 0.05)
    handoff = engaged & ~abandoned & (rng.random(n) < p_hand)
    h_turn = np.where(handoff, (rng.random(n) * np.minimum(n_turns, 2)).astype(np.int64), -1)
    n_turns = np.where(handoff & (h_turn >= n_turns - 1), h_turn + 1 + rng.integers(1, 4, n), n_turns)
    n_turns = np.where(engaged, n_turns, 0)
    n_msgs = 1 + 2 * n_turns

    # --------------------------------------------------------------------- messages
    owner, pos, first = _seg_pos(n_msgs)
    m = len(owner)
    turn = (pos - 1) // 2
    is_user = pos % 2 == 1
    is_resp = (pos % 2 == 0) & (pos > 0)
    human = is_resp & handoff[owner] & (turn > h_turn[owner])
    role = np.where(
        pos == 0,
        C.ROLE["system"],
        np.where(is_user, C.ROLE["user"], np.where(human, C.ROLE["human_agent"], C.ROLE["assistant"])),
    )
    is_asst = role == C.ROLE["assistant"]
    m_int = np.where(turn <= 0, intent[owner], intent[owner])
    other = rng.choice(N_INT, size=m, p=INT_W)
    switch = (turn > 0) & (rng.random(m) < 0.2)
    m_int = np.where(switch, other, m_int)
    # the responder answers the intent of the preceding user message
    resp_int = np.where(is_resp, np.roll(m_int, 1), m_int)
    m_int = np.where(is_resp, resp_int, m_int)
    p_fb = np.where(INT_CAT[m_int] == CATS.index("smalltalk"), 0.12, 0.05)
    p_fb = np.where(C.INTENT_INDEX["out_of_scope"] == m_int, 0.45, p_fb)
    fb_user = is_user & (rng.random(m) < p_fb) & ~(handoff[owner] & (turn >= h_turn[owner]))
    fallback = np.roll(fb_user, 1) & is_asst
    is_handoff_msg = is_asst & handoff[owner] & (turn == h_turn[owner])
    fallback &= ~is_handoff_msg
    fb_user = np.roll(fallback, -1) & is_user
    # planted unlabelled questions (issue 16, unlabelled.py): no intent, and the bot falls back
    planted = plant(rng_for(seed, day, 16), is_user & (turn == 0) & ~(handoff[owner] & (h_turn[owner] == 0)))
    fallback[planted.rows + 1], fb_user[planted.rows] = True, True

    conf = np.clip(rng.beta(9.0, 1.4, m), 0.42, 0.999)
    conf = np.where(rng.random(m) < 0.08, rng.uniform(0.4, 0.6, m), conf)
    conf = np.where(fb_user, rng.uniform(0.05, 0.38, m), conf)

    r3 = rng.integers(0, 3, m)
    r2 = rng.integers(0, 2, m)
    text = np.full(m, -1, dtype=np.int64)
    text[pos == 0] = bank.greet + bot[owner[pos == 0]]
    first_user = is_user & (turn == 0)
    text = np.where(first_user, bank.utt_off[m_int] + r3, text)
    later = is_user & (turn > 0)
    fu = rng.integers(0, len(C.FOLLOW_UPS), m)
    text = np.where(later & switch, bank.utt_off[m_int] + r3, text)
    text = np.where(later & ~switch, bank.follow + fu, text)
    text = np.where(is_asst, bank.rep_off[m_int] + r2, text)
    text = np.where(fallback, bank.fallback, text)
    text = np.where(is_handoff_msg, bank.handoff, text)
    text = np.where(human, bank.human + rng.integers(0, len(C.HUMAN_AGENT_TEXTS), m), text)
    # varied user text (own random stream: nothing above or below draws differently)
    phrase = Phraser(seed, day)
    stated = first_user | (later & switch)
    for row, it in zip(np.flatnonzero(stated).tolist(), m_int[stated].tolist(), strict=True):
        text[row] = bank.intern(phrase.utterance(it))
    follow = later & ~switch
    for row, f in zip(np.flatnonzero(follow).tolist(), fu[follow].tolist(), strict=True):
        text[row] = bank.intern(phrase.noise(C.FOLLOW_UPS[f]))

    for row, question in zip(planted.rows.tolist(), planted.texts, strict=True):
        text[row] = bank.extra(question)

    # PII planting (round robin through the pool; day 0 plants the whole pool)
    pool = pii_flat(seed)
    user_rows = np.flatnonzero(is_user & ~fb_user)
    n_pii = round(len(user_rows) * 0.03)
    if day == 0:
        n_pii = max(n_pii, min(len(pool), len(user_rows) // 4))
    pii_rows = np.sort(rng.choice(user_rows, size=min(n_pii, len(user_rows)), replace=False))
    off = 0 if day == 0 else int(rng.integers(0, len(pool)))
    for j, row in enumerate(pii_rows.tolist()):
        kind_, value = pool[(off + j) % len(pool)]
        tmpl = C.PII_TEMPLATES[kind_]
        text[row] = bank.extra(tmpl[j % len(tmpl)].format(v=value))
    stats["pii_messages"] = len(pii_rows)

    # long texts: pasted logs of 20k-60k chars
    free_rows = np.setdiff1d(user_rows, pii_rows)
    long_rows = rng.choice(free_rows, size=min(2, len(free_rows)), replace=False)
    for row in np.sort(long_rows).tolist():
        size = int(rng.integers(20_000, 60_000))
        line = f"ERROR [worker-{row % 7}] request failed: upstream timeout after 30000 ms; retry\n"
        body = "Here is the full log from the app:\n" + line * (size // len(line) + 1)
        text[row] = bank.extra(body[:size])
    stats["long_text"] = len(long_rows)

    # timing
    lat_model = np.full(m, -1, dtype=np.int64)
    probs = np.array(C.BOT_MODEL_PROBS)  # [bot, ver, model]
    u = rng.random(m)
    cum = np.cumsum(probs[bot[owner], ver[owner]], axis=1)
    model = (u[:, None] > cum).sum(axis=1)
    model = np.minimum(model, len(C.MODELS) - 1)
    lat_model = np.where(is_asst, model, -1)
    latency = _lognormal(rng, np.array(C.MODEL_LATENCY)[model], 0.35, m).astype(np.int64) + 80
    out_tok = _lognormal(rng, np.array(C.MODEL_OUTPUT_TOKENS)[model], 0.45, m).astype(np.int64)
    in_tok = 350 + 180 * np.maximum(turn, 0) + rng.integers(0, 120, m)
    wait = rng.integers(30_000, 600_000, n)
    gap = np.where(pos == 0, rng.integers(300, 2000, m), 0)
    gap = np.where(is_user, _lognormal(rng, 22_000.0, 0.6, m).astype(np.int64), gap)
    gap = np.where(is_user & handoff[owner] & (turn == h_turn[owner] + 1), gap + wait[owner], gap)
    gap = np.where(is_asst, latency, gap)
    gap = np.where(human, _lognormal(rng, 45_000.0, 0.5, m).astype(np.int64), gap)
    cs = np.cumsum(gap)
    sent = start_ms[owner] + cs - (cs[first] - gap[first])[owner]
    last_ms = sent[first + n_msgs - 1]

    # RAG
    alive = run.alive[day]
    cat_docs = [
        np.array(
            [doc.index for doc in run.docs if CATS.index(doc.category) == c and alive[doc.index]],
            dtype=np.int64,
        )
        for c in range(len(CATS))
    ]
    cnt = np.array([len(x) for x in cat_docs])
    mat = np.full((len(CATS), max(1, cnt.max())), -1, dtype=np.int64)
    for c, x in enumerate(cat_docs):
        mat[c, : len(x)] = x
    cat = INT_CAT[m_int]
    rag = is_asst & ~fallback & ~is_handoff_msg & ~INT_SMALLTALK[m_int] & (cnt[cat] > 0)
    rag &= rng.random(m) < 0.45
    k = np.minimum(rng.integers(1, 4, m), np.maximum(cnt[cat], 1))
    s0 = rng.integers(0, 1 << 30, m)
    docs = np.full((m, 3), -1, dtype=np.int64)
    scores = np.zeros((m, 3))
    base_score = rng.uniform(0.72, 0.95, m)
    for j in range(3):
        col = mat[cat, (s0 + j) % np.maximum(cnt[cat], 1)]
        docs[:, j] = np.where(rag & (j < k), col, -1)
        scores[:, j] = np.where(docs[:, j] >= 0, base_score - 0.07 * j, 0)

    drift = day >= run.drift_from_day
    m_exp = sent + rng.integers(1_000, 90_000, m) + _lateness(rng, m, run.late_rate)
    sentiment = rng.choice(len(C.SENTIMENTS), size=m, p=C.SENTIMENT_WEIGHTS)
    negative = fb_user | (C.INTENT_INDEX["complaint"] == m_int)
    sentiment = np.where(negative, C.SENTIMENT["negative"], sentiment)
    messages: Cols = {
        "conv": owner,
        "pos": pos,
        "role": role,
        "sent_ms": sent,
        "off": np.where(is_user & MOBILE[channel[owner]], offs[locale[owner]], Z),
        "text": text,
        "intent": np.where(is_user, m_int, -1),
        "conf": conf,
        "model": lat_model,
        "in_tok": in_tok,
        "out_tok": out_tok,
        "latency": latency,
        "doc1": docs[:, 0],
        "doc2": docs[:, 1],
        "doc3": docs[:, 2],
        "sentiment": np.where(is_user & drift, sentiment, -1),
        "sent_score": rng.uniform(0.5, 0.99, m),
        "exp_ms": m_exp,
    }
    messages["intent"][planted.rows] = -1
    stats["planted_unlabelled"] = len(planted.rows)
    stats["late_messages"] = int((m_exp - sent > DAY_MS).sum())
    stats["drift_messages"] = int((messages["sentiment"] >= 0).sum())

    # ---------------------------------------------------------------------- events
    ev: list[Cols] = []
    prev_sent = np.roll(sent, 1)

    def add(rows: np.ndarray, etype: str, t: np.ndarray, **payload: np.ndarray) -> None:
        cols: Cols = {
            "conv": owner[rows],
            "msg_pos": pos[rows],
            "etype": np.full(len(rows), C.EVENT_TYPES.index(etype)),
            "t": t,
        }
        ev.append(cols | payload)

    rows = np.flatnonzero(fallback)
    add(rows, "fallback", sent[rows] + 5, a=rng.choice(3, len(rows), p=[0.6, 0.35, 0.05]))
    tool_ok = is_asst & ~fallback & ~is_handoff_msg & (INT_TOOL[m_int] >= 0)
    rows = np.flatnonzero(tool_ok & (rng.random(m) < 0.6))
    success = rng.random(len(rows)) >= 0.09
    dur = _lognormal(rng, 320.0, 0.6, len(rows)).astype(np.int64)
    tt = prev_sent[rows] + (sent[rows] - prev_sent[rows]) // 4
    add(
        rows,
        "tool_call",
        tt,
        a=INT_TOOL[m_int[rows]],
        b=success.astype(np.int64),
        c=dur,
        e=np.where(success, -1, rng.integers(0, len(C.TOOL_ERRORS), len(rows))),
    )
    rows = np.flatnonzero(rag)
    add(
        rows,
        "retrieval",
        prev_sent[rows] + (sent[rows] - prev_sent[rows]) // 3,
        d1=docs[rows, 0],
        d2=docs[rows, 1],
        d3=docs[rows, 2],
        s1=scores[rows, 0],
        s2=scores[rows, 1],
        s3=scores[rows, 2],
    )
    rows = np.flatnonzero(is_asst & (rng.random(m) < 0.01))
    add(rows, "error", sent[rows] - 1, e=rng.integers(0, len(C.ERROR_CODES), len(rows)))
    rows = np.flatnonzero(is_handoff_msg)
    reason = np.where(
        C.INTENT_INDEX["talk_to_human"] == m_int[rows],
        0,
        np.where(INT_HUMAN[m_int[rows]], 1, rng.integers(2, 4, len(rows))),
    )
    add(rows, "handoff_requested", sent[rows] + 100, a=reason)
    agent = rng.integers(1, 60, len(rows))
    hc: Cols = {
        "conv": owner[rows],
        "msg_pos": np.full(len(rows), -1),
        "etype": np.full(len(rows), C.EVENT_TYPES.index("handoff_completed")),
        "t": sent[rows] + wait[owner[rows]],
        "a": agent,
    }
    ev.append(hc)

    had_fb = np.bincount(owner[fallback], minlength=n) > 0
    closed = np.where(rng.random(n) < 0.8, C.END_REASON["user_closed"], C.END_REASON["timeout"])
    end_reason = np.where(
        abandoned | ~engaged,
        C.END_REASON["timeout"],
        np.where(handoff, C.END_REASON["agent_closed"], closed),
    )
    end_gap = np.where(end_reason == C.END_REASON["timeout"], 900_000, rng.integers(5_000, 90_000, n))
    ended = last_ms + end_gap
    ended = ended // 1000 * 1000 + 1000
    resolve_draw = rng.random(n)
    resolved = engaged & ~abandoned & (resolve_draw < 0.35 + experiment.resolution_lift(bot, variant))
    # the experiment's extra resolutions (draw above the base) are confirmed by the user
    confirmed = (rng.random(n) < np.where(had_fb | handoff, 0.5, 0.8)) | (resolve_draw >= 0.35)
    cidx = np.flatnonzero(resolved)
    for flag, name in ((True, "resolution_confirmed"), (False, "resolution_denied")):
        rr = cidx[confirmed[cidx] == flag]
        ev.append(
            {
                "conv": rr,
                "msg_pos": np.full(len(rr), -1),
                "etype": np.full(len(rr), C.EVENT_TYPES.index(name)),
                "t": last_ms[rr] + 2_000,
            }
        )
    allc = np.arange(n)
    ev.append(
        {
            "conv": allc,
            "msg_pos": np.full(n, -1),
            "etype": np.full(n, C.EVENT_TYPES.index("conversation_closed")),
            "t": ended,
            "a": end_reason,
        }
    )
    events = _concat(ev)
    eo = np.argsort(events["t"], kind="stable")
    events = {k2: v[eo] for k2, v in events.items()}
    ne = len(events["t"])
    events["exp_ms"] = events["t"] + rng.integers(1_000, 120_000, ne) + _lateness(rng, ne, run.late_rate)
    stats["late_events"] = int((events["exp_ms"] - events["t"] > DAY_MS).sum())

    # -------------------------------------------------------------------- feedback
    fb: list[Cols] = []
    rows = np.flatnonzero(is_asst & (rng.random(m) < np.where(fallback, 0.2, 0.03)))
    neg = rng.random(len(rows)) < np.where(fallback[rows], 0.75, 0.12)
    fb.append(
        {
            "conv": owner[rows],
            "msg_pos": pos[rows],
            "kind": np.full(len(rows), C.FEEDBACK_KIND["thumbs"], np.int64),
            "value": np.where(neg, -1, 1),
            "t": sent[rows] + rng.integers(3_000, 120_000, len(rows)),
        }
    )
    cs_rows = np.flatnonzero(engaged & (rng.random(n) < 0.15))
    good = resolved[cs_rows] & confirmed[cs_rows]
    bad = (resolved[cs_rows] & ~confirmed[cs_rows]) | had_fb[cs_rows]
    p_good = np.array([0.02, 0.03, 0.1, 0.35, 0.5])
    p_bad = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    p_mid = np.array([0.08, 0.1, 0.22, 0.32, 0.28])
    val = (
        np.where(
            good,
            rng.choice(5, len(cs_rows), p=p_good),
            np.where(bad, rng.choice(5, len(cs_rows), p=p_bad), rng.choice(5, len(cs_rows), p=p_mid)),
        )
        + 1
    )
    fb.append(
        {
            "conv": cs_rows,
            "msg_pos": np.full(len(cs_rows), -1),
            "kind": np.full(len(cs_rows), C.FEEDBACK_KIND["csat"], np.int64),
            "value": val,
            "t": ended[cs_rows] + rng.integers(5_000, 300_000, len(cs_rows)),
        }
    )
    cm_rows = np.flatnonzero(engaged & (rng.random(n) < 0.04))
    ctext = bank.comment + rng.integers(0, len(C.COMMENTS), len(cm_rows))
    for j in np.flatnonzero(rng.random(len(cm_rows)) < 0.15).tolist():
        kind_, value = pool[int(rng.integers(0, len(pool)))]
        ctext[j] = bank.extra(f"Nobody called me back. Reach me at {value} please.")
    stats["pii_comments"] = int((ctext >= bank.base).sum())
    fb.append(
        {
            "conv": cm_rows,
            "msg_pos": np.full(len(cm_rows), -1),
            "kind": np.full(len(cm_rows), C.FEEDBACK_KIND["comment"], np.int64),
            "value": np.zeros(len(cm_rows), np.int64),
            "t": ended[cm_rows] + rng.integers(20_000, 600_000, len(cm_rows)),
            "ctext": ctext,
        }
    )
    feedback = _concat(fb)
    fo = np.argsort(feedback["t"], kind="stable")
    feedback = {k2: v[fo] for k2, v in feedback.items()}
    feedback["t"] = feedback["t"] // 1000 * 1000
    nf = len(feedback["t"])
    feedback["off"] = offs[locale[feedback["conv"]]]
    feedback["exp_ms"] = feedback["t"] + rng.integers(1_000, 300_000, nf) + _lateness(rng, nf, run.late_rate)
    stats["late_feedback"] = int((feedback["exp_ms"] - feedback["t"] > DAY_MS).sum())

    # --------------------------------------------------------------- conversations
    c_rows = np.concatenate([allc, allc])
    is_end = np.concatenate([np.zeros(n, bool), np.ones(n, bool)])
    c_exp = np.concatenate(
        [start_ms + rng.integers(2_000, 30_000, n), ended + rng.integers(2_000, 60_000, n)]
    )
    attr_v = np.where(
        MOBILE[channel] & (channel != C.CHANNELS.index("whatsapp")),
        rng.integers(0, len(C.APP_VERSIONS), n),
        -1,
    )
    utm = np.where(channel == 0, rng.integers(0, len(C.UTM_SOURCES), n), -1)
    rng.integers(0, len(C.EXPERIMENT_VARIANTS), n)  # the former variant draw: later draws stay the same
    stats["drift_conversations"] = 2 * int((variant >= 0).sum())
    conversations: Cols = {
        "conv": c_rows,
        "is_end": is_end,
        "u_day": u_day[c_rows],
        "u_k": u_k[c_rows],
        "channel": channel[c_rows],
        "locale": locale[c_rows],
        "bot": bot[c_rows],
        "ver": ver[c_rows],
        "start_ms": start_ms[c_rows],
        "off": offs[locale[c_rows]],
        "ended_ms": ended[c_rows],
        "end_reason": end_reason[c_rows],
        "app_version": attr_v[c_rows],
        "utm": utm[c_rows],
        "variant": variant[c_rows],
        "exp_ms": c_exp,
    }
    co = np.argsort(c_exp, kind="stable")
    conversations = {k2: v[co] for k2, v in conversations.items()}

    # ------------------------------------------------------------------------ users
    users = _users(run, day, plan, rng)
    stats.update(
        conversations=n,
        messages=m,
        events=ne,
        feedback=nf,
        users=len(users["u_k"]),
        unengaged=int((~engaged).sum()),
        handoffs=int(handoff.sum()),
        abandoned=int(abandoned.sum()),
    )
    return DayData(day, d, bank.texts, conversations, messages, events, feedback, users, stats)


def _users(run: RunInfo, day: int, plan, rng: np.random.Generator) -> Cols:
    u_day = np.full(plan.n_new, day, dtype=np.int64)
    k = np.arange(plan.n_new)
    seg = plan.segment
    created = plan.created_ms
    loc = plan.locale
    exp = plan.first_start_ms + rng.integers(5_000, 60_000, plan.n_new)
    parts = [(u_day, k, seg, created, loc, exp)]
    for j in range(max(0, day - 7), day):
        pj = day_plan(run.seed, run.start, j, run.conversations_per_day)
        sel = np.flatnonzero(rng.random(pj.n_new) < 0.01)
        new_seg = SEGMENT_CHANGE[pj.segment[sel]]
        t = epoch_ms(run.start + timedelta(days=day)) + rng.integers(0, DAY_MS, len(sel))
        parts.append((np.full(len(sel), j), sel, new_seg, pj.created_ms[sel], pj.locale[sel], t))
    cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    out = dict(zip(("u_day", "u_k", "segment", "created_ms", "locale", "exp_ms"), cols, strict=True))
    o = np.argsort(out["exp_ms"], kind="stable")
    return {key: v[o] for key, v in out.items()}


def _concat(parts: list[Cols]) -> Cols:
    keys: list[str] = []
    for p in parts:
        keys += [k for k in p if k not in keys]
    out: Cols = {}
    for key in keys:
        arrs = []
        for p in parts:
            size = len(p["conv"])
            if key in p:
                arrs.append(np.asarray(p[key]))
            else:
                fill = 0.0 if key.startswith("s") and key[1:].isdigit() else -1
                arrs.append(np.full(size, fill))
        out[key] = np.concatenate(arrs)
    return out


__all__ = ["N_DOCS", "DayData", "RunInfo", "simulate_day"]
