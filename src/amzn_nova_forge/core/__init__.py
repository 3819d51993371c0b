"""Core layer: enums, shared configs, storage and the AWS client factory. Imports nothing else of the SDK.

``from amzn_nova_forge.core import EvaluationTask, ForgeConfig`` works as in the official docs;
the names load lazily, so importing the package stays instant.
"""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, {**_exports.ENUMS, **_exports.CONFIGS})
