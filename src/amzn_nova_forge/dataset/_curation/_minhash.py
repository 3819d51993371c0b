"""``FUZZY_DEDUP``: MinHash signatures and LSH band keys, vectorised over a batch.

* Shingles: character ``ngram_size``-grams (the official default, 24) or word n-grams
  (``shingle="word"``) of the lower-cased, whitespace-collapsed text; each is hashed once
  (64-bit polynomial hash, see :mod:`._vec`) and folded to 32 bits. A non-empty document
  shorter than one n-gram is one shingle (its whole text).
* Permutations: ``h_i(x) = (a_i * x + b_i) mod 2**32`` with odd random ``a_i`` (seeded by
  ``seed``), applied to a block of documents at once, one shingle column at a time, as
  ``(documents, num_perm)`` arrays; the signature is the running minimum.
* Banding: ``num_bands`` bands of ``rows_per_band`` rows, each folded into one ``uint64``
  key. When not given, ``(bands, rows)`` is the choice with the fewest false positives that
  still finds a pair of similarity exactly ``threshold`` with probability >= 0.95
  (:func:`lsh_params`; 16 x 7 for 112 permutations at 0.8, 28 x 9 for 256).

Two documents are candidates when any band key matches; the driver (:mod:`._pipeline`) keeps
the first of each group in input order. The probability that a pair of Jaccard similarity
``s`` shares a band is ``1 - (1 - s**r)**b``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.dataset._curation._vec import TextBatch

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["band_keys", "lsh_params", "normalise", "signatures"]

_BLOCK_DOCS = 4096  # documents per permutation block: (4096, num_perm) uint32 = 4 MiB at 256


@functools.lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, min_recall: float = 0.95) -> tuple[int, int]:
    """``(bands, rows)`` for ``threshold``: the fewest false positives (area under the S-curve
    below ``threshold``) among the choices with ``bands * rows <= num_perm`` that still catch a
    pair of similarity exactly ``threshold`` with probability ``>= min_recall``."""
    import numpy as np

    lo = np.linspace(0.0, threshold, 200)
    best, best_fp = (num_perm, 1), float("inf")
    for r in range(1, num_perm + 1):
        b = num_perm // r
        if 1 - (1 - threshold**r) ** b < min_recall:
            continue
        fp = float(np.trapezoid(1 - (1 - lo**r) ** b, lo))
        if fp < best_fp:
            best, best_fp = (b, r), fp
    return best


def normalise(text: str, lowercase: bool) -> str:
    """Whitespace runs collapsed to one space, ends stripped (and lower-cased)."""
    text = " ".join(text.split())
    return text.lower() if lowercase else text


@functools.lru_cache(maxsize=16)
def _perms(num_perm: int, seed: int) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def signatures(texts: list[str], p: Mapping[str, Any]) -> NDArray[np.uint32]:
    """The ``(len(texts), num_perm)`` MinHash signatures (an empty text: all ``2**32 - 1``)."""
    import numpy as np

    batch = TextBatch([normalise(t, bool(p["lowercase"])) for t in texts])
    n = int(p["ngram_size"])
    if p["shingle"] == "word":
        hashes, docs = batch.word_ngrams(n, whole_if_short=True)
    else:
        hashes, docs = batch.char_ngrams(n, whole_if_short=True)
    x = (hashes >> np.uint64(32)).astype(np.uint32)
    num_perm = int(p["num_perm"])
    a, b = _perms(num_perm, int(p["seed"]))
    sig = np.full((batch.n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    if not len(x):
        return sig
    # Documents sorted by shingle count, in blocks of similar counts; each block is padded to
    # its longest document by repeating a document's last shingle (a repeat cannot change a
    # minimum), then the permutations run one shingle column at a time over (docs, num_perm).
    per_doc = np.bincount(docs, minlength=batch.n)
    seg = np.zeros(batch.n + 1, dtype=np.int64)
    np.cumsum(per_doc, out=seg[1:])
    has = np.flatnonzero(per_doc)
    order = has[np.argsort(per_doc[has], kind="stable")]
    for k in range(0, len(order), _BLOCK_DOCS):
        ids = order[k : k + _BLOCK_DOCS]
        cnt = per_doc[ids]
        m = np.full((len(ids), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        for j in range(int(cnt[-1])):
            col = x[seg[ids] + np.minimum(j, cnt - 1)]
            v = col[:, None] * a
            v += b
            np.minimum(m, v, out=m)
        sig[ids] = m
    return sig


def band_keys(sig: NDArray[np.uint32], bands: int, rows: int) -> NDArray[np.uint64]:
    """One ``uint64`` key per document and band: ``(n, bands)``."""
    import numpy as np

    from amzn_nova_forge.dataset._curation._vec import mix64

    n = sig.shape[0]
    cut = sig[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    mult = (np.arange(1, rows + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
    keys = np.zeros((n, bands), dtype=np.uint64)
    for j in range(rows):
        keys = mix64(keys ^ (cut[:, :, j] * mult[j]))
    return keys
