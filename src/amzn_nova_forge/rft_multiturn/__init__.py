"""RFT multiturn infrastructure: reward-environment workers, queues and stacks."""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__, {**_exports.RFT, "VFEnvId": "amzn_nova_forge.core.enums", "EnvType": "amzn_nova_forge.core.enums"}
)
