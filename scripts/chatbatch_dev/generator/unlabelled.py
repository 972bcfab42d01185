"""Planted unlabelled questions (issue 16): what users ask that no intent covers.

A few clear kinds of question, each with several paraphrases, replace the first user
message of a small share of conversations. They carry no intent (the NLU has none for
them) and the bot falls back, so the nightly topics step should group them into one
topic per kind (tests/python/test_topics_purity.py checks purity) and the content-gap
report should list them. Drawn from their own random stream, so the rest of a day's
traffic is what it was without them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# kind -> paraphrases; every kind repeats its key phrase, as real paraphrases share a noun
KINDS: dict[str, tuple[str, ...]] = {
    "gift_card": (
        "Do you sell a gift card?",
        "Can I buy a gift card for my sister?",
        "How do I redeem a gift card at checkout?",
        "Is there a digital gift card I can send by email?",
        "My gift card balance looks wrong, can you check the gift card?",
    ),
    "loyalty_points": (
        "How many loyalty points do I have?",
        "Do loyalty points expire?",
        "How do I spend my loyalty points?",
        "I did not get loyalty points for my last purchase",
        "What can I get with loyalty points?",
    ),
    "plastic_packaging": (
        "Is your plastic packaging recyclable?",
        "Why do you still use plastic packaging?",
        "Can I send the plastic packaging back?",
        "There is too much plastic packaging in every parcel",
        "Can I order without plastic packaging?",
    ),
    "warranty_claim": (
        "How do I start a warranty claim?",
        "How long does a warranty claim take?",
        "My warranty claim for the broken screen was rejected",
        "Can I file a warranty claim for water damage?",
        "What do I need for a warranty claim on my laptop?",
    ),
}
KIND_NAMES: tuple[str, ...] = tuple(KINDS)
SHARE = 0.08  # of conversations whose first user message is a planted question (all kinds)


@dataclass(frozen=True)
class Planted:
    rows: np.ndarray  # message rows (first user messages) that ask a planted question
    kinds: np.ndarray  # index into KIND_NAMES, per row
    texts: list[str]  # the question, per row


def plant(rng: np.random.Generator, candidates: np.ndarray) -> Planted:
    """Choose rows among ``candidates`` (a boolean mask of first user messages whose
    answer may be a fallback) and a kind and paraphrase for each."""
    pool = np.flatnonzero(candidates)
    chosen = np.sort(pool[rng.random(len(pool)) < SHARE])
    kinds = rng.integers(0, len(KIND_NAMES), len(chosen))
    phrasing = rng.integers(0, 1 << 30, len(chosen))
    texts = [
        KINDS[KIND_NAMES[k]][p % len(KINDS[KIND_NAMES[k]])]
        for k, p in zip(kinds.tolist(), phrasing.tolist(), strict=True)
    ]
    return Planted(chosen, kinds, texts)


def kind_of(text: str) -> str | None:
    """The planted kind a (redacted) user text asks, or None (tests use it as ground truth)."""
    for name, texts in KINDS.items():
        if text in texts:
            return name
    return None
