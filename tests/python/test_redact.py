"""PII redaction: the labelled corpus meets the bars, and DuckDB runs the same rules."""

from __future__ import annotations

from pathlib import Path

import duckdb

from chatbatch.transform.redact import PLACEHOLDERS, detect, redact, register

CORPUS = Path(__file__).parent / "fixtures" / "pii_corpus.tsv"


def _corpus() -> list[tuple[set[str], str]]:
    rows = []
    for line in CORPUS.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, text = line.split("\t", 1)
        rows.append((set() if label == "none" else set(label.split(",")), text))
    return rows


def test_corpus_recall_and_false_positives() -> None:
    corpus = _corpus()
    positives = [(kinds, text) for kinds, text in corpus if kinds]
    negatives = [text for kinds, text in corpus if not kinds]
    assert len(corpus) >= 200 and len(positives) >= 100 and len(negatives) >= 50
    missed = [(kinds, text) for kinds, text in positives if not kinds <= detect(text)]
    false_pos = [(detect(text), text) for text in negatives if detect(text)]
    recall = 1 - len(missed) / len(positives)
    fp_rate = len(false_pos) / len(negatives)
    per_kind = {kind: sum(kind in kinds for kinds, _ in positives) for kind in PLACEHOLDERS}
    print(
        f"\nPII corpus: {len(positives)} positives {per_kind}, {len(negatives)} negatives; "
        f"recall {recall:.2%} ({len(missed)} missed), false positives {fp_rate:.2%} ({len(false_pos)})"
    )
    assert recall >= 0.99, missed
    assert fp_rate <= 0.01, false_pos


def test_redaction_is_typed_and_keeps_the_rest() -> None:
    text = "mail anna@example.com, card 4111 1111 1111 1111, call +44 20 7946 0958 from 203.0.113.9"
    assert redact(text) == "mail [EMAIL], card [CARD], call [PHONE] from [IPV4]"
    assert redact(None) is None
    assert redact("order 12345678 on 2026-11-01") == "order 12345678 on 2026-11-01"


def test_duckdb_function_is_the_same_rules() -> None:
    con = duckdb.connect()
    register(con)
    texts = [text for _, text in _corpus()] + [None]
    got = con.execute("select redact_pii(t) from unnest(?) as u(t)", [texts]).fetchall()
    assert [row[0] for row in got] == [redact(t) for t in texts]
