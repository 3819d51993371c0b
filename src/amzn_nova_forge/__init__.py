"""Amazon Nova Forge SDK: from raw data to a customized, evaluated and deployed Amazon Nova model.

Public names are loaded lazily on first access, so ``import amzn_nova_forge`` is
instant and pulls in no boto3, torch, transformers, matplotlib or mlflow.

Example:
    >>> from amzn_nova_forge import *
    >>> Model.NOVA_LITE_2.model_type
    'amazon.nova-2-lite-v1:0:256k'
"""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = _lazy.attach(__name__, _exports.TOP_LEVEL)
