"""Lazy public namespaces: ``name -> "module:attr"`` tables resolved on first access.

This keeps ``import amzn_nova_forge`` instant (no boto3, torch, matplotlib …) while
``from amzn_nova_forge import *`` still exports every public name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(
    module_name: str, table: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for a package exporting ``table``."""
    import sys

    def __getattr__(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        mod, _, attr = target.partition(":")
        value = getattr(importlib.import_module(mod), attr or name)
        setattr(sys.modules[module_name], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(table) | set(vars(sys.modules[module_name])))

    # read by scripts/gen_static_imports.py and tests/test_static_imports.py
    sys.modules[module_name].__lazy_exports__ = dict(table)  # type: ignore[attr-defined]
    return __getattr__, __dir__, sorted(table)
