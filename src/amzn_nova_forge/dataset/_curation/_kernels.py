"""Compiled per-document kernels: the DEFAULT_TEXT_FILTER measures and the EXACT_DEDUP key.

Each kernel walks a batch of documents given as one array of code points (``chars``: one
byte a character when the batch is ASCII, else UTF-32) and ``n + 1`` offsets (``off``), and
measures every document in
**one pass over its characters** with small per-document hash tables (reused across
documents, never cleared: a slot belongs to the current document when its stamp says so).
This is the only implementation of these measures: the local workers, Ray tasks and the
SageMaker job all call it.

With numba installed (``pip install 'amzn-nova-forge[curation]'``) the kernels are compiled
to machine code on first use and cached on disk; without it the very same functions run as
plain Python (about two orders of magnitude slower: fine for tests and small data, and
:func:`compiled` says which one runs).

Definitions (the ones the rules in :mod:`._textrules` document):

* a **word** is a maximal run of characters that are not in :data:`WORD_SEPARATORS`;
* a **URL** is what ``(?:https?://|www\\.)\\S+`` matches with ``re.IGNORECASE`` (``\\s`` is
  ``str.isspace``; ``ſ`` matches ``s`` as it does in ``re``);
* **mojibake** is what ``[ÃÂâ][\\u0080-\\u00bf\\u2010-\\u203a€™ŒœŠšŸŽž]+|\\ufffd+`` matches;
* n-gram hashes are 64-bit polynomial hashes (mixed); the EXACT_DEDUP key is 128 bits: a
  polynomial hash and a position-keyed sum of the normalised text (``" ".join(text.split())``),
  and a rotate-xor-multiply hash of it: two unrelated constructions, so structured inputs that defeat one do not defeat the other.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from amzn_nova_forge.dataset._curation._jit import _inline, _jit, _u, compiled

__all__ = [
    "MEASURES",
    "WORD_SEPARATORS",
    "compiled",
    "encode",
    "exact_keys",
    "text_measures",
    "warm",
]

#: Characters that separate words (the repetition rules and FUZZY_DEDUP's word shingles).
WORD_SEPARATORS = (9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)

_P = 0x100000001B3
_Q = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB


# ----------------------------------------------------------------------------- helpers
# Arithmetic is written on numpy uint64 values so that it wraps modulo 2**64 both compiled
# and in plain Python (numpy scalars wrap; overflow warnings are silenced by the callers).


@_inline
def _mix(x: Any) -> Any:
    """splitmix64's finaliser."""
    x = x ^ (x >> _u(30))
    x = x * _u(_C1)
    x = x ^ (x >> _u(27))
    x = x * _u(_C2)
    return x ^ (x >> _u(31))


@_inline
def _is_sep(c: int) -> bool:
    """A word separator (:data:`WORD_SEPARATORS`)."""
    if c <= 32:
        return c == 32 or 9 <= c <= 13
    if c < 0x85:
        return False
    return c in (0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)


@_inline
def _is_space(c: int) -> bool:
    """``chr(c).isspace()`` (what ``\\s`` and ``str.split()`` use)."""
    if c <= 32:
        return c == 32 or 9 <= c <= 13 or 28 <= c <= 31
    if c < 0x85:
        return False
    return c in (0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000) or 0x2000 <= c <= 0x200A


@_inline
def _is_alnum(c: int) -> bool:
    if c < 128:
        return 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122
    return not (
        c < 0xC0 or 0x2000 <= c < 0x2C00 or 0x3000 <= c < 0x3040 or 0xFE30 <= c < 0xFE50 or 0xFF00 <= c < 0xFF10
    )


@_inline
def _is_moji_tail(c: int) -> bool:
    return (
        0x80 <= c <= 0xBF
        or 0x2010 <= c <= 0x203A
        or c in (0x20AC, 0x2122, 0x152, 0x153, 0x160, 0x161, 0x178, 0x17D, 0x17E)
    )


@_inline
def _url_prefix(cps: Any, i: int, m: int) -> int:
    """Length of ``https?://`` or ``www.`` (ASCII case-insensitive) at ``i``, else 0."""
    c = cps[i] | 32
    if c == 104:  # h
        if i + 7 > m or (cps[i + 1] | 32) != 116 or (cps[i + 2] | 32) != 116 or (cps[i + 3] | 32) != 112:
            return 0
        j = i + 4
        s = cps[j]
        if s == 115 or s == 83 or s == 0x17F:  # s, S, long s (re.IGNORECASE folds it to s)
            j += 1
        if j + 3 <= m and cps[j] == 58 and cps[j + 1] == 47 and cps[j + 2] == 47:
            return j + 3 - i
        return 0
    if c == 119 and i + 4 <= m and (cps[i + 1] | 32) == 119 and (cps[i + 2] | 32) == 119 and cps[i + 3] == 46:
        return 4  # www.
    return 0


@_inline
def _slot(keys: Any, stamp: Any, cnt: Any, mask: int, h: Any, tag: int) -> Any:
    """Count ``h`` in the open-addressing table; returns its slot."""
    t = np.int64(h & _u(mask))
    while True:
        if stamp[t] != tag:
            stamp[t] = tag
            keys[t] = h
            cnt[t] = 1
            return t
        if keys[t] == h:
            cnt[t] += 1
            return t
        t = (t + 1) & mask


@_inline
def _pow2(n: int) -> int:
    """The table size for ``n`` keys: a power of two, at least ``2 * n`` and 16."""
    size = 16
    while size < 2 * n:
        size *= 2
    return size


# ----------------------------------------------------------------------------- kernels
_ALNUM, _SEP, _URL_START, _URL_HINT, _SPACE = 1, 2, 4, 8, 16
#: Flags of the ASCII characters (non-ASCII ones: :func:`_flags_hi`).
_FLAGS = np.zeros(128, dtype=np.int64)
for _c in range(128):
    _FLAGS[_c] = (
        (_ALNUM if chr(_c).isalnum() else 0)
        | (_SEP if _c in WORD_SEPARATORS else 0)
        | (_URL_START if chr(_c) in "hHwW" else 0)
        | (_URL_HINT if chr(_c) in ":." else 0)  # '.' counts only after "www"
        | (_SPACE if chr(_c).isspace() else 0)
    )


@_inline
def _flags_hi(c: int) -> int:
    return (_ALNUM if _is_alnum(c) else 0) | (_SEP if _is_sep(c) else 0) | (_SPACE if _is_space(c) else 0)


@_inline
def _char_top(
    cps: Any, m: int, nc: int, pw: Any, slot_of: Any, keys: Any, stamp: Any, cnt: Any, reps: Any, tag: int
) -> int:
    """Exact numerator of the character-repetition ratio (see :mod:`._textrules`)."""
    npos = m - nc + 1
    mask = _pow2(npos) - 1
    g = _u(0)
    distinct = 0
    for j in range(m):
        g = g * _u(_P) + _u(int(cps[j]) + 1)
        if j >= nc:
            g = g - _u(int(cps[j - nc]) + 1) * pw
        if j >= nc - 1:
            t = _slot(keys, stamp, cnt, mask, _mix(g), tag)
            slot_of[j - nc + 1] = t
            if cnt[t] == 1:
                distinct += 1
    nrep = 0
    for s in range(npos):
        t = slot_of[s]
        if cnt[t] > 1:
            reps[nrep] = cnt[t]
            nrep += 1
            cnt[t] = 0  # counted once
    top = 0
    k = int(math.sqrt(distinct))
    if nrep and k > 0:
        r = np.sort(reps[:nrep])
        for q in range(min(k, nrep)):
            top += r[nrep - 1 - q]
    return top


@_inline
def _rotxor(h: Any, c: int) -> Any:
    """One step of a rotate-xor-multiply hash (unrelated to the polynomial one)."""
    h = (h << _u(5)) | (h >> _u(59))
    return (h ^ _u(c)) * _u(_C1)


@_inline
def _key_add(h1: Any, h2: Any, word: Any) -> tuple[Any, Any]:
    """Add one (mixed) word hash to both halves of an EXACT_DEDUP key."""
    return h1 * _u(_P) + word, _rotxor(h2, word)


@_inline
def _key_end(h1: Any, h2: Any, words: int) -> tuple[Any, Any]:
    return _mix(h1 ^ _u(words)), _mix(h2 + _u(words))


@_inline
def _split_key(cps: Any) -> tuple[Any, Any]:
    """EXACT_DEDUP key of ``" ".join(text.split())``: the sequence of its words' hashes."""
    h1 = _u(0)
    h2 = _u(_Q)
    h = _u(0)
    words = 0
    prev_in = False
    for i in range(len(cps)):
        c = int(cps[i])
        sp = ((_FLAGS[c] & _SPACE) != 0) if c < 128 else _is_space(c)
        if sp:
            if prev_in:
                h1, h2 = _key_add(h1, h2, _mix(h))
                words += 1
            h = _u(0)
        else:
            h = h * _u(_P) + _u(c + 1)
        prev_in = not sp
    if prev_in:
        h1, h2 = _key_add(h1, h2, _mix(h))
        words += 1
    return _key_end(h1, h2, words)


@_inline
def _clear_bits(bits: Any, npos: int) -> int:
    """Clear a bitset of at least ``8 * npos`` bits (64 minimum); returns the bucket shift."""
    size = 64
    shift = 58
    while size < 8 * npos:
        size *= 2
        shift -= 1
    for w in range(size // 64):
        bits[w] = 0
    return shift


@_inline
def _test_and_set(bits: Any, h: Any, shift: int) -> int:
    """1 if the bucket of hash ``h`` was taken already (then or now it is taken), else 0."""
    b = np.int64((h * _u(_Q)) >> _u(shift))
    word = bits[b >> 6]
    bit = _u(1) << _u(b & 63)
    bits[b >> 6] = word | bit
    return int((word & bit) != 0)


@_inline
def _bucket_hits(wh: Any, words: int, nw: int, pw: Any, bits: Any) -> int:
    """Word n-grams whose hash bucket was taken already (0: no n-gram occurs twice)."""
    npos = words - nw + 1
    shift = _clear_bits(bits, npos)
    g = _u(0)
    hits = 0
    for j in range(words):
        g = g * _u(_Q) + wh[j]
        if j >= nw:
            g = g - wh[j - nw] * pw
        if j >= nw - 1:
            hits += _test_and_set(bits, _mix(g), shift)
    return hits


@_jit
def _measures(
    chars: Any,
    off: Any,
    nw: int,
    nc: int,
    max_char_ratio: float,
    exact: bool,
    out: Any,
    keys_out: Any,
    wh: Any,
    slot_of: Any,
    keys: Any,
    stamp: Any,
    cnt: Any,
    bits: Any,
) -> None:
    n = len(off) - 1
    pw_c = _u(1)
    for _ in range(nc):
        pw_c = pw_c * _u(_P)
    pw_w = _u(1)
    for _ in range(nw):
        pw_w = pw_w * _u(_Q)
    reps = np.empty(len(slot_of), dtype=np.int64)
    tag = 0
    for d in range(n):
        cps = chars[off[d] : off[d + 1]]
        m = len(cps)
        alnum = 0
        newlines = 0
        words = 0
        hint = False
        h = _u(0)
        # EXACT_DEDUP key of the normalised text, when asked for (see _exact)
        want_key = len(keys_out) > 0
        odd = False
        # (written without data-dependent branches where the branch would be a coin toss)
        prev_in = 0
        # character n-grams: bucket hits, an upper bound of their repeated occurrences
        npos = m - nc + 1
        shift = _clear_bits(bits, npos)
        g = _u(0)
        hits = 0
        for i in range(m):
            c = int(cps[i])
            g = g * _u(_P) + _u(c + 1)
            if i >= nc:
                g = g - _u(int(cps[i - nc]) + 1) * pw_c
            if i >= nc - 1:
                hits += _test_and_set(bits, g, shift)
            f = _FLAGS[c] if c < 128 else _flags_hi(c) | _URL_HINT
            alnum += f & _ALNUM
            newlines += c == 10
            odd |= (f & (_SPACE | _SEP)) == _SPACE  # split() separates here, the words do not
            sep = (f >> 1) & 1  # _SEP
            wh[words] = h  # the word that ends here, if one does (mixed below)
            words += prev_in & sep
            h = _u(0) if sep else h * _u(_P) + _u(c + 1)
            prev_in = 1 - sep
            if f & _URL_HINT and (
                c != 46
                or (i >= 3 and (cps[i - 1] | 32) == 119 and (cps[i - 2] | 32) == 119 and (cps[i - 3] | 32) == 119)
            ):
                hint = True
        if prev_in:
            wh[words] = h
            words += 1
        for j in range(words):
            wh[j] = _mix(wh[j])
        if want_key:  # the words are split()'s words, unless an odd space says otherwise
            if odd:
                keys_out[d, 0], keys_out[d, 1] = _split_key(cps)
            else:
                h1 = _u(0)
                h2 = _u(_Q)
                for j in range(words):
                    h1, h2 = _key_add(h1, h2, wh[j])
                keys_out[d, 0], keys_out[d, 1] = _key_end(h1, h2, words)
        # URLs and mojibake (they need a ':', a '.' or a non-ASCII character): leftmost,
        # non-overlapping matches, as re.finditer finds them
        url = 0
        moji = 0
        if hint:
            url_end = 0
            moji_end = 0
            for i in range(m):
                c = int(cps[i])
                if i >= url_end and (c | 32) in (104, 119):
                    plen = _url_prefix(cps, i, m)
                    if plen and i + plen < m and not _is_space(int(cps[i + plen])):
                        j = i + plen
                        while j < m and not _is_space(int(cps[j])):
                            j += 1
                        url += j - i
                        url_end = j
                if c >= 0x80 and i >= moji_end:
                    if (c == 0xC3 or c == 0xC2 or c == 0xE2) and i + 1 < m and _is_moji_tail(int(cps[i + 1])):
                        j = i + 1
                        while j < m and _is_moji_tail(int(cps[j])):
                            j += 1
                        moji += j - i
                        moji_end = j
                    elif c == 0xFFFD:
                        j = i
                        while j < m and cps[j] == 0xFFFD:
                            j += 1
                        moji += j - i
                        moji_end = j
        # word repetition: words covered by a word n-gram that occurs more than once
        cover = 0
        # (no bucket hit: no repeated word n-gram, the cover is exactly 0 and no table is built)
        if words >= nw and _bucket_hits(wh, words, nw, pw_w, bits) > 0:
            tag += 1
            npos = words - nw + 1
            mask = _pow2(npos) - 1
            g = _u(0)
            for j in range(words):
                g = g * _u(_Q) + wh[j]
                if j >= nw:
                    g = g - wh[j - nw] * pw_w
                if j >= nw - 1:
                    slot_of[j - nw + 1] = _slot(keys, stamp, cnt, mask, _mix(g), tag)
            end = 0
            for s in range(npos):
                if cnt[slot_of[s]] > 1:
                    start = s if s > end else end
                    if s + nw > start:
                        cover += s + nw - start
                        end = s + nw
        # character repetition, exactly where it can exceed the bound: the numerator is at
        # most (repeated occurrences) + sqrt(n-grams), and bucket hits bound the former
        # (the -1 keeps float rounding on the safe side)
        top = 0
        if m >= nc:
            npos = m - nc + 1
            if exact or hits > max_char_ratio * npos - math.sqrt(npos) - 1.0:
                tag += 1
                top = _char_top(cps, m, nc, pw_c, slot_of, keys, stamp, cnt, reps, tag)
        out[d, 0] = m
        out[d, 1] = url
        out[d, 2] = alnum
        out[d, 3] = newlines
        out[d, 4] = moji
        out[d, 5] = cover
        out[d, 6] = words
        out[d, 7] = top


#: Columns of :func:`text_measures`' result.
MEASURES = ("chars", "url_chars", "alnum", "newlines", "mojibake_chars", "word_cover", "words", "char_top")


def _scratch(off: NDArray[np.int64]) -> tuple[NDArray[Any], ...]:
    longest = int(np.max(np.diff(off))) if len(off) > 1 else 0
    size = _pow2(longest + 1)
    return (
        np.empty(longest + 1, dtype=np.uint64),  # word hashes
        np.empty(longest + 1, dtype=np.int64),  # slot of each n-gram
        np.empty(size, dtype=np.uint64),  # table keys
        np.zeros(size, dtype=np.int64),  # table stamps
        np.empty(size, dtype=np.int64),  # table counts
        np.empty(max(1, 16 * (longest + 1) // 64 + 1), dtype=np.uint64),  # n-gram bucket bits
    )


def text_measures(
    chars: NDArray[Any],
    off: NDArray[np.int64],
    word_ngram: int,
    char_ngram: int,
    max_char_ratio: float = 0.0,
    *,
    exact: bool = True,
    keys_out: NDArray[np.uint64] | None = None,
) -> NDArray[np.int64]:
    """Per document: the :data:`MEASURES` counts (an ``(n, 8)`` int64 array).

    Args:
        chars: The documents' code points, concatenated (``uint8`` when all are ASCII,
            else ``uint32``; see :func:`encode`).
        off: ``n + 1`` offsets into ``chars``.
        word_ngram: Word n-gram size of the word-repetition rule.
        char_ngram: Character n-gram size of the character-repetition rule.
        max_char_ratio: The rule's bound; with ``exact=False`` the ``char_top`` of a document
            that provably stays at or under it is reported as 0 (its n-grams are not counted).
        exact: Count every document's character n-grams.
        keys_out: An ``(n, 2)`` uint64 array to fill with :func:`exact_keys` in the same pass.
    """
    out = np.zeros((len(off) - 1, len(MEASURES)), dtype=np.int64)
    keys = keys_out if keys_out is not None else np.zeros((0, 2), dtype=np.uint64)
    with np.errstate(over="ignore"):
        _measures(chars, off, int(word_ngram), int(char_ngram), float(max_char_ratio), exact, out, keys, *_scratch(off))
    return out


@_jit
def _exact(chars: Any, off: Any, out: Any) -> None:
    for d in range(len(off) - 1):
        out[d, 0], out[d, 1] = _split_key(chars[off[d] : off[d + 1]])


def exact_keys(chars: NDArray[Any], off: NDArray[np.int64]) -> NDArray[np.uint64]:
    """The 128-bit EXACT_DEDUP key of each document's normalised text (``(n, 2)`` uint64)."""
    out = np.zeros((len(off) - 1, 2), dtype=np.uint64)
    with np.errstate(over="ignore"):
        _exact(chars, off, out)
    return out


def warm() -> None:
    """Compile (or load from the cache) every kernel now, e.g. before forking workers."""
    from amzn_nova_forge.dataset._curation._index import ExactIndex, rule_lines

    for texts in (["warm up: https://example.com " * 3, ""], ["warm up: \u00e9t\u00e9 " * 3, ""]):
        chars, off = encode(texts)  # both the ASCII and the UTF-32 kernels
        text_measures(chars, off, 10, 10, 0.5, exact=False, keys_out=np.zeros((2, 2), dtype=np.uint64))
        k = exact_keys(chars, off)
    ExactIndex(16).add(k, np.ones(len(k), dtype=np.bool_), np.arange(1, len(k) + 1))
    rule_lines(b'{"a": 1}\n{"b": 2}')


def encode(texts: list[str]) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """``(chars, off)`` of ``texts`` for the kernels: one byte a character when the texts are
    all ASCII (the common case: no copy beyond the join), else UTF-32 code points."""
    joined = "".join(texts)
    off = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=off[1:])
    if joined.isascii():
        return np.frombuffer(joined.encode("ascii"), dtype=np.uint8), off
    return np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32), off
