"""``loader.filter(...)`` and ``loader.execute()``: lazy, chainable data-curation filters.

``filter()`` validates its keywords and queues a step; nothing runs until ``execute()``
(or the next pass that reads the records: ``show``, ``save``, ``split``, ``validate``,
``transform``). ``execute()`` applies pending transforms, then runs the queue: consecutive
steps on the same runtime form one pipeline (:mod:`._pipeline`) — locally on all cores by
default, on Ray with ``executor=RayExecutor(...)``, or as a SageMaker/Glue job when a step
has a data-prep ``runtime_manager``. The loader then holds the kept records; the source
file is never modified. Counts are on ``loader.last_curation``.
"""

from __future__ import annotations

import datetime
import logging
import os
import tempfile
from typing import Any

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation._executors import Executor, resolve_executor
from amzn_nova_forge.dataset._curation._params import FilterStep, build_step
from amzn_nova_forge.dataset._curation._result import CurationResult
from amzn_nova_forge.errors import DataPrepError

__all__ = ["CurationMixin", "derive_output_dir"]

logger = logging.getLogger(__name__)


def derive_output_dir(load_path: str | None, session: str, method: FilterMethod) -> str:
    """The official layout ``<parent>/<input stem>/<session>/<method>_output/``.

    A loader built from records (no path) uses ``<temp dir>/nova-forge-curation/`` as parent.
    """
    if load_path:
        base = load_path.rstrip("/")
        parent, name = base.rsplit("/", 1) if "/" in base else (".", base)
        stem = name.split(".", 1)[0] or name
        return storage.join(parent, stem, session, f"{method.value}_output")
    return os.path.join(tempfile.gettempdir(), "nova-forge-curation", session, f"{method.value}_output")


def _size_hint(store: Any) -> int | None:
    """Records in ``store``, or for a file read in place 0 when it is small (under 2 MiB)."""
    if store.count is not None:
        return int(store.count)
    return 0 if os.path.getsize(store.path) < 2 << 20 else None


class CurationMixin:
    """Adds :meth:`filter` and :meth:`execute` to every dataset loader."""

    path: str | None
    _store: Any
    _pending: list[Any]

    def _materialize(self, desc: str = "Transforming") -> Any:  # pragma: no cover - provided by the loader
        raise NotImplementedError

    def filter(self, method: FilterMethod = FilterMethod.DEFAULT_TEXT_FILTER, **kwargs: Any) -> Any:
        """Queue a filter (lazy); returns the loader for chaining.

        Args:
            method: Which filter (default ``DEFAULT_TEXT_FILTER``).
            **kwargs: ``text_field`` (default ``"text"``), ``output_path`` (folder or
                ``s3://`` prefix for this step's summary, dropped records and — when given —
                its kept records; default ``<parent>/<stem>/<session>/<method>_output/``),
                ``runtime_manager`` (a SageMaker/Glue data-prep manager or an executor),
                ``extra_args`` and the method's own parameters (see
                :data:`amzn_nova_forge.dataset._curation._params.DEFAULTS`); INVALID_RECORDS
                needs ``training_method``, ``model`` and ``platform``.

        Raises:
            ConfigError: An unknown keyword, a bad value or a missing required keyword.
            DataPrepError: No data is loaded.

        Example:
            >>> loader.filter(method=FilterMethod.EXACT_DEDUP).filter(  # doctest: +SKIP
            ...     method=FilterMethod.FUZZY_DEDUP, threshold=0.8).execute()
        """
        step = build_step(method, kwargs)
        if self._store is None:
            raise DataPrepError(f"No data loaded: call {type(self).__name__}(...).load(path) before filter().")
        queue: list[FilterStep] = self.__dict__.setdefault("_curation_queue", [])
        queue.append(step)
        return self

    def execute(self, *, executor: Executor | str | None = None) -> Any:
        """Run the queued filters (and pending transforms); returns the loader.

        Args:
            executor: ``"local"`` (processes on every core), ``"serial"``, ``"ray"`` or an
                executor object (:class:`~amzn_nova_forge.dataset.operations.RayExecutor`);
                default: local, or serial for fewer than 20,000 records.

        Raises:
            DataPrepError: The data is empty, or a record lacks the text field or holds the
                wrong type there (names the file, line and field).

        Example:
            >>> loader.execute()  # doctest: +SKIP
            >>> print(loader.last_curation)  # doctest: +SKIP
        """
        queue: list[FilterStep] = self.__dict__.get("_curation_queue") or []
        if not queue:
            return self
        resolve_executor(executor, None)  # a bad executor fails here, with the queue kept
        self.__dict__["_curation_queue"] = []
        remote = any(hasattr(s.runtime_manager, "run_curation") for s in queue)
        if self._pending or self._store.spill or remote:
            store = self._materialize("Preparing")  # a job gets checked, compact records
        else:  # a local JSONL file with nothing to transform: the filters read it in place
            store = self._store
        session = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d_%H-%M-%S")
        dirs = [s.output_path or derive_output_dir(self.path, session, s.method) for s in queue]
        explicit = [s.output_path is not None for s in queue]
        results: list[Any] = []
        total_in = store.count  # None for a file read in place: the first segment counts it
        seconds = 0.0
        names = []
        k = 0
        while k < len(queue):
            rt = queue[k].runtime_manager
            j = k
            while j < len(queue) and queue[j].runtime_manager is rt:
                j += 1
            seg = queue[k:j]
            if rt is not None and hasattr(rt, "run_curation"):
                store, res = rt.run_curation(seg, store, dirs[k:j])
            else:
                ex = resolve_executor(rt if rt is not None else executor, _size_hint(store))  # type: ignore[arg-type]
                from amzn_nova_forge.dataset._curation._pipeline import run_pipeline

                store, res = run_pipeline(seg, store, ex, dirs[k:j], explicit[k:j])
            self._store, self._pending = store, []
            results += res.steps
            if total_in is None:
                total_in = res.input_count
            seconds += res.seconds
            names.append(res.executor)
            k = j
        self.__dict__["last_curation"] = CurationResult(
            results, total_in or 0, store.count or 0, seconds, "+".join(dict.fromkeys(names))
        )
        for r in results:
            if r.total_count and r.filtered_count == r.total_count:
                logger.warning(
                    "%s removed all %d records; check text_field and the parameters.", r.method, r.total_count
                )
        return self

    @property
    def last_curation(self) -> CurationResult | None:
        """Counts of the last ``execute()`` (``None`` before the first)."""
        return self.__dict__.get("last_curation")

    def _flush_filters(self) -> None:
        """Run queued filters before a pass reads the records (called by the loader)."""
        if self.__dict__.get("_curation_queue"):
            self.execute()
