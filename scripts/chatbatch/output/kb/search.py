"""``chatbatch kb-search``: answer a question from the published KB index.

Reads ``analytics.duckdb`` read-only (the index published with the night's marts).
The question is tokenised and embedded exactly as the chunks were (same tokeniser,
same embedder, named in ``kb.index_settings``), its terms weighted by the index's
IDF; chunks are ranked by cosine similarity blended with normalised BM25.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from chatbatch.core import duck
from chatbatch.output.kb import sql
from chatbatch.output.kb.embedding import for_index
from chatbatch.output.kb.text import tokenize

DEFAULT_BM25_WEIGHT = 0.3


@dataclass(frozen=True)
class Hit:
    rank: int
    chunk_id: str
    document_id: str
    document_version: int
    heading: str
    text: str
    score: float
    dense_score: float
    bm25_score: float


def search(database: Path, question: str, k: int = 5, bm25_weight: float = DEFAULT_BM25_WEIGHT) -> list[Hit]:
    if not 0.0 <= bm25_weight <= 1.0:
        raise ValueError("bm25 weight must be within [0, 1]")
    con = duck.connect(str(database), read_only=True)
    try:
        row = con.execute("select embedder, dim from kb.index_settings").fetchone()
        if row is None:
            raise LookupError("the published database has no KB index yet")
        embedder = for_index(str(row[0]))
        terms = tokenize(question)
        idf = dict(con.execute(sql.IDF, [terms]).fetchall())
        chunk_count = con.execute("select chunk_count from kb.corpus_stats").fetchone()
        unseen = math.log(1 + (int(chunk_count[0]) + 0.5) / 0.5) if chunk_count else 1.0
        weights = {term: float(idf.get(term, unseen)) for term in terms}
        vector = embedder.embed([question], term_weights=weights)[0].tolist()
        rows = con.execute(sql.search(int(row[1])), [terms, vector, bm25_weight, bm25_weight, k]).fetchall()
    finally:
        con.close()
    return [
        Hit(rank, r[0], r[1], int(r[2]), r[3] or "", r[4], float(r[5]), float(r[6] or 0), float(r[7]))
        for rank, r in enumerate(rows, start=1)
    ]


def snippet(text: str, question: str = "", width: int = 100) -> str:
    """The sentence of a chunk sharing most terms with the question (else its start)."""
    flat = " ".join(text.split())
    terms = set(tokenize(question))
    if terms:
        sentences = re.split(r"(?<=[.!?])\s+", flat)
        best = max(sentences, key=lambda s: (len(terms & set(tokenize(s))), -sentences.index(s)))
        if terms & set(tokenize(best)):
            flat = best
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_hits(hits: list[Hit], question: str = "", width: int = 100) -> str:
    lines = [f"{'rank':>4}  {'score':>6}  {'cosine':>6}  {'bm25':>6}  document        chunk"]
    for hit in hits:
        lines.append(
            f"{hit.rank:>4}  {hit.score:6.3f}  {hit.dense_score:6.3f}  {hit.bm25_score:6.2f}  "
            f"{hit.document_id} v{hit.document_version:<3}  {hit.chunk_id}"
        )
        lines.append(f"      {hit.heading}")
        lines.append(f"      {snippet(hit.text, question, width)}")
    return "\n".join(lines)
