"""Published helper paths (``amzn_nova_forge.util.bedrock`` …) and ``verify_reward_function``."""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, _exports.UTIL)
