"""Official path of ``FuzzyDedupFilterOperation``."""

from __future__ import annotations

from amzn_nova_forge.dataset._curation._ops import FuzzyDedupFilterOperation

__all__ = ["FuzzyDedupFilterOperation"]
