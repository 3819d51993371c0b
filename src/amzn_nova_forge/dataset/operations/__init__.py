"""Dataset operation names, at the import path of the official SDK's data-prep docs.

Example:
    >>> from amzn_nova_forge.dataset.operations import FilterMethod, TransformMethod, ValidateMethod
    >>> TransformMethod.SCHEMA.value
    'schema'
"""

from __future__ import annotations

from amzn_nova_forge import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {n: "amzn_nova_forge.core.enums" for n in ("FilterMethod", "TransformMethod", "ValidateMethod")},
)
