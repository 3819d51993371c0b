"""OpenAI chat ``messages`` → Converse (``bedrock-conversation-2024``) for Nova SFT.

Mapping (Converse 2.0 = Nova 2 Lite; 1.0 = Nova Micro/Lite/Pro):

==========================================  ==============================================
OpenAI                                      Converse
==========================================  ==============================================
``system`` / ``developer`` message          top-level ``system: [{"text"}]`` (one block each)
``user`` content (string or text parts)     ``{"role": "user", "content": [{"text"}]}``
``image_url`` part with an ``s3://`` URL    ``{"image": {"format", "source": {"s3Location"}}}``
``assistant`` ``reasoning`` (2.0)           ``{"reasoningContent": {"reasoningText": {"text"}}}``
``assistant`` ``tool_calls`` (2.0)          ``{"toolUse": {"toolUseId", "name", "input"}}``
consecutive ``tool`` messages (2.0)         one user message of ``toolResult`` blocks
``tools`` (2.0)                             ``toolConfig.tools[].toolSpec``
==========================================  ==============================================

Consecutive messages of the same role are merged so the result alternates user/assistant.
Tools and reasoning on a Nova 1 target raise :class:`DataPrepError` (Converse 1.0 has neither).
"""

from __future__ import annotations

from typing import Any

import orjson

from amzn_nova_forge.errors import DataPrepError

__all__ = ["openai_to_converse"]

_IMAGE_EXT = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif", "webp": "webp"}


def _err(msg: str, line: int, path: str) -> DataPrepError:
    return DataPrepError(f"cannot convert OpenAI messages to Converse: {msg}", line=line, field=path)


def _parts_to_blocks(content: Any, line: int, path: str, bucket_owner: Any, stager: Any = None) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise _err(f"content must be a string or a list of parts, got {type(content).__name__}", line, path)
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        ppath = f"{path}[{j}]"
        if isinstance(part, str):
            blocks.append({"text": part})
            continue
        if not isinstance(part, dict):
            raise _err("each content part must be an object", line, ppath)
        ptype = part.get("type", "text" if "text" in part else None)
        if ptype == "text":
            blocks.append({"text": part.get("text", "")})
        elif ptype == "image_url":
            blocks.append(_image_block(part.get("image_url"), line, ppath, bucket_owner, stager))
        else:
            raise _err(f"content part type {ptype!r} is not supported (use 'text' or 'image_url')", line, ppath)
    return blocks


def _image_block(image_url: Any, line: int, path: str, bucket_owner: Any, stager: Any = None) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if isinstance(url, str) and not url.startswith("s3://") and stager is not None:
        from amzn_nova_forge.dataset._images import stage_block

        return stage_block(stager, url, line, path)
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise _err(
            "only s3:// image URLs can be converted (Nova reads training images from S3); upload the image to the "
            "dataset's bucket and use its s3:// URI, or pass multimodal_data_s3_path= to transform() to have "
            "data: and http(s) images uploaded there",
            line,
            path,
        )
    if (bucket_owner is None or bucket_owner == "") and stager is not None:
        bucket_owner = stager.bucket_owner
    ext = url.rsplit(".", 1)[-1].lower() if "." in url.rsplit("/", 1)[-1] else ""
    fmt = _IMAGE_EXT.get(ext)
    if fmt is None:
        raise _err(f"cannot tell the image format of {url!r} (expected .png, .jpeg, .jpg, .gif or .webp)", line, path)
    if bucket_owner is None or bucket_owner == "":
        raise _err(
            "an s3:// image needs the bucket owner's account id: add a 'bucket_owner' column (or map it with "
            "bucket_owner='<column>')",
            line,
            path,
        )
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": url, "bucketOwner": str(bucket_owner)}}}}


def _tool_input(args: Any, line: int, path: str) -> dict[str, Any]:
    if isinstance(args, dict):
        return args
    if args is None or args == "":
        return {}
    if isinstance(args, str):
        try:
            parsed = orjson.loads(args)
        except orjson.JSONDecodeError:
            raise _err("function.arguments is not valid JSON", line, path) from None
        if isinstance(parsed, dict):
            return parsed
    raise _err("function.arguments must be a JSON object (Converse toolUse.input is an object)", line, path)


def _tool_config(tools: Any, line: int) -> dict[str, Any]:
    if isinstance(tools, dict) and "tools" in tools:  # already a Converse toolConfig
        return tools
    if not isinstance(tools, list):
        raise _err("tools must be a list of {type: 'function', function: {...}}", line, "$.tools")
    specs = []
    for k, t in enumerate(tools):
        fn = t.get("function") if isinstance(t, dict) else None
        if not isinstance(fn, dict) or (t.get("type", "function") != "function"):
            raise _err(
                "each tool must be {type: 'function', function: {name, description, parameters}}", line, f"$.tools[{k}]"
            )
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        specs.append(
            {
                "toolSpec": {
                    "name": fn.get("name", ""),
                    "description": fn.get("description", ""),
                    "inputSchema": {"json": params},
                }
            }
        )
    return {"tools": specs}


def openai_to_converse(
    messages: list[Any], tools: Any, line: int, *, v2: bool, bucket_owner: Any = None, stager: Any = None
) -> dict[str, Any]:
    """Convert one OpenAI chat record to a Converse record (see the module docstring).

    Raises:
        DataPrepError: A message cannot be represented (unknown role, non-S3 image, tools
            on Nova 1, no user or no assistant message), naming the line and JSON path.
    """
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []

    def push(role: str, blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for i, m in enumerate(messages):
        path = f"$.messages[{i}]"
        if not isinstance(m, dict):
            raise _err("each message must be an object", line, path)
        role = m.get("role")
        if role in ("system", "developer"):
            for b in _parts_to_blocks(m.get("content"), line, path + ".content", None):
                if "text" not in b:
                    raise _err("a system message may hold only text", line, path)
                system.append(b)
        elif role == "user":
            push("user", _parts_to_blocks(m.get("content"), line, path + ".content", bucket_owner, stager))
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            reasoning = m.get("reasoning", m.get("reasoning_content"))
            if reasoning:
                if not v2:
                    raise _err("reasoning needs a Nova 2 model (Converse 1.0 has no reasoningContent)", line, path)
                blocks.append({"reasoningContent": {"reasoningText": {"text": str(reasoning)}}})
            for b in _parts_to_blocks(m.get("content"), line, path + ".content", None):
                if "text" not in b:
                    raise _err("assistant messages may hold only text", line, path)
                if b["text"] != "" or not m.get("tool_calls"):
                    blocks.append(b)
            calls = m.get("tool_calls") or []
            if calls and not v2:
                raise _err(
                    "tool calls need a Nova 2 model (Model.NOVA_LITE_2); Converse 1.0 has no toolUse", line, path
                )
            for k, call in enumerate(calls):
                cpath = f"{path}.tool_calls[{k}]"
                fn = call.get("function") if isinstance(call, dict) else None
                if not isinstance(fn, dict):
                    raise _err("each tool call needs a 'function' object", line, cpath)
                blocks.append(
                    {
                        "toolUse": {
                            "toolUseId": str(call.get("id", "")),
                            "name": fn.get("name", ""),
                            "input": _tool_input(fn.get("arguments"), line, cpath + ".function"),
                        }
                    }
                )
            push("assistant", blocks)
        elif role == "tool":
            if not v2:
                raise _err("tool messages need a Nova 2 model (Model.NOVA_LITE_2)", line, path)
            content = _parts_to_blocks(m.get("content"), line, path + ".content", None)
            result = [{"text": b["text"]} for b in content if "text" in b] or [{"text": ""}]
            push("user", [{"toolResult": {"toolUseId": str(m.get("tool_call_id", "")), "content": result}}])
        else:
            raise _err(
                f"unknown role {role!r} (expected system, developer, user, assistant or tool)", line, path + ".role"
            )
    roles = {m["role"] for m in out}
    if "user" not in roles or "assistant" not in roles:
        raise _err("a conversation needs at least one user and one assistant message", line, "$.messages")
    rec: dict[str, Any] = {"schemaVersion": "bedrock-conversation-2024"}
    if system:
        rec["system"] = system
    rec["messages"] = out
    if tools:
        if not v2:
            raise _err("tools need a Nova 2 model (Model.NOVA_LITE_2); Converse 1.0 has no toolConfig", line, "$.tools")
        rec["toolConfig"] = _tool_config(tools, line)
    return rec
