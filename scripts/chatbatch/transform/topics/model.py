"""Topics for unlabelled user messages: fit, assign, and carry ids across re-fits.

Pure functions over numpy arrays, no I/O (``store.py`` reads and writes the warehouse).

* **Embedding**: the project's own ``HashingEmbedder`` (kb/embedding.py: hashed unigrams
  and bigrams, 384 dims, deterministic, no download) of the redacted text.
* **Fit**: agglomerative clustering (scikit-learn, average linkage, cosine distance cut
  at ``fit_distance``) of the distinct texts, most frequent first (at most
  ``max_fit_texts``); a cluster becomes a topic when it holds at least
  ``min_topic_messages`` messages. Its centroid is the message-weighted mean of its
  texts' vectors, L2-normalised.
* **Assignment rule** (:func:`assign`): a message goes to the topic whose centroid is the
  most cosine-similar (ties: the lowest topic id) when that similarity is at least
  ``assign_min_similarity``; else to the pending pool (no topic). It depends only on the
  text and the model, so an incremental night and a full refresh agree.
* **Stable ids** (:func:`match_ids`): a re-fit's topics are matched one-to-one to the
  previous model's by centroid similarity (Hungarian, scipy's
  ``linear_sum_assignment``); a pair at least ``match_min_similarity`` alike keeps the old
  id, other new topics get ids never used before, and unmatched old ids are retired.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import AgglomerativeClustering

from chatbatch.output.kb.embedding import HashingEmbedder
from chatbatch.output.kb.text import tokenize

EMBEDDER = HashingEmbedder()


@dataclass(frozen=True)
class TopicParams:
    fit_distance: float = 0.7  # average-linkage cosine distance at which clusters stop merging
    min_topic_messages: int = 5  # a smaller cluster is not a topic (its messages stay pending)
    assign_min_similarity: float = 0.35  # cosine to the nearest centroid needed to join a topic
    match_min_similarity: float = 0.5  # a re-fit topic keeps an old id when centroids are this alike
    max_fit_texts: int = 5000  # distinct texts a fit clusters (most frequent first): memory ~ n^2
    recluster_days: int = 7  # a model this many days old (by run date) is re-fitted
    refit_pending_share: float = 0.3  # ... and so is a model that leaves this share pending
    refit_pending_min: int = 50  # (when that is at least this many messages)
    text_chars: int = 1000  # characters of a message that are embedded
    top_terms: int = 3
    examples: int = 3

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Topic:
    topic_id: int
    centroid: np.ndarray  # float64, L2-normalised
    top_terms: tuple[str, ...]
    representative: str  # the member text nearest the centroid
    examples: tuple[str, ...]  # member texts nearest the centroid, representative first
    fit_messages: int

    @property
    def label(self) -> str:
        return " / ".join(self.top_terms) if self.top_terms else self.representative


@dataclass(frozen=True)
class Assignment:
    topic_id: int | None  # None: the pending pool
    similarity: float  # cosine to the nearest centroid (0 when there is no topic)


@dataclass(frozen=True)
class IdMapping:
    previous_topic_id: int | None  # None: a topic new in this fit
    topic_id: int | None  # None: the previous topic was retired
    similarity: float | None


def embed(texts: Sequence[str], params: TopicParams) -> np.ndarray:
    """One L2-normalised float64 row per text (float64 so dot products are exact enough
    to compare across runs: the same text and centroids give the same bits)."""
    return EMBEDDER.embed([text[: params.text_chars] for text in texts]).astype(np.float64)


def assign(vectors: np.ndarray, topics: Sequence[Topic], params: TopicParams) -> list[Assignment]:
    """The assignment rule (module doc). ``topics`` may be in any order."""
    if not len(vectors):
        return []
    ordered = sorted(topics, key=lambda t: t.topic_id)
    if not ordered:
        return [Assignment(None, 0.0) for _ in range(len(vectors))]
    similarity = vectors @ np.stack([t.centroid for t in ordered]).T
    best = similarity.argmax(axis=1)  # the first maximum: the lowest topic id wins a tie
    out = []
    for row, column in enumerate(best.tolist()):
        value = float(similarity[row, column])
        joined = value >= params.assign_min_similarity
        out.append(Assignment(ordered[column].topic_id if joined else None, round(value, 12)))
    return out


def fit(texts: Sequence[str], counts: Sequence[int], params: TopicParams) -> list[Topic]:
    """Topics of the distinct ``texts`` (``counts``: messages per text), with provisional
    ids 1..n by size (then representative text); :func:`match_ids` gives the final ids."""
    order = sorted(range(len(texts)), key=lambda i: (-counts[i], texts[i]))[: params.max_fit_texts]
    vectors = embed([texts[i] for i in order], params)
    # a text with no token (only punctuation or redaction placeholders) embeds to zero: it has
    # no direction, so it joins no topic (cosine distance is undefined for it) and stays pending
    embedded = np.linalg.norm(vectors, axis=1) > 0
    order, vectors = [i for i, keep in zip(order, embedded, strict=True) if keep], vectors[embedded]
    texts = [texts[i] for i in order]
    weights = np.array([counts[i] for i in order], dtype=np.float64)
    if len(texts) < 2:
        return []
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=params.fit_distance, metric="cosine", linkage="average"
    ).fit_predict(vectors)
    clusters = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    clusters = [m for m in clusters if weights[m].sum() >= params.min_topic_messages]
    document_terms = [_terms(texts, weights, members) for members in clusters]
    topics = []
    for members, terms in zip(clusters, document_terms, strict=True):
        centroid = _normalise((vectors[members] * weights[members, None]).sum(axis=0))
        closeness = vectors[members] @ centroid
        nearest = sorted(
            range(len(members)), key=lambda j: (-round(float(closeness[j]), 9), texts[members[j]])
        )
        examples = tuple(texts[members[j]] for j in nearest[: params.examples])
        topics.append(
            Topic(
                topic_id=0,
                centroid=centroid,
                top_terms=_top_terms(terms, document_terms, params.top_terms),
                representative=examples[0],
                examples=examples,
                fit_messages=int(weights[members].sum()),
            )
        )
    topics.sort(key=lambda t: (-t.fit_messages, t.representative))
    return [replace(t, topic_id=i) for i, t in enumerate(topics, start=1)]


def match_ids(
    previous: Sequence[Topic], fitted: Sequence[Topic], next_id: int, params: TopicParams
) -> tuple[list[Topic], list[IdMapping]]:
    """Give ``fitted`` topics their final ids (module doc) and the mapping old -> new.
    ``next_id``: the smallest id never used by any model so far."""
    kept: dict[int, tuple[int, float]] = {}  # fitted index -> (previous id, similarity)
    if previous and fitted:
        similarity = np.stack([t.centroid for t in previous]) @ np.stack([t.centroid for t in fitted]).T
        rows, columns = linear_sum_assignment(-similarity)
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
            if similarity[row, column] >= params.match_min_similarity:
                kept[column] = (previous[row].topic_id, round(float(similarity[row, column]), 12))
    out, mapping = [], []
    for index, topic in enumerate(fitted):
        if index in kept:
            old, value = kept[index]
            out.append(replace(topic, topic_id=old))
            mapping.append(IdMapping(old, old, value))
        else:
            out.append(replace(topic, topic_id=next_id))
            mapping.append(IdMapping(None, next_id, None))
            next_id += 1
    kept_ids = {old for old, _ in kept.values()}
    mapping += [IdMapping(t.topic_id, None, None) for t in previous if t.topic_id not in kept_ids]
    return out, mapping


def _normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _terms(texts: Sequence[str], weights: np.ndarray, members: np.ndarray) -> Counter[str]:
    terms: Counter[str] = Counter()
    for i in members.tolist():
        for term in set(tokenize(texts[i])):
            terms[term] += int(weights[i])
    return terms


def _top_terms(terms: Counter[str], all_terms: Sequence[Counter[str]], n: int) -> tuple[str, ...]:
    """Class-based TF-IDF: frequent in this topic, rare in the others."""
    total = sum(terms.values()) or 1
    spread = Counter(term for document in all_terms for term in document)
    scored = sorted(
        ((terms[t] / total) * math.log(1 + len(all_terms) / spread[t]), t) for t in terms if not t.isdigit()
    )
    return tuple(t for _, t in sorted(scored, key=lambda s: (-round(s[0], 12), s[1]))[:n])
