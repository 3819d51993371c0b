"""Dataset loaders: load, show, split, transform, validate and save Nova datasets.

Example:
    >>> from amzn_nova_forge.dataset import *
    >>> loader = JSONLDatasetLoader(question="question", answer="answer")
"""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        **_exports.DATASET,
        "DataPrepError": "amzn_nova_forge.errors",
        "DatasetValidationError": "amzn_nova_forge.errors",
        "sample_path": "amzn_nova_forge.dataset._samples",
        **_exports.ENUMS,
    },
)
