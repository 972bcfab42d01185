"""Deterministic chunking of markdown documents by headings and paragraphs.

A document is split into sections at its headings, each section into paragraphs
(blank lines). Paragraphs are packed into chunks of at most ``max_chars``; a paragraph
longer than that is split at sentence ends (a sentence longer than that at word
boundaries). Consecutive chunks of one section overlap by the last sentences of the
previous chunk, up to ``overlap_chars``. The same text and parameters always give the
same chunks, and ``chunk_id`` depends only on the document, the version and the
position: ``kb_0007-v3-c002``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CHARS = 700
OVERLAP_CHARS = 150

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_RE = re.compile(r"(?<=[.!?:\"])\s+(?=\S)")


@dataclass(frozen=True)
class ChunkerConfig:
    max_chars: int = MAX_CHARS
    overlap_chars: int = OVERLAP_CHARS

    def __post_init__(self) -> None:
        if self.max_chars < 50 or not 0 <= self.overlap_chars < self.max_chars // 2:
            raise ValueError(f"bad chunker config: {self}")

    @property
    def name(self) -> str:
        """Recorded in the index: a change of parameters rebuilds every chunk."""
        return f"md-sections-v1:max={self.max_chars}:overlap={self.overlap_chars}"


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    document_id: str
    document_version: int
    chunk_index: int
    heading: str
    text: str

    @property
    def embedding_text(self) -> str:
        """What is embedded and indexed: the heading path gives a chunk its topic."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def chunk_id(document_id: str, version: int, position: int) -> str:
    return f"{document_id}-v{version}-c{position:03d}"


def _sections(body: str) -> list[tuple[str, list[str]]]:
    """(heading path, paragraphs) in document order; the path joins title and section."""
    sections: list[tuple[str, list[str]]] = []
    path: list[tuple[int, str]] = []
    paragraphs: list[str] = []
    current: list[str] = []

    def end_paragraph() -> None:
        if current:
            paragraphs.append(" ".join(line.strip() for line in current))
            current.clear()

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            sections.append((" > ".join(title for _, title in path), list(paragraphs)))
            paragraphs.clear()

    for line in body.splitlines():
        match = _HEADING_RE.match(line)
        if match:
            end_section()
            level = len(match.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, match.group(2))]
        elif line.strip():
            current.append(line)
        else:
            end_paragraph()
    end_section()
    return sections


def _pieces(paragraph: str, max_chars: int) -> list[str]:
    """Sentences of a paragraph, each at most max_chars (long ones cut at spaces)."""
    pieces: list[str] = []
    for sentence in _SENTENCE_RE.split(paragraph):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def _pack(paragraphs: list[str], config: ChunkerConfig) -> list[str]:
    """Whole paragraphs while they fit; split ones sentence by sentence, with overlap."""
    chunks: list[str] = []
    units: list[tuple[str, str]] = []  # (text, separator before it)
    for paragraph in paragraphs:
        if len(paragraph) <= config.max_chars:
            units.append((paragraph, "\n\n"))
        else:
            units.extend(
                (piece, " " if i else "\n\n") for i, piece in enumerate(_pieces(paragraph, config.max_chars))
            )
    current: list[tuple[str, str]] = []

    def length(parts: list[tuple[str, str]]) -> int:
        return sum(len(text) + (len(sep) if i else 0) for i, (text, sep) in enumerate(parts))

    for unit in units:
        if current and length([*current, unit]) > config.max_chars:
            chunks.append(_join(current))
            overlap: list[tuple[str, str]] = []
            for text, sep in reversed(current):
                if length([(text, sep), *overlap]) > config.overlap_chars or (sep != " " and overlap):
                    break
                overlap.insert(0, (text, sep))
            if length([*overlap, unit]) > config.max_chars:
                overlap = []
            current = overlap
        current.append(unit)
    if current:
        chunks.append(_join(current))
    return chunks


def _join(parts: list[tuple[str, str]]) -> str:
    return "".join(text if i == 0 else sep + text for i, (text, sep) in enumerate(parts))


def chunk_document(
    document_id: str,
    version: int,
    body: str,
    config: ChunkerConfig | None = None,
) -> list[Chunk]:
    """The chunks of one document version, in order."""
    config = config or ChunkerConfig()
    chunks: list[Chunk] = []
    for heading, paragraphs in _sections(body or ""):
        for text in _pack(paragraphs, config):
            position = len(chunks)
            chunks.append(
                Chunk(chunk_id(document_id, version, position), document_id, version, position, heading, text)
            )
    return chunks
