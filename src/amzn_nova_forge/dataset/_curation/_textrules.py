"""``DEFAULT_TEXT_FILTER``: the seven quality rules, measured by one compiled pass per document.

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

Words are runs of characters between the separators of
:data:`._kernels.WORD_SEPARATORS`. The measures come from :func:`._kernels.text_measures`;
when filtering, the character-repetition numerator is counted only for documents whose
n-gram bucket hits could put them over the bound (the numerator is at most the repeated
occurrences plus ``sqrt(n-grams)``), which gives the same codes as counting everywhere
(a test keeps the two in step); the side file's reasons are measured exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "RULES",
    "codes_from_counts",
    "counts",
    "explain",
    "explain_counts",
    "explain_many",
    "measure",
    "text_filter_codes",
]

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


def counts(
    texts: list[str], p: Mapping[str, Any], *, exact: bool = True, encoded: Any = None, keys_out: Any = None
) -> NDArray[np.int64]:
    """The kernel's per-text counts (:data:`._kernels.MEASURES`); see :func:`measure`.

    ``encoded`` is ``_kernels.encode(texts)`` when the caller has it; ``keys_out`` an
    ``(n, 2)`` array to receive the EXACT_DEDUP keys in the same pass.
    """
    from amzn_nova_forge.dataset._curation import _kernels

    buf, off = encoded if encoded is not None else _kernels.encode(texts)
    return _kernels.text_measures(
        buf,
        off,
        int(p["word_repetition_ngram"]),
        int(p["char_repetition_ngram"]),
        float(p["max_char_repetition_ratio"]),
        exact=exact,
        keys_out=keys_out,
    )


def from_counts(c: NDArray[np.int64], p: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
    """Every rule's measure from the kernel's counts."""
    import numpy as np

    from amzn_nova_forge.dataset._curation._kernels import MEASURES

    col = {name: c[:, k] for k, name in enumerate(MEASURES)}
    chars = col["chars"]
    safe = np.maximum(chars, 1)
    lines = col["newlines"] + 1
    return {
        "chars": chars,
        "url_ratio": col["url_chars"] / safe,
        "alnum_ratio": col["alnum"] / safe,
        "lines": lines,
        "avg_line_length": chars / lines,
        "mojibake_ratio": col["mojibake_chars"] / safe,
        "word_repetition": col["word_cover"] / np.maximum(col["words"], 1),
        "char_repetition": col["char_top"] / np.maximum(chars - int(p["char_repetition_ngram"]) + 1, 1),
    }


def measure(texts: list[str], p: Mapping[str, Any], *, exact: bool = True) -> dict[str, NDArray[Any]]:
    """Every rule's measure for every text (``exact=False``: see the module docstring)."""
    return from_counts(counts(texts, p, exact=exact), p)


def text_filter_codes(texts: list[str], p: Mapping[str, Any]) -> NDArray[np.uint8]:
    """The reason code (index into :data:`RULES`) of each text; 0 = kept."""
    return codes_from_counts(counts(texts, p, exact=False), p)


def codes_from_counts(c: NDArray[np.int64], p: Mapping[str, Any]) -> NDArray[np.uint8]:
    """The reason codes of the texts whose kernel counts (``exact=False`` is enough) are ``c``."""
    return _codes(len(c), from_counts(c, p), p)


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
    return explain_counts(counts(texts, p), p)


def explain_counts(c: NDArray[np.int64], p: Mapping[str, Any]) -> list[str]:
    """:func:`explain_many` from the kernel's counts (``exact=False`` counts explain the same:
    the character-repetition count is exact wherever that rule is the one broken)."""
    ms = from_counts(c, p)
    codes = _codes(len(c), ms, p).tolist()
    return [_message(code, {k: v[i] for k, v in ms.items()}, p) for i, code in enumerate(codes)]


def explain(text: str, p: Mapping[str, Any]) -> str:
    """Why ``text`` is dropped (see :func:`explain_many`)."""
    return explain_many([text], p)[0]


#: Per reason code: the side-file message, filled from the measures and the parameters.
_MESSAGES = (
    "kept",
    "too_short: {chars} characters < min_chars {p[min_chars]}",
    "too_long: {chars} characters > max_chars {p[max_chars]}",
    "url_ratio: {url_ratio:.3f} > max_url_to_text_ratio {p[max_url_to_text_ratio]}",
    "alnum_ratio: {alnum_ratio:.3f} < min_alnum_ratio {p[min_alnum_ratio]}",
    "avg_line_length: {avg_line_length:.1f} < min_avg_line_length {p[min_avg_line_length]}",
    "mojibake: {mojibake_ratio:.3f} > max_mojibake_ratio {p[max_mojibake_ratio]}",
    "word_repetition: {word_repetition:.3f} > max_word_repetition_ratio {p[max_word_repetition_ratio]}",
    "char_repetition: {char_repetition:.3f} > max_char_repetition_ratio {p[max_char_repetition_ratio]}",
)


def _message(code: int, m: Mapping[str, Any], p: Mapping[str, Any]) -> str:
    return _MESSAGES[code].format(p=p, **m)
