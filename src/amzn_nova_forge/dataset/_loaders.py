"""Dataset loaders: the :class:`DatasetLoader` base and the file-format loaders, in one place.

The base lives in :mod:`._loader_base` and the JSONL, JSON, CSV, Parquet and Arrow loaders
in :mod:`._formats` (which subclass it); this module re-exports them under the import path
they always had, so the dependency runs one way: ``_loaders`` → ``_formats`` → ``_loader_base``.

Example:
    >>> from amzn_nova_forge.dataset._loaders import DatasetLoader, JSONLDatasetLoader
    >>> issubclass(JSONLDatasetLoader, DatasetLoader)
    True
"""

from __future__ import annotations

from amzn_nova_forge.dataset._formats import (
    ArrowDatasetLoader,
    CSVDatasetLoader,
    JSONDatasetLoader,
    JSONLDatasetLoader,
    ParquetDatasetLoader,
)
from amzn_nova_forge.dataset._loader_base import DatasetLoader

__all__ = [
    "ArrowDatasetLoader",
    "CSVDatasetLoader",
    "DatasetLoader",
    "JSONDatasetLoader",
    "JSONLDatasetLoader",
    "ParquetDatasetLoader",
]
