"""Pluggable embedders for the KB index.

The default, ``hashing``, needs no download and is fully deterministic: the tokens and
token bigrams of a text are hashed (blake2b, so it does not depend on the Python
process) into ``DIM`` signed buckets weighted by sublinear term frequency
(1 + ln tf) and L2-normalised. A document vector depends only on its own text, so a
night re-embeds only the versions that changed. The IDF half of TF-IDF is applied on
the query side: ``kb-search`` weights the query's terms by the index's BM25 IDF, so
rare terms dominate the match without ever re-embedding the corpus.

The optional ``sentence-transformers`` embedder (``pip install -e '.[embeddings]'``)
loads a local sentence model, e.g. all-MiniLM-L6-v2 (384 dimensions, like the
default), offline. Choose with ``CHATBATCH_KB_EMBEDDER`` (``hashing`` or
``sentence-transformers``; the model folder or name in ``CHATBATCH_KB_MODEL``). The
embedder's name is stored in the index: changing it rebuilds every vector, and
``kb-search`` embeds its queries with the embedder the index was built with.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from chatbatch.output.kb.text import tokenize

DIM = 384


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str], term_weights: Mapping[str, float] | None = None) -> np.ndarray:
        """One L2-normalised float32 row per text; ``term_weights`` (query side, e.g.
        IDF) may be ignored by embedders that do not work on terms."""
        ...


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, (1.0 if (value >> 63) & 1 else -1.0)


class HashingEmbedder:
    """Hashing-trick vector of unigrams and bigrams, sublinear TF, L2-normalised."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self.name = f"hashing-tf-v1:{dim}"

    def features(self, text: str) -> Counter[str]:
        tokens = tokenize(text)
        return Counter(tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)])

    def embed(self, texts: Sequence[str], term_weights: Mapping[str, float] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, tf in self.features(text).items():
                weight = 1.0 + math.log(tf)
                if term_weights is not None:
                    weight *= _feature_weight(feature, term_weights)
                index, sign = _bucket(feature, self.dim)
                out[row, index] += sign * weight
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out


def _feature_weight(feature: str, term_weights: Mapping[str, float]) -> float:
    """A unigram's weight; a bigram's is the mean of its terms'. Unknown terms: 1."""
    terms = feature.split(" ")
    return sum(term_weights.get(t, 1.0) for t in terms) / len(terms)


class SentenceModelEmbedder:
    """A local sentence-transformers model (optional extra ``[embeddings]``)."""

    def __init__(self, model: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download at run time
        from sentence_transformers import SentenceTransformer  # optional dependency

        self._model = SentenceTransformer(model, device="cpu")
        self.dim = int(self._model.get_sentence_embedding_dimension() or 0)
        self.name = f"sentence-transformers:{os.path.basename(model.rstrip('/'))}:{self.dim}"

    def embed(self, texts: Sequence[str], term_weights: Mapping[str, float] | None = None) -> np.ndarray:
        vectors = self._model.encode(list(texts), normalize_embeddings=True, batch_size=32)
        return np.asarray(vectors, dtype=np.float32)


def from_env() -> Embedder:
    """The embedder the nightly index uses (``CHATBATCH_KB_EMBEDDER``)."""
    kind = os.environ.get("CHATBATCH_KB_EMBEDDER", "hashing")
    if kind == "hashing":
        return HashingEmbedder()
    if kind == "sentence-transformers":
        model = os.environ.get("CHATBATCH_KB_MODEL")
        if not model:
            raise ValueError("CHATBATCH_KB_EMBEDDER=sentence-transformers needs CHATBATCH_KB_MODEL")
        return SentenceModelEmbedder(model)
    raise ValueError(f"unknown CHATBATCH_KB_EMBEDDER {kind!r} (hashing or sentence-transformers)")


def for_index(name: str) -> Embedder:
    """The embedder an index was built with (by its recorded name), for queries."""
    if name.startswith("hashing-tf-v1:"):
        return HashingEmbedder(int(name.rsplit(":", 1)[1]))
    if name.startswith("sentence-transformers:"):
        model = os.environ.get("CHATBATCH_KB_MODEL")
        if not model:
            raise ValueError(f"the index was built with {name}; set CHATBATCH_KB_MODEL to query it")
        return SentenceModelEmbedder(model)
    raise ValueError(f"unknown embedder {name!r}")
