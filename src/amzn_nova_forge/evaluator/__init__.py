"""``ForgeEvaluator`` and ``EvalTaskConfig``: evaluation jobs (the official service class).

Example:
    >>> from amzn_nova_forge.evaluator import EvalTaskConfig, ForgeEvaluator  # doctest: +SKIP
"""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, _exports.EVALUATOR)
