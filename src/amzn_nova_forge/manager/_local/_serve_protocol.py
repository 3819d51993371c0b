"""The OpenAI wire format of the local server: request validation and response shapes (no torch).

A request body is checked here field by field before any model work: what the server does
not implement (tools, ``response_format``, logprobs, penalties, ``echo`` …) is refused with
an :class:`APIError` (HTTP 400) that names the field, and every size is bounded (``n``,
``max_tokens``, ``stop``). Nova-native bodies (``inferenceConfig``, ``system``, content
blocks) are accepted on ``/v1/chat/completions`` as the SageMaker container accepts them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "MAX_N",
    "MAX_STOP",
    "APIError",
    "Choice",
    "GenRequest",
    "completion_chunk",
    "completion_response",
    "parse_request",
    "sse",
]

#: Most completions one request may ask for (``n``).
MAX_N = 8
#: Most stop sequences one request may give (OpenAI's limit).
MAX_STOP = 4
#: Longest stop sequence, in characters.
MAX_STOP_CHARS = 64
DEFAULT_MAX_TOKENS = 256

Kind = Literal["chat", "completion"]

_ROLES = ("system", "developer", "user", "assistant")
#: Fields accepted and honoured, per route (beyond these, a field is refused).
_COMMON = {
    "model",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "n",
    "stop",
    "seed",
    "stream",
    "stream_options",
    "user",
    "logprobs",
    "frequency_penalty",
    "presence_penalty",
}
_CHAT = _COMMON | {
    "messages",
    "max_completion_tokens",
    "system",
    "inferenceConfig",
    "schemaVersion",
    "metadata",
    "store",
}
_COMPLETION = _COMMON | {"prompt", "echo", "best_of", "suffix"}
#: Fields of the OpenAI API the server knows and does not implement -> why.
_NOT_IMPLEMENTED = {
    "tools": "tool calling is not implemented by the local server",
    "tool_choice": "tool calling is not implemented by the local server",
    "functions": "function calling is not implemented by the local server",
    "function_call": "function calling is not implemented by the local server",
    "parallel_tool_calls": "tool calling is not implemented by the local server",
    "response_format": "structured output (response_format) is not implemented by the local server",
    "top_logprobs": "logprobs are not implemented by the local server",
    "logit_bias": "logit_bias is not implemented by the local server",
    "audio": "audio output is not implemented by the local server",
    "modalities": "only text output is implemented by the local server",
    "prediction": "predicted outputs are not implemented by the local server",
    "reasoning_effort": "reasoning effort is not implemented by the local server",
    "web_search_options": "web search is not implemented by the local server",
}


class APIError(Exception):
    """A request the server refuses: HTTP ``status`` with the OpenAI error body."""

    def __init__(self, message: str, *, status: int = 400, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        """The OpenAI error object ``{"error": {"message", "type", "param", "code"}}``."""
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return {"error": {"message": str(self), "type": kind, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class GenRequest:
    """A validated generation request (one prompt, ``n`` completions)."""

    kind: Kind
    model: str | None
    messages: tuple[tuple[str, str], ...] = ()
    prompt: str = ""
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_tokens_given: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    stream: bool = False
    include_usage: bool = False

    def chat_messages(self) -> list[dict[str, str]]:
        """The conversation as ``[{"role", "content"}]`` (``developer`` read as ``system``)."""
        return [{"role": "system" if r == "developer" else r, "content": c} for r, c in self.messages]


@dataclass
class Choice:
    """One finished completion."""

    text: str
    finish_reason: str
    tokens: int = 0
    index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _number(body: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= float(value) <= hi:
        raise APIError(f"'{key}' must be a number between {lo:g} and {hi:g}, got {value!r}.", param=key)
    return float(value)


def _integer(body: Mapping[str, Any], key: str, lo: int, hi: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise APIError(f"'{key}' must be an integer between {lo} and {hi}, got {value!r}.", param=key)
    return value


def _text(content: Any, where: str) -> str:
    """Text of an OpenAI/Nova message content; non-text parts are refused."""
    from amzn_nova_forge.manager._local._data import block_text

    if isinstance(content, str):
        return content
    if content is None:
        return ""
    parts = [content] if isinstance(content, Mapping) else content
    if not isinstance(parts, list):
        raise APIError(f"{where} must be a string or a list of text parts.", param=where)
    for i, part in enumerate(parts):
        if not isinstance(part, Mapping):
            raise APIError(f"{where}[{i}] must be an object with 'text'.", param=where)
        kind = part.get("type", "text")
        if kind != "text" or not isinstance(part.get("text"), str):
            raise APIError(
                f"{where}[{i}] is a {kind!r} part; the local server serves text only.",
                param=where,
            )
    return block_text(parts)


def _messages(body: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    if body.get("system") is not None:  # Nova-native: system blocks next to messages
        out.append(("system", _text(body["system"], "system")))
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise APIError("'messages' must be a non-empty list of {role, content} objects.", param="messages")
    for i, m in enumerate(raw):
        if not isinstance(m, Mapping):
            raise APIError(f"messages[{i}] must be an object.", param="messages")
        role = m.get("role", "user")
        if role not in _ROLES:
            raise APIError(
                f"messages[{i}].role {role!r} is not supported; use one of {', '.join(_ROLES)} "
                "(tool messages need tool calling, which the local server does not implement).",
                param="messages",
            )
        if m.get("tool_calls"):
            raise APIError(f"messages[{i}].tool_calls: tool calling is not implemented.", param="messages")
        out.append((str(role), _text(m.get("content"), f"messages[{i}].content")))
    if all(r in ("system", "developer") for r, _ in out):
        raise APIError("'messages' must contain at least one user message.", param="messages")
    return tuple(out)


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or len(stops) > MAX_STOP:
        raise APIError(f"'stop' must be a string or a list of at most {MAX_STOP} strings.", param="stop")
    for s in stops:
        if not isinstance(s, str) or not s or len(s) > MAX_STOP_CHARS:
            raise APIError(
                f"Each stop sequence must be a non-empty string of at most {MAX_STOP_CHARS} characters, got {s!r}.",
                param="stop",
            )
    return tuple(stops)


def _refuse_unsupported(body: Mapping[str, Any], kind: Kind) -> None:
    allowed = _CHAT if kind == "chat" else _COMPLETION
    for key, value in body.items():
        if key in _NOT_IMPLEMENTED and value is not None:
            raise APIError(f"'{key}': {_NOT_IMPLEMENTED[key]}.", param=key, code="unsupported_parameter")
        if key not in allowed and key not in _NOT_IMPLEMENTED:
            raise APIError(
                f"Unknown field {key!r}. Supported fields: {', '.join(sorted(allowed))}.",
                param=key,
                code="unknown_parameter",
            )
    if body.get("logprobs") not in (None, False):
        raise APIError("'logprobs': logprobs are not implemented by the local server.", param="logprobs")
    for key in ("frequency_penalty", "presence_penalty"):
        if body.get(key) not in (None, 0, 0.0):
            raise APIError(f"'{key}': only 0 is implemented by the local server.", param=key)
    if kind == "completion":
        if body.get("echo"):
            raise APIError("'echo' is not implemented by the local server.", param="echo")
        if body.get("best_of") not in (None, 1):
            raise APIError("'best_of' is not implemented by the local server (use n).", param="best_of")
        if body.get("suffix") is not None:
            raise APIError("'suffix' (insertion) is not implemented by the local server.", param="suffix")


def parse_request(body: Any, kind: Kind, *, max_tokens_limit: int) -> GenRequest:
    """Validate a chat-completions or completions body into a :class:`GenRequest`.

    Args:
        body: The decoded JSON body.
        kind: ``"chat"`` (``/v1/chat/completions``) or ``"completion"`` (``/v1/completions``).
        max_tokens_limit: The server's cap on ``max_tokens``.

    Raises:
        APIError: The body is not an object, a field is unknown, unsupported or out of range.

    Example:
        >>> parse_request({"messages": [{"role": "user", "content": "Hi"}], "n": 2}, "chat", max_tokens_limit=64).n
        2
    """
    if not isinstance(body, Mapping):
        raise APIError("The request body must be a JSON object.")
    _refuse_unsupported(body, kind)
    cfg = body.get("inferenceConfig") or {}
    if not isinstance(cfg, Mapping):
        raise APIError("'inferenceConfig' must be an object.", param="inferenceConfig")
    merged = {
        "max_tokens": body.get("max_tokens", body.get("max_completion_tokens", cfg.get("maxTokens"))),
        "temperature": body.get("temperature", cfg.get("temperature")),
        "top_p": body.get("top_p", cfg.get("topP")),
        "top_k": body.get("top_k", cfg.get("topK")),
        "stop": body.get("stop", cfg.get("stopSequences")),
    }
    max_tokens = _integer(merged, "max_tokens", 1, max_tokens_limit)
    n = _integer(body, "n", 1, MAX_N) or 1
    seed = _integer(body, "seed", -(2**63), 2**63 - 1)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise APIError("'stream' must be true or false.", param="stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, Mapping) or set(options) - {"include_usage"}:
        raise APIError("'stream_options' may only hold 'include_usage'.", param="stream_options")
    if options and not stream:
        raise APIError("'stream_options' is only allowed with stream=true.", param="stream_options")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise APIError("'model' must be a string.", param="model")
    common: dict[str, Any] = {
        "kind": kind,
        "model": model,
        "max_tokens": max_tokens or min(DEFAULT_MAX_TOKENS, max_tokens_limit),
        "max_tokens_given": max_tokens is not None,
        "temperature": _number(merged, "temperature", 1.0, 0.0, 2.0),
        "top_p": _number(merged, "top_p", 1.0, 0.0, 1.0) or 1.0,
        "top_k": _integer(merged, "top_k", 0, 1_000_000) or 0,
        "n": n,
        "stop": _stop(merged["stop"]),
        "seed": seed,
        "stream": stream,
        "include_usage": bool(options.get("include_usage")),
    }
    if kind == "chat":
        return GenRequest(messages=_messages(body), **common)
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise APIError(
            "'prompt' must be one string (lists of prompts and token arrays are not implemented).", param="prompt"
        )
    return GenRequest(prompt=prompt, **common)


# ---- responses ------------------------------------------------------------------------------------
def new_id(kind: Kind) -> str:
    """A response id: ``chatcmpl-…`` or ``cmpl-…``."""
    return ("chatcmpl-" if kind == "chat" else "cmpl-") + uuid.uuid4().hex[:24]


def completion_response(
    req: GenRequest, choices: Sequence[Choice], *, rid: str, model: str, prompt_tokens: int
) -> dict[str, Any]:
    """The non-streaming response body (``chat.completion`` or ``text_completion``)."""
    completion_tokens = sum(c.tokens for c in choices)
    if req.kind == "chat":
        out: list[dict[str, Any]] = [
            {
                "index": c.index,
                "message": {"role": "assistant", "content": c.text},
                "logprobs": None,
                "finish_reason": c.finish_reason,
            }
            for c in choices
        ]
    else:
        out = [{"index": c.index, "text": c.text, "logprobs": None, "finish_reason": c.finish_reason} for c in choices]
    return {
        "id": rid,
        "object": "chat.completion" if req.kind == "chat" else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": out,
        "usage": usage(prompt_tokens, completion_tokens),
    }


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    """The OpenAI ``usage`` object."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_chunk(
    req: GenRequest,
    *,
    rid: str,
    model: str,
    index: int | None,
    text: str | None = None,
    finish_reason: str | None = None,
    first: bool = False,
    usage_obj: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One streaming chunk; ``index=None`` gives the final usage-only chunk (``choices: []``)."""
    choices: list[dict[str, Any]] = []
    if index is not None:
        if req.kind == "chat":
            delta: dict[str, Any] = {"role": "assistant", "content": text or ""} if first else {}
            if text and not first:
                delta["content"] = text
            choices.append({"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason})
        else:
            choices.append({"index": index, "text": text or "", "logprobs": None, "finish_reason": finish_reason})
    chunk: dict[str, Any] = {
        "id": rid,
        "object": "chat.completion.chunk" if req.kind == "chat" else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }
    if req.include_usage:
        chunk["usage"] = usage_obj
    return chunk


def sse(data: dict[str, Any] | str) -> bytes:
    """One server-sent event: ``data: <json>\\n\\n`` (``data: [DONE]`` for the string ``"[DONE]"``)."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()
