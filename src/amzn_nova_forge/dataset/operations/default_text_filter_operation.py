"""Official path of ``DefaultTextFilterOperation``."""

from __future__ import annotations

from amzn_nova_forge.dataset._curation._ops import DefaultTextFilterOperation

__all__ = ["DefaultTextFilterOperation"]
