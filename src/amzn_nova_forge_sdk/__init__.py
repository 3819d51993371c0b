"""``amzn_nova_forge_sdk``: the name the API specification's job-notification example imports.

An alias of :mod:`amzn_nova_forge`, exactly like ``amzn_nova_customization_sdk``:
``from amzn_nova_forge_sdk import *`` gives the public names, and every submodule
(``amzn_nova_forge_sdk.model`` …) is the very module object of ``amzn_nova_forge``.

Example:
    >>> import amzn_nova_forge, amzn_nova_forge_sdk
    >>> amzn_nova_forge_sdk is amzn_nova_forge
    True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any

import amzn_nova_forge as _target

_ALIAS = __name__
_REAL = "amzn_nova_forge"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, real_name: str) -> None:
        self.real_name = real_name

    def create_module(self, spec: Any) -> ModuleType:
        return importlib.import_module(self.real_name)

    def exec_module(self, module: ModuleType) -> None:  # already executed under its real name
        return None


class _ForgeSdkAliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if not fullname.startswith(_ALIAS + "."):
            return None
        real = _REAL + fullname[len(_ALIAS) :]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


if not any(isinstance(f, _ForgeSdkAliasFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _ForgeSdkAliasFinder())

sys.modules[_ALIAS] = _target
