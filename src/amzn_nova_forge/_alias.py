"""Make another top-level name an alias of :mod:`amzn_nova_forge` (older and spec'd import names).

``install_alias("amzn_nova_customization_sdk")`` puts the real package in ``sys.modules``
under the alias and adds a meta-path finder so that every submodule imported through the
alias (``amzn_nova_customization_sdk.dataset`` …) is the very module object of
``amzn_nova_forge`` — classes, enums and isinstance checks are shared.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any

__all__ = ["install_alias"]

_REAL = "amzn_nova_forge"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, real_name: str) -> None:
        self.real_name = real_name
        self._real_spec: Any = None

    def create_module(self, spec: Any) -> ModuleType:
        module = importlib.import_module(self.real_name)
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # Already executed under its real name. The import system has just set
        # ``module.__spec__`` to the alias spec: put the real one back so that
        # importlib.resources, pickling and reloads keep seeing the real module.
        module.__spec__ = self._real_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, alias: str) -> None:
        self.alias = alias

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if not fullname.startswith(self.alias + "."):
            return None
        real = _REAL + fullname[len(self.alias) :]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


def install_alias(alias: str) -> None:
    """Register ``alias`` (a top-level package name) as an alias of ``amzn_nova_forge``."""
    if not any(isinstance(f, _AliasFinder) and f.alias == alias for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(alias))
    sys.modules[alias] = importlib.import_module(_REAL)
