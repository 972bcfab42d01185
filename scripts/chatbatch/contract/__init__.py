"""Landing export contract v1: JSON Schemas (draft 2020-12) per entity."""

from __future__ import annotations

from pathlib import Path

VERSION = "v1"
ENTITIES: tuple[str, ...] = (
    "conversations",
    "messages",
    "events",
    "feedback",
    "kb_documents",
    "users",
)
_DIR = Path(__file__).resolve().parent / VERSION


def schema_path(entity: str) -> Path:
    """Path of the JSON Schema for ``entity`` (raises ``KeyError`` for unknown entities)."""
    if entity not in ENTITIES:
        raise KeyError(f"unknown entity {entity!r}; expected one of {ENTITIES}")
    return _DIR / f"{entity}.schema.json"
