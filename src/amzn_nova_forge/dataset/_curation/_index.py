"""Compiled helpers of the one-pass pipeline: the EXACT_DEDUP index and the JSON-rule scan.

* :class:`ExactIndex` — the EXACT_DEDUP keys seen so far, so that each chunk is decided as its
  analysis arrives (:func:`._pipeline._stream`).
* :func:`rule_lines` — the lines of a chunk read in place that may break a JSON rule orjson
  does not enforce, found by the workers in one byte scan.

Compiled by numba like :mod:`._kernels` (plain Python without it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from amzn_nova_forge.dataset._curation._jit import _jit, _u

__all__ = ["ExactIndex", "rule_lines"]


@_jit
def _first_seen(tab: Any, val: Any, keys: Any, alive: Any, lines: Any, out: Any, filled: int) -> int:
    n = len(keys)
    mask = len(val) - 1
    for i in range(n):
        if not alive[i]:
            continue
        a = keys[i, 0]
        b = keys[i, 1]
        t = np.int64(a & _u(mask))
        while True:
            if val[t] == 0:
                tab[t, 0] = a
                tab[t, 1] = b
                val[t] = lines[i]
                filled += 1
                break
            if tab[t, 0] == a and tab[t, 1] == b:
                out[i] = val[t]
                break
            t = (t + 1) & mask
    return filled


@_jit
def _rule_lines(blob: Any, out: Any) -> int:
    n = 0
    line = 0
    start = 0
    run = 0
    brackets = 0
    digits19 = False
    for i in range(len(blob)):
        b = blob[i]
        if b == 10:
            if digits19 or (i - start > 256 and brackets > 128):
                out[n] = line
                n += 1
            line += 1
            start = i + 1
            run = 0
            brackets = 0
            digits19 = False
        else:
            run = (run + 1) * (48 <= b <= 57)
            digits19 |= run >= 19
            brackets += (b == 123) | (b == 91)
    if digits19 or (len(blob) - start > 256 and brackets > 128):
        out[n] = line
        n += 1
    return n


def rule_lines(blob: bytes) -> list[int]:
    """Lines (0-based) of ``blob`` (lines joined by ``\\n``) that may break a JSON rule orjson
    does not enforce: 19 digits in a row (an integer beyond 64 bits?) or, in a line over 256
    bytes, more than 128 ``{``/``[`` (nesting beyond 128?). The same lines as
    :func:`.._jsonrules.scan_chunk` and :func:`.._jsonrules.deep_lines` find, in one pass;
    :func:`.._jsonrules.problem` decides."""
    arr = np.frombuffer(blob, dtype=np.uint8)
    out = np.empty(arr.size // 20 + 2, dtype=np.int64)  # a flagged line holds at least 19 bytes
    return out[: _rule_lines(arr, out)].tolist()  # type: ignore[no-any-return]


class ExactIndex:
    """The EXACT_DEDUP keys seen so far, each with the source line of its first record.

    An open-addressing table (24 bytes a slot, 30-60 % full: 40-80 bytes a distinct
    record), filled chunk after chunk in input order, so the first record of each key is
    the one kept, exactly as in the whole-dataset decision.

    Example:
        >>> idx = ExactIndex()
        >>> k = np.array([[1, 2], [3, 4], [1, 2]], dtype=np.uint64)
        >>> idx.add(k, np.ones(3, dtype=bool), np.array([1, 2, 3])).tolist()
        [-1, -1, 1]
    """

    def __init__(self, capacity: int = 1 << 18) -> None:
        self._tab = np.zeros((capacity, 2), dtype=np.uint64)
        self._val = np.zeros(capacity, dtype=np.int64)  # source line (>= 1); 0 = empty slot
        self._filled = 0

    def add(self, keys: NDArray[np.uint64], alive: NDArray[np.bool_], lines: NDArray[np.int64]) -> NDArray[np.int64]:
        """Insert the ``alive`` rows of ``keys`` in order; per row, the line of the earlier
        record with the same key (-1 when the row is the first, or not alive)."""
        need = self._filled + int(alive.sum())
        if need * 5 > len(self._val) * 3:
            self._grow(need)
        out = np.full(len(keys), -1, dtype=np.int64)
        self._filled = _first_seen(self._tab, self._val, keys, alive, lines.astype(np.int64), out, self._filled)
        return out

    def _grow(self, need: int) -> None:
        size = len(self._val)
        while need * 5 > size * 3:
            size *= 2
        used = self._val > 0
        tab, val = self._tab[used], self._val[used]
        self._tab = np.zeros((size, 2), dtype=np.uint64)
        self._val = np.zeros(size, dtype=np.int64)
        dummy = np.full(len(val), -1, dtype=np.int64)
        self._filled = _first_seen(self._tab, self._val, tab, np.ones(len(val), dtype=np.bool_), val, dummy, 0)
