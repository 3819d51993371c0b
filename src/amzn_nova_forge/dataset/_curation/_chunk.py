"""The per-chunk work of every filter: one pure function that every executor runs.

:func:`analyse` takes the queued steps and a chunk of raw JSON lines and returns, per step,
either a reason code per record (record-local filters: INVALID_RECORDS,
DEFAULT_TEXT_FILTER, LANGUAGE_DETECTION) or a key per record (EXACT_DEDUP: a 128-bit key
of the normalised text, two 64-bit columns, see :mod:`._kernels`; FUZZY_DEDUP: one LSH key
per band). Deciding which
duplicate to keep needs every key, so that happens in the driver (:mod:`._pipeline`); this
function never sees other chunks. It is the only implementation of each filter: the local
processes, Ray tasks and the SageMaker job all call it.

Steps run in queue order inside the chunk: a record dropped by a record-local step is not
looked at by later steps (so a later filter's missing text field does not fail on it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.dataset._curation._params import FilterStep

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["ChunkOut", "ChunkTask", "analyse", "exact_keys", "lang_codes", "text_of"]

#: LANGUAGE_DETECTION reason codes.
LANG_REASONS = ("kept", "language_not_allowed", "score_below_min", "undetected")


@dataclass(frozen=True)
class ChunkTask:
    """One unit of work: the steps, the raw lines and where they came from.

    ``check``: the lines come straight from a source file, so the worker applies the JSON
    rules orjson does not enforce (:mod:`.._jsonrules`). A task travels to a worker as one
    blob of its lines (a list of thousands of small bytes objects pickles slowly).
    """

    steps: tuple[FilterStep, ...]
    lines: list[bytes]
    base: int  # index of the first record in the whole dataset
    src: Sequence[int] | None  # source line of each record (None: base + k + 1)
    check: bool = False
    blob: bytes | None = None  # the lines joined by newlines, when at hand

    def joined(self) -> bytes:
        return self.blob if self.blob is not None else b"\n".join(self.lines)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _task, (self.steps, self.joined(), self.base, self.src, self.check)


def _task(steps: tuple[FilterStep, ...], blob: bytes, base: int, src: Sequence[int] | None, check: bool) -> ChunkTask:
    return ChunkTask(steps, blob.split(b"\n"), base, src, check, blob)


@dataclass
class ChunkOut:
    """Per step: ``codes`` (uint8, 0 = kept) for record-local steps, ``keys`` for dedup steps."""

    n: int
    codes: list[Any] = field(default_factory=list)
    keys: list[Any] = field(default_factory=list)
    error: tuple[str, int, str | None] | None = None  # (message, source line, JSON path)
    #: per record-local step: ``(records it flagged, why each)`` (DEFAULT_TEXT_FILTER and
    #: INVALID_RECORDS), so the driver writes side files without parsing them again
    detail: dict[int, tuple[Any, list[str]]] = field(default_factory=dict)


class _RecordError(Exception):
    def __init__(self, message: str, line: int, path: str | None) -> None:
        super().__init__(message)
        self.line, self.path = line, path


def text_of(rec: Any, field_name: str, line: int) -> str:
    """The text of ``rec[field_name]``; raises a typed error naming the field otherwise."""
    from amzn_nova_forge.errors import DataPrepError

    if type(rec) is not dict:
        raise DataPrepError(f"the record is a {type(rec).__name__}, not a JSON object", line=line, field="$")
    if field_name not in rec:
        keys = ", ".join(sorted(rec)[:8])
        raise DataPrepError(
            f"the record has no field {field_name!r} (text_field={field_name!r}); its fields are: {keys}. "
            "Pass text_field= naming the field that holds the text.",
            line=line,
            field=f"$.{field_name}",
        )
    value = rec[field_name]
    if not isinstance(value, str):
        raise DataPrepError(
            f"field {field_name!r} must be a string to filter on it, got {type(value).__name__} "
            f"({orjson.dumps(value)[:60].decode(errors='replace')})",
            line=line,
            field=f"$.{field_name}",
        )
    return value


def exact_keys(texts: list[str], lowercase: bool, encoded: Any = None) -> NDArray[np.uint64]:
    """The EXACT_DEDUP keys of ``texts``: whitespace runs collapsed, ends stripped, optionally
    lower-cased; ``(n, 2)`` uint64 (see :func:`._kernels.exact_keys`)."""
    from amzn_nova_forge.dataset._curation import _kernels

    if lowercase:
        encoded = _kernels.encode([t.lower() for t in texts])
    elif encoded is None:
        encoded = _kernels.encode(texts)
    return _kernels.exact_keys(*encoded)


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from amzn_nova_forge.dataset._curation._deps import require

    langid = require("langid.langid", extra="curation")
    return langid.LanguageIdentifier.from_modelstring(langid.model, norm_probs=True)


def detect(text: str) -> tuple[str, float] | None:
    """``(ISO 639-1 code, probability)`` from langid's bundled model, ``None`` for blank text."""
    if not text.strip():
        return None
    lang, prob = _identifier().classify(text)
    return str(lang), float(prob)


def lang_codes(texts: list[str], p: dict[str, Any]) -> list[int]:
    """LANGUAGE_DETECTION reason codes (see :data:`LANG_REASONS`)."""
    allowed, min_score, keep_undetected = set(p["languages"]), float(p["min_score"]), bool(p["keep_undetected"])
    out = []
    for t in texts:
        found = detect(t)
        if found is None:
            out.append(0 if keep_undetected else 3)
        elif found[0] not in allowed:
            out.append(1)
        else:
            out.append(2 if found[1] < min_score else 0)
    return out


@functools.lru_cache(maxsize=8)
def _spec(method: Any, model: Any, eval_task: Any, platform: Any) -> Any:
    from amzn_nova_forge.dataset._validate import resolve

    return resolve(method, model, eval_task, platform)


def invalid_spec(p: Any) -> Any:
    """The validation rules INVALID_RECORDS applies (the ones ``validate()`` applies)."""
    return _spec(p["training_method"], p["model"], p["eval_task"], p["platform"])


def invalid_reason(rec: Any, p: Any) -> str:
    """Why INVALID_RECORDS drops ``rec``: ``validate()``'s problems, ``path: message; ...``."""
    return "; ".join(f"{path}: {msg}" for path, msg in record_problems(rec, p)) or "invalid"


def record_problems(rec: Any, p: Any) -> list[tuple[str, str]]:
    """``validate()``'s record-level problems for ``rec``: ``[(json path, message)]``."""
    from amzn_nova_forge.dataset._rules import Ctx

    spec = invalid_spec(p)
    ctx = Ctx(rules=spec.rules)
    spec.check(rec, ctx)
    return list(ctx.errs)


def analyse(task: ChunkTask) -> ChunkOut:
    """Run every step's per-record part on one chunk (see the module docstring).

    The cyclic garbage collector is paused meanwhile: the chunk's thousands of parsed
    records make no reference cycles (reference counting frees them), and collections
    triggered by their allocation cost ~20 % of the run.
    """
    import gc

    paused = gc.isenabled()
    gc.disable()
    try:
        return _analyse(task)
    finally:
        if paused:
            gc.enable()


def _analyse(task: ChunkTask) -> ChunkOut:
    import numpy as np

    lines = task.lines
    n = len(lines)
    out = ChunkOut(n)
    loads = orjson.loads
    if task.check and _json_rule_error(task, out):
        return out
    try:
        recs = [loads(raw) for raw in lines]
    except orjson.JSONDecodeError:  # only a source file read in place can hold a bad line
        return _parse_error(task, out)
    if not all(type(r) is dict for r in recs):
        return _parse_error(task, out)
    alive = np.ones(n, dtype=bool)
    fused = _Fused(task.steps)
    got_texts: dict[str, tuple[Any, list[str]]] = {}  # field -> (records, their texts)
    for step in task.steps:
        m, p = step.method, step.params
        idx = np.flatnonzero(alive)
        try:
            if m is FilterMethod.INVALID_RECORDS:
                codes = np.zeros(n, dtype=np.uint8)
                bad = idx[_invalid_codes([recs[i] for i in idx.tolist()], p)]
                codes[bad] = 1
                out.detail[len(out.codes)] = (bad, [invalid_reason(recs[i], p) for i in bad.tolist()])
                out.codes.append(codes)
                out.keys.append(None)
                alive &= codes == 0
                continue
            seen = got_texts.get(step.text_field)
            if seen is not None and np.array_equal(seen[0], idx):
                texts = seen[1]
            else:
                texts = _texts(recs, idx, step.text_field, task)
                got_texts[step.text_field] = (idx, texts)
        except _RecordError as e:
            out.error = (str(e), e.line, e.path)
            return out
        if m is FilterMethod.EXACT_DEDUP:
            keys = np.zeros((n, 2), dtype=np.uint64)
            keys[idx] = fused.keys(step, idx, texts)
            out.codes.append(None)
            out.keys.append(keys)
        elif m is FilterMethod.FUZZY_DEDUP:
            from amzn_nova_forge.dataset._curation._minhash import band_keys, lsh_params, signatures

            b, r = p["num_bands"], p["rows_per_band"]
            if b is None:
                b, r = lsh_params(float(p["threshold"]), int(p["num_perm"]))
            keys2 = np.zeros((n, b), dtype=np.uint64)
            keys2[idx] = band_keys(signatures(texts, p), b, r)
            out.codes.append(None)
            out.keys.append(keys2)
        else:
            codes = np.zeros(n, dtype=np.uint8)
            if m is FilterMethod.DEFAULT_TEXT_FILTER:
                from amzn_nova_forge.dataset._curation._textrules import codes_from_counts, explain_counts

                c = fused.counts(step, idx, texts)
                flagged = codes_from_counts(c, p)
                codes[idx] = flagged
                hit = np.flatnonzero(flagged)
                out.detail[len(out.codes)] = (idx[hit], explain_counts(c[hit], p))
            else:
                codes[idx] = lang_codes(texts, dict(p))
            out.codes.append(codes)
            out.keys.append(None)
            alive &= codes == 0
    return out


class _Fused:
    """DEFAULT_TEXT_FILTER counts and EXACT_DEDUP keys of one text field, from one kernel pass.

    When both steps are queued on the same field (and EXACT_DEDUP does not lower-case), the
    first of them runs the kernel once for its records and keeps both results; the second
    takes the rows of its own records (a subset: later steps never see more records).
    """

    def __init__(self, steps: Sequence[FilterStep]) -> None:
        text = [s for s in steps if s.method is FilterMethod.DEFAULT_TEXT_FILTER]
        exact = {s.text_field for s in steps if s.method is FilterMethod.EXACT_DEDUP and not s.params["lowercase"]}
        fields = [s.text_field for s in text]  # one text filter per field, or no fusing there
        self._both = {s.text_field: s for s in text if s.text_field in exact and fields.count(s.text_field) == 1}
        self._done: dict[str, tuple[Any, Any, Any]] = {}  # field -> (record indices, counts, keys)

    def _run(self, step: FilterStep, idx: NDArray[np.int64], texts: list[str]) -> tuple[Any, Any] | None:
        import numpy as np

        from amzn_nova_forge.dataset._curation._textrules import counts

        f = step.text_field
        tstep = self._both.get(f)
        if tstep is None:
            return None
        if f not in self._done:
            keys = np.zeros((len(texts), 2), dtype=np.uint64)
            self._done[f] = (idx, counts(texts, tstep.params, exact=False, keys_out=keys), keys)
        at, c, k = self._done[f]
        rows = np.searchsorted(at, idx)
        return c[rows], k[rows]

    def keys(self, step: FilterStep, idx: NDArray[np.int64], texts: list[str]) -> NDArray[np.uint64]:
        got = self._run(step, idx, texts) if not step.params["lowercase"] else None
        return got[1] if got is not None else exact_keys(texts, bool(step.params["lowercase"]))

    def counts(self, step: FilterStep, idx: NDArray[np.int64], texts: list[str]) -> NDArray[np.int64]:
        from amzn_nova_forge.dataset._curation._textrules import counts

        got = self._run(step, idx, texts) if self._both.get(step.text_field) is step else None
        return got[0] if got is not None else counts(texts, step.params, exact=False)


def _json_rule_error(task: ChunkTask, out: ChunkOut) -> bool:
    """Set ``out.error`` for the first line breaking a JSON rule orjson does not enforce."""
    from amzn_nova_forge.dataset._curation._index import rule_lines
    from amzn_nova_forge.dataset._jsonrules import problem
    from amzn_nova_forge.dataset._store import short_path

    for k in rule_lines(task.joined()):
        found = problem(task.lines[k])
        if found is not None:
            out.error = (found[1], _line(task, k), short_path(found[0]))
            return True
    return False


def _parse_error(task: ChunkTask, out: ChunkOut) -> ChunkOut:
    """``out`` with the first unparsable or non-object line's error (the loader's messages)."""
    from typing import cast

    from amzn_nova_forge.dataset import _io

    nowhere = cast(str, None)  # the driver adds the file: the message alone travels back
    for k, raw in enumerate(task.lines):
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            err = _io.bad_json(e, raw, nowhere, _line(task, k))
        else:
            if type(rec) is dict:
                continue
            err = _io.not_object(rec, nowhere, _line(task, k))
        out.error = (str(err.args[0]), _line(task, k), err.field)
        return out
    raise AssertionError("no bad line in a chunk that failed to parse")  # pragma: no cover


def _line(task: ChunkTask, k: int) -> int:
    return task.src[k] if task.src is not None else task.base + k + 1


def _texts(recs: list[Any], idx: NDArray[np.int64], field_name: str, task: ChunkTask) -> list[str]:
    from amzn_nova_forge.errors import DataPrepError

    texts: list[str] = []
    for i in idx.tolist():
        rec = recs[i]
        value = rec.get(field_name) if type(rec) is dict else None
        if type(value) is not str:
            try:
                text_of(rec, field_name, _line(task, i))
            except DataPrepError as e:
                raise _RecordError(str(e.args[0]), _line(task, i), e.field) from None
        texts.append(value)  # type: ignore[arg-type]  # a str: checked just above
    return texts


def _passes(check: Any, rec: Any, ctx: Any) -> bool:
    check(rec, ctx)
    ok = not ctx.errs
    ctx.errs.clear()
    ctx.warns.clear()
    return ok


def _invalid_codes(recs: list[Any], p: Any) -> list[int]:
    """Indices (into ``recs``) of the records ``validate()`` would reject."""
    from amzn_nova_forge.dataset._rules import Ctx
    from amzn_nova_forge.dataset._validate_other import check_cpt

    spec = invalid_spec(p)
    ctx = Ctx(rules=spec.rules)
    check, errs = spec.check, ctx.errs
    if check is check_cpt:  # CPT accepts {"text": <non-blank string>}: check only the others
        maybe = [
            k
            for k, r in enumerate(recs)
            if not (len(r) == 1 and type(t := r.get("text")) is str and t and not t.isspace())
        ]
        return [k for k in maybe if not _passes(check, recs[k], ctx)]
    bad = []
    k = -1
    for rec in recs:
        k += 1
        check(rec, ctx)
        if errs:
            bad.append(k)
            errs.clear()
    return bad
