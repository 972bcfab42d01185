"""The KB chunker, tokeniser and default embedder: pure Python, no warehouse."""

from __future__ import annotations

import numpy as np
import pytest
from chatbatch_dev.generator import kb

from chatbatch.output.kb.chunking import ChunkerConfig, chunk_document
from chatbatch.output.kb.embedding import HashingEmbedder
from chatbatch.output.kb.text import tokenize

BODY = """# Returns: a guide

Intro paragraph. It is short.

## Before you start

First sentence of a long paragraph. Second sentence is here. Third sentence follows. Fourth one ends it.

Another paragraph under the same heading.

## Limits

Only one paragraph here.
"""


def test_chunks_follow_headings_and_ids_are_stable() -> None:
    chunks = chunk_document("kb_0001", 3, BODY)
    assert [c.chunk_id for c in chunks] == [f"kb_0001-v3-c{i:03d}" for i in range(len(chunks))]
    assert [c.heading for c in chunks] == [
        "Returns: a guide",
        "Returns: a guide > Before you start",
        "Returns: a guide > Limits",
    ]
    assert chunks[1].text.endswith("Another paragraph under the same heading.")
    assert chunks[1].embedding_text.startswith("Returns: a guide > Before you start\n")
    assert chunk_document("kb_0001", 3, BODY) == chunks  # deterministic


def test_long_paragraphs_split_at_sentences_with_overlap() -> None:
    config = ChunkerConfig(max_chars=80, overlap_chars=30)
    chunks = chunk_document("kb_0002", 1, BODY, config)
    assert all(len(c.text) <= config.max_chars for c in chunks)
    section = [c.text for c in chunks if c.heading.endswith("Before you start")]
    assert len(section) >= 2
    # each next chunk starts with the last sentence of the previous one (the overlap)
    assert section[1].startswith("Second sentence is here.") or section[1].startswith("Third sentence")
    assert any(section[i].split(". ")[-1].rstrip(".") in section[i + 1] for i in range(len(section) - 1))
    words = " ".join(["word"] * 60)  # one sentence longer than max_chars: cut at spaces
    long = chunk_document("kb_0003", 1, f"# T\n\n{words}\n", config)
    assert all(len(c.text) <= config.max_chars for c in long) and len(long) > 1


def test_generated_documents_chunk_within_bounds() -> None:
    config = ChunkerConfig()
    for doc in kb.corpus()[:6]:
        body = kb.body(doc, 2, seed=42)
        chunks = chunk_document(doc.document_id, 2, body, config)
        assert chunks and all(0 < len(c.text) <= config.max_chars for c in chunks)
        # nothing is lost: every sentence of the body is in some chunk
        text = " ".join(c.text for c in chunks)
        for line in body.splitlines():
            if line and not line.startswith("#"):
                for sentence in line.split(". ")[:3]:
                    assert sentence.strip() in text


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError):
        ChunkerConfig(max_chars=100, overlap_chars=60)


def test_tokenizer_and_hashing_embedder_are_deterministic() -> None:
    assert tokenize("How do I reset MY password? Reset-links expire!") == [
        "reset",
        "password",
        "reset",
        "links",
        "expire",
    ]
    embedder = HashingEmbedder()
    vectors = embedder.embed(
        ["password reset links expire", "password reset links expire", "express delivery"]
    )
    assert vectors.dtype == np.float32 and vectors.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(vectors[0], vectors[1])
    assert float(vectors[0] @ vectors[2]) < 0.5
    weighted = embedder.embed(["password reset"], term_weights={"password": 3.0, "reset": 0.1})[0]
    assert float(weighted @ embedder.embed(["password"])[0]) > float(weighted @ embedder.embed(["reset"])[0])
