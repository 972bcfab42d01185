"""Unit tests of the topic model (transform/topics/model.py): the assignment rule, the fit
on the generator's planted questions, and stable ids across re-fits. No warehouse."""

from __future__ import annotations

import numpy as np
from chatbatch_dev.generator.unlabelled import KINDS, kind_of

from chatbatch.transform.topics.model import Topic, TopicParams, assign, embed, fit, match_ids

PARAMS = TopicParams()


def _topic(topic_id: int, centroid: list[float]) -> Topic:
    vector = np.array(centroid, dtype=np.float64)
    return Topic(topic_id, vector / np.linalg.norm(vector), (f"t{topic_id}",), "x", ("x",), 5)


def test_a_message_joins_the_most_similar_centroid_at_or_above_the_threshold() -> None:
    topics = [_topic(7, [1, 0, 0]), _topic(3, [0, 1, 0])]
    vectors = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, 1.0], [0.35, 0.0, np.sqrt(1 - 0.35**2)]])
    got = assign(vectors, topics, PARAMS)
    assert [a.topic_id for a in got] == [7, 3, None, 7]  # 0.35 is enough: the threshold is inclusive
    assert got[2].similarity == 0.0


def test_a_tie_goes_to_the_lowest_topic_id_whatever_the_order() -> None:
    vectors = np.array([[np.sqrt(0.5), np.sqrt(0.5), 0.0]])
    for order in ([_topic(9, [1, 0, 0]), _topic(4, [0, 1, 0])], [_topic(4, [0, 1, 0]), _topic(9, [1, 0, 0])]):
        assert assign(vectors, order, PARAMS)[0].topic_id == 4


def test_no_topics_means_everything_is_pending() -> None:
    assert [a.topic_id for a in assign(np.eye(2), [], PARAMS)] == [None, None]


def test_assignment_is_deterministic_bit_for_bit() -> None:
    texts = [t for paraphrases in KINDS.values() for t in paraphrases]
    topics = fit(texts, [3] * len(texts), PARAMS)
    first = assign(embed(texts, PARAMS), topics, PARAMS)
    again = assign(embed(list(reversed(texts)), PARAMS), list(reversed(topics)), PARAMS)
    assert first == list(reversed(again))


def test_planted_kinds_fit_one_pure_topic_each() -> None:
    texts = [t for paraphrases in KINDS.values() for t in paraphrases] + ["ok", "Where is my order?"]
    topics = fit(texts, [2] * len(texts), PARAMS)
    members: dict[int, set[str | None]] = {}
    for text, a in zip(texts, assign(embed(texts, PARAMS), topics, PARAMS), strict=True):
        if a.topic_id is not None:
            members.setdefault(a.topic_id, set()).add(kind_of(text))
    assert sorted(len(kinds) for kinds in members.values()) == [1, 1, 1, 1]
    assert {kind for kinds in members.values() for kind in kinds} == set(KINDS)
    labels = {t.label for t in topics}
    assert any("gift" in label for label in labels) and any("warranty" in label for label in labels)


def test_a_refit_keeps_matching_ids_gives_new_ids_and_retires_the_rest() -> None:
    previous = [_topic(1, [1, 0, 0, 0]), _topic(2, [0, 1, 0, 0]), _topic(5, [0, 0, 1, 0])]
    fitted = [_topic(1, [0.1, 1, 0, 0]), _topic(2, [0, 0, 0, 1]), _topic(3, [1, 0.2, 0, 0])]
    topics, mapping = match_ids(previous, fitted, next_id=6, params=PARAMS)
    assert [t.topic_id for t in topics] == [2, 6, 1]  # old 2 ~ new 1, old 1 ~ new 3; new 2 is new
    assert {(m.previous_topic_id, m.topic_id) for m in mapping} == {(2, 2), (1, 1), (None, 6), (5, None)}


def test_hungarian_matching_is_one_to_one() -> None:
    previous = [_topic(1, [1, 0]), _topic(2, [1, 0.1])]
    fitted = [_topic(1, [1, 0.05])]
    topics, mapping = match_ids(previous, fitted, next_id=3, params=PARAMS)
    assert len(topics) == 1 and topics[0].topic_id in (1, 2)
    assert sum(m.topic_id is None for m in mapping) == 1


def test_texts_without_tokens_join_no_topic_and_do_not_break_the_fit() -> None:
    """A text of only punctuation or placeholders embeds to a zero vector (no direction): the
    fit leaves it out (found by the standard-scale bench) and assignment leaves it pending."""
    params = TopicParams()
    kind = "gift card balance"
    texts = ["[EMAIL]", "?!", *(f"{kind} {word}" for word in ("please", "check", "left", "now", "today"))]
    topics = fit(texts, [3] * len(texts), params)
    assert len(topics) == 1 and "?!" not in topics[0].examples
    assert not np.any(embed(["?!"], params))
    assert assign(embed(["?!"], params), topics, params)[0].topic_id is None
