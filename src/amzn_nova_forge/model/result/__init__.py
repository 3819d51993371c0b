"""Job results: training, evaluation, inference and deployment."""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(__name__, {**_exports.RESULTS, "JobStatus": "amzn_nova_forge.core.enums"})
