"""Optional dependencies of data curation, imported on first use with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from amzn_nova_forge.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, *, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(
            f"{module.split('.')[0]!r} is needed for this feature. Install it with: "
            f"pip install 'amzn-nova-forge[{extra}]'",
            extra=extra,
        ) from e
