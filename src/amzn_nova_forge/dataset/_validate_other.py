"""Record rules for RFT (OpenAI format), RFT multiturn, evaluation BYOD, LLM-judge and CPT.

Sources: ``reference/nova-data-formats.md`` §3, §4, §6 and ``official-sdk-facts.md`` §4.3.
Choices where they disagree:

* RFT ``tools`` is optional (Nova docs, 1.4.10 SDK); the AWS sample validator requires it.
* RFT is single-turn (Nova 2 RFT guide): more than one ``user`` message is a problem.
  ``image_url`` content parts are accepted, as the official SDK's tests require, with a
  warning: the SageMaker Nova 2 RFT guide lists RFT data as text-only. An assistant message
  may have ``content: null`` when it carries ``tool_calls`` (OpenAI format; official tests). ``reference_answer`` is recommended, not required
  (the API spec says so): a record without one gets a warning.
* ``reference_answer`` may be any non-empty JSON value except ``null`` (docs: "any JSON
  the reward function uses"; 1.4.10 allowed only strings and objects).
* Evaluation ``gen_qa`` is a strict schema (SageMaker eval guide): unknown keys are problems
  (1.4.10 ignored them). ``images`` (base64 data URIs) are accepted as the 1.4.10 SDK did,
  although the eval guide does not document them.
* LLM-judge datasets are validated (``prompt``, ``response_A``, ``response_B``; 1.4.10 did
  not validate them at all); ``mm_llm_judge`` images must be base64 ``data:image/`` URIs
  (the guide: S3 image URIs are not supported).
"""

from __future__ import annotations

from typing import Any

from amzn_nova_forge.dataset._rules import (
    ANSWER,
    DATA_IMAGE_RE,
    ID,
    IMAGES,
    INFO,
    REFERENCE,
    SYSTEM,
    TASK,
    TOOLS,
    Ctx,
    reserved_msg,
    reserved_word,
)

__all__ = ["check_cpt", "check_eval", "check_judge", "check_rft", "check_rft_multiturn"]

_RFT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_RFT_MSG_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id"})


def _blank(v: Any) -> bool:
    return type(v) is not str or not v.strip()


def _rft_content(content: Any, p: str, ctx: Ctx) -> None:
    errs = ctx.errs
    if type(content) is str:
        if not content.strip():
            errs.append((p, "must not be blank"))
        else:
            w = reserved_word(content)
            if w is not None:
                errs.append((p, reserved_msg(w)))
        return
    if type(content) is not list or not content:
        errs.append((p, 'must be a non-blank string or a non-empty list of {"type": "text", "text": ...}'))
        return
    for k, part in enumerate(content):
        pp = f"{p}[{k}]"
        if type(part) is dict and part.get("type") == "image_url":
            url = part.get("image_url")
            url = url.get("url") if type(url) is dict else None
            if _blank(url):
                errs.append((pp + ".image_url.url", "must be a non-blank URL (https://, s3:// or data:image/…)"))
            else:
                ctx.warns.append(
                    (
                        "rft_image",
                        pp,
                        "image_url part in RFT data: the Nova 2 RFT guide (SageMaker) lists RFT data as text-only",
                    )
                )
        elif type(part) is not dict or part.get("type") != "text":
            errs.append((pp, 'each part must be {"type": "text", "text": ...} or {"type": "image_url", ...}'))
        elif _blank(part.get("text")):
            errs.append((pp + ".text", "must be a non-blank string"))
        else:
            w = reserved_word(part["text"])
            if w is not None:
                errs.append((pp + ".text", reserved_msg(w)))


def _rft_tools(tools: Any, ctx: Ctx) -> None:
    errs = ctx.errs
    if type(tools) is not list or not tools:
        errs.append(("$.tools", 'must be a non-empty list of {"type": "function", "function": {...}} when present'))
        return
    seen: set[str] = set()
    for k, t in enumerate(tools):
        p = f"$.tools[{k}]"
        if type(t) is not dict:
            errs.append((p, "must be an object"))
            continue
        if t.get("type") != "function":
            errs.append((p + ".type", f"must be 'function', got {t.get('type')!r}"))
        fn = t.get("function")
        if type(fn) is not dict:
            errs.append((p + ".function", "must be {name, description, parameters}"))
            continue
        name = fn.get("name")
        if _blank(name):
            errs.append((p + ".function.name", "must be a non-blank string"))
        elif name in seen:
            errs.append((p + ".function.name", f"duplicate tool name {name!r}"))
        else:
            seen.add(str(name))
        if _blank(fn.get("description")):
            errs.append((p + ".function.description", "must be a non-blank string"))
        params = fn.get("parameters")
        if type(params) is not dict or params.get("type") != "object":
            errs.append((p + ".function.parameters", 'must be a JSON Schema with "type": "object"'))
        elif type(params.get("properties", {})) is not dict:
            errs.append((p + ".function.parameters.properties", "must be an object"))


def check_rft(rec: Any, ctx: Ctx) -> int:
    """One RFT record (OpenAI chat format with ``reference_answer``); also used for ``rft_eval``."""
    errs = ctx.errs
    if type(rec) is not dict:
        errs.append(("$", "must be a JSON object"))
        return 0
    mask = 0
    if "id" in rec:
        mask |= ID
        if _blank(rec["id"]):
            errs.append(("$.id", "must be a non-blank string when present"))
    msgs = rec.get("messages")
    if type(msgs) is not list or not msgs:
        errs.append(("$.messages", "missing" if msgs is None else "must be a non-empty list of messages"))
        if "question" in rec or "prompt" in rec:
            errs.append(("$", "this looks like generic data: call transform(method, model) first"))
        msgs = []
    users = 0
    for i, m in enumerate(msgs):
        p = f"$.messages[{i}]"
        if type(m) is not dict:
            errs.append((p, "must be an object with role and content"))
            continue
        extra = m.keys() - _RFT_MSG_KEYS
        if extra:
            errs.append((p, f"unknown fields {sorted(extra)}; allowed: role, content, tool_calls, tool_call_id"))
        role = m.get("role")
        if role not in _RFT_ROLES:
            errs.append((p + ".role", f"must be one of system, developer, user, assistant, tool; got {role!r}"))
        elif role in ("system", "developer") and i != 0:
            errs.append((p + ".role", "a system message must be the first message"))
        elif role == "user":
            users += 1
        if not (role == "assistant" and m.get("content") is None and m.get("tool_calls")):
            _rft_content(m.get("content"), p + ".content", ctx)
    if msgs and users == 0:
        errs.append(("$.messages", "needs a user message"))
    elif users > 1:
        errs.append(
            (
                "$.messages",
                f"{users} user messages: RFT is single-turn (one user prompt per record); "
                "use RFT multiturn for conversations",
            )
        )
    if "reference_answer" in rec:
        mask |= REFERENCE
        ref = rec["reference_answer"]
        if ref is None or (type(ref) is str and not ref.strip()) or (type(ref) in (dict, list) and not ref):
            errs.append(("$.reference_answer", "must be a non-empty string or object when present"))
    else:
        ctx.warns.append(
            (
                "no_reference",
                "$.reference_answer",
                "no reference_answer: the reward function has no ground truth to compare against",
            )
        )
    if "tools" in rec:
        mask |= TOOLS
        _rft_tools(rec["tools"], ctx)
    return mask


_MT_MSG_ROLES = frozenset({"system", "user", "assistant", "tool"})


def _mt_prompt(prompt: Any, ctx: Ctx) -> None:
    errs = ctx.errs
    p = "$.metadata.prompt"
    if type(prompt) is str:
        if not prompt.strip():
            errs.append((p, "must not be blank"))
        return
    if type(prompt) is not list or not prompt:
        errs.append((p, "must be a non-blank string or a non-empty list of messages"))
        return
    for i, m in enumerate(prompt):
        mp = f"{p}[{i}]"
        if type(m) is not dict or "role" not in m:
            errs.append((mp, "must be a message object with a role"))
            continue
        role = m["role"]
        if role not in _MT_MSG_ROLES:
            errs.append((mp + ".role", f"must be one of system, user, assistant, tool; got {role!r}"))
        elif role == "assistant":
            if _blank(m.get("content")) and not m.get("tool_calls"):
                errs.append((mp, "an assistant message needs content or tool_calls"))
            for k, call in enumerate(m.get("tool_calls") or []):
                fn = call.get("function") if type(call) is dict else None
                if type(call) is not dict or call.get("type") != "function":
                    errs.append((f"{mp}.tool_calls[{k}].type", "must be 'function'"))
                if type(fn) is not dict or "name" not in fn or "arguments" not in fn:
                    errs.append((f"{mp}.tool_calls[{k}].function", "must have name and arguments"))
        elif role == "tool":
            if _blank(m.get("tool_call_id")):
                errs.append((mp + ".tool_call_id", "a tool message needs tool_call_id"))
            if _blank(m.get("content")):
                errs.append((mp + ".content", "must be a non-blank string"))
        elif _blank(m.get("content")):
            errs.append((mp + ".content", "must be a non-blank string"))


def check_rft_multiturn(rec: Any, ctx: Ctx) -> int:
    """RFT multiturn: ``{id, metadata: {prompt, answer?, task?, info?}}`` (HyperPod) or ``{prompt}`` (serverless).

    The dataset's first record fixes which of the two shapes every record must use.
    """
    errs = ctx.errs
    if type(rec) is not dict:
        errs.append(("$", "must be a JSON object"))
        return 0
    shape = "nested" if ("metadata" in rec or "id" in rec) else "flat"
    if ctx.shape is None:
        ctx.shape = shape
    elif ctx.shape != shape:
        errs.append(
            (
                "$",
                f"mixes record shapes: the dataset uses the {ctx.shape} shape "
                "({id, metadata} for HyperPod, {prompt} for serverless)",
            )
        )
    if shape == "flat":
        if _blank(rec.get("prompt")):
            errs.append(("$.prompt", "must be a non-blank string"))
        return 0
    mask = 0
    extra = rec.keys() - {"id", "metadata"}
    if extra:
        errs.append(("$", f"unknown fields {sorted(extra)}; a record has only id and metadata"))
    if _blank(rec.get("id")):
        errs.append(("$.id", "must be a non-blank string"))
    meta = rec.get("metadata")
    if type(meta) is not dict:
        errs.append(("$.metadata", "must be an object with prompt (and optional answer, task, info)"))
        return mask
    _mt_prompt(meta.get("prompt"), ctx)
    for name, bit in (("answer", ANSWER), ("task", TASK)):
        if name in meta:
            mask |= bit
            if type(meta[name]) is not str:
                errs.append((f"$.metadata.{name}", "must be a string"))
    if "info" in meta:
        mask |= INFO
        info = meta["info"]
        if type(info) is str:
            import json

            try:
                json.loads(info)
            except ValueError:
                errs.append(("$.metadata.info", "must be an object or a string holding JSON"))
        elif type(info) is not dict:
            errs.append(("$.metadata.info", "must be an object or a string holding JSON"))
    return mask


_EVAL_KEYS = frozenset({"query", "response", "system", "images", "metadata"})


def _images(images: Any, p: str, ctx: Ctx, *, required: bool) -> None:
    errs = ctx.errs
    if type(images) is not list or (required and not images):
        errs.append((p, 'must be a list of {"data": "data:image/<format>;base64,..."}'))
        return
    for k, img in enumerate(images):
        data = img.get("data") if type(img) is dict else None
        if type(data) is not str or not DATA_IMAGE_RE.match(data):
            hint = (
                " (S3 image URIs are not supported; embed the image as Base64)"
                if (type(data) is str and data.startswith("s3://"))
                else ""
            )
            errs.append((f"{p}[{k}].data", f"must be a data:image/<format>;base64,... URI{hint}"))


def check_eval(rec: Any, ctx: Ctx) -> int:
    """Evaluation BYOD (``gen_qa``): ``{query, response, system?, images?, metadata?}``."""
    errs = ctx.errs
    if type(rec) is not dict:
        errs.append(("$", "must be a JSON object"))
        return 0
    mask = 0
    for k in rec:
        if k not in _EVAL_KEYS:
            errs.append(
                (
                    f"$.{k}",
                    f"unknown field {k!r}; gen_qa records have only query, response, system, "
                    "images and metadata (map your columns and call transform first)",
                )
            )
    for name in ("query", "response"):
        v = rec.get(name)
        if _blank(v):
            errs.append((f"$.{name}", "missing" if v is None else "must be a non-blank string"))
    if "system" in rec:
        mask |= SYSTEM
        if type(rec["system"]) is not str:
            errs.append(("$.system", "must be a string"))
    if "images" in rec:
        mask |= IMAGES
        _images(rec["images"], "$.images", ctx, required=False)
    if "metadata" in rec and type(rec["metadata"]) is not str:
        errs.append(("$.metadata", "must be a string (serialise objects to JSON text)"))
    q = rec.get("query")
    if type(q) is str:
        chars = len(q) + len(rec.get("system") or "") if type(rec.get("system", "")) is str else len(q)
        if chars > 3500 * 4:
            ctx.warns.append(
                (
                    "eval_context",
                    "$.query",
                    f"system + query look longer than the 3.5k-token limit (~{chars // 4} tokens estimated)",
                )
            )
    return mask


def check_judge(rec: Any, ctx: Ctx) -> int:
    """LLM-as-judge: ``{prompt, response_A, response_B}`` (+ ``images`` for ``mm_llm_judge``)."""
    errs = ctx.errs
    if type(rec) is not dict:
        errs.append(("$", "must be a JSON object"))
        return 0
    for name in ("prompt", "response_A", "response_B"):
        v = rec.get(name)
        if _blank(v):
            errs.append((f"$.{name}", "missing" if v is None else "must be a non-blank string"))
    multimodal = ctx.rules.eval_task is not None and ctx.rules.eval_task.value == "mm_llm_judge"
    if multimodal:
        _images(rec.get("images"), "$.images", ctx, required=True)
    elif "images" in rec:
        errs.append(("$.images", "images are only for mm_llm_judge"))
    return 0


def check_cpt(rec: Any, ctx: Ctx) -> int:
    """CPT: exactly ``{"text": "<non-blank>"}``."""
    errs = ctx.errs
    if type(rec) is not dict:
        errs.append(("$", "must be a JSON object"))
        return 0
    text = rec.get("text")
    if _blank(text):
        errs.append(("$.text", "missing" if text is None else "must be a non-blank string"))
    if len(rec) != 1 or "text" not in rec:
        extra = sorted(k for k in rec if k != "text")
        if extra:
            errs.append(("$", f"unknown fields {extra}; CPT records hold only text"))
    return 0
