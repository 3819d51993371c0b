"""The filter pipeline driver: analyse chunks anywhere, decide here, write the outputs.

Three phases over a store of records (:mod:`amzn_nova_forge.dataset._store`):

1. **Analyse** — the store is cut into chunks of :data:`CHUNK_RECORDS` records, and the
   executor runs :func:`._chunk.analyse` on each (in parallel, results in order). What comes
   back is small: one reason code per record and step, and the dedup keys.
2. **Decide** — steps are applied in queue order on whole-dataset arrays: a record-local
   step drops the records it flagged among those still alive; a dedup step keeps, in each
   group of records sharing a key (EXACT) or any LSH band key (FUZZY), the **first in input
   order** and drops the rest, each pointing at the kept record of its group. The result is
   the same whatever the executor or the chunking.
3. **Write** — one more streaming pass writes the kept records to a new store and every
   dropped record, with its step and reason, to that step's ``dropped.jsonl``; each step's
   ``_summary.json`` has its counts. With an explicit ``output_path`` the records a step
   kept are also written there (``part-00000.jsonl``). The source is never written.

Memory: the chunks in flight, one byte per record and step, 8 bytes per record for
EXACT_DEDUP and ``8 * bands`` for FUZZY_DEDUP (16 bands: 128 MB per million records).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation._chunk import LANG_REASONS, ChunkOut, ChunkTask, analyse
from amzn_nova_forge.dataset._curation._executors import Executor
from amzn_nova_forge.dataset._curation._params import FilterStep
from amzn_nova_forge.dataset._curation._result import CurationResult, FilterOperationResult
from amzn_nova_forge.dataset._store import Store, StoreWriter
from amzn_nova_forge.errors import DataPrepError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["CHUNK_RECORDS", "Decisions", "decide", "run_pipeline"]

logger = logging.getLogger(__name__)

#: Records per task: big enough to vectorise well, small enough to keep workers' memory low.
CHUNK_RECORDS = 8192

_SUMMARY_ALIAS = {
    FilterMethod.EXACT_DEDUP: "duplicates_removed",
    FilterMethod.FUZZY_DEDUP: "num_duplicates",
    FilterMethod.LANGUAGE_DETECTION: "num_filtered",
    FilterMethod.DEFAULT_TEXT_FILTER: "num_filtered",
    FilterMethod.INVALID_RECORDS: "num_filtered",
}


@dataclasses.dataclass
class Decisions:
    """Per record: the step that dropped it (-1 kept), its reason code, its group's kept record."""

    dropped_at: NDArray[np.int16]
    code: NDArray[np.uint8]
    dup_of: NDArray[np.int64]
    reached: list[int]  # records that reached each step


def _tasks(store: Store, steps: tuple[FilterStep, ...]) -> Iterator[ChunkTask]:
    for parts, src, base in store.batches():
        for k in range(0, len(parts), CHUNK_RECORDS):
            sub_src = list(src[k : k + CHUNK_RECORDS]) if src is not None else None
            yield ChunkTask(steps, parts[k : k + CHUNK_RECORDS], base + k, sub_src)


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
        cols = [k] if k.ndim == 1 else [np.ascontiguousarray(k[:, j]) for j in range(k.shape[1])]
        root = _first_partner(cols, len(idx))
        dup = root != np.arange(len(idx))
        gi = idx[dup]
        dropped_at[gi] = s
        code[gi] = 1
        dup_of[gi] = idx[root[dup]]
        alive[gi] = False
        del step
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


def _reason(step: FilterStep, c: int, raw: bytes, dup_line: int | None) -> str:
    m, p = step.method, step.params
    if m is FilterMethod.EXACT_DEDUP:
        return f"exact duplicate (normalised text) of line {dup_line}"
    if m is FilterMethod.FUZZY_DEDUP:
        return f"near-duplicate (MinHash LSH, threshold {p['threshold']}) of line {dup_line}"
    rec = orjson.loads(raw)
    if m is FilterMethod.INVALID_RECORDS:
        from amzn_nova_forge.dataset._curation._chunk import record_problems

        return "; ".join(f"{path}: {msg}" for path, msg in record_problems(rec, p)) or "invalid"
    text = rec.get(step.text_field, "")
    if m is FilterMethod.DEFAULT_TEXT_FILTER:
        from amzn_nova_forge.dataset._curation._textrules import explain

        return explain(text, p)
    from amzn_nova_forge.dataset._curation._chunk import detect

    found = detect(text)
    what = f"detected {found[0]!r} with probability {found[1]:.2f}" if found else "no language detected"
    return f"{LANG_REASONS[c]}: {what}; allowed {p['languages']}, min_score {p['min_score']}"


def _text_reasons(steps: Sequence[FilterStep], at: Any, parts: list[bytes], gone: list[int]) -> dict[int, str]:
    """DEFAULT_TEXT_FILTER reasons of a batch's dropped records, measured in one vectorised call."""
    from amzn_nova_forge.dataset._curation._textrules import explain_many

    out: dict[int, str] = {}
    for s, step in enumerate(steps):
        if step.method is not FilterMethod.DEFAULT_TEXT_FILTER:
            continue
        idx = [i for i in gone if int(at[i]) == s]
        if idx:
            texts = [orjson.loads(parts[i])[step.text_field] for i in idx]
            out.update(zip(idx, explain_many(texts, step.params), strict=True))
    return out


def _reason_name(step: FilterStep, c: int) -> str:
    from amzn_nova_forge.dataset._curation._textrules import RULES

    if step.method is FilterMethod.DEFAULT_TEXT_FILTER:
        return RULES[c]
    if step.method is FilterMethod.LANGUAGE_DETECTION:
        return LANG_REASONS[c]
    if step.method is FilterMethod.INVALID_RECORDS:
        return "invalid"
    return "duplicate"


def _write(
    store: Store,
    steps: Sequence[FilterStep],
    dec: Decisions,
    out_dirs: Sequence[str],
    explicit: Sequence[bool],
) -> tuple[Store, list[FilterOperationResult]]:
    import numpy as np

    source = store.source
    line_of = store.lines
    reasons: list[dict[str, int]] = [{} for _ in steps]
    writer = StoreWriter(source)
    try:
        with contextlib.ExitStack() as stack:
            dropped = [stack.enter_context(storage.open_write(storage.join(d, "dropped.jsonl"))) for d in out_dirs]
            kept_files = [
                stack.enter_context(storage.open_write(storage.join(d, "part-00000.jsonl"))) if explicit[s] else None
                for s, d in enumerate(out_dirs)
            ]
            for parts, src, base in store.batches():
                n = len(parts)
                at = dec.dropped_at[base : base + n]
                keep = np.flatnonzero(at < 0).tolist()
                if keep:
                    writer.write_blob(
                        b"\n".join(parts[i] for i in keep) + b"\n",
                        len(keep),
                        [src[i] for i in keep] if src is not None else [base + i + 1 for i in keep],
                    )
                for s, f in enumerate(kept_files):
                    if f is not None:
                        ks = np.flatnonzero((at < 0) | (at > s)).tolist()
                        if ks:
                            f.write(b"\n".join(parts[i] for i in ks) + b"\n")
                gone = np.flatnonzero(at >= 0).tolist()
                batched = _text_reasons(steps, at, parts, gone)
                for i in gone:
                    s = int(at[i])
                    g = base + i
                    c = int(dec.code[g])
                    d = int(dec.dup_of[g])
                    dup_line = (int(line_of[d]) if line_of is not None else d + 1) if d >= 0 else None
                    line = src[i] if src is not None else g + 1
                    name = _reason_name(steps[s], c)
                    reasons[s][name] = reasons[s].get(name, 0) + 1
                    why = batched.get(i) or _reason(steps[s], c, parts[i], dup_line)
                    meta: dict[str, Any] = {"line": line, "filter": steps[s].method.value, "reason": why}
                    if dup_line is not None:
                        meta["duplicate_of_line"] = dup_line
                    dropped[s].write(orjson.dumps(meta)[:-1] + b',"record":' + parts[i] + b"}\n")
        new = writer.finish()
    except BaseException:
        writer.abort()
        raise
    results = []
    for s, step in enumerate(steps):
        total = dec.reached[s]
        filtered = sum(reasons[s].values())
        summary = {
            "method": step.method.value,
            "input_count": total,
            "output_count": total - filtered,
            "filtered_count": filtered,
            _SUMMARY_ALIAS[step.method]: filtered,
            "reasons": reasons[s],
            "params": step.to_dict()["params"],
        }
        storage.write_bytes(
            storage.join(out_dirs[s], "_summary.json"), orjson.dumps(summary, option=orjson.OPT_INDENT_2)
        )
        results.append(
            FilterOperationResult(
                "SUCCEEDED",
                out_dirs[s],
                filtered_count=filtered,
                total_count=total,
                filters_applied=_applied(step),
                method=step.method.value,
                dropped_path=storage.join(out_dirs[s], "dropped.jsonl"),
                reasons=reasons[s],
            )
        )
    return new, results


def _applied(step: FilterStep) -> list[str]:
    from amzn_nova_forge.dataset._curation._textrules import RULES

    if step.method is FilterMethod.DEFAULT_TEXT_FILTER:
        return list(RULES[1:])
    if step.method is FilterMethod.INVALID_RECORDS:
        return ["schema"]
    return [step.method.value]


def run_pipeline(
    steps: Sequence[FilterStep],
    store: Store,
    executor: Executor,
    out_dirs: Sequence[str],
    explicit: Sequence[bool] | None = None,
) -> tuple[Store, CurationResult]:
    """Run ``steps`` over ``store`` on ``executor``; returns the kept records and the counts.

    Raises:
        DataPrepError: The store is empty, or a record lacks the text field / has the wrong
            type (the message names the file, line and field).
    """
    if not store.count:
        raise DataPrepError("there are no records to filter (the dataset is empty)", path=store.source)
    t0 = time.perf_counter()
    shipped = tuple(dataclasses.replace(s, runtime_manager=None) for s in steps)
    outs = executor.map(analyse, _tasks(store, shipped))
    codes, keys, n = _gather(outs, steps, store.count, store.source)
    dec = decide(steps, codes, keys, n)
    del codes, keys
    new, results = _write(store, steps, dec, out_dirs, explicit or [False] * len(steps))
    seconds = time.perf_counter() - t0
    result = CurationResult(results, n, new.count or 0, seconds, executor.name)
    logger.info("Filters done: %s", result)
    return new, result
