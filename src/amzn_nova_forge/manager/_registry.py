"""Platform -> runtime class, as a table of strings so that registering costs no imports."""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import UnknownRuntimeError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import Capabilities, RuntimeManager

__all__ = ["capabilities_of", "get_runtime_class", "runtime_platforms"]

_RUNTIMES: dict[str, str] = {
    Platform.SMTJ.value: "amzn_nova_forge.manager._smtj:SMTJRuntimeManager",
    Platform.SMTJServerless.value: "amzn_nova_forge.manager._serverless:SMTJServerlessRuntimeManager",
    Platform.SMHP.value: "amzn_nova_forge.manager._smhp:SMHPRuntimeManager",
    Platform.BEDROCK.value: "amzn_nova_forge.manager._bedrock:BedrockRuntimeManager",
    Platform.LOCAL.value: "amzn_nova_forge.manager._local:LocalRuntimeManager",  # torch not imported here
}


def get_runtime_class(platform: Platform | str) -> type[RuntimeManager]:
    """Return the runtime manager class for ``platform`` (imported on first use).

    Raises:
        UnknownRuntimeError: ``platform`` is not registered; suggests the closest name.
    """
    name = platform.value if isinstance(platform, Platform) else str(platform)
    target = _RUNTIMES.get(name)
    if target is None:
        lowered = {k.lower(): k for k in _RUNTIMES}
        target_key = lowered.get(name.lower())
        if target_key is None:
            close = difflib.get_close_matches(name, list(_RUNTIMES), n=1)
            raise UnknownRuntimeError(
                f"Runtime {name!r} is not one of {sorted(_RUNTIMES)}."
                + (f" Did you mean {close[0]!r}?" if close else ""),
                name=name,
                known=sorted(_RUNTIMES),
            )
        target = _RUNTIMES[target_key]
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def capabilities_of(platform: Platform | str) -> Capabilities:
    """What the runtime of ``platform`` can do: its class's :class:`Capabilities` table.

    Raises:
        UnknownRuntimeError: ``platform`` has no runtime (e.g. ``GLUE``).

    Example:
        >>> capabilities_of(Platform.LOCAL).billed
        False
    """
    return get_runtime_class(platform).capabilities


def runtime_platforms() -> list[Platform]:
    """The platforms that have a runtime manager, in the order of :class:`Platform`.

    Example:
        >>> [p.value for p in runtime_platforms()]
        ['SMTJ', 'SMHP', 'BEDROCK', 'SMTJServerless', 'LOCAL']
    """
    return [p for p in Platform if p.value in _RUNTIMES]
