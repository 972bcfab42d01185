"""Synthetic chatbot export generator (landing contract v1)."""

from .core import ENTITIES, GenerateSummary, generate
from .pii import planted_pii

__all__ = ["ENTITIES", "GenerateSummary", "generate", "planted_pii"]
