"""The local OpenAI-compatible server, driven by the official ``openai`` client and raw HTTP.

One server (the offline tiny model) is started through ``LocalRuntimeManager.deploy_model``
for the module; each test talks to it as a user would.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.torch, pytest.mark.slow]

openai = pytest.importorskip("openai")
pytest.importorskip("torch")
pytest.importorskip("uvicorn")


@pytest.fixture(scope="module")
def serve_root(tmp_path_factory):
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(autouse=True)
def _registry_of_the_module(serve_root, monkeypatch):
    """The deployment registry (tokens) of this module's server, for every test."""
    monkeypatch.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(serve_root / "jobs"))


@pytest.fixture(scope="module")
def server(serve_root):
    from amzn_nova_forge.manager._local import LocalRuntimeManager
    from amzn_nova_forge.manager._local._tiny import save_tiny_model

    mp = pytest.MonkeyPatch()
    mp.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(serve_root / "jobs"))
    ckpt = save_tiny_model(serve_root / "tiny")
    url = LocalRuntimeManager.deploy_model(str(ckpt), device="cpu", timeout=240)
    try:
        yield url
    finally:
        mp.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(serve_root / "jobs"))
        assert LocalRuntimeManager.stop_deployment(url) is True
        mp.undo()


@pytest.fixture
def client(server):
    from amzn_nova_forge.manager._local import LocalRuntimeManager

    return openai.OpenAI(base_url=server + "/v1", api_key=LocalRuntimeManager.deployment_token(server), max_retries=0)


@pytest.fixture
def model_id(client):
    return client.models.list().data[0].id


def _chat(client, model_id, **kw):
    args = {"model": model_id, "messages": [{"role": "user", "content": "Say something"}], "max_tokens": 24}
    return client.chat.completions.create(**{**args, **kw})


def _long_answer(client, model_id, **kw) -> tuple[int, str]:
    """A seed whose sampled answer has a few characters (the random tiny model sometimes ends at once)."""
    for seed in range(30):
        text = _chat(client, model_id, temperature=1.0, seed=seed, **kw).choices[0].message.content
        if len(text) >= 6 and any(ch != "\ufffd" for ch in text[3:]):
            return seed, text
    pytest.fail("no seed gave a usable answer")


def _visible(text: str) -> int:
    """Index of a character usable as a stop sequence (not the replacement character)."""
    for i, ch in enumerate(text):
        if i >= 3 and ch != "\ufffd":
            return i
    pytest.fail(f"no usable character in {text!r}")


def test_token_file_is_private(server):
    import os
    import stat

    from amzn_nova_forge.manager._local._deploy import _registry

    rec = _registry() / f"{urlparse(server).port}.json"
    assert len(json.loads(rec.read_text())["token"]) >= 32
    if os.name == "posix":
        assert stat.S_IMODE(rec.stat().st_mode) == 0o600


def test_chat_and_seed(client, model_id):
    a = _chat(client, model_id, temperature=1.0, seed=7)
    b = _chat(client, model_id, temperature=1.0, seed=7)
    c = _chat(client, model_id, temperature=1.0, seed=8)
    assert a.object == "chat.completion" and a.model == model_id
    assert a.choices[0].message.role == "assistant"
    assert a.choices[0].message.content == b.choices[0].message.content  # same seed, same text
    assert a.choices[0].message.content != c.choices[0].message.content
    assert a.usage.completion_tokens <= 24 and a.usage.prompt_tokens > 0
    assert a.choices[0].finish_reason in ("stop", "length")


def test_n_choices(client, model_id):
    r = _chat(client, model_id, temperature=1.0, seed=3, n=3, max_tokens=8)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len({c.message.content for c in r.choices}) > 1  # sampled independently
    with pytest.raises(openai.BadRequestError, match="between 1 and 8"):
        _chat(client, model_id, n=9)


def test_streaming_matches_the_plain_answer(client, model_id):
    seed, plain = _long_answer(client, model_id)
    chunks = list(
        _chat(client, model_id, temperature=1.0, seed=seed, stream=True, stream_options={"include_usage": True})
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == plain
    assert sum(1 for ch in chunks if ch.choices and (ch.choices[0].delta.content or "")) >= 2  # really incremental
    finals = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert finals in (["stop"], ["length"])
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_stop_sequence(client, model_id):
    seed, full = _long_answer(client, model_id)
    i = _visible(full)
    stop = full[i]
    cut = full[: full.index(stop)]
    r = _chat(client, model_id, temperature=1.0, seed=seed, stop=[stop])
    assert r.choices[0].message.content == cut and r.choices[0].finish_reason == "stop"
    streamed = _chat(client, model_id, temperature=1.0, seed=seed, stop=stop, stream=True)
    assert "".join(ch.choices[0].delta.content or "" for ch in streamed if ch.choices) == cut


def test_completions(client, model_id):
    r = client.completions.create(model=model_id, prompt="abc", max_tokens=6, temperature=1.0, seed=2, n=2)
    assert r.object == "text_completion" and len(r.choices) == 2
    assert all(c.finish_reason in ("stop", "length") for c in r.choices)
    streamed = list(
        client.completions.create(model=model_id, prompt="abc", max_tokens=6, temperature=1.0, seed=2, n=2, stream=True)
    )
    for i in (0, 1):
        assert (
            "".join(p.choices[0].text for p in streamed if p.choices and p.choices[0].index == i) == r.choices[i].text
        )


def test_unsupported_features_are_400(client, model_id):
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError, match="tool calling"):
        _chat(client, model_id, tools=[tool])
    with pytest.raises(openai.BadRequestError, match="structured output"):
        _chat(client, model_id, response_format={"type": "json_object"})
    with pytest.raises(openai.BadRequestError, match="logprobs"):
        _chat(client, model_id, logprobs=True)
    with pytest.raises(openai.BadRequestError, match="between 1 and 2048"):
        _chat(client, model_id, max_tokens=10**6)
    with pytest.raises(openai.NotFoundError, match="does not exist here"):
        _chat(client, "gpt-4o")


def test_rejected_without_token_and_from_foreign_origin(server, model_id):
    anonymous = openai.OpenAI(base_url=server + "/v1", api_key="not-the-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="Invalid bearer token"):
        _chat(anonymous, model_id)
    from amzn_nova_forge.manager._local import LocalRuntimeManager

    foreign = openai.OpenAI(
        base_url=server + "/v1",
        api_key=LocalRuntimeManager.deployment_token(server),
        default_headers={"Origin": "https://evil.example"},
        max_retries=0,
    )
    with pytest.raises(openai.PermissionDeniedError, match="not allowed"):
        _chat(foreign, model_id)


def _raw(server, method, path, *, body=b"", headers=None):
    u = urlparse(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_raw_http_hardening(server):
    from amzn_nova_forge.manager._local import LocalRuntimeManager

    auth = {"Authorization": f"Bearer {LocalRuntimeManager.deployment_token(server)}"}
    body = json.dumps({"messages": [{"role": "user", "content": "x"}], "max_tokens": 2}).encode()
    # a cross-site form post (text/plain, the only CORS-simple way to send a body) is refused
    status, data = _raw(
        server,
        "POST",
        "/v1/chat/completions",
        body=body,
        headers={**auth, "Content-Type": "text/plain", "Content-Length": str(len(body))},
    )
    assert status == 415 and b"application/json" in data
    for length in ("-1", "abc"):
        status, _ = _raw(
            server,
            "POST",
            "/v1/chat/completions",
            body=body,
            headers={**auth, "Content-Type": "application/json", "Content-Length": length},
        )
        assert status == 400
    big = b"{" + b" " * (1 << 20) + b"}"
    status, data = _raw(
        server,
        "POST",
        "/v1/chat/completions",
        body=big,
        headers={**auth, "Content-Type": "application/json", "Content-Length": str(len(big))},
    )
    assert status == 413
    status, data = _raw(
        server,
        "POST",
        "/v1/chat/completions",
        body=b"{nope",
        headers={**auth, "Content-Type": "application/json", "Content-Length": "5"},
    )
    assert status == 400 and b"not valid JSON" in data
    u = urlparse(server)
    status, _ = _raw(server, "GET", "/v1/models", headers={**auth, "Host": f"rebind.example:{u.port}"})
    assert status == 400
    status, data = _raw(server, "GET", "/health")
    assert status == 200 and json.loads(data) == {"status": "ok"}  # still serving after all of the above


def test_concurrent_requests(client, model_id, server):
    results: list = []
    errors: list = []

    def one(seed: int) -> None:
        try:
            results.append(_chat(client, model_id, temperature=1.0, seed=seed, max_tokens=48).choices[0].finish_reason)
        except Exception as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(s,)) for s in range(4)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    status, _ = _raw(server, "GET", "/health")  # answered while generations run
    for t in threads:
        t.join(timeout=120)
    assert status == 200 and not errors and len(results) == 4
    assert time.perf_counter() - t0 < 120


def test_invoke_inference_sends_the_token(tmp_path, server, no_aws_credentials):
    from amzn_nova_forge.core.enums import DeployPlatform, Model, TrainingMethod
    from amzn_nova_forge.manager._local import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer
    from amzn_nova_forge.model.result._deployment import EndpointInfo

    c = NovaModelCustomizer(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, LocalRuntimeManager())
    r = c.invoke_inference({"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 3}, server)
    assert r.response["object"] == "chat.completion" and r.response["usage"]["completion_tokens"] <= 3
    streamed = c.invoke_inference(
        {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 3, "stream": True}, server
    )
    assert isinstance(streamed.text, str)
    info = EndpointInfo(DeployPlatform.LOCAL, "ep", server, "/ckpt")
    assert info.api_key == LocalRuntimeManager.deployment_token(server) and "api_key" not in info.to_dict()


def test_stop_deployment_twice(tmp_path, monkeypatch):
    from amzn_nova_forge.manager._local import LocalRuntimeManager
    from amzn_nova_forge.manager._local._tiny import save_tiny_model

    monkeypatch.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(tmp_path / "jobs"))
    url = LocalRuntimeManager.deploy_model(str(save_tiny_model(tmp_path / "m")), device="cpu", timeout=240)
    assert _raw(url, "GET", "/health")[0] == 200
    assert LocalRuntimeManager.stop_deployment(url) is True
    with pytest.raises(OSError):
        _raw(url, "GET", "/health")
    assert LocalRuntimeManager.stop_deployment(url) is False
    assert LocalRuntimeManager.deployment_token(url) is None
