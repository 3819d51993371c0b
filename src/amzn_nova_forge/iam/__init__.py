"""IAM role helpers; policies are package data scoped to the resources given."""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__, {**_exports.IAM, "create_rft_execution_role": _exports.RFT["create_rft_execution_role"]}
)
