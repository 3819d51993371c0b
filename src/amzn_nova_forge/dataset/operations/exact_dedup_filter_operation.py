"""Official path of ``ExactDedupFilterOperation``."""

from __future__ import annotations

from amzn_nova_forge.dataset._curation._ops import ExactDedupFilterOperation

__all__ = ["ExactDedupFilterOperation"]
