"""The tokeniser shared by the index (BM25 terms, embeddings) and the queries."""

from __future__ import annotations

import re

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)

# Function words that carry no topic; kept short and fixed (the index depends on it).
STOPWORDS = frozenset(
    """
    a about after an and any are as at be been before but by can do does for from had has
    have how i if in into is it its me my no not of on or our so than that the their them
    then there these they this to too up us was we were what when where which who why will
    with you your
    """.split()  # noqa: SIM905
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits), stopwords removed, in text order."""
    return [t for t in _TOKEN_RE.findall(text.lower()) if t not in STOPWORDS]
