"""Official path of ``InvalidRecordsFilterOperation``."""

from __future__ import annotations

from amzn_nova_forge.dataset._curation._ops import InvalidRecordsFilterOperation

__all__ = ["InvalidRecordsFilterOperation"]
