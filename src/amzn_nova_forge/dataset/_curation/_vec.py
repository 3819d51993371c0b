"""Vectorised text: a batch of documents as one code-point array, with O(1) substring hashes.

Every per-document measure of the filters (lengths, character classes, URL spans, word and
character n-grams, MinHash shingles) is computed on the whole batch at once with numpy,
never in a Python loop per record. The batch is the concatenation of its documents'
Unicode code points (``uint32``); ``starts[d]:starts[d+1]`` is document ``d``.

Substring hashes use a polynomial prefix hash modulo 2**64: with ``H[i] = sum_{j<i} cp[j] *
P**j``, the hash of ``cp[s:e]`` is ``(H[e] - H[s]) * P**-s`` (``P`` is odd, so it has an
inverse modulo 2**64). The same trick over the sequence of word hashes gives word n-gram
hashes. These hashes decide approximate filters (repetition ratios, MinHash); exact dedup
uses a cryptographic hash instead (see :mod:`._chunk`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["TextBatch", "mix64", "substring_hashes"]

_P = 0x100000001B3  # odd: invertible modulo 2**64
_Q = 0x9E3779B97F4A7C15  # a second odd multiplier for sequences of word hashes
_SPACES = (9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)


def mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser: spreads a 64-bit value's entropy over all its bits."""
    import numpy as np

    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class _Prefix:
    """Prefix hashes of a ``uint64`` sequence, for O(1) hashes of any slice."""

    def __init__(self, seq: NDArray[np.uint64], base: int) -> None:
        import numpy as np

        n = len(seq)
        pw = np.full(n, base, dtype=np.uint64)
        ipw = np.full(n, pow(base, -1, 1 << 64), dtype=np.uint64)
        if n:
            pw[0] = ipw[0] = 1
        np.cumprod(pw, out=pw)
        np.cumprod(ipw, out=ipw)
        self.h = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(seq * pw, out=self.h[1:])
        self.ipw = ipw

    def slices(self, s: NDArray[np.int64], e: NDArray[np.int64]) -> NDArray[np.uint64]:
        """Hashes of ``seq[s[k]:e[k]]`` (each ``s[k] < len(seq)``)."""
        return mix64((self.h[e] - self.h[s]) * self.ipw[s])


def substring_hashes(cp: NDArray[np.uint32], s: NDArray[np.int64], e: NDArray[np.int64]) -> NDArray[np.uint64]:
    """Hashes of ``cp[s[k]:e[k]]`` for each ``k`` (a one-off helper for tests and callers)."""
    return _Prefix(cp.astype("uint64"), _P).slices(s, e)


class TextBatch:
    """A list of documents as one array of code points, with word boundaries and hashes.

    Args:
        texts: The documents.

    Attributes:
        n: Number of documents.
        cp: All code points, ``uint32``.
        lengths: Characters per document.
        starts: ``n + 1`` offsets into ``cp``.
    """

    def __init__(self, texts: list[str]) -> None:
        import numpy as np

        self.n = len(texts)
        self.texts = texts
        self.lengths = np.fromiter(map(len, texts), dtype=np.int64, count=self.n)
        self.starts = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.starts[1:])
        joined = "".join(texts)
        self.joined = joined
        self.cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self._prefix: _Prefix | None = None
        self._pos_doc: NDArray[np.int64] | None = None
        self._words: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None = None
        self._word_hashes: NDArray[np.uint64] | None = None

    # ---------------------------------------------------------------- per position
    def doc_of(self, pos: NDArray[np.int64]) -> NDArray[np.int64]:
        """Document index of each code-point position."""
        if self._pos_doc is None:
            import numpy as np

            self._pos_doc = np.repeat(np.arange(self.n, dtype=np.int64), self.lengths)
        return self._pos_doc[pos]

    def per_doc_sum(self, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Count of ``True`` positions of ``mask`` (one per code point) in each document."""
        import numpy as np

        return np.bincount(self.doc_of(np.flatnonzero(mask)), minlength=self.n).astype(np.int64)

    @property
    def prefix(self) -> _Prefix:
        if self._prefix is None:
            self._prefix = _Prefix(self.cp.astype("uint64"), _P)
        return self._prefix

    # ---------------------------------------------------------------- words
    def words(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """``(start, end, doc)`` of every whitespace-separated word, in order."""
        import numpy as np

        if self._words is None:
            cp = self.cp
            table = np.zeros(0x3002, dtype=bool)  # every code point above U+3000 maps to the last
            table[list(_SPACES)] = True  # entry, which is False: not a separator
            space = table[np.minimum(cp, 0x3001)]
            ns = ~space
            first = np.zeros(len(cp), dtype=bool)
            last = np.zeros(len(cp), dtype=bool)
            if len(cp):
                first[1:] = space[:-1]
                last[:-1] = space[1:]
                bounds = self.starts[1:-1][self.starts[1:-1] < len(cp)]
                first[0] = True
                first[bounds] = True
                last[-1] = True
                last[bounds - 1] = True
            ws = np.flatnonzero(ns & first)
            we = np.flatnonzero(ns & last) + 1
            self._words = (ws, we, self.doc_of(ws) if len(ws) else ws)
        return self._words

    def word_hashes(self) -> NDArray[np.uint64]:
        """A 64-bit hash of each word (its exact characters)."""
        if self._word_hashes is None:
            ws, we, _ = self.words()
            self._word_hashes = self.prefix.slices(ws, we)
        return self._word_hashes

    def word_counts(self) -> NDArray[np.int64]:
        import numpy as np

        return np.bincount(self.words()[2], minlength=self.n).astype(np.int64)

    # ---------------------------------------------------------------- n-grams
    def char_ngrams(self, n: int, *, whole_if_short: bool = False) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
        """Hashes and document of every ``n``-character window inside one document.

        With ``whole_if_short``, a non-empty document shorter than ``n`` contributes one
        hash of its whole text (so it still has a shingle).
        """
        import numpy as np

        m = len(self.cp)
        if m < n:
            pos = np.zeros(0, dtype=np.int64)
        else:
            pos = np.arange(m - n + 1, dtype=np.int64)
            ends = np.repeat(self.starts[1:], self.lengths)[: len(pos)]
            pos = pos[pos + n <= ends]
        hashes = self.prefix.slices(pos, pos + n)
        docs = self.doc_of(pos) if len(pos) else pos
        if whole_if_short:
            short = np.flatnonzero((self.lengths > 0) & (self.lengths < n))
            if len(short):
                extra = self.prefix.slices(self.starts[short], self.starts[short + 1])
                hashes, docs = _merge(hashes, docs, extra, short)
        return hashes, docs

    def word_ngrams(self, n: int, *, whole_if_short: bool = False) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
        """Hashes and document of every ``n``-word window inside one document."""
        import numpy as np

        wh = self.word_hashes()
        wdoc = self.words()[2]
        counts = self.word_counts()
        wstarts = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts, out=wstarts[1:])
        k = len(wh)
        pref = _Prefix(wh, _Q)
        if k < n:
            pos = np.zeros(0, dtype=np.int64)
        else:
            pos = np.arange(k - n + 1, dtype=np.int64)
            pos = pos[pos + n <= wstarts[1:][wdoc[: len(pos)]]]
        hashes = pref.slices(pos, pos + n)
        docs = wdoc[pos]
        if whole_if_short:
            short = np.flatnonzero((counts > 0) & (counts < n))
            if len(short):
                extra = pref.slices(wstarts[short], wstarts[short + 1])
                hashes, docs = _merge(hashes, docs, extra, short)
        return hashes, docs


def _merge(
    hashes: NDArray[np.uint64], docs: NDArray[np.int64], extra: NDArray[np.uint64], extra_docs: NDArray[np.int64]
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    import numpy as np

    all_docs = np.concatenate([docs, extra_docs])
    order = np.argsort(all_docs, kind="stable")
    return np.concatenate([hashes, extra])[order], all_docs[order]
