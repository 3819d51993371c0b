"""The local server's request validation, stop-sequence hold-back and security guard (no torch, no socket)."""

from __future__ import annotations

import asyncio
import json

import pytest

from amzn_nova_forge.manager._local._serve_gen import _held_back
from amzn_nova_forge.manager._local._serve_protocol import (
    MAX_N,
    APIError,
    GenRequest,
    completion_chunk,
    parse_request,
    sse,
)

CHAT = {"messages": [{"role": "user", "content": "Hi"}]}


def _chat(**kw):
    return parse_request({**CHAT, **kw}, "chat", max_tokens_limit=512)


def test_chat_defaults_and_nova_body():
    req = _chat()
    assert (req.n, req.max_tokens, req.max_tokens_given, req.stop, req.seed, req.stream) == (
        1,
        256,
        False,
        (),
        None,
        False,
    )
    nova = parse_request(
        {
            "schemaVersion": "messages-v1",
            "system": [{"text": "Be brief."}],
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {"maxTokens": 7, "temperature": 0.5, "topP": 0.9, "topK": 5, "stopSequences": ["x"]},
        },
        "chat",
        max_tokens_limit=512,
    )
    assert nova.chat_messages() == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert (nova.max_tokens, nova.temperature, nova.top_p, nova.top_k, nova.stop) == (7, 0.5, 0.9, 5, ("x",))


@pytest.mark.parametrize(
    ("extra", "param", "needle"),
    [
        ({"tools": [{"type": "function"}]}, "tools", "tool calling"),
        ({"response_format": {"type": "json_object"}}, "response_format", "structured output"),
        ({"logprobs": True}, "logprobs", "logprobs"),
        ({"frequency_penalty": 0.5}, "frequency_penalty", "only 0"),
        ({"n": MAX_N + 1}, "n", f"between 1 and {MAX_N}"),
        ({"n": 0}, "n", "between 1"),
        ({"max_tokens": 513}, "max_tokens", "between 1 and 512"),
        ({"max_tokens": "5"}, "max_tokens", "integer"),
        ({"temperature": 3}, "temperature", "between 0 and 2"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "at most 4"),
        ({"stop": [""]}, "stop", "non-empty"),
        ({"seed": 1.5}, "seed", "integer"),
        ({"stream": "yes"}, "stream", "true or false"),
        ({"stream_options": {"include_usage": True}}, "stream_options", "only allowed with stream"),
        ({"frobnicate": 1}, "frobnicate", "Unknown field"),
        ({"messages": []}, "messages", "non-empty"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages", "tool messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages", "at least one user"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "messages[0].content",
            "text only",
        ),
    ],
)
def test_chat_refusals_name_the_field(extra, param, needle):
    with pytest.raises(APIError, match=needle) as e:
        _chat(**extra)
    assert e.value.status == 400 and e.value.param == param
    assert e.value.body()["error"]["type"] == "invalid_request_error"


def test_completion_fields():
    req = parse_request({"prompt": ["abc"], "n": 2, "stop": "z", "seed": 4}, "completion", max_tokens_limit=64)
    assert (req.kind, req.prompt, req.n, req.stop, req.seed, req.max_tokens) == ("completion", "abc", 2, ("z",), 4, 64)
    for body, needle in (
        ({"prompt": ["a", "b"]}, "one string"),
        ({"prompt": [1, 2]}, "one string"),
        ({"prompt": "a", "echo": True}, "echo"),
        ({"prompt": "a", "best_of": 3}, "best_of"),
        ({"prompt": "a", "suffix": "b"}, "suffix"),
        ({"prompt": "a", "messages": []}, "Unknown field 'messages'"),
    ):
        with pytest.raises(APIError, match=needle):
            parse_request(body, "completion", max_tokens_limit=64)
    with pytest.raises(APIError, match="JSON object"):
        parse_request(["a"], "completion", max_tokens_limit=64)


def test_held_back_keeps_stop_prefixes_and_partial_characters():
    assert _held_back("hello wo", ("world",)) == 2
    assert _held_back("hello", ("xyz",)) == 0
    assert _held_back("abc\ufffd", ()) == 1
    assert _held_back("abEN", ("END", "N")) == 2


def test_stream_chunks_shape():
    req = GenRequest(kind="chat", model=None, messages=(("user", "x"),), stream=True, include_usage=True)
    first = completion_chunk(req, rid="r", model="m", index=0, text="", first=True)
    assert first["object"] == "chat.completion.chunk" and first["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "",
    }
    assert completion_chunk(req, rid="r", model="m", index=0, text="ab")["choices"][0]["delta"] == {"content": "ab"}
    last = completion_chunk(req, rid="r", model="m", index=None, usage_obj={"total_tokens": 3})
    assert last["choices"] == [] and last["usage"] == {"total_tokens": 3}
    assert sse("[DONE]") == b"data: [DONE]\n\n"
    assert json.loads(sse({"a": 1})[6:]) == {"a": 1}


# ---- the ASGI guard, driven directly -----------------------------------------------------------------
def _guard_call(headers, *, method="POST", path="/v1/chat/completions", body=b"{}"):
    pytest.importorskip("starlette")
    from amzn_nova_forge.manager._local._serve import Guard, ServerSettings

    reached = []

    async def app(scope, receive, send):
        msg = await receive()
        reached.append(msg.get("body"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard = Guard(app, ServerSettings(token="t" * 32, port=8123, model_name="m", max_body_bytes=100))
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
    }
    asyncio.run(guard(scope, receive, send))
    status = sent[0]["status"]
    payload = sent[1]["body"]
    return status, (json.loads(payload) if status != 200 else payload), reached


GOOD = [("Host", "127.0.0.1:8123"), ("Authorization", "Bearer " + "t" * 32), ("Content-Type", "application/json")]


def _without(name, extra=()):
    return [h for h in GOOD if h[0] != name] + list(extra)


@pytest.mark.parametrize(
    ("headers", "status", "needle"),
    [
        (GOOD + [("Content-Length", "2")], 200, None),
        (_without("Host", [("Host", "evil.example:8123")]), 400, "Invalid Host"),
        (_without("Host", [("Host", "127.0.0.1:9999")]), 400, "Invalid Host"),
        (GOOD + [("Origin", "http://evil.example")], 403, "not allowed"),
        (GOOD + [("Origin", "http://localhost:8123")], 200, None),
        (_without("Authorization"), 401, "Missing bearer token"),
        (_without("Authorization", [("Authorization", "Bearer wrong")]), 401, "Invalid bearer token"),
        (_without("Content-Type", [("Content-Type", "text/plain")]), 415, "application/json"),
        (_without("Content-Type"), 415, "application/json"),
        (GOOD + [("Content-Length", "-1")], 400, "Invalid Content-Length"),
        (GOOD + [("Content-Length", "12abc")], 400, "Invalid Content-Length"),
        (GOOD + [("Content-Length", "2"), ("Content-Length", "3")], 400, "More than one"),
        (GOOD + [("Content-Length", "101")], 413, "exceeds 100 bytes"),
    ],
)
def test_guard(headers, status, needle):
    got, payload, reached = _guard_call(headers)
    assert got == status
    if needle:
        assert needle in payload["error"]["message"] and reached == []
    else:
        assert reached == [b"{}"]


def test_guard_health_needs_no_token_but_a_good_host():
    assert _guard_call([("Host", "localhost:8123")], method="GET", path="/health")[0] == 200
    assert _guard_call([("Host", "attacker:8123")], method="GET", path="/health")[0] == 400


def test_guard_counts_chunked_body():
    # no Content-Length (chunked): the counting receive refuses past the limit
    with pytest.raises(APIError, match="exceeds 100 bytes"):
        _guard_call(GOOD, body=b"x" * 101)


def test_admission_is_bounded():
    pytest.importorskip("starlette")
    from amzn_nova_forge.manager._local._serve import ServerSettings, _Service

    service = _Service(engine=None, settings=ServerSettings(token="t" * 32, port=1, model_name="m", max_pending=2))
    try:
        service._admit()
        service._admit()
        with pytest.raises(APIError, match="busy") as e:
            service._admit()
        assert e.value.status == 503
        service._leave()
        service._admit()  # a finished request frees its place
    finally:
        service.pool.shutdown()
