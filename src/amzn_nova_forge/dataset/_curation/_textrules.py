"""``DEFAULT_TEXT_FILTER``: the seven quality rules, measured on a whole batch at once.

A document is dropped by the **first** rule it breaks, in this order (defaults are the
official SDK's; every threshold is a ``filter()`` keyword or an ``extra_args`` key):

1. ``too_short`` / ``too_long`` — character count below ``min_chars`` (50) or above
   ``max_chars`` (no limit).
2. ``url_ratio`` — characters inside URLs (``http://``, ``https://``, ``www.`` up to the next
   whitespace) over all characters above ``max_url_to_text_ratio`` (0.2). The official
   pipeline also drops pornographic URLs from a blocklist; no blocklist ships here, so that
   part is not applied.
3. ``alnum_ratio`` — letters and digits over all characters below ``min_alnum_ratio``
   (0.25). Non-ASCII code points count as letters except the Unicode punctuation, symbol
   and space blocks (U+2000–U+2BFF, U+3000–U+303F, U+FE30–U+FE4F, U+FF00–U+FF0F and the
   Latin-1 punctuation U+0080–U+00BF).
4. ``avg_line_length`` — with at least ``min_lines_for_line_check`` (2) lines, characters
   per line below ``min_avg_line_length`` (10): word-per-line dumps.
5. ``mojibake`` — characters in typical UTF-8-read-as-Latin-1/CP-1252 sequences (``Ã©``,
   ``â€™``, ``Â``+symbol, …) or U+FFFD over all characters above ``max_mojibake_ratio``
   (0.05). (The official pipeline scores with ftfy; this regex needs no dependency.)
6. ``word_repetition`` — the fraction of words covered by a ``word_repetition_ngram``-word
   (10) n-gram that occurs more than once in the document, above
   ``max_word_repetition_ratio`` (0.5).
7. ``char_repetition`` — BigScience's character repetition ratio: among the document's
   ``char_repetition_ngram``-character (10) n-grams, the occurrences of the ``sqrt(k)`` most
   frequent of the ``k`` distinct ones that occur more than once, over all n-grams; above
   ``max_char_repetition_ratio`` (0.5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.dataset._curation._vec import TextBatch

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["RULES", "explain", "explain_many", "text_filter_codes"]

#: Reason codes (index = code; 0 = kept).
RULES = (
    "kept",
    "too_short",
    "too_long",
    "url_ratio",
    "alnum_ratio",
    "avg_line_length",
    "mojibake",
    "word_repetition",
    "char_repetition",
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MOJIBAKE = re.compile(
    r"[ÃÂâ][\u0080-\u00bf\u2010-\u203a\u20ac\u2122\u0152\u0153\u0160\u0161\u0178\u017d\u017e]+|\ufffd+"
)


def _alnum_mask(cp: NDArray[np.uint32]) -> NDArray[np.bool_]:
    import numpy as np

    table = np.zeros(128, dtype=bool)
    for lo, hi in ((48, 57), (65, 90), (97, 122)):
        table[lo : hi + 1] = True
    ascii_ = cp < 128
    out = np.zeros(len(cp), dtype=bool)
    out[ascii_] = table[cp[ascii_]]
    non_ascii = ~ascii_
    punct = (
        (cp < 0xC0)
        | ((cp >= 0x2000) & (cp < 0x2C00))
        | ((cp >= 0x3000) & (cp < 0x3040))
        | ((cp >= 0xFE30) & (cp < 0xFE50))
        | ((cp >= 0xFF00) & (cp < 0xFF10))
    )
    out[non_ascii] = ~punct[non_ascii]
    return out


def _regex_chars(batch: TextBatch, pattern: re.Pattern[str], trigger: tuple[str, ...]) -> NDArray[np.int64]:
    """Characters inside matches of ``pattern``, per document.

    One scan of the documents joined by newlines (the patterns never match a newline, so no
    match crosses a document); skipped when no trigger substring occurs at all.
    """
    import numpy as np

    out = np.zeros(batch.n, dtype=np.int64)
    if not any(t in batch.joined for t in trigger):
        return out
    joined = "\n".join(batch.texts)
    offsets = batch.starts[:-1] + np.arange(batch.n)  # where each document starts in ``joined``
    spans = np.array([m.span() for m in pattern.finditer(joined)], dtype=np.int64).reshape(-1, 2)
    if len(spans):
        docs = np.searchsorted(offsets, spans[:, 0], side="right") - 1
        np.add.at(out, docs, spans[:, 1] - spans[:, 0])
    return out


def _top_repeated(hashes: NDArray[np.uint64], docs: NDArray[np.int64], n_docs: int) -> NDArray[np.int64]:
    """Per document: occurrences of its ``sqrt(k)`` most frequent n-grams among those occurring
    more than once (``k`` = its distinct n-grams) — the numerator of the BigScience ratio."""
    import numpy as np

    out = np.zeros(n_docs, dtype=np.int64)
    if len(hashes) == 0:
        return out
    key = (docs.astype(np.uint64) << np.uint64(40)) | (hashes >> np.uint64(24))
    key.sort()
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    gstart = np.flatnonzero(new)
    counts = np.diff(np.append(gstart, len(key)))
    gdoc = (key[gstart] >> np.uint64(40)).astype(np.int64)
    distinct = np.bincount(gdoc, minlength=n_docs)
    rep = counts > 1  # usually few: rank only these
    rdoc, rcount = gdoc[rep], counts[rep]
    if not len(rdoc):
        return out
    order = np.lexsort((-rcount, rdoc))
    sdoc, scount = rdoc[order], rcount[order]
    first = np.searchsorted(sdoc, np.arange(n_docs))
    rank = np.arange(len(sdoc)) - first[sdoc]
    top = np.floor(np.sqrt(distinct)).astype(np.int64)
    take = rank < top[sdoc]
    return np.bincount(sdoc[take], weights=scount[take], minlength=n_docs).astype(np.int64)


def _repeated_positions(hashes: NDArray[np.uint64], docs: NDArray[np.int64]) -> NDArray[np.int64]:
    """Indices of the n-grams that occur more than once in their document."""
    import numpy as np

    key = (docs.astype(np.uint64) << np.uint64(40)) | (hashes >> np.uint64(24))
    order = np.argsort(key)
    sk = key[order]
    same = sk[1:] == sk[:-1]
    dup = np.zeros(len(sk), dtype=bool)
    dup[1:] |= same
    dup[:-1] |= same
    return np.sort(order[dup])


def measure(batch: TextBatch, p: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
    """Every rule's measure for every document of ``batch``."""
    import numpy as np

    chars = batch.lengths
    safe = np.maximum(chars, 1)
    newlines = batch.per_doc_sum(batch.cp == 10)
    stripped_lines = newlines + 1
    nw = int(p["word_repetition_ngram"])
    wh, wd = batch.word_ngrams(nw)
    # words covered by a repeated word n-gram: mark each repeated n-gram's n words
    word_cover = np.zeros(batch.n, dtype=np.int64)
    if len(wh):
        rep_pos = _repeated_positions(wh, wd)
        if len(rep_pos):
            ws, _, wdoc = batch.words()
            counts = batch.word_counts()
            wstart = np.zeros(batch.n + 1, dtype=np.int64)
            np.cumsum(counts, out=wstart[1:])
            # n-gram index i in the global word array == position of its first word
            pos_all = np.arange(len(ws) - nw + 1) if len(ws) >= nw else np.zeros(0, dtype=np.int64)
            pos_all = pos_all[pos_all + nw <= wstart[1:][wdoc[: len(pos_all)]]]
            starts = pos_all[rep_pos]
            covered = np.zeros(len(ws) + 1, dtype=np.int64)
            np.add.at(covered, starts, 1)
            np.add.at(covered, starts + nw, -1)
            mask = np.cumsum(covered)[: len(ws)] > 0
            word_cover = np.bincount(wdoc[mask], minlength=batch.n).astype(np.int64)
    n_words = np.maximum(batch.word_counts(), 1)
    ch, cd = batch.char_ngrams(int(p["char_repetition_ngram"]))
    top_sum = _top_repeated(ch, cd, batch.n)
    n_char_grams = np.maximum(chars - int(p["char_repetition_ngram"]) + 1, 1)
    return {
        "chars": chars,
        "url_ratio": _regex_chars(batch, _URL, ("http", "HTTP", "www", "WWW", "Http")) / safe,
        "alnum_ratio": batch.per_doc_sum(_alnum_mask(batch.cp)) / safe,
        "lines": stripped_lines,
        "avg_line_length": chars / stripped_lines,
        "mojibake_ratio": _regex_chars(batch, _MOJIBAKE, ("Ã", "Â", "â", "\ufffd")) / safe,
        "word_repetition": word_cover / n_words,
        "char_repetition": top_sum / n_char_grams,
    }


def text_filter_codes(batch: TextBatch, p: Mapping[str, Any]) -> NDArray[np.uint8]:
    """The reason code (index into :data:`RULES`) of each document; 0 = kept."""

    return _codes(batch.n, measure(batch, p), p)


def _codes(n: int, m: Mapping[str, Any], p: Mapping[str, Any]) -> NDArray[np.uint8]:
    import numpy as np

    code = np.zeros(n, dtype=np.uint8)
    max_chars = p["max_chars"]
    checks = [
        (1, m["chars"] < p["min_chars"]),
        (2, m["chars"] > max_chars if max_chars is not None else np.zeros(n, dtype=bool)),
        (3, m["url_ratio"] > p["max_url_to_text_ratio"]),
        (4, m["alnum_ratio"] < p["min_alnum_ratio"]),
        (5, (m["lines"] >= p["min_lines_for_line_check"]) & (m["avg_line_length"] < p["min_avg_line_length"])),
        (6, m["mojibake_ratio"] > p["max_mojibake_ratio"]),
        (7, m["word_repetition"] > p["max_word_repetition_ratio"]),
        (8, m["char_repetition"] > p["max_char_repetition_ratio"]),
    ]
    for c, hit in reversed(checks):  # the first rule broken wins
        code[hit] = c
    return code


def explain_many(texts: list[str], p: Mapping[str, Any]) -> list[str]:
    """Why each text is dropped, with the measured value and the bound (for the side file)."""
    batch = TextBatch(texts)
    ms = measure(batch, p)
    codes = _codes(batch.n, ms, p)
    out = []
    for i, code in enumerate(codes.tolist()):
        m = {k: v[i] for k, v in ms.items()}
        out.append(_message(int(code), m, p))
    return out


def explain(text: str, p: Mapping[str, Any]) -> str:
    """Why ``text`` is dropped (see :func:`explain_many`)."""
    return explain_many([text], p)[0]


def _message(code: int, m: Mapping[str, Any], p: Mapping[str, Any]) -> str:
    return {
        0: "kept",
        1: f"too_short: {m['chars']} characters < min_chars {p['min_chars']}",
        2: f"too_long: {m['chars']} characters > max_chars {p['max_chars']}",
        3: f"url_ratio: {m['url_ratio']:.3f} > max_url_to_text_ratio {p['max_url_to_text_ratio']}",
        4: f"alnum_ratio: {m['alnum_ratio']:.3f} < min_alnum_ratio {p['min_alnum_ratio']}",
        5: f"avg_line_length: {m['avg_line_length']:.1f} < min_avg_line_length {p['min_avg_line_length']}",
        6: f"mojibake: {m['mojibake_ratio']:.3f} > max_mojibake_ratio {p['max_mojibake_ratio']}",
        7: f"word_repetition: {m['word_repetition']:.3f} > max_word_repetition_ratio {p['max_word_repetition_ratio']}",
        8: f"char_repetition: {m['char_repetition']:.3f} > max_char_repetition_ratio {p['max_char_repetition_ratio']}",
    }[code]
