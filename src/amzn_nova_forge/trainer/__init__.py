"""``ForgeTrainer``: training jobs (the official service class).

Example:
    >>> from amzn_nova_forge.trainer import ForgeTrainer  # doctest: +SKIP
"""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, _exports.TRAINER)
