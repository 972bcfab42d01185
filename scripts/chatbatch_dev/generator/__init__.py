"""Synthetic chatbot export generator (landing contract v1)."""

from .core import GenerateSummary, generate
from .pii import planted_pii

__all__ = ["GenerateSummary", "generate", "planted_pii"]
