"""Official path of the operation base classes and ``FilterOperationResult``."""

from __future__ import annotations

from amzn_nova_forge.dataset._curation._ops import BaseOperation, NovaForgeFilterOperation
from amzn_nova_forge.dataset._curation._result import FilterOperationResult

__all__ = ["BaseOperation", "FilterOperationResult", "NovaForgeFilterOperation"]
