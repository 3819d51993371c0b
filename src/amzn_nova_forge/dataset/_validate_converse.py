"""Converse (``bedrock-conversation-2024``) record rules: SFT on Nova 1 and 2, and DPO.

Sources: ``reference/nova-data-formats.md`` §1–2 (Nova user guides, Bedrock pages, the
AWS sample validator) and ``reference/official-sdk-facts.md`` §4.3. Choices where they
disagree (each documented where it is applied):

* ``schemaVersion`` is required and must be ``bedrock-conversation-2024`` (Nova 2 guide:
  required; 1.4.10 SDK and Bedrock distillation: that exact value).
* Roles are exact lower-case ``user``/``assistant``; ``system`` is a top-level field.
* Image/video counts are per *sample* (docs: "max 10 per sample"), stricter than the
  1.4.10 SDK's per-message count.
* Media ``format`` must be lower-case (the Converse API enum); ``jpg`` is rejected
  (write ``jpeg``), as in the 1.4.10 SDK.
* ``bucketOwner`` must be a 12-digit account id (S3's expected-bucket-owner format).
* ``toolConfig`` alone is accepted on Nova 1, as the official SDK's tests require (AWS: "tool
  usage is supported in the input format"); tool *blocks* (``toolUse``/``toolResult``) on
  Nova 1 are rejected (the Nova docs list them for Nova 2 Lite only), and tools of any kind on
  Bedrock Nova 2 (Bedrock page: "not currently supported … might cause your job to fail").
* Every ``toolUse`` must be answered by a ``toolResult`` with its ``toolUseId`` in the very
  next (user) message, as the Converse API requires; a ``toolUse`` in the final assistant
  message (the model's last turn, nothing after it) is the one exception. Both SDKs missed this.
* ``reasoningContent`` may not share a message with media (AWS validator); a sample may
  still have an image in a user turn and reasoning in the assistant turn (the Nova 2
  guide's own example does exactly that).
"""

from __future__ import annotations

from typing import Any

from amzn_nova_forge.dataset._rules import (
    ACCOUNT_RE,
    DOCUMENT,
    IMAGE,
    REASONING,
    S3_URI_RE,
    SYSTEM,
    TOOL_RESULT,
    TOOL_USE,
    VIDEO,
    Ctx,
    TemplatedConverse,
    reserved_msg,
    reserved_word,
)

__all__ = ["check_converse", "check_fields", "check_templated"]

SCHEMA_VERSION = "bedrock-conversation-2024"
_TOP = frozenset({"schemaVersion", "system", "messages", "toolConfig"})
_MSG_KEYS = frozenset({"role", "content"})
_DPO_LAST_KEYS = frozenset({"role", "candidates"})
_BLOCKS = ("text", "image", "video", "document", "reasoningContent", "toolUse", "toolResult")
_MAX_IMAGES = 10
_MEDIA_BITS = {"image": IMAGE, "video": VIDEO, "document": DOCUMENT}


def _text(val: Any, path: str, errs: list[tuple[str, str]]) -> int:
    if type(val) is not str:
        errs.append((path, f"must be a string, got {type(val).__name__}"))
        return 0
    w = reserved_word(val)
    if w is not None:
        errs.append((path, reserved_msg(w)))
    return len(val)


def _check_system(system: Any, errs: list[tuple[str, str]]) -> None:
    if type(system) is not list or not system:
        errs.append(("$.system", 'must be a non-empty list of {"text": "..."} (the system prompt)'))
        return
    for k, item in enumerate(system):
        if type(item) is not dict or set(item) != {"text"}:
            errs.append((f"$.system[{k}]", 'must be {"text": "..."}'))
            continue
        if _text(item["text"], f"$.system[{k}].text", errs) == 0 and type(item["text"]) is str:
            errs.append((f"$.system[{k}].text", "is empty"))


def _has_tool_blocks(messages: Any) -> bool:
    for m in messages if type(messages) is list else ():
        content = m.get("content") if type(m) is dict else None
        for b in content if type(content) is list else ():
            if type(b) is dict and ("toolUse" in b or "toolResult" in b):
                return True
    return False


def _check_tool_config(tc: Any, ctx: Ctx, blocks: bool = True) -> set[str]:
    errs, r = ctx.errs, ctx.rules
    names: set[str] = set()
    if not r.tools and (r.v2 or blocks):
        why = "Nova 1 models" if not r.v2 else "Nova 2 SFT on Bedrock"
        errs.append(("$.toolConfig", f"tool calling is not supported for {why}; remove toolConfig and tool blocks"))
    tools = tc.get("tools") if type(tc) is dict else None
    if type(tools) is not list or not tools:
        errs.append(("$.toolConfig.tools", 'must be a non-empty list of {"toolSpec": {...}}'))
        return names
    for k, t in enumerate(tools):
        p = f"$.toolConfig.tools[{k}].toolSpec"
        spec = t.get("toolSpec") if type(t) is dict else None
        if type(spec) is not dict:
            errs.append((p, 'missing: each tool is {"toolSpec": {name, description, inputSchema}}'))
            continue
        name = spec.get("name")
        if type(name) is not str or not name.strip():
            errs.append((p + ".name", "must be a non-blank string"))
        elif name in names:
            errs.append((p + ".name", f"duplicate tool name {name!r}"))
        else:
            names.add(name)
        desc = spec.get("description")
        if type(desc) is not str or not desc.strip():
            errs.append((p + ".description", "must be a non-blank string"))
        schema = spec.get("inputSchema")
        js = schema.get("json") if type(schema) is dict else None
        if type(js) is not dict or "type" not in js:
            errs.append((p + ".inputSchema.json", "must be a JSON Schema object with a 'type' (e.g. \"object\")"))
    return names


def _check_media(kind: str, val: Any, path: str, ctx: Ctx) -> None:
    errs, r = ctx.errs, ctx.rules
    if type(val) is not dict:
        errs.append((path, "must be an object with format and source"))
        return
    fmt = val.get("format")
    allowed = r.image_formats if kind == "image" else r.video_formats if kind == "video" else frozenset({"pdf"})
    if fmt is None:
        errs.append((path + ".format", "missing"))
    elif fmt not in allowed:
        hint = " (write 'jpeg')" if fmt == "jpg" else " (formats are lower-case)" if str(fmt).lower() in allowed else ""
        errs.append((path + ".format", f"{fmt!r} is not allowed here; use one of {sorted(allowed)}{hint}"))
    src = val.get("source")
    loc = src.get("s3Location") if type(src) is dict else None
    if type(loc) is not dict:
        errs.append((path + ".source", 'must be {"s3Location": {"uri": "s3://...", "bucketOwner": "<account id>"}}'))
        return
    uri = loc.get("uri")
    if ctx.media is not None and type(uri) is str and type(fmt) is str:
        ctx.media.append((kind, fmt, uri, path))
    if type(uri) is not str or not uri.startswith("s3://"):
        errs.append((path + ".source.s3Location.uri", "must be an s3:// URI"))
    elif not S3_URI_RE.match(uri):
        errs.append(
            (
                path + ".source.s3Location.uri",
                "may contain only letters, digits, '_', '-', '/' and '.' after s3:// (Nova file-name rule)",
            )
        )
    owner = loc.get("bucketOwner")
    if owner is None:
        errs.append((path + ".source.s3Location.bucketOwner", "missing (the 12-digit account id owning the bucket)"))
    elif type(owner) is not str or not ACCOUNT_RE.match(owner):
        errs.append((path + ".source.s3Location.bucketOwner", f"must be a 12-digit AWS account id, got {owner!r}"))


class _Tools:
    """Conversation-level tool bookkeeping (created only when a record uses tools)."""

    __slots__ = ("answered", "results", "uses", "where")

    def __init__(self) -> None:
        self.uses: dict[str, int] = {}
        self.where: dict[str, str] = {}
        self.results: set[str] = set()
        self.answered: dict[str, int] = {}


def _check_tool_use(val: Any, path: str, i: int, ctx: Ctx, names: set[str] | None, st: _Tools) -> None:
    errs = ctx.errs
    if type(val) is not dict:
        errs.append((path, "must be {toolUseId, name, input}"))
        return
    tid, name = val.get("toolUseId"), val.get("name")
    if type(tid) is not str or not tid.strip():
        errs.append((path + ".toolUseId", "must be a non-blank string"))
    elif tid in st.uses:
        errs.append((path + ".toolUseId", f"{tid!r} is used twice; toolUseId must be unique in a conversation"))
    else:
        st.uses[tid] = i
        st.where[tid] = path + ".toolUseId"
    if type(name) is not str or not name.strip():
        errs.append((path + ".name", "must be a non-blank string"))
    elif names is None:
        errs.append((path + ".name", f"tool {name!r} is called but the record has no toolConfig defining it"))
    elif name not in names:
        errs.append((path + ".name", f"tool {name!r} is not defined in toolConfig (defined: {sorted(names)})"))
    if type(val.get("input")) is not dict:
        errs.append((path + ".input", "must be a JSON object"))


def _check_tool_result(val: Any, path: str, i: int, ctx: Ctx, st: _Tools) -> None:
    errs = ctx.errs
    if type(val) is not dict:
        errs.append((path, "must be {toolUseId, content}"))
        return
    tid = val.get("toolUseId")
    if type(tid) is not str or not tid.strip():
        errs.append((path + ".toolUseId", "must be a non-blank string"))
    else:
        used_at = st.uses.get(tid)
        if used_at is None or used_at >= i:
            errs.append((path + ".toolUseId", f"{tid!r} does not match a toolUse in an earlier assistant message"))
        elif tid in st.results:
            errs.append((path + ".toolUseId", f"{tid!r} already has a toolResult; each toolUse gets exactly one"))
        else:
            st.results.add(tid)
            st.answered[tid] = i
    content = val.get("content")
    if type(content) is not list or not content:
        errs.append((path + ".content", 'must be a non-empty list of {"text": ...} or {"json": ...}'))
        return
    for k, item in enumerate(content):
        if type(item) is not dict or len(item) != 1 or not ("text" in item or "json" in item):
            errs.append((f"{path}.content[{k}]", 'must hold exactly one of "text" or "json"'))
        elif "text" in item:
            _text(item["text"], f"{path}.content[{k}].text", errs)


def _check_candidates(m: dict[str, Any], p: str, ctx: Ctx) -> None:
    errs = ctx.errs
    cands = m.get("candidates")
    if type(cands) is not list or len(cands) < 2:
        errs.append((p + ".candidates", "needs at least 2 candidates (one preferred, one non-preferred)"))
        return
    labels = set()
    for k, c in enumerate(cands):
        cp = f"{p}.candidates[{k}]"
        if type(c) is not dict:
            errs.append((cp, "must be {content, preferenceLabel}"))
            continue
        label = c.get("preferenceLabel")
        if label not in ("preferred", "non-preferred"):
            errs.append((cp + ".preferenceLabel", f"must be 'preferred' or 'non-preferred', got {label!r}"))
        else:
            labels.add(label)
        content = c.get("content")
        if type(content) is not list or not content:
            errs.append((cp + ".content", 'must be a non-empty list of {"text": ...}'))
            continue
        total = 0
        for j, b in enumerate(content):
            if type(b) is not dict or set(b) != {"text"}:
                errs.append((f"{cp}.content[{j}]", "DPO candidates may hold only text blocks"))
            else:
                total += _text(b["text"], f"{cp}.content[{j}].text", errs)
        if total == 0:
            errs.append((cp + ".content", "empty text content"))
    if len(labels) < 2 and all(
        type(c) is dict and c.get("preferenceLabel") in ("preferred", "non-preferred") for c in cands
    ):
        errs.append((p + ".candidates", "needs both a 'preferred' and a 'non-preferred' candidate"))


def check_converse(rec: Any, ctx: Ctx) -> int:
    """Validate one Converse record (SFT, or DPO when ``ctx.rules.dpo``); return its feature mask.

    Written for speed on the common shape (text-only user/assistant turns): rich messages
    (media, reasoning, tools) go through :func:`_check_rich_message`.
    """
    errs = ctx.errs
    if type(rec) is not dict:
        errs.append(("$", "must be a JSON object"))
        return 0
    mask = 0
    if not rec.keys() <= _TOP:
        for k in rec:
            if k not in _TOP:
                errs.append(
                    (
                        f"$.{k}",
                        f"unknown field {k!r}; a Converse record has only schemaVersion, system, "
                        "messages and (Nova 2) toolConfig",
                    )
                )
    sv = rec.get("schemaVersion")
    if sv != SCHEMA_VERSION:
        errs.append(
            (
                "$.schemaVersion",
                f'missing; add "schemaVersion": "{SCHEMA_VERSION}"'
                if sv is None
                else f"must be {SCHEMA_VERSION!r}, got {sv!r}",
            )
        )
    system = rec.get("system")
    if system is not None:
        mask |= SYSTEM
        _check_system(system, errs)
    names = (
        _check_tool_config(rec["toolConfig"], ctx, ctx.rules.v2 or _has_tool_blocks(rec.get("messages")))
        if "toolConfig" in rec
        else None
    )
    messages = rec.get("messages")
    if type(messages) is not list:
        errs.append(("$.messages", "missing" if messages is None else "must be a list of messages"))
        return mask
    n = len(messages)
    if n < 2:
        errs.append(("$.messages", f"needs at least 2 messages (user, then assistant), got {n}"))
    st: _State | None = None
    dpo = ctx.rules.dpo
    i = -1
    for m in messages:
        i += 1
        if type(m) is not dict:
            errs.append((f"$.messages[{i}]", "must be an object with role and content"))
            continue
        role = m.get("role")
        if role != ("assistant" if i & 1 else "user"):
            _role_problem(role, "assistant" if i & 1 else "user", i, errs)
        content = m.get("content")
        if len(m) != 2 or content is None or role is None or (dpo and i == n - 1):
            if dpo and "candidates" in m:
                _dpo_candidates_message(m, i, n, role, ctx)
                continue
            _message_keys(m, i, n, dpo, errs)
        if type(content) is not list or not content:
            errs.append((f"$.messages[{i}].content", "must be a non-empty list of content blocks"))
            continue
        text_len = 0
        j = -1
        for b in content:
            j += 1
            if type(b) is dict and len(b) == 1 and "text" in b:
                val = b["text"]
                if type(val) is str:
                    text_len += len(val)
                    if ":" in val or "<" in val or "[" in val:
                        w = reserved_word(val)
                        if w is not None:
                            errs.append((f"$.messages[{i}].content[{j}].text", reserved_msg(w)))
                    continue
                errs.append((f"$.messages[{i}].content[{j}].text", f"must be a string, got {type(val).__name__}"))
                continue
            break
        else:
            if text_len == 0:
                errs.append((f"$.messages[{i}].content", "empty text content"))
            continue
        if st is None:
            st = _State(names)
        mask |= _check_rich_message(content, i, role, ctx, st)
    if n >= 2 and type(messages[-1]) is dict and messages[-1].get("role") != "assistant":
        errs.append((f"$.messages[{n - 1}].role", "the conversation must end with an assistant message"))
    if st is not None:
        if st.images > _MAX_IMAGES:
            errs.append(("$.messages", f"{st.images} images in one sample; the limit is {_MAX_IMAGES}"))
        if st.videos > 1:
            errs.append(("$.messages", f"{st.videos} videos in one sample; the limit is 1"))
        if st.documents > 1:
            errs.append(("$.messages", f"{st.documents} documents in one sample; the limit is 1"))
        if st.tools is not None:
            for tid, at in st.tools.uses.items():
                if at < n - 1 and st.tools.answered.get(tid) != at + 1:
                    errs.append(
                        (
                            st.tools.where[tid],
                            f"toolUse {tid!r} is not answered: the next user message must hold a toolResult "
                            "with this toolUseId",
                        )
                    )
    return mask


def _dpo_candidates_message(m: dict[str, Any], i: int, n: int, role: Any, ctx: Ctx) -> None:
    p = f"$.messages[{i}]"
    if i != n - 1 or role != "assistant":
        ctx.errs.append((p, "only the last (assistant) message may have candidates"))
    if not m.keys() <= _DPO_LAST_KEYS:
        ctx.errs.append((p, f"unknown fields {sorted(set(m) - _DPO_LAST_KEYS)}; allowed: role, candidates"))
    _check_candidates(m, p, ctx)


def _message_keys(m: dict[str, Any], i: int, n: int, dpo: bool, errs: list[tuple[str, str]]) -> None:
    if not m.keys() <= _MSG_KEYS:
        errs.append(
            (f"$.messages[{i}]", f"unknown fields {sorted(set(m) - _MSG_KEYS)}; a message has only role and content")
        )
    if dpo and i == n - 1:
        errs.append(
            (
                f"$.messages[{i}]",
                "DPO: the last assistant turn needs 'candidates' (preferred / non-preferred) instead of 'content'",
            )
        )


def _role_problem(role: Any, expected: str, i: int, errs: list[tuple[str, str]]) -> None:
    p = f"$.messages[{i}].role"
    if role == "system":
        errs.append((p, "'system' is not a message role; put the system prompt in the top-level 'system' field"))
    elif role not in ("user", "assistant"):
        errs.append((p, f"must be 'user' or 'assistant' (lower-case), got {role!r}"))
    else:
        errs.append((p, f"expected {expected!r}: messages alternate user/assistant, starting with user"))


class _State:
    """Per-record counters and tool bookkeeping for messages with non-text blocks."""

    __slots__ = ("documents", "images", "names", "tools", "videos")

    def __init__(self, names: set[str] | None) -> None:
        self.names = names
        self.images = self.videos = self.documents = 0
        self.tools: _Tools | None = None


def _check_rich_message(content: list[Any], i: int, role: Any, ctx: Ctx, st: _State) -> int:
    """A message holding more than text blocks: media, reasoning, tools. Returns feature bits."""
    errs, r = ctx.errs, ctx.rules
    mask = text_len = other = media_kinds = 0
    reasoning_at = -1
    after_reasoning = False
    for j, b in enumerate(content):
        bp = f"$.messages[{i}].content[{j}]"
        if type(b) is not dict or len(b) != 1:
            if type(b) is dict and "toolUse" in b and "toolResult" in b:
                errs.append((bp, "toolUse and toolResult cannot be in the same content block"))
            elif type(b) is dict and any(k in b for k in _BLOCKS):
                errs.append((bp, f"a content block holds exactly one of {', '.join(_BLOCKS)}; got {sorted(b)}"))
            else:
                errs.append((bp, f"must be an object with one of {', '.join(_BLOCKS)}"))
            continue
        ((kind, val),) = b.items()
        if kind == "text":
            text_len += _text(val, bp + ".text", errs)
            if reasoning_at >= 0:
                after_reasoning = True
            continue
        other += 1
        if kind in _MEDIA_BITS:
            mask |= _MEDIA_BITS[kind]
            media_kinds |= _MEDIA_BITS[kind]
            if kind == "image":
                st.images += 1
            elif kind == "video":
                st.videos += 1
            else:
                st.documents += 1
            if role == "assistant":
                errs.append((bp, f"{kind} content is allowed only in user messages"))
            if not r.media:
                errs.append((bp, f"{r.model.name} is text-only; {kind}s need NOVA_LITE, NOVA_PRO or NOVA_LITE_2"))
            elif kind == "document" and not r.documents:
                errs.append((bp, "documents (PDF) are supported only on NOVA_LITE_2"))
            elif r.dpo and kind == "video":
                errs.append((bp, "DPO datasets may not contain video"))
            _check_media(kind, val, bp + "." + kind, ctx)
        elif kind == "reasoningContent":
            mask |= REASONING
            reasoning_at = j
            if not r.reasoning:
                errs.append((bp, f"reasoningContent is supported only on NOVA_LITE_2, not {r.model.name}"))
            if role != "assistant":
                errs.append((bp, "reasoningContent is allowed only in assistant messages"))
            rt = val.get("reasoningText") if type(val) is dict else None
            t = rt.get("text") if type(rt) is dict else None
            if type(t) is not str or not t.strip():
                errs.append((bp + ".reasoningContent.reasoningText.text", "must be a non-empty string"))
            else:
                _text(t, bp + ".reasoningContent.reasoningText.text", errs)
                if "<thinking>" in t:
                    ctx.warns.append(
                        ("thinking", bp, "reasoning text contains <thinking> tags; Nova guidance is to leave them out")
                    )
        elif kind == "toolUse":
            mask |= TOOL_USE
            after_reasoning = True
            if role != "assistant":
                errs.append((bp, "toolUse is allowed only in assistant messages"))
            if st.tools is None:
                st.tools = _Tools()
            _check_tool_use(val, bp + ".toolUse", i, ctx, st.names, st.tools)
        elif kind == "toolResult":
            mask |= TOOL_RESULT
            if role != "user":
                errs.append((bp, "toolResult is allowed only in user messages"))
            if st.tools is None:
                st.tools = _Tools()
            _check_tool_result(val, bp + ".toolResult", i, ctx, st.tools)
        else:
            errs.append((bp, f"unknown content block {kind!r}; use one of {', '.join(_BLOCKS)}"))
    mp = f"$.messages[{i}].content"
    if other == 0 and text_len == 0:
        errs.append((mp, "empty text content"))
    if media_kinds & (media_kinds - 1):
        errs.append((mp, "a message may hold only one media type (image, video or document)"))
    if reasoning_at >= 0:
        if media_kinds:
            errs.append((mp, "reasoningContent cannot share a message with image, video or document content"))
        if not after_reasoning:
            errs.append((mp, "reasoningContent must be followed by the final answer (a text block) or a toolUse"))
    return mask


def check_templated(rec: Any, ctx: Ctx) -> int:
    """:func:`check_converse` for a :class:`TemplatedConverse`: only the user-supplied values.

    Falls back to the full walk for any other record.
    """
    if type(rec) is not TemplatedConverse or ctx.rules.dpo:
        return check_converse(rec, ctx)
    return check_fields(rec.fields, ctx)


def check_fields(fields: tuple[Any, ...], ctx: Ctx) -> int:
    """Validate the values of a templated SFT record (see :class:`TemplatedConverse`)."""
    q, a, system, reasoning, media_kind, media = fields
    errs, r = ctx.errs, ctx.rules
    mask = 0
    if system is not None:
        mask = SYSTEM
        if not system:
            errs.append(("$.system[0].text", "is empty"))
        elif ":" in system or "<" in system or "[" in system:
            w = reserved_word(system)
            if w is not None:
                errs.append(("$.system[0].text", reserved_msg(w)))
    qj = 0
    if media_kind is not None:
        qj = 1
        bit = _MEDIA_BITS[media_kind]
        mask |= bit
        bp = "$.messages[0].content[0]"
        if not r.media:
            errs.append((bp, f"{r.model.name} is text-only; {media_kind}s need NOVA_LITE, NOVA_PRO or NOVA_LITE_2"))
        elif r.dpo and media_kind == "video":
            errs.append((bp, "DPO datasets may not contain video"))
        _check_media(media_kind, media, bp + "." + media_kind, ctx)
    if q:
        if ":" in q or "<" in q or "[" in q:
            w = reserved_word(q)
            if w is not None:
                errs.append((f"$.messages[0].content[{qj}].text", reserved_msg(w)))
    elif media_kind is None:
        errs.append(("$.messages[0].content", "empty text content"))
    aj = 0
    if reasoning is not None:
        aj = 1
        mask |= REASONING
        bp = "$.messages[1].content[0]"
        if not r.reasoning:
            errs.append((bp, f"reasoningContent is supported only on NOVA_LITE_2, not {r.model.name}"))
        if not reasoning.strip():
            errs.append((bp + ".reasoningContent.reasoningText.text", "must be a non-empty string"))
        else:
            _text(reasoning, bp + ".reasoningContent.reasoningText.text", errs)
            if "<thinking>" in reasoning:
                ctx.warns.append(
                    ("thinking", bp, "reasoning text contains <thinking> tags; Nova guidance is to leave them out")
                )
    if a:
        if ":" in a or "<" in a or "[" in a:
            w = reserved_word(a)
            if w is not None:
                errs.append((f"$.messages[1].content[{aj}].text", reserved_msg(w)))
    elif reasoning is None:
        errs.append(("$.messages[1].content", "empty text content"))
    return mask
