"""PII redaction: the labelled corpus meets the bars, and DuckDB runs the same rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from chatbatch.transform.redact import PLACEHOLDERS, redact, register

CORPUS = Path(__file__).parent / "fixtures" / "pii_corpus.tsv"


@dataclass(frozen=True)
class Example:
    kinds: frozenset[str]  # the kinds of PII planted in the text (empty: a look-alike)
    text: str
    expected: str  # the text as redaction must leave it


def _corpus() -> list[Example]:
    rows = []
    for line in CORPUS.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, text, expected = line.split("\t")
        rows.append(Example(frozenset() if label == "none" else frozenset(label.split(",")), text, expected))
    return rows


@dataclass
class Score:
    true_pos: int = 0
    false_neg: int = 0
    false_pos: int = 0

    @property
    def recall(self) -> float:
        return self.true_pos / max(self.true_pos + self.false_neg, 1)

    @property
    def precision(self) -> float:
        return self.true_pos / max(self.true_pos + self.false_pos, 1)


def _score(corpus: list[Example]) -> tuple[dict[str, Score], list[tuple[Example, str]]]:
    """Per kind, per planted value: a value counts as found only when the whole text comes
    out as expected (a half-redacted phone leaks); placeholders beyond the expected ones are
    false positives. Returns the scores and the rows that did not come out as expected."""
    scores = {kind: Score() for kind in PLACEHOLDERS}
    wrong = []
    for example in corpus:
        got = redact(example.text) or ""
        exact = got == example.expected
        if not exact:
            wrong.append((example, got))
        for kind, placeholder in PLACEHOLDERS.items():
            planted, found = example.expected.count(placeholder), got.count(placeholder)
            hits = min(planted, found) if exact or found <= planted else planted
            if not exact and found == planted:
                hits = 0  # the right number of placeholders in the wrong places
            scores[kind].true_pos += hits
            scores[kind].false_neg += planted - hits
            scores[kind].false_pos += max(found - planted, 0) + (planted - hits if found == planted else 0)
    return scores, wrong


def test_corpus_recall_and_precision() -> None:
    corpus = _corpus()
    positives = [example for example in corpus if example.kinds]
    negatives = [example for example in corpus if not example.kinds]
    assert len(positives) >= 500 and len(negatives) >= 150
    assert all(example.text == example.expected for example in negatives)
    scores, wrong = _score(corpus)
    total = Score(
        *(sum(getattr(s, f) for s in scores.values()) for f in ("true_pos", "false_neg", "false_pos"))
    )
    lines = [f"{'kind':6} {'values':>6} {'recall':>8} {'precision':>9}"]
    for kind, s in [*scores.items(), ("all", total)]:
        lines.append(f"{kind:6} {s.true_pos + s.false_neg:6} {s.recall:8.2%} {s.precision:9.2%}")
    lines += [f"wrong: {example.text!r} -> {got!r}" for example, got in wrong]
    print(f"\nPII corpus: {len(positives)} positive rows, {len(negatives)} look-alikes\n" + "\n".join(lines))
    assert total.recall >= 0.995, wrong
    assert total.precision >= 0.99, wrong
    # the look-alikes stay untouched, but for at most 1 %
    assert sum(example.text != (redact(example.text) or "") for example in negatives) <= len(negatives) // 100


def test_redaction_is_typed_and_keeps_the_rest() -> None:
    text = "mail anna@example.com, card 4111 1111 1111 1111, call +44 20 7946 0958 from 203.0.113.9"
    assert redact(text) == "mail [EMAIL], card [CARD], call [PHONE] from [IPV4]"
    assert redact(None) is None
    assert redact("order 12345678 on 2026-11-01") == "order 12345678 on 2026-11-01"


def test_duckdb_function_is_the_same_rules() -> None:
    con = duckdb.connect()
    register(con)
    texts = [example.text for example in _corpus()] + [None]
    got = con.execute("select redact_pii(t) from unnest(?) as u(t)", [texts]).fetchall()
    assert [row[0] for row in got] == [redact(t) for t in texts]
