"""``NovaModelCustomizer``, the enums and the result classes."""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, {**_exports.CUSTOMIZER, **_exports.ENUMS, **_exports.RESULTS})
