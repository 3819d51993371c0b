"""What a filter pipeline writes: the kept records, each step's side file and summary.

:class:`Outputs` takes the decided records one batch at a time (:meth:`Outputs.emit`, in
input order) and, at :meth:`Outputs.finish`, returns the new store of kept records and one
:class:`FilterOperationResult` per step. Per step ``s`` it writes, under its output folder:

* ``dropped.jsonl`` — every record the step dropped, one JSON object per line:
  ``{"line", "filter", "reason", ["duplicate_of_line",] "record"}`` (``record`` is the
  record exactly as read), so nothing is lost;
* ``_summary.json`` — the counts and the reasons, and the step's parameters;
* ``part-00000.jsonl`` — the records the step kept, only when its ``output_path`` was given.

Every file is written atomically (a temporary file renamed at the end); on an error nothing
is left half-written and the new store is removed.
"""

from __future__ import annotations

import contextlib
import itertools
from array import array
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

import orjson

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation._params import FilterStep
from amzn_nova_forge.dataset._curation._result import FilterOperationResult
from amzn_nova_forge.dataset._store import Store, StoreWriter

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Outputs", "reason_of"]

_SUMMARY_ALIAS = {
    FilterMethod.EXACT_DEDUP: "duplicates_removed",
    FilterMethod.FUZZY_DEDUP: "num_duplicates",
    FilterMethod.LANGUAGE_DETECTION: "num_filtered",
    FilterMethod.DEFAULT_TEXT_FILTER: "num_filtered",
    FilterMethod.INVALID_RECORDS: "num_filtered",
}


def reason_of(step: FilterStep, c: int, raw: bytes, dup_line: int | None) -> str:
    """Why ``step`` dropped the record ``raw`` (reason code ``c``), for its side file."""
    from amzn_nova_forge.dataset._curation._chunk import LANG_REASONS

    m, p = step.method, step.params
    if m is FilterMethod.EXACT_DEDUP:
        return f"exact duplicate (normalised text) of line {dup_line}"
    if m is FilterMethod.FUZZY_DEDUP:
        return f"near-duplicate (MinHash LSH, threshold {p['threshold']}) of line {dup_line}"
    rec = orjson.loads(raw)
    if m is FilterMethod.INVALID_RECORDS:
        from amzn_nova_forge.dataset._curation._chunk import invalid_reason

        return invalid_reason(rec, p)
    text = rec.get(step.text_field, "")
    if m is FilterMethod.DEFAULT_TEXT_FILTER:
        from amzn_nova_forge.dataset._curation._textrules import explain

        return explain(text, p)
    from amzn_nova_forge.dataset._curation._chunk import detect

    found = detect(text)
    what = f"detected {found[0]!r} with probability {found[1]:.2f}" if found else "no language detected"
    return f"{LANG_REASONS[c]}: {what}; allowed {p['languages']}, min_score {p['min_score']}"


def _reason_names(step: FilterStep) -> tuple[str, ...]:
    """Reason name of each reason code of ``step``."""
    from amzn_nova_forge.dataset._curation._chunk import LANG_REASONS
    from amzn_nova_forge.dataset._curation._textrules import RULES

    if step.method is FilterMethod.DEFAULT_TEXT_FILTER:
        return RULES
    if step.method is FilterMethod.LANGUAGE_DETECTION:
        return LANG_REASONS
    if step.method is FilterMethod.INVALID_RECORDS:
        return ("kept", "invalid")
    return ("kept", "duplicate")


def _applied(step: FilterStep) -> list[str]:
    from amzn_nova_forge.dataset._curation._textrules import RULES

    if step.method is FilterMethod.DEFAULT_TEXT_FILTER:
        return list(RULES[1:])
    if step.method is FilterMethod.INVALID_RECORDS:
        return ["schema"]
    return [step.method.value]


def _uint_lines(lines: NDArray[np.int64]) -> array[int]:
    """Line numbers as the ``array('I')`` a StoreWriter keeps (one memory copy, no loop)."""
    out = array("I")
    out.frombytes(lines.astype("uint32").tobytes())
    return out


class Outputs:
    """The files of one pipeline run (see the module docstring).

    Args:
        source: Where the records came from (for the new store's messages).
        steps: The steps, in queue order.
        out_dirs: Each step's output folder (local path or ``s3://`` URI).
        explicit: Per step, whether its ``output_path`` was given (then its kept records
            are written too).
    """

    def __init__(
        self, source: str, steps: Sequence[FilterStep], out_dirs: Sequence[str], explicit: Sequence[bool]
    ) -> None:
        self.steps = steps
        self.out_dirs = out_dirs
        self._names = [_reason_names(s) for s in steps]
        self.reasons: list[dict[str, int]] = [{} for _ in steps]
        self._writer = StoreWriter(source)
        self._stack = contextlib.ExitStack()
        try:
            self._dropped: list[IO[Any]] = [
                self._stack.enter_context(storage.open_write(storage.join(d, "dropped.jsonl"))) for d in out_dirs
            ]
            self._kept: list[IO[Any] | None] = [
                self._stack.enter_context(storage.open_write(storage.join(d, "part-00000.jsonl")))
                if explicit[s]
                else None
                for s, d in enumerate(out_dirs)
            ]
        except BaseException:
            self.abort()
            raise

    def emit(
        self,
        parts: list[bytes],
        src: Sequence[int] | None,
        base: int,
        at: NDArray[np.int16],
        code: NDArray[np.uint8],
        dup_line: NDArray[np.int64],
        detail: dict[int, tuple[Any, list[str]]] | None = None,
    ) -> None:
        """Write one batch: ``at`` is the step that dropped each record (-1: kept), ``code``
        its reason code and ``dup_line`` the line of the record it duplicates (-1: none);
        ``detail`` the analysis' reasons (:attr:`._chunk.ChunkOut.detail`), if at hand."""
        import numpy as np

        keep = at < 0
        kept = list(itertools.compress(parts, keep.tolist()))
        lines = np.asarray(src, dtype=np.int64) if src is not None else np.arange(base + 1, base + len(parts) + 1)
        if kept:
            self._writer.write_blob(b"\n".join(kept) + b"\n", len(kept), _uint_lines(lines[keep]))
        for s, f in enumerate(self._kept):
            if f is not None:
                ks = list(itertools.compress(parts, ((at < 0) | (at > s)).tolist()))
                if ks:
                    f.write(b"\n".join(ks) + b"\n")
        if len(kept) == len(parts):
            return
        gone = np.flatnonzero(~keep)
        gone_at = at[gone]
        for s in np.unique(gone_at).tolist():
            sel = gone[gone_at == s]
            self._drop(s, sel, parts, lines, code, dup_line, (detail or {}).get(s))

    def _drop(
        self,
        s: int,
        sel: NDArray[np.int64],
        parts: list[bytes],
        lines: NDArray[np.int64],
        code: NDArray[np.uint8],
        dup_line: NDArray[np.int64],
        detail: tuple[Any, list[str]] | None,
    ) -> None:
        import numpy as np

        step = self.steps[s]
        codes = code[sel]
        names, counts = self._names[s], np.bincount(codes, minlength=len(self._names[s]))
        for c in np.flatnonzero(counts).tolist():
            self.reasons[s][names[c]] = self.reasons[s].get(names[c], 0) + int(counts[c])
        idx = sel.tolist()
        at_lines = lines[sel].tolist()
        out = bytearray()
        if step.method in (FilterMethod.EXACT_DEDUP, FilterMethod.FUZZY_DEDUP):
            why_fmt = reason_of(step, 1, b"", -999).replace("-999", "%d").encode()
            line_fmt = b'{"line":%d,"filter":"' + step.method.value.encode() + b'","reason":"' + why_fmt + b'"'
            line_fmt += b',"duplicate_of_line":%d,"record":%s}\n'
            for i, line, d in zip(idx, at_lines, dup_line[sel].tolist(), strict=True):
                out += line_fmt % (line, d, d, parts[i])
            self._dropped[s].write(out)
            return
        if detail is not None:  # the analysis said why: no second parse, no second measure
            said = detail[1]
            whys = [said[k] for k in np.searchsorted(detail[0], sel).tolist()]
        elif step.method is FilterMethod.DEFAULT_TEXT_FILTER:
            from amzn_nova_forge.dataset._curation._textrules import explain_many

            whys = explain_many([orjson.loads(parts[i])[step.text_field] for i in idx], step.params)
        else:
            whys = [reason_of(step, c, parts[i], None) for i, c in zip(idx, codes.tolist(), strict=True)]
        head = b'{"line":%d,"filter":"' + step.method.value.encode() + b'","reason":'
        for i, line, why in zip(idx, at_lines, whys, strict=True):
            out += head % line
            out += orjson.dumps(why)
            out += b',"record":%s}\n' % parts[i]
        self._dropped[s].write(out)

    def finish(self, reached: Sequence[int]) -> tuple[Store, list[FilterOperationResult]]:
        """Close every file; ``reached[s]`` is how many records reached step ``s``."""
        try:
            self._stack.close()
            new = self._writer.finish()
        except BaseException:
            self.abort()
            raise
        results = []
        for s, step in enumerate(self.steps):
            total = reached[s]
            filtered = sum(self.reasons[s].values())
            summary = {
                "method": step.method.value,
                "input_count": total,
                "output_count": total - filtered,
                "filtered_count": filtered,
                _SUMMARY_ALIAS[step.method]: filtered,
                "reasons": self.reasons[s],
                "params": step.to_dict()["params"],
            }
            d = self.out_dirs[s]
            storage.write_bytes(storage.join(d, "_summary.json"), orjson.dumps(summary, option=orjson.OPT_INDENT_2))
            results.append(
                FilterOperationResult(
                    "SUCCEEDED",
                    d,
                    filtered_count=filtered,
                    total_count=total,
                    filters_applied=_applied(step),
                    method=step.method.value,
                    dropped_path=storage.join(d, "dropped.jsonl"),
                    reasons=self.reasons[s],
                )
            )
        return new, results

    def abort(self) -> None:
        """Discard every file (the atomic writers drop their temporary files)."""
        try:
            err = RuntimeError("aborted")
            self._stack.__exit__(type(err), err, None)
        finally:
            self._writer.abort()
