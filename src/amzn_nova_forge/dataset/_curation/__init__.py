"""Data curation: filters and deduplication as one pipeline, run locally, on Ray or on AWS.

Layout (each module has one job):

* :mod:`._params` — ``filter()`` keywords → a validated :class:`FilterStep`.
* :mod:`._vec`, :mod:`._textrules`, :mod:`._minhash` — vectorised text measures, the
  DEFAULT_TEXT_FILTER rules, MinHash/LSH.
* :mod:`._chunk` — the per-chunk work of every filter (the only implementation).
* :mod:`._executors` — where chunks run: serial, local processes, Ray.
* :mod:`._pipeline` — the driver: analyse, decide (which records to keep), write.
* :mod:`._mixin` — ``loader.filter()`` / ``loader.execute()``.
* :mod:`._job` — the entry point a SageMaker or Glue data-prep job runs.
"""

from __future__ import annotations

__all__: list[str] = []
