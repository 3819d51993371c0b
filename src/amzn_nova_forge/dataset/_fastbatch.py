"""The generic SFT transform and its validation for a whole batch of records at once.

The spec's data-prep example (generic ``question``/``answer`` columns → Nova SFT) spends
most of its time in per-record Python. For a batch whose records are all *plain* — a
``dict`` with string question and answer and none of the columns that change the
template (``messages``, ``system``, ``reasoning_text`` on Nova 2) — :func:`plain_batch`
does the work with a handful of C-level calls over the batch:

* one ``orjson.dumps`` of the list of ``(question, answer)`` pairs, only to learn that no
  value needs an escape (no backslash in it); then orjson would write each value as its
  UTF-8 text between quotes, so the rows are the template joined around the values —
  byte-identical to ``orjson.dumps(transform(rec)) + b"\\n"`` per record (tested);
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

_PRE = '{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"'
_MID = '"}]},{"role":"assistant","content":[{"text":"'
_TAIL = '"}]}]}\n'
_ROW = _TAIL + _PRE
_COLON = ("user:", "bot:", "assistant:", "system:", "thought:")
_LAST9 = itemgetter(slice(-9, None))  # the longest colon word, "assistant", has 9 letters
_ANGLE = ("<image>", "<video>", "<unk>")
_dumps = orjson.dumps


def plain_batch(recs: list[Any], cols: PlainCols) -> tuple[bytes, list[tuple[str, str]], list[str], bool] | None:
    """``(output rows, [(q, a), …], [q1, a1, q2, …], flat)`` for plain records, else ``None``.

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
    values: list[str] = list(chain.from_iterable(pairs))
    if set(map(type, values)) != {str}:
        return None
    if b"\\" in _dumps(pairs):  # some value needs an escape: the per-record path writes it
        return None
    # no escapes: orjson writes each value as '"' + its UTF-8 + '"', so the rows are the
    # template around the values: [PRE, q1, MID, a1, ROW, q2, MID, a2, ..., TAIL]
    n = len(pairs)
    rows = [_PRE] * (4 * n + 1)
    rows[1::2] = values
    rows[2::4] = [_MID] * n
    rows[4::4] = [_ROW] * n
    rows[-1] = _TAIL
    return "".join(rows).encode(), pairs, values, flat


def reserved_free(values: list[str]) -> bool:
    """True when no value is empty or holds a reserved word (exactly as
    :func:`._rules.reserved_word` decides); a ``False`` may be a false alarm (the caller
    re-checks each record)."""
    if not all(values):
        return False
    return not _reserved_in("\x00".join(values))  # no word holds a NUL: none spans two values


def _reserved_in(text: str) -> bool:
    """Whether ``text`` holds a reserved word, case-insensitively (see :mod:`._rules`).

    The colon words are looked for in the 9 characters before each ``:`` (one split, then
    a search in a short text), which costs less than one search of the whole text per
    word. Lower-casing is per character (only ``İ`` lower-cases to two, the second a
    combining mark no word holds), so a window lower-cased alone matches exactly where
    the whole lower-cased text does.
    """
    if ":" in text:
        pieces = text.split(":")
        pieces.pop()
        tails = (":".join(map(_LAST9, pieces)) + ":").lower()
        if any(w in tails for w in _COLON):
            return True
    low = None
    if "<" in text:
        low = text.lower()
        if any(w in low for w in _ANGLE):
            return True
    if "[" in text:
        low = low or text.lower()
        if "[eos]" in low:
            return True
    return False
