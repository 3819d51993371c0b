"""The official filter operation classes, each a thin front for ``loader.filter().execute()``.

The official SDK exposes one class per filter (``ExactDedupFilterOperation`` …) with
``execute(loader, **kwargs) -> FilterOperationResult`` and a factory
``get_filter_operation(method)``. Here each class queues its filter on the loader and runs
it, so there is one implementation of every filter (:mod:`._chunk`) whichever entry is used.
"""

from __future__ import annotations

from abc import ABC
from typing import Any, ClassVar

from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation._result import FilterOperationResult
from amzn_nova_forge.errors import ConfigError

__all__ = [
    "BaseOperation",
    "DefaultTextFilterOperation",
    "ExactDedupFilterOperation",
    "FuzzyDedupFilterOperation",
    "InvalidRecordsFilterOperation",
    "LanguageDetectionFilterOperation",
    "NovaForgeFilterOperation",
    "NovaForgeFilterOperationBase",
    "get_filter_operation",
]


class BaseOperation(ABC):  # noqa: B024 - the official base class; subclasses implement execute
    """Base class of dataset operations (official name)."""


class NovaForgeFilterOperation(BaseOperation):
    """Base class of filter operations (official name)."""


class NovaForgeFilterOperationBase(NovaForgeFilterOperation):
    """A filter operation: ``execute(loader, **kwargs)`` runs one filter on the loader's records.

    Example:
        >>> op = get_filter_operation(FilterMethod.EXACT_DEDUP)
        >>> type(op).__name__
        'ExactDedupFilterOperation'
    """

    method: ClassVar[FilterMethod]
    _FILTER_NAME: ClassVar[str] = "Filter"

    def execute(self, loader: Any, **kwargs: Any) -> FilterOperationResult:
        """Queue this filter on ``loader``, run every queued filter, return this step's result.

        Args:
            loader: A dataset loader holding records.
            **kwargs: The filter's keywords (see ``loader.filter``); ``state`` and
                ``executor`` are also accepted (``state`` is ignored: the loader holds the data).

        Raises:
            ConfigError: ``loader`` is ``None`` or a keyword is bad.
        """
        kwargs.pop("state", None)
        executor = kwargs.pop("executor", None)
        if loader is None or not hasattr(loader, "filter"):
            raise ConfigError(
                f"{type(self).__name__}.execute needs a dataset loader holding the records, e.g. "
                "JSONLDatasetLoader().load(path)."
            )
        loader.filter(method=self.method, **kwargs).execute(executor=executor)
        result: FilterOperationResult = loader.last_curation.steps[-1]
        return result


class DefaultTextFilterOperation(NovaForgeFilterOperationBase):
    """DEFAULT_TEXT_FILTER: the seven quality rules of :mod:`._textrules`."""

    method = FilterMethod.DEFAULT_TEXT_FILTER
    _FILTER_NAME = "Default Text Filter"


class ExactDedupFilterOperation(NovaForgeFilterOperationBase):
    """EXACT_DEDUP: drops records whose normalised text was seen before (first kept)."""

    method = FilterMethod.EXACT_DEDUP
    _FILTER_NAME = "Exact Dedup"


class FuzzyDedupFilterOperation(NovaForgeFilterOperationBase):
    """FUZZY_DEDUP: MinHash LSH near-duplicate removal (first in input order kept)."""

    method = FilterMethod.FUZZY_DEDUP
    _FILTER_NAME = "Fuzzy Dedup"


class InvalidRecordsFilterOperation(NovaForgeFilterOperationBase):
    """INVALID_RECORDS: drops the records ``validate()`` rejects; reasons go to a side file."""

    method = FilterMethod.INVALID_RECORDS
    _FILTER_NAME = "Invalid Records"


class LanguageDetectionFilterOperation(NovaForgeFilterOperationBase):
    """LANGUAGE_DETECTION: keeps records in ``languages`` (langid's bundled model, offline)."""

    method = FilterMethod.LANGUAGE_DETECTION
    _FILTER_NAME = "Language Detection"


_REGISTRY: dict[FilterMethod, type[NovaForgeFilterOperationBase]] = {
    c.method: c
    for c in (
        DefaultTextFilterOperation,
        ExactDedupFilterOperation,
        FuzzyDedupFilterOperation,
        InvalidRecordsFilterOperation,
        LanguageDetectionFilterOperation,
    )
}


def get_filter_operation(method: FilterMethod | str) -> NovaForgeFilterOperationBase:
    """The operation object for ``method``.

    Raises:
        ConfigError: ``method`` is not a FilterMethod.

    Example:
        >>> get_filter_operation("exact_dedup_filter").method
        <FilterMethod.EXACT_DEDUP: 'exact_dedup_filter'>
    """
    try:
        m = method if isinstance(method, FilterMethod) else FilterMethod(str(method))
    except ValueError:
        raise ConfigError(
            f"Filter method {method!r} is not supported; use one of {[x.value for x in FilterMethod]}."
        ) from None
    return _REGISTRY[m]()
