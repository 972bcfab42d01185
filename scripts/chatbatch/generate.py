"""``chatbatch generate``: deterministic synthetic exports for the landing zone.

The implementation lives in :mod:`chatbatch.generator`; this module is the stable entry point.
"""

from __future__ import annotations

from .generator import ENTITIES, GenerateSummary, generate, planted_pii

__all__ = ["ENTITIES", "GenerateSummary", "generate", "planted_pii"]
