"""Official path of ``get_filter_operation`` and the filter operation base class."""

from __future__ import annotations

from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation._ops import NovaForgeFilterOperationBase, get_filter_operation

__all__ = ["FilterMethod", "NovaForgeFilterOperationBase", "get_filter_operation"]
