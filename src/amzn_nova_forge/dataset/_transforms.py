"""Record transforms: generic columns or OpenAI ``messages`` → the format a Nova method needs.

:func:`build_transform` returns one function ``(record, line) -> record`` for a
(method, model, eval task) target. It is applied record by record while streaming, so a
transform never holds the dataset. Per record it picks the right conversion:

* already in the target format (Converse with ``schemaVersion`` or Converse-style content
  blocks; RFT/eval/CPT records with the target fields) → returned unchanged;
* OpenAI chat ``messages`` → Converse (SFT; system, reasoning, tools, tool results) or kept
  (RFT, which *is* OpenAI format);
* generic columns → built from the column mappings (``question="input"`` means the
  standard field ``question`` is read from the column ``input``). A standard field with no
  mapping is read from the column of the same name when it exists.

Choices where the sources differ (see ``reference/official-sdk-facts.md`` §4.2):
    * RFT gets no default system prompt (the 1.4.10 SDK injected "You are a helpful AI
      assistant."): we do not put words in a training prompt the user did not write.
    * OpenAI ``system``/``developer`` messages become one Converse ``system`` block each, in
      order (1.4.10 kept only the last one, silently dropping the others).
    * Unparseable ``tool_calls[].function.arguments`` raise :class:`DataPrepError` instead of
      being wrapped as ``{"arguments": raw}``: a Converse ``toolUse.input`` must be an object.
    * ``image_url`` parts are converted only for ``s3://`` URLs; ``data:``/``http`` URLs
      need an upload, which an offline transform does not do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from amzn_nova_forge.core.enums import EvaluationTask, Model, TrainingMethod, Version
from amzn_nova_forge.dataset._rules import TemplatedConverse
from amzn_nova_forge.dataset._transforms_openai import openai_to_converse
from amzn_nova_forge.errors import ConfigError, DataPrepError

logger = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION", "Transform", "build_transform", "check_mapped_columns", "is_converse", "is_openai"]

SCHEMA_VERSION = "bedrock-conversation-2024"

Transform = Callable[[dict[str, Any], int], dict[str, Any]]

_MEDIA_FORMAT_ALIASES = {"jpg": "jpeg"}

#: Standard field names each target understands (for mapping checks and error hints).
STANDARD_FIELDS = {
    "sft": (
        "question",
        "answer",
        "system",
        "image_format",
        "video_format",
        "s3_uri",
        "bucket_owner",
        "reasoning_text",
        "messages",
        "tools",
        "toolsConfig",
    ),
    "rft": ("question", "reference_answer", "system", "id", "messages", "tools"),
    "eval": ("query", "response", "system", "images", "metadata"),
    "judge": ("prompt", "response_A", "response_B", "images"),
    "cpt": ("text",),
    "rft_multiturn": ("id", "prompt", "answer", "task", "info"),
}


def is_converse(rec: Mapping[str, Any]) -> bool:
    """True when ``rec`` already looks like a Converse (``bedrock-conversation-2024``) record."""
    if "schemaVersion" in rec:
        return True
    msgs = rec.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return False
    for m in msgs:
        if not isinstance(m, dict):
            return False
        c = m.get("content", m.get("candidates"))
        if "candidates" in m:
            return True
        if isinstance(c, list) and c and isinstance(c[0], dict) and "type" not in c[0]:
            return True
        if isinstance(c, str) or "tool_calls" in m or m.get("role") in ("system", "developer", "tool"):
            return False
    return False


def is_openai(rec: Mapping[str, Any]) -> bool:
    """True when ``rec`` holds OpenAI chat ``messages`` (string or typed-part content)."""
    msgs = rec.get("messages")
    return isinstance(msgs, list) and bool(msgs) and not is_converse(rec)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return orjson.dumps(value).decode()


class _Columns:
    """Resolves standard field names to the user's columns for one target."""

    def __init__(self, mappings: Mapping[str, str], target: str) -> None:
        self.mappings = dict(mappings)
        self.target = target

    def col(self, name: str) -> str:
        return self.mappings.get(name, name)

    def mapped(self, name: str) -> bool:
        return name in self.mappings

    def required(self, rec: Mapping[str, Any], name: str, line: int) -> Any:
        col = self.mappings.get(name, name)
        value = rec.get(col)
        if value is None:
            raise _missing(rec, name, col, line, self.target)
        return value

    def optional(self, rec: Mapping[str, Any], name: str, line: int) -> Any:
        """The value of an optional field: ``None`` when absent, null or empty.

        (A mapped column absent from the *first* record is reported by
        :func:`check_mapped_columns`, which catches typos without failing sparse JSON.)
        """
        value = rec.get(self.mappings.get(name, name))
        if value is None or value == "":
            return None
        return value


def _missing(rec: Mapping[str, Any], name: str, col: str, line: int, target: str) -> DataPrepError:
    cols = ", ".join(repr(k) for k in list(rec)[:20])
    how = (
        f"the loader maps {name!r} to column {col!r}, which this record lacks"
        if col != name
        else f"no column {name!r} and no mapping for it"
    )
    example = {
        "sft": "question='input', answer='output'",
        "rft": "question='prompt', reference_answer='label'",
        "eval": "query='input', response='output'",
        "cpt": "text='body'",
        "judge": "prompt='p', response_A='a', response_B='b'",
        "rft_multiturn": "prompt='p'",
    }[target]
    return DataPrepError(
        f"cannot transform: {how}. Columns in this record: {cols}. Map your columns with keyword arguments, "
        f"e.g. JSONLDatasetLoader({example}).",
        line=line,
        field=f"$.{col}",
    )


def _target(method: TrainingMethod, model: Model, eval_task: EvaluationTask | None) -> str:
    fam = method.family
    if eval_task is not None or fam == "evaluation":
        task = eval_task or EvaluationTask.GEN_QA
        if task in (EvaluationTask.LLM_JUDGE, EvaluationTask.RUBRIC_LLM_JUDGE, EvaluationTask.MM_LLM_JUDGE):
            return "judge"
        if task is EvaluationTask.RFT_EVAL:
            return "rft"
        if task is EvaluationTask.RFT_MULTITURN_EVAL:
            return "rft_multiturn"
        if not task.is_byod:
            raise ConfigError(f"{task} is a built-in benchmark and takes no dataset; nothing to transform.")
        return "eval"
    if fam == "sft":
        return "sft"
    if fam == "rft":
        if model is not Model.NOVA_LITE_2:
            raise ConfigError(f"RFT is supported only on Model.NOVA_LITE_2, not {model.name}.")
        return "rft"
    if fam == "rft_multiturn":
        if model is not Model.NOVA_LITE_2:
            raise ConfigError(f"RFT multiturn is supported only on Model.NOVA_LITE_2, not {model.name}.")
        return "rft_multiturn"
    if fam == "cpt":
        return "cpt"
    if fam == "dpo":
        raise ConfigError(
            "There is no generic transform for DPO: provide Converse records whose last assistant turn has "
            "'candidates' (preferred / non-preferred), then call validate(). DPO needs a Nova 1 model."
        )
    raise ConfigError(f"No transform for method {method!r}.")  # pragma: no cover


def build_transform(
    method: TrainingMethod,
    model: Model,
    mappings: Mapping[str, str],
    eval_task: EvaluationTask | None = None,
    stager: Any = None,
) -> Transform:
    """Return the per-record transform to ``(method, model[, eval_task])``.

    ``stager`` (an :class:`._images.ImageStager`) uploads OpenAI ``image_url`` images that are
    not in S3 yet (SFT only).

    Raises:
        ConfigError: The combination is not supported, or the mappings are incomplete
            (e.g. ``image_format`` without ``s3_uri`` and ``bucket_owner``).
    """
    target = _target(method, model, eval_task)
    cols = _Columns(mappings, target)
    if target == "sft":
        fn = _sft(cols, model, stager)
    elif target == "rft":
        fn = _rft(cols)
    elif target == "eval":
        fn = _eval(cols)
    elif target == "judge":
        fn = _judge(cols, eval_task is EvaluationTask.MM_LLM_JUDGE)
    elif target == "rft_multiturn":
        fn = _rft_multiturn(cols)
    else:
        fn = _cpt(cols)
    fn.target = target  # type: ignore[attr-defined]
    # pure: the result depends on the record alone (no counter, no upload), so records may be
    # transformed in any order or process (see _parallel)
    fn.pure = stager is None and not hasattr(fn, "reset")  # type: ignore[attr-defined]
    return fn


#: Standard fields a record of each target cannot do without (the rest are optional).
REQUIRED_FIELDS = {
    "sft": ("question", "answer"),
    "rft": ("question", "reference_answer"),
    "eval": ("query", "response"),
    "judge": ("prompt", "response_A", "response_B"),
    "cpt": ("text",),
    "rft_multiturn": ("prompt",),
}


def check_mapped_columns(rec: Mapping[str, Any], target: str, mappings: Mapping[str, str], line: int) -> None:
    """Raise when a column mapped to a *required* field is missing from ``rec`` (the first record).

    A typo in a required mapping fails at ``transform()``. A mapped *optional* column
    (``system``, ``id``, an RFT extra …) absent from the first record is not an error — later
    records may carry it, as in the official SDK — but is logged as a warning, as is an RFT
    ``system`` column that explicit mappings leave unmapped (it is not read). Records
    already in the target's shape (OpenAI ``messages``; ``{id, metadata}`` for RFT
    multiturn) are not checked.

    Raises:
        DataPrepError: Names the standard field, the mapped column and the columns found.
    """
    if "messages" in rec or (target == "rft_multiturn" and isinstance(rec.get("metadata"), dict)):
        return
    if target == "rft" and mappings and "system" not in mappings and rec.get("system") is not None:
        logger.warning(
            "line %d: column 'system' is not mapped and is left out of the RFT records; map it with "
            "system='system' to use it as the system prompt",
            line,
        )
    required = REQUIRED_FIELDS[target]
    known = STANDARD_FIELDS[target]
    for std, col in mappings.items():
        if std in ("messages", "tools", "toolsConfig") or col in rec:
            continue
        if std in required:
            raise _missing(rec, std, col, line, target)
        if std in known or target == "rft":
            logger.warning(
                "line %d: the column %r mapped to %r is not in the first record (columns: %s); records without "
                "it are transformed without %s",
                line,
                col,
                std,
                ", ".join(repr(k) for k in list(rec)[:20]),
                std,
            )


def _sft(cols: _Columns, model: Model, stager: Any = None) -> Transform:
    v2 = model.version is Version.TWO
    media_kind = None
    if cols.mapped("image_format") and cols.mapped("video_format"):
        raise ConfigError("Map either image_format or video_format, not both: one dataset holds one media type.")
    for kind in ("image", "video"):
        if cols.mapped(f"{kind}_format"):
            media_kind = kind
            missing = [n for n in ("s3_uri", "bucket_owner") if not cols.mapped(n)]
            if missing:
                raise ConfigError(
                    f"Multimodal SFT data needs all three mappings {kind}_format, s3_uri and bucket_owner; "
                    f"missing: {', '.join(missing)}."
                )
    if media_kind and model is Model.NOVA_MICRO:
        raise ConfigError("Model.NOVA_MICRO is text-only; images and videos need NOVA_LITE, NOVA_PRO or NOVA_LITE_2.")
    if cols.mapped("reasoning_text") and not v2:
        raise ConfigError(f"reasoning_text needs a Nova 2 model (Model.NOVA_LITE_2), not {model.name}.")
    msg_col = cols.col("messages")
    tools_col = cols.col("toolsConfig") if cols.mapped("toolsConfig") else cols.col("tools")
    bucket_owner_col = cols.col("bucket_owner")
    q_col, a_col = cols.col("question"), cols.col("answer")
    sys_mapped = cols.mapped("system")
    reasoning_mapped = cols.mapped("reasoning_text")
    # the common case needs no optional column: question and answer only
    plain = media_kind is None and not sys_mapped and not reasoning_mapped

    def values(rec: dict[str, Any], line: int) -> tuple[Any, ...]:
        """The template values of a generic record: (question, answer, system, reasoning, media kind, media)."""
        q = rec.get(q_col)
        if type(q) is not str:
            q = _text(cols.required(rec, "question", line))
        a = rec.get(a_col)
        if type(a) is not str:
            a = _text(cols.required(rec, "answer", line))
        media = None
        if media_kind is not None:
            fmt = _text(cols.required(rec, f"{media_kind}_format", line)).strip().lower()
            fmt = _MEDIA_FORMAT_ALIASES.get(fmt, fmt)
            uri = _text(cols.required(rec, "s3_uri", line))
            owner = _text(cols.required(rec, "bucket_owner", line))
            media = {"format": fmt, "source": {"s3Location": {"uri": uri, "bucketOwner": owner}}}
        reasoning = None
        if v2 and (reasoning_mapped or "reasoning_text" in rec):
            reasoning = cols.optional(rec, "reasoning_text", line)
            if reasoning is not None:
                reasoning = _text(reasoning)
        system = None
        if sys_mapped or "system" in rec:
            system = cols.optional(rec, "system", line)
            if system is not None:
                system = _text(system)
        return (q, a, system, reasoning, media_kind, media)

    def transform(rec: dict[str, Any], line: int) -> dict[str, Any]:
        if msg_col in rec and isinstance(rec[msg_col], list):
            if msg_col == "messages" and is_converse(rec):
                return rec
            return openai_to_converse(
                rec[msg_col], rec.get(tools_col), line, v2=v2, bucket_owner=rec.get(bucket_owner_col), stager=stager
            )
        fields = values(rec, line)
        q, a, system, reasoning, kind, media = fields
        user: list[dict[str, Any]] = [{"text": q}] if media is None else [{kind: media}, {"text": q}]
        assistant: list[dict[str, Any]] = [{"text": a}]
        if reasoning is not None:
            assistant.insert(0, {"reasoningContent": {"reasoningText": {"text": reasoning}}})
        out = TemplatedConverse(schemaVersion=SCHEMA_VERSION)
        if system is not None:
            out["system"] = [{"text": system}]
        out["messages"] = [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        out.fields = fields
        return out

    def fast(rec: dict[str, Any], line: int) -> tuple[bytes, tuple[Any, ...]] | None:
        """``(orjson.dumps(transform(rec)) + b"\\n", fields)`` without building the dict; ``None``
        for records that are not generic columns (they take the ``transform`` path)."""
        if msg_col in rec:
            return None
        q, a = rec.get(q_col), rec.get(a_col)
        if type(q) is str and type(a) is str and plain and "system" not in rec and not (v2 and "reasoning_text" in rec):
            return b"".join((_PRE_Q, dumps(q), _MID, dumps(a), _TAIL)), (q, a, None, None, None, None)
        fields = values(rec, line)
        q, a, system, reasoning, kind, media = fields
        parts = [_HEAD]
        if system is not None:
            parts += (b'"system":[{"text":', dumps(system), b"}],")
        parts.append(_USER)
        if media is not None:
            parts += (b'{"', kind.encode(), b'":', dumps(media), b"},")
        parts += (b'{"text":', dumps(q), _ASSISTANT)
        if reasoning is not None:
            parts += (b'{"reasoningContent":{"reasoningText":{"text":', dumps(reasoning), b"}}},")
        parts += (b'{"text":', dumps(a), _TAIL)
        return b"".join(parts), fields

    transform.fast = fast  # type: ignore[attr-defined]
    # the batch form of ``fast`` (see _fastbatch.plain_batch) applies when no optional column is mapped
    fast.plain = (q_col, a_col, msg_col, v2) if plain else None  # type: ignore[attr-defined]
    return transform


_HEAD = b'{"schemaVersion":"bedrock-conversation-2024",'
_USER = b'"messages":[{"role":"user","content":['
_ASSISTANT = b'}]},{"role":"assistant","content":['
_TAIL = b"}]}]}\n"
_PRE_Q = _HEAD + _USER + b'{"text":'
_MID = _ASSISTANT + b'{"text":'
dumps = orjson.dumps


_RFT_KNOWN = {"question", "reference_answer", "system", "id", "messages", "tools", "toolsConfig"}


def _rft(cols: _Columns) -> Transform:
    extras = [(k, v) for k, v in cols.mappings.items() if k not in _RFT_KNOWN]
    msg_col = cols.col("messages")
    tools_col = cols.col("tools")
    # With explicit mappings, an unmapped "system" column is not read (the official SDK
    # ignores it too); with no mappings at all, standard names are read as they are.
    read_system = cols.mapped("system") or not cols.mappings

    def transform(rec: dict[str, Any], line: int) -> dict[str, Any]:
        msgs = rec.get(msg_col)
        if isinstance(msgs, list):
            if msg_col == "messages" and tools_col == "tools" and not extras:
                return rec
            out = {k: v for k, v in rec.items() if k not in (msg_col, tools_col)}
            out["messages"] = msgs
            if rec.get(tools_col) is not None:
                out["tools"] = rec[tools_col]
            return out
        q = _text(cols.required(rec, "question", line))
        ref = cols.required(rec, "reference_answer", line)
        out = {}
        rid = cols.optional(rec, "id", line)
        if rid is not None:
            out["id"] = _text(rid)
        messages: list[dict[str, Any]] = []
        system = cols.optional(rec, "system", line) if read_system else None
        if system is not None:
            messages.append({"role": "system", "content": _text(system)})
        messages.append({"role": "user", "content": q})
        out["messages"] = messages
        out["reference_answer"] = ref
        for std, col in extras:
            if col in rec:  # an extra column absent from a record is left out (official SDK)
                out[std] = rec[col]
        return out

    return transform


def _images(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"data": value}]
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {"data": _text(v)} for v in value]
    if isinstance(value, dict):
        return [value]
    return [{"data": _text(value)}]


def _eval(cols: _Columns) -> Transform:
    def transform(rec: dict[str, Any], line: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "query": _text(cols.required(rec, "query", line)),
            "response": _text(cols.required(rec, "response", line)),
        }
        system = cols.optional(rec, "system", line)
        if system is not None:
            out["system"] = _text(system)
        images = cols.optional(rec, "images", line)
        if images is not None:
            out["images"] = _images(images)
        metadata = cols.optional(rec, "metadata", line)
        if metadata is not None:
            out["metadata"] = _text(metadata)
        return out

    return transform


def _judge(cols: _Columns, multimodal: bool) -> Transform:
    def transform(rec: dict[str, Any], line: int) -> dict[str, Any]:
        out: dict[str, Any] = {"prompt": _text(cols.required(rec, "prompt", line))}
        if multimodal:
            out["images"] = _images(cols.required(rec, "images", line))
        out["response_A"] = _text(cols.required(rec, "response_A", line))
        out["response_B"] = _text(cols.required(rec, "response_B", line))
        return out

    return transform


def _cpt(cols: _Columns) -> Transform:
    def transform(rec: dict[str, Any], line: int) -> dict[str, Any]:
        return {"text": _text(cols.required(rec, "text", line))}

    return transform


def _rft_multiturn(cols: _Columns) -> Transform:
    """Flat ``{id?, prompt, answer?, task?, info?}`` → ``{id, metadata: {...}}``.

    A missing or empty id becomes ``sample_001``, ``sample_002`` … counted over the records
    without one, in file order (as in the official SDK); nested records are kept, with an id
    added when theirs is missing or empty. ``reset()`` restarts the count for a new pass.
    """
    count = [0]

    def next_id() -> str:
        count[0] += 1
        return f"sample_{count[0]:03d}"

    def transform(rec: dict[str, Any], line: int) -> dict[str, Any]:
        if isinstance(rec.get("metadata"), dict):
            rid = rec.get("id")
            if rid is None or rid == "":
                return {"id": next_id(), **{k: v for k, v in rec.items() if k != "id"}}
            return rec
        rid = cols.optional(rec, "id", line)
        meta: dict[str, Any] = {"prompt": cols.required(rec, "prompt", line)}
        for name in ("answer", "task"):
            v = cols.optional(rec, name, line)
            if v is not None:
                meta[name] = _text(v)
        info = cols.optional(rec, "info", line)
        if info is not None:
            meta["info"] = info
        return {"id": _text(rid) if rid is not None else next_id(), "metadata": meta}

    def reset() -> None:
        count[0] = 0

    transform.reset = reset  # type: ignore[attr-defined]
    return transform
