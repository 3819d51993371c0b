"""One contract for every JSON value a loader reads (JSONL lines, JSON elements, records).

The same rules hold whichever loader reads the data, and each refusal is a
:class:`~amzn_nova_forge.errors.DataPrepError` naming the file, the line and the JSON path:

* ``NaN``, ``Infinity``, ``-Infinity`` are not JSON: refused (never turned into ``null``).
* A number too large for a double (``1e400``) is refused, not turned into infinity.
  A number too small (``1e-400``) rounds to ``0.0`` in both loaders, as every JSON parser does.
* An integer outside the 64-bit range (``-2**63 … 2**64-1``) is refused: parsers (ours, the
  training service's, JavaScript's) would silently turn it into a float. Write it as a
  string (``"123456789012345678901234567890"``) to keep it exactly; string ids are kept as written.
* A string with a lone UTF-16 surrogate escape (``"\\ud800"``) is refused: it cannot be UTF-8.
* Nesting deeper than :data:`MAX_DEPTH` levels is refused.
* One record (line or array element) longer than the loader's ``max_record_bytes`` is refused
  (see :mod:`._store`).

The JSONL hot path parses with orjson, which already refuses the first, second and fourth
kinds; :func:`scan_chunk` finds the lines that may hold a too-large integer or too-deep
nesting with two C-level passes over each read chunk, and only those lines are re-read here.

Example:
    >>> problem(b'{"id": 123456789012345678901234567890}')
    ('$.id', 'integer 123456789012345678901234567890 is outside the 64-bit range; write it as a string to keep it exactly')
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from itertools import compress
from typing import Any

__all__ = ["MAX_DEPTH", "check_value", "deep_lines", "problem", "scan_chunk", "strict_decoder"]

#: Deepest accepted nesting of objects and arrays (a Nova record needs about 8).
MAX_DEPTH = 128

_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1
# a run of 19 digits: the shortest integer that can leave the 64-bit range (-9223372036854775809)
_RUN = b"0" * 19
_DIGITS = bytes(0x30 if 0x30 <= c <= 0x39 else (0x0A if c == 0x0A else 0x20) for c in range(256))
_LONG_LINE = 2 * MAX_DEPTH
_STRIDE = 9  # 19 digits in a row always cover two bytes 9 apart (see scan_chunk)
_MAX_WINDOWS = 4096  # digit pairs checked one by one per chunk before classifying every byte


class _Bad:
    """A value the rules refuse, left in the parsed tree so its JSON path can be found."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _int(text: str) -> int | _Bad:
    value = int(text)
    if _INT_MIN <= value <= _INT_MAX:
        return value
    return _Bad(f"integer {text} is outside the 64-bit range; write it as a string to keep it exactly")


def _float(text: str) -> float | _Bad:
    value = float(text)
    if math.isinf(value):
        return _Bad(f"number {text} is too large for a 64-bit float")
    return value


def _constant(text: str) -> _Bad:
    return _Bad(f"{text} is not a JSON number; use null for a missing value, or a string")


_HOOKS: dict[str, Any] = {"parse_int": _int, "parse_float": _float, "parse_constant": _constant}


def strict_decoder() -> json.JSONDecoder:
    """A stdlib decoder whose refused numbers come back as markers (see :func:`check_value`)."""
    return json.JSONDecoder(**_HOOKS)


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if key.isidentifier():
        return f"{parent}.{key}"
    return f"{parent}[{json.dumps(key, ensure_ascii=True)}]"


def _bad_str(s: str) -> bool:
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_value(value: Any, max_depth: int = MAX_DEPTH) -> tuple[str, str] | None:
    """The first refused value in a parsed tree: ``(json_path, reason)``, or ``None``.

    Finds markers left by :func:`strict_decoder`, non-finite floats, out-of-range integers,
    strings with lone surrogates, non-JSON types and nesting deeper than ``max_depth``.

    Example:
        >>> check_value({"a": [1, float("nan")]})
        ('$.a[1]', 'NaN is not a JSON number; use null for a missing value, or a string')
    """
    stack: list[tuple[str, Any, int]] = [("$", value, 0)]
    while stack:
        path, v, depth = stack.pop()
        if isinstance(v, str):
            if _bad_str(v):
                return path, "string holds a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode text"
        elif v is None or isinstance(v, bool):
            pass
        elif isinstance(v, int):
            if not _INT_MIN <= v <= _INT_MAX:
                return path, f"integer {v} is outside the 64-bit range; write it as a string to keep it exactly"
        elif isinstance(v, float):
            if math.isnan(v):
                return path, "NaN is not a JSON number; use null for a missing value, or a string"
            if math.isinf(v):
                return path, f"{v} is not a JSON number; use null for a missing value, or a string"
        elif isinstance(v, dict | list | tuple):
            if depth >= max_depth:
                return path, f"nesting is deeper than {max_depth} levels"
            if isinstance(v, dict):
                items = list(v.items())
                for k, _ in items:
                    if not isinstance(k, str):
                        return path, f"object key {k!r} is not a string"
                    if _bad_str(k):
                        return path, "object key holds a lone UTF-16 surrogate, which is not valid Unicode text"
                stack.extend((_path(path, k), x, depth + 1) for k, x in reversed(items))
            else:
                stack.extend((_path(path, i), x, depth + 1) for i, x in reversed(list(enumerate(v))))
        elif isinstance(v, _Bad):
            return path, v.reason
        elif isinstance(v, bytes | bytearray) or hasattr(v, "isoformat") or type(v).__name__ == "Decimal":
            pass  # written as base64 / ISO text / exact decimal text (see _records.json_default)
        else:
            return path, f"a {type(v).__name__} is not a JSON value"
    return None


def problem(raw: bytes | str) -> tuple[str, str] | None:
    """Re-read one JSON text with the stdlib parser and report the first refused value.

    Returns ``None`` when the text breaks none of the rules (or is not JSON at all: the
    caller's own parser reports that).
    """
    try:
        value = json.loads(raw, **_HOOKS)
    except RecursionError:
        return "$", f"nesting is deeper than {MAX_DEPTH} levels"
    except ValueError:
        return None
    return check_value(value)


def _full_scan(data: bytes, start: int, end: int) -> Iterator[int]:
    digits = data.translate(_DIGITS)
    pos = digits.find(_RUN, start, end)
    while pos >= 0:
        yield data.count(b"\n", 0, pos)
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        pos = digits.find(_RUN, nl, end)


def scan_chunk(data: bytes, end: int) -> Iterator[int]:
    """Indices (0-based, counted in ``data``'s lines) of lines of ``data[:end]`` holding 19 digits in a row.

    Such a line may hold an integer outside the 64-bit range, which orjson would silently
    turn into a float; :func:`problem` decides (digits inside strings are fine).

    Cost: 19 consecutive digits always cover two sampled bytes ``_STRIDE`` apart, so only
    every ``_STRIDE``-th byte is classified (one strided copy, one ``translate``, one
    ``find``); each sampled digit pair is then checked exactly in a small window. Data
    with many such pairs (digit-heavy text) falls back to classifying every byte.
    """
    sample = data[:end:_STRIDE].translate(_DIGITS)
    pos = sample.find(b"00")
    checked = 0
    last_line_end = -1
    while pos >= 0:
        checked += 1
        if checked > _MAX_WINDOWS:
            yield from _full_scan(data, max(last_line_end, 0), end)
            return
        at = pos * _STRIDE
        if at > last_line_end:
            lo, hi = max(0, at - _STRIDE), min(end, at + len(_RUN) + _STRIDE)
            k = data[lo:hi].translate(_DIGITS).find(_RUN)
            if k >= 0:
                hit = lo + k
                yield data.count(b"\n", 0, hit)
                nl = data.find(b"\n", hit)
                if nl < 0:
                    return
                last_line_end = nl
        pos = sample.find(b"00", pos + 1)


_NOT_OPENER = bytes(c for c in range(256) if c not in b"{[\n")


def deep_lines(parts: list[bytes]) -> Iterator[int]:
    """Indices of lines long enough and with enough brackets to nest deeper than :data:`MAX_DEPTH`.

    The openers of all long lines are counted at once (one ``translate`` keeps only ``{``,
    ``[`` and the line ends); only when some line has more than :data:`MAX_DEPTH` of them
    are the lines looked at one by one.
    """
    lens = list(map(len, parts))
    if max(lens, default=0) <= _LONG_LINE:
        return
    longs = compress(parts, map(_LONG_LINE.__lt__, lens))
    openers = b"\n".join(longs).translate(None, _NOT_OPENER).split(b"\n")
    if max(map(len, openers)) <= MAX_DEPTH:
        return
    for k, part in enumerate(parts):
        if len(part) > _LONG_LINE and part.count(b"{") + part.count(b"[") > MAX_DEPTH:
            yield k
