"""The filter pipeline driver: analyse chunks anywhere, decide here, write the outputs.

Three phases over a store of records (:mod:`amzn_nova_forge.dataset._store`):

1. **Analyse** — the store is cut into chunks of :data:`CHUNK_RECORDS` records, and the
   executor runs :func:`._chunk.analyse` on each (in parallel, results in order). What comes
   back is small: one reason code per record and step (with the reasons of what is flagged),
   and the dedup keys.
2. **Decide** — steps are applied in queue order: a record-local step drops the records it
   flagged among those still alive; a dedup step keeps, in each group of records sharing a
   key (EXACT) or any LSH band key (FUZZY), the **first in input order** and drops the rest,
   each pointing at the kept record of its group. The result is the same whatever the
   executor or the chunking.
3. **Write** — the kept records go to a new store and every dropped record, with its step
   and reason, to that step's ``dropped.jsonl`` (:mod:`._output`); each step's
   ``_summary.json`` has its counts. With an explicit ``output_path`` the records a step kept
   are also written there (``part-00000.jsonl``). The source is never written.

Without FUZZY_DEDUP the three happen in **one pass** (:func:`_stream`): each chunk is decided
as its analysis arrives (EXACT_DEDUP remembers the keys seen so far in a
:class:`._index.ExactIndex`) and written while later chunks are being analysed. With it,
deciding needs every key first (a later record can join two earlier near-duplicate groups),
so the decision runs on whole-dataset arrays and a second pass writes.

Memory: the chunks in flight; one pass: 40-80 bytes per distinct record an EXACT_DEDUP step
keeps; three phases: one byte per record and step, 16 bytes per record for EXACT_DEDUP and
``8 * bands`` for FUZZY_DEDUP (16 bands: 128 MB per million records).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from array import array
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation._chunk import ChunkOut, ChunkTask, analyse
from amzn_nova_forge.dataset._curation._executors import Executor, LocalExecutor
from amzn_nova_forge.dataset._curation._output import Outputs
from amzn_nova_forge.dataset._curation._params import FilterStep
from amzn_nova_forge.dataset._curation._result import CurationResult, FilterOperationResult
from amzn_nova_forge.dataset._store import SourceStore, Store
from amzn_nova_forge.errors import DataPrepError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["CHUNK_RECORDS", "Decisions", "decide", "run_pipeline"]

logger = logging.getLogger(__name__)

#: Steps that run the compiled kernels (:mod:`._kernels`).
_KERNEL_STEPS = (FilterMethod.EXACT_DEDUP, FilterMethod.DEFAULT_TEXT_FILTER)

#: Records per task: big enough to vectorise well, small enough to keep workers' memory low.
CHUNK_RECORDS = 8192


@dataclasses.dataclass
class Decisions:
    """Per record: the step that dropped it (-1 kept), its reason code, its group's kept record."""

    dropped_at: NDArray[np.int16]
    code: NDArray[np.uint8]
    dup_of: NDArray[np.int64]
    reached: list[int]  # records that reached each step


def _tasks(
    store: Store | SourceStore, steps: tuple[FilterStep, ...], line_map: list[array[int]]
) -> Iterator[ChunkTask]:
    """The chunks to analyse; fills ``line_map`` (record -> source line) unless it is the identity."""
    track = store.lines is None  # a spill file with a map has it already
    check = isinstance(store, SourceStore)  # the workers apply the JSON rules (in parallel)
    batches = store.batches(check=False) if isinstance(store, SourceStore) else store.batches()
    for parts, src, base in batches:
        if track and src is not None and not line_map:
            line_map.append(array("I", range(1, base + 1)))
        if line_map:
            line_map[0].extend(src if src is not None else range(base + 1, base + len(parts) + 1))
        for k in range(0, len(parts), CHUNK_RECORDS):
            sub_src = list(src[k : k + CHUNK_RECORDS]) if src is not None else None
            yield ChunkTask(steps, parts[k : k + CHUNK_RECORDS], base + k, sub_src, check)


def _first_partner(cols: list[NDArray[np.uint64]], n: int) -> NDArray[np.int64]:
    """For each element: the smallest index sharing a key with it in any column (itself if none)."""
    import numpy as np

    first = np.arange(n, dtype=np.int64)
    for col in cols:
        order = np.argsort(col, kind="stable")
        sk = col[order]
        new = np.ones(n, dtype=bool)
        if n > 1:
            np.not_equal(sk[1:], sk[:-1], out=new[1:])
        start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
        f = np.empty(n, dtype=np.int64)
        f[order] = order[start]
        np.minimum(first, f, out=first)
    # follow each chain to its root: the kept (earliest) record of the group
    while True:
        nxt = first[first]
        if np.array_equal(nxt, first):
            return first
        first = nxt


def _first_equal(rows: NDArray[np.uint64]) -> NDArray[np.int64]:
    """For each row: the smallest index of a row equal to it in every column."""
    import numpy as np

    n = len(rows)
    order = np.lexsort(rows.T[::-1])  # stable: equal rows stay in index order
    sk = rows[order]
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = np.any(sk[1:] != sk[:-1], axis=1)
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    first = np.empty(n, dtype=np.int64)
    first[order] = order[start]
    return first


def decide(steps: Sequence[FilterStep], codes: list[Any], keys: list[Any], n: int) -> Decisions:
    """Phase 2 (see the module docstring) on the gathered per-record arrays."""
    import numpy as np

    dropped_at = np.full(n, -1, dtype=np.int16)
    code = np.zeros(n, dtype=np.uint8)
    dup_of = np.full(n, -1, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    reached = []
    for s, step in enumerate(steps):
        reached.append(int(alive.sum()))
        if codes[s] is not None:
            hit = alive & (codes[s] != 0)
            dropped_at[hit] = s
            code[hit] = codes[s][hit]
            alive &= ~hit
            continue
        idx = np.flatnonzero(alive)
        k = keys[s][idx]
        if step.method is FilterMethod.EXACT_DEDUP:  # one key in several columns: all must match
            root = _first_equal(k)
        else:  # LSH bands: sharing any one band key makes records partners
            cols = [k] if k.ndim == 1 else [np.ascontiguousarray(k[:, j]) for j in range(k.shape[1])]
            root = _first_partner(cols, len(idx))
        dup = root != np.arange(len(idx))
        gi = idx[dup]
        dropped_at[gi] = s
        code[gi] = 1
        dup_of[gi] = idx[root[dup]]
        alive[gi] = False
    return Decisions(dropped_at, code, dup_of, reached)


def _gather(
    outs: Iterator[ChunkOut], steps: Sequence[FilterStep], n_hint: int | None, source: str
) -> tuple[list[Any], list[Any], int]:
    import numpy as np

    codes: list[list[Any]] = [[] for _ in steps]
    keys: list[list[Any]] = [[] for _ in steps]
    n = 0
    for out in outs:
        if out.error is not None:
            msg, line, path = out.error
            raise DataPrepError(msg, path=source, line=line, field=path)
        for s in range(len(steps)):
            if out.codes[s] is not None:
                codes[s].append(out.codes[s])
            else:
                keys[s].append(out.keys[s])
        n += out.n
    del n_hint
    cat_codes = [np.concatenate(c) if c else None for c in codes]
    cat_keys = [np.concatenate(k) if k else None for k in keys]
    return cat_codes, cat_keys, n


def _write(
    store: Store | SourceStore,
    steps: Sequence[FilterStep],
    dec: Decisions,
    out_dirs: Sequence[str],
    explicit: Sequence[bool],
    line_of: Sequence[int] | None,
) -> tuple[Store, list[FilterOperationResult]]:
    """Phase 3: one more pass over the records writes what phase 2 decided."""
    import numpy as np

    outputs = Outputs(store.source, steps, out_dirs, explicit)
    try:
        lines = np.asarray(line_of, dtype=np.int64) if line_of is not None else None
        # a file read in place was checked by the analysis pass (and may not change since)
        batches = store.batches(check=False) if isinstance(store, SourceStore) else store.batches()
        for parts, src, base in batches:
            n = len(parts)
            d = dec.dup_of[base : base + n]
            dup_line = np.where(d >= 0, lines[d] if lines is not None else d + 1, -1)
            outputs.emit(parts, src, base, dec.dropped_at[base : base + n], dec.code[base : base + n], dup_line)
    except BaseException:
        outputs.abort()
        raise
    return outputs.finish(dec.reached)


def _streamable(steps: Sequence[FilterStep]) -> bool:
    """Whether every decision can be taken chunk by chunk, in order (no FUZZY_DEDUP: a later
    record can join two earlier near-duplicate groups and change which record is kept)."""
    return all(s.method is not FilterMethod.FUZZY_DEDUP for s in steps)


def _stream(
    store: Store | SourceStore,
    steps: Sequence[FilterStep],
    executor: Executor,
    out_dirs: Sequence[str],
    explicit: Sequence[bool],
) -> tuple[Store, int, list[FilterOperationResult]]:
    """Analyse, decide and write in one pass: each chunk is decided as its result arrives
    (EXACT_DEDUP keeps a table of the keys seen so far) and written while later chunks are
    still being analysed. Same decisions as :func:`decide` on the whole dataset."""
    import collections

    import numpy as np

    from amzn_nova_forge.dataset._curation._index import ExactIndex

    shipped = tuple(dataclasses.replace(s, runtime_manager=None) for s in steps)
    sent: collections.deque[ChunkTask] = collections.deque()

    def tasks() -> Iterator[ChunkTask]:
        for t in _tasks(store, shipped, []):
            sent.append(t)
            yield t

    index = {s: ExactIndex() for s, step in enumerate(steps) if step.method is FilterMethod.EXACT_DEDUP}
    reached = [0] * len(steps)
    total = 0
    outputs = Outputs(store.source, steps, out_dirs, explicit)
    try:
        for out in executor.map(analyse, tasks()):
            task = sent.popleft()
            if out.error is not None:
                msg, line, path = out.error
                raise DataPrepError(msg, path=store.source, line=line, field=path)
            n = out.n
            lines = np.asarray(task.src, dtype=np.int64) if task.src is not None else np.arange(1, n + 1) + task.base
            alive = np.ones(n, dtype=bool)
            at = np.full(n, -1, dtype=np.int16)
            code = np.zeros(n, dtype=np.uint8)
            dup_line = np.full(n, -1, dtype=np.int64)
            for s in range(len(steps)):
                reached[s] += int(alive.sum())
                if out.codes[s] is not None:
                    hit = alive & (out.codes[s] != 0)
                    code[hit] = out.codes[s][hit]
                else:
                    first = index[s].add(out.keys[s], alive, lines)
                    hit = first >= 0
                    code[hit] = 1
                    dup_line[hit] = first[hit]
                at[hit] = s
                alive &= ~hit
            outputs.emit(task.lines, task.src, task.base, at, code, dup_line, out.detail)
            total += n
    except BaseException:
        outputs.abort()
        raise
    if total == 0:  # a file read in place that holds only blank lines
        outputs.abort()
        raise DataPrepError("there are no records to filter (the dataset is empty)", path=store.source)
    new, results = outputs.finish(reached)
    return new, total, results


def run_pipeline(
    steps: Sequence[FilterStep],
    store: Store | SourceStore,
    executor: Executor,
    out_dirs: Sequence[str],
    explicit: Sequence[bool] | None = None,
) -> tuple[Store, CurationResult]:
    """Run ``steps`` over ``store`` on ``executor``; returns the kept records and the counts.

    Pipelines without FUZZY_DEDUP run in one streaming pass (:func:`_stream`); with it, in
    the three phases of the module docstring.

    Raises:
        DataPrepError: The store is empty, or a record lacks the text field / has the wrong
            type (the message names the file, line and field).
    """
    if store.count == 0:
        raise DataPrepError("there are no records to filter (the dataset is empty)", path=store.source)
    t0 = time.perf_counter()
    explicit = explicit or [False] * len(steps)
    if isinstance(executor, LocalExecutor) and any(s.method in _KERNEL_STEPS for s in steps):
        from amzn_nova_forge.dataset._curation._kernels import warm

        warm()  # compile or load once here: the forked workers inherit it
    if _streamable(steps):
        new, n, results = _stream(store, steps, executor, out_dirs, explicit)
    else:
        shipped = tuple(dataclasses.replace(s, runtime_manager=None) for s in steps)
        line_map: list[array[int]] = []
        outs = executor.map(analyse, _tasks(store, shipped, line_map))
        codes, keys, n = _gather(outs, steps, store.count, store.source)
        if n == 0:  # a file read in place that holds only blank lines
            raise DataPrepError("there are no records to filter (the dataset is empty)", path=store.source)
        dec = decide(steps, codes, keys, n)
        del codes, keys
        line_of = store.lines if store.lines is not None else (line_map[0] if line_map else None)
        new, results = _write(store, steps, dec, out_dirs, explicit, line_of)
    seconds = time.perf_counter() - t0
    result = CurationResult(results, n, new.count or 0, seconds, executor.name)
    logger.info("Filters done: %s", result)
    return new, result
