"""``ForgeInference``: one request to a deployed model, or a batch-inference job."""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, _exports.INFERENCE)
