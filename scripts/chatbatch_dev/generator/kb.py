"""Knowledge-base corpus (markdown articles) and its version/deletion schedule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import INTENTS

N_DOCS = 60
_LANGS = ("en", "en", "en", "de", "fr", "es")

_TOPIC_FACTS: dict[str, tuple[str, ...]] = {
    "orders": (
        "Open orders can be changed from the Orders page until the parcel is handed to the carrier.",
        "An order moves from processing to packed and then to shipped.",
        "Cancelled orders are refunded to the original payment method.",
    ),
    "shipping": (
        "Standard delivery takes three to five business days.",
        "Express parcels are delivered on the next business day when ordered before 14:00.",
        "Tracking links become active a few hours after dispatch.",
    ),
    "returns": (
        "Items can be returned free of charge within 30 days.",
        "Refunds are issued as soon as the returned parcel is scanned at our warehouse.",
        "Gift returns are refunded as store credit.",
    ),
    "account": (
        "Password reset links expire after 30 minutes.",
        "Accounts are locked for 15 minutes after five failed sign-in attempts.",
        "Two-factor authentication can use an authenticator app or SMS codes.",
    ),
    "billing": (
        "Invoices are created on the first day of every billing period.",
        "Disputed charges are reviewed by the billing team within five days.",
        "A VAT number can be added to invoices from the billing settings.",
    ),
    "payments": (
        "We accept Visa, Mastercard, American Express, PayPal and SEPA direct debit.",
        "Declined payments are retried automatically after 24 hours.",
        "Suspicious transactions are blocked and reviewed by the fraud team.",
    ),
    "subscription": (
        "Upgrades take effect immediately and are prorated.",
        "Downgrades take effect at the end of the current billing period.",
        "Cancelled subscriptions stay active until the period ends.",
    ),
    "product": (
        "Annual billing saves two months compared to monthly billing.",
        "Students and non-profits receive a 30 percent discount.",
        "Sold-out items can be reserved with the notify-me button.",
    ),
    "technical": (
        "Clearing the app cache fixes most display problems.",
        "The status page lists current incidents and planned maintenance.",
        "API keys are created under Settings, Developers.",
    ),
    "general": (
        "Support is available Monday to Friday from 8:00 to 20:00.",
        "Data access requests are answered within 30 days as required by the GDPR.",
        "Complaints are acknowledged within one business day.",
    ),
    "escalation": (
        "Human agents are available during support hours.",
        "Average waiting time for a human agent is under five minutes.",
        "Conversations handed over to an agent keep their full history.",
    ),
}
_ADJ = ("quick", "complete", "practical", "step-by-step", "advanced", "beginner's")
_OBJ = (
    "the mobile app",
    "the web dashboard",
    "the customer portal",
    "the desktop client",
    "business accounts",
    "family accounts",
)


@dataclass(frozen=True)
class KbDoc:
    index: int
    document_id: str
    category: str
    intent: str
    language: str
    url: str


def corpus() -> list[KbDoc]:
    topical = [it for it in INTENTS if it.category != "smalltalk"]
    docs = []
    for i in range(N_DOCS):
        it = topical[i % len(topical)]
        doc_id = f"kb_{i + 1:04d}"
        docs.append(
            KbDoc(
                i,
                doc_id,
                it.category,
                it.name,
                _LANGS[i % len(_LANGS)],
                f"https://help.example.com/articles/{doc_id}-{it.name.replace('_', '-')}",
            )
        )
    return docs


def title(doc: KbDoc, version: int) -> str:
    adj = _ADJ[(doc.index + version) % len(_ADJ)]
    obj = _OBJ[doc.index % len(_OBJ)]
    return f"{doc.intent.replace('_', ' ').capitalize()}: a {adj} guide for {obj}"


def body(doc: KbDoc, version: int, seed: int) -> str:
    """Markdown article; sentences carry the doc id and version so each one is distinctive."""
    rng = np.random.Generator(np.random.PCG64([seed, 4_242, doc.index, version]))
    it = next(x for x in INTENTS if x.name == doc.intent)
    facts = _TOPIC_FACTS[doc.category]
    obj = _OBJ[doc.index % len(_OBJ)]
    parts = [f"# {title(doc, version)}", ""]
    parts.append(
        f"This article ({doc.document_id}, revision {version}) explains how to handle "
        f"'{it.description.lower()}' when using {obj}. {facts[0]}"
    )
    n_sections = 2 + int(rng.integers(0, 4))
    for s in range(n_sections):
        heading = (
            "Before you start",
            "Step by step",
            "Troubleshooting",
            "Limits and fees",
            "Frequently asked questions",
            "Related topics",
        )[(s + doc.index) % 6]
        parts += ["", f"## {heading}", ""]
        sentences = []
        for k in range(3 + int(rng.integers(0, 5))):
            fact = facts[int(rng.integers(0, len(facts)))]
            n = int(rng.integers(2, 60))
            sentences.append(
                f"{fact} In {obj}, step {k + 1} of section {s + 1} for {doc.document_id} "
                f"usually takes about {n} seconds."
            )
        sentences.append(f'Example customer question: "{it.utterances[s % 3]}"')
        sentences.append(f"Typical answer: {it.replies[s % 2]}")
        parts.append(" ".join(sentences))
    return "\n".join(parts) + "\n"


@dataclass
class KbSchedule:
    """Per day: documents exported (index, version, deleted) and the alive mask."""

    exports: list[list[tuple[int, int, bool]]]
    alive: list[np.ndarray]


def schedule(seed: int, days: int) -> KbSchedule:
    rng = np.random.Generator(np.random.PCG64([seed, 5_151]))
    version = np.ones(N_DOCS, dtype=np.int64)
    alive = np.ones(N_DOCS, dtype=bool)
    exports: list[list[tuple[int, int, bool]]] = [[(i, 1, False) for i in range(N_DOCS)]]
    alive_days = [alive.copy()]
    for _ in range(1, days):
        today: list[tuple[int, int, bool]] = []
        candidates = np.flatnonzero(alive)
        n_upd = min(len(candidates), int(rng.integers(1, 5)))
        for i in sorted(rng.choice(candidates, n_upd, replace=False).tolist()):
            version[i] += 1
            today.append((i, int(version[i]), False))
        if rng.random() < 0.35 and alive.sum() > N_DOCS // 2:
            i = int(rng.choice(np.flatnonzero(alive)))
            version[i] += 1
            alive[i] = False
            today.append((i, int(version[i]), True))
        today.sort()
        exports.append(today)
        alive_days.append(alive.copy())
    return KbSchedule(exports, alive_days)
