"""Dataset operations under their official names (``amzn_nova_forge.dataset.operations``).

Filters: ``FilterMethod``, ``get_filter_operation`` and one class per filter; their result,
``FilterOperationResult``; and the executors a filter pipeline runs on (``LocalExecutor``,
``RayExecutor``, ``SerialExecutor``). ``TransformMethod`` and ``ValidateMethod`` are here too.

Example:
    >>> from amzn_nova_forge.dataset.operations import FilterMethod, get_filter_operation
    >>> type(get_filter_operation(FilterMethod.FUZZY_DEDUP)).__name__
    'FuzzyDedupFilterOperation'
"""

from __future__ import annotations

from amzn_nova_forge.core.enums import FilterMethod, TransformMethod, ValidateMethod
from amzn_nova_forge.dataset._curation._executors import Executor, LocalExecutor, RayExecutor, SerialExecutor
from amzn_nova_forge.dataset._curation._ops import (
    BaseOperation,
    DefaultTextFilterOperation,
    ExactDedupFilterOperation,
    FuzzyDedupFilterOperation,
    InvalidRecordsFilterOperation,
    LanguageDetectionFilterOperation,
    NovaForgeFilterOperation,
    get_filter_operation,
)
from amzn_nova_forge.dataset._curation._result import CurationResult, FilterOperationResult

__all__ = [
    "BaseOperation",
    "CurationResult",
    "DefaultTextFilterOperation",
    "ExactDedupFilterOperation",
    "Executor",
    "FilterMethod",
    "FilterOperationResult",
    "FuzzyDedupFilterOperation",
    "InvalidRecordsFilterOperation",
    "LanguageDetectionFilterOperation",
    "LocalExecutor",
    "NovaForgeFilterOperation",
    "RayExecutor",
    "SerialExecutor",
    "TransformMethod",
    "ValidateMethod",
    "get_filter_operation",
]
