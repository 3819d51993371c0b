"""The generic SFT transform and its validation for a whole batch of records at once.

The spec's data-prep example (generic ``question``/``answer`` columns → Nova SFT) spends
most of its time in per-record Python. For a batch whose records are all *plain* — a
``dict`` with string question and answer and none of the columns that change the
template (``messages``, ``system``, ``reasoning_text`` on Nova 2) — :func:`plain_batch`
does the work with a handful of C-level calls over the batch:

* one ``orjson.dumps`` of the list of ``(question, answer)`` pairs; when the result holds
  no backslash, no string needed an escape, so every ``"`` in it delimits a string and a
  split on ``"`` alternates list syntax and each value's exact JSON text;
* the output rows are the template joined around those texts — byte-identical to
  ``orjson.dumps(transform(rec)) + b"\\n"`` per record (tested);
* validation: no empty value (``all``), and no reserved word in the lower-cased batch
  text (searched once per batch, see :func:`_reserved_in`). Any hit sends the batch's
  records through the per-record checks, so messages, paths and lines are exactly those
  of the per-record path.

Anything else (escapes, other shapes, a problem in the batch) returns ``None`` and the
caller takes the per-record path for that batch.

Example:
    >>> plain_batch([{"q": "Hi", "a": "Hello"}], ("q", "a", "messages", True))[0]
    b'{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"Hi"}]},{"role":"assistant","content":[{"text":"Hello"}]}]}\\n'
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import orjson

__all__ = ["PlainCols", "plain_batch", "reserved_free"]

#: ``(question column, answer column, messages column, Nova 2)`` of a plain SFT transform.
PlainCols = tuple[str, str, str, bool]

_PRE = b'{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"'
_MID = b'"}]},{"role":"assistant","content":[{"text":"'
_TAIL = b'"}]}]}\n'
_ROW = _TAIL + _PRE
_COLON = (b"user:", b"bot:", b"assistant:", b"system:", b"thought:")
_LAST9 = itemgetter(slice(-9, None))  # the longest colon word, "assistant", has 9 letters
_ANGLE = (b"<image>", b"<video>", b"<unk>")
_KELVIN = "\u212a".encode()  # the one non-ASCII letter whose lower case is an ASCII letter of a reserved word
_dumps = orjson.dumps


def plain_batch(recs: list[Any], cols: PlainCols) -> tuple[bytes, list[tuple[str, str]], list[bytes], bool] | None:
    """``(output rows, [(q, a), …], JSON text of each value, flat)`` for plain records, else ``None``.

    ``flat``: every record holds the two string columns and nothing else, so none can
    break the JSON rules of :mod:`._jsonrules` (no number, no nesting; orjson refuses lone
    surrogates).
    """
    if not recs or set(map(type, recs)) != {dict}:
        return None
    q_col, a_col, msg_col, v2 = cols
    banned = (msg_col, "system", "reasoning_text") if v2 else (msg_col, "system")
    # every record has exactly the two columns (then none of the banned ones), or check each
    flat = set(map(len, recs)) == {len({q_col, a_col})} and q_col not in banned and a_col not in banned
    if not flat:
        for key in banned:
            if any(map(dict.__contains__, recs, repeat(key))):
                return None
    try:
        pairs: list[tuple[str, str]] = list(map(itemgetter(q_col, a_col), recs))
    except KeyError:
        return None
    if set(map(type, chain.from_iterable(pairs))) != {str}:
        return None
    blob = _dumps(pairs)  # [["q1","a1"],["q2","a2"],...]
    if b"\\" in blob:
        return None
    n = len(pairs)
    parts = blob.split(b'"')  # [ "[[", q1, ",", a1, "],[", q2, ..., a_n, "]]" ]
    if len(parts) != 4 * n + 1:  # pragma: no cover - impossible without escapes
        return None
    values = parts[1::2]
    parts[0] = _PRE
    parts[2::4] = [_MID] * n
    parts[4::4] = [_ROW] * n
    parts[-1] = _TAIL
    return b"".join(parts), pairs, values, flat


def reserved_free(values: list[bytes]) -> bool:
    """True when no value (``values``: JSON texts of strings, without escapes) is empty or holds
    a reserved word; a ``False`` may be a false alarm (the caller re-checks each record)."""
    if not all(values):
        return False
    text = b"\x00".join(values)  # no value holds a NUL (it would be escaped), so no word spans two
    if not text.isascii() and _KELVIN in text:
        return False
    return not _reserved_in(text)


def _reserved_in(text: bytes) -> bool:
    """Whether ``text`` holds a reserved word, case-insensitively (see :mod:`._rules`).

    The colon words are found in the 9 bytes before each ``:`` (one split, then a search
    in a short text), which costs less than one search of the whole text per word.
    """
    if b":" in text:
        pieces = text.split(b":")
        pieces.pop()
        tails = (b":".join(map(_LAST9, pieces)) + b":").lower()
        if any(w in tails for w in _COLON):
            return True
    low = None
    if b"<" in text:
        low = text.lower()
        if any(w in low for w in _ANGLE):
            return True
    if b"[" in text:
        low = low or text.lower()
        if b"[eos]" in low:
            return True
    return False
