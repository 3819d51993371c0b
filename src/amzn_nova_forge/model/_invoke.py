"""``customizer.invoke_inference``: one real-time request to a deployed model.

The endpoint is recognised from its ARN (or URL):

* ``arn:aws:sagemaker:<region>:<account>:endpoint/<name>`` → ``InvokeEndpoint``
  (``InvokeEndpointWithResponseStream`` when ``request_body["stream"]`` is true). The
  body is sent as is (the Nova container speaks OpenAI chat completions).
* ``arn:aws:bedrock:<region>:<account>:custom-model-deployment/<id>`` (on-demand),
  ``...:endpoint/<name>`` (a Bedrock model endpoint) and
  ``...:provisioned-model/<id>`` (provisioned throughput) → ``Converse`` /
  ``ConverseStream`` for an OpenAI-style body (string contents, ``max_tokens`` …), or
  ``InvokeModel`` / ``InvokeModelWithResponseStream`` for a Nova-native body
  (``schemaVersion``, ``inferenceConfig``, ``[{"text": ...}]`` contents), sent as is.
* ``http://127.0.0.1:<port>`` (a local deployment) → ``POST /v1/chat/completions``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from amzn_nova_forge.core import aws
from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.errors import ConfigError, DeploymentError
from amzn_nova_forge.model.result._single import SingleInferenceResult

__all__ = ["Endpoint", "invoke", "invoke_inference", "parse_endpoint"]

_SAGEMAKER = re.compile(r"^arn:aws[\w-]*:sagemaker:([a-z0-9-]+):(\d{12}):endpoint/([a-zA-Z0-9](?:-*[a-zA-Z0-9])*)$")
_BEDROCK_OD = re.compile(r"^arn:aws[\w-]*:bedrock:([a-z0-9-]+):(\d{12}):custom-model-deployment/(\S+)$")
#: A Bedrock (Marketplace) model endpoint; invoked through bedrock-runtime like a deployment.
_BEDROCK_ENDPOINT = re.compile(r"^arn:aws[\w-]*:bedrock:([a-z0-9-]+):(\d{12}):endpoint/(\S+)$")
_BEDROCK_PT = re.compile(r"^arn:aws[\w-]*:bedrock:([a-z0-9-]+):(\d{12}):provisioned-model/(\S+)$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_CHAT_PATH = "/v1/chat/completions"
LOCAL_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint: platform, region, name (or id) and the original ARN / URL."""

    platform: DeployPlatform
    region: str | None
    name: str
    arn: str


def parse_endpoint(endpoint_arn: str) -> Endpoint:
    """Recognise a SageMaker endpoint, Bedrock deployment / provisioned model ARN, or local URL.

    Example:
        >>> parse_endpoint("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc").platform.name
        'BEDROCK_PT'
    """
    arn = (endpoint_arn or "").strip()
    for pattern, platform in (
        (_SAGEMAKER, DeployPlatform.SAGEMAKER),
        (_BEDROCK_OD, DeployPlatform.BEDROCK_OD),
        (_BEDROCK_PT, DeployPlatform.BEDROCK_PT),
        (_BEDROCK_ENDPOINT, DeployPlatform.BEDROCK_OD),
    ):
        m = pattern.match(arn)
        if m:
            return Endpoint(platform, m.group(1), m.group(3), arn)
    if _URL.match(arn):
        return Endpoint(DeployPlatform.LOCAL, None, arn, arn)
    hint = ""
    if ":custom-model/" in arn:
        hint = " A custom model ARN cannot be invoked directly: deploy it first (customizer.deploy)."
    raise ConfigError(
        f"Unrecognised endpoint {endpoint_arn!r}. Expected arn:aws:sagemaker:<region>:<account>:endpoint/<name>, "
        "arn:aws:bedrock:<region>:<account>:custom-model-deployment/<id>, "
        "arn:aws:bedrock:<region>:<account>:provisioned-model/<id>, or http://127.0.0.1:<port>." + hint
    )


def invoke_inference(
    customizer: Any, *, request_body: Mapping[str, Any], endpoint_arn: str | None = None
) -> SingleInferenceResult:
    """Send ``request_body`` to ``endpoint_arn`` (default: the customizer's last deployment)."""
    if endpoint_arn is None:
        last = getattr(customizer, "last_deployment", None)
        if last is None:
            raise ConfigError(
                "No endpoint given and this customizer has not deployed anything: pass endpoint_arn=... "
                "(e.g. deployment.endpoint.uri)."
            )
        endpoint_arn = last.endpoint.uri
    component = None
    last = getattr(customizer, "last_deployment", None)
    if last is not None and last.endpoint.uri == endpoint_arn and getattr(last, "inference_components", None):
        component = last.inference_components[0]
    return invoke(endpoint_arn, request_body, inference_component_name=component)


def invoke(
    endpoint_arn: str, request_body: Mapping[str, Any], inference_component_name: str | None = None
) -> SingleInferenceResult:
    """Send one request to any supported endpoint; returns a :class:`SingleInferenceResult`.

    ``inference_component_name`` routes a SageMaker request to one inference component
    (``InvokeEndpoint(InferenceComponentName=...)``); other endpoints reject it.

    Example:
        >>> result = invoke("arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep",  # doctest: +SKIP
        ...                 {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 50})
    """
    if not isinstance(request_body, Mapping):
        raise ConfigError(f"request_body must be a dict (JSON object), got {type(request_body).__name__}.")
    ep = parse_endpoint(endpoint_arn)
    if inference_component_name is not None and ep.platform is not DeployPlatform.SAGEMAKER:
        raise ConfigError(
            f"inference_component_name={inference_component_name!r} applies only to SageMaker endpoints; "
            f"{endpoint_arn!r} is a {ep.platform.name} endpoint."
        )
    body = dict(request_body)
    stream = bool(body.get("stream"))
    started, t0 = datetime.now(UTC), time.perf_counter()
    if ep.platform is DeployPlatform.SAGEMAKER:
        parsed, text, chunks, usage, stop = _sagemaker(ep, body, stream, inference_component_name)
    elif ep.platform is DeployPlatform.LOCAL:
        parsed, text, chunks, usage, stop = _local(ep, body, stream)
    else:
        parsed, text, chunks, usage, stop = _bedrock(ep, body, stream)
    job_id = parsed.get("id") if isinstance(parsed, dict) and isinstance(parsed.get("id"), str) else None
    return SingleInferenceResult(
        job_id or f"inference-{uuid.uuid4().hex[:12]}",
        started,
        endpoint_arn=ep.arn,
        deploy_platform=ep.platform,
        region=ep.region,
        text=text,
        response=parsed,
        chunks=chunks,
        usage=usage,
        stop_reason=stop,
        latency_s=time.perf_counter() - t0,
    )


# ---- response parsing -----------------------------------------------------------------------
Parsed = tuple[Any, str, list[str], dict[str, Any], "str | None"]


def _json_or_text(raw: bytes | str) -> Any:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        return text


def _from_openai(parsed: Any) -> tuple[str, dict[str, Any], str | None]:
    """(text, usage, finish reason) of an OpenAI chat completion (or Nova-native) body."""
    if not isinstance(parsed, dict):
        return (parsed if isinstance(parsed, str) else ""), {}, None
    raw_usage = parsed.get("usage")
    usage: dict[str, Any] = dict(raw_usage) if isinstance(raw_usage, dict) else {}
    choices = parsed.get("choices")
    if isinstance(choices, list) and choices:
        c = choices[0] or {}
        msg = c.get("message") or c.get("delta") or {}
        content = msg.get("content") if isinstance(msg, dict) else None
        text = content if isinstance(content, str) else c.get("text") or ""
        finish = c.get("finish_reason")
        return str(text), usage, str(finish) if finish is not None else None
    message = (parsed.get("output") or {}).get("message") if isinstance(parsed.get("output"), dict) else None
    if isinstance(message, dict):  # Nova native / Converse shape
        text = "".join(b.get("text", "") for b in message.get("content", []) if isinstance(b, dict))
        stop = parsed.get("stopReason")
        return text, usage, str(stop) if stop is not None else None
    return "", usage, None


def _sse_events(buffer: str) -> Iterable[Any]:
    """JSON payloads of ``data:`` lines (or bare JSON lines) in a server-sent-events text."""
    for line in buffer.splitlines():
        line = line.strip()
        if not line or line.startswith((":", "event:", "id:")):
            continue
        if line.startswith("data:"):
            line = line[5:].strip()
        if line == "[DONE]":
            return
        try:
            yield json.loads(line)
        except ValueError:
            continue


def _from_stream(pieces: list[str]) -> Parsed:
    text: list[str] = []
    usage: dict[str, Any] = {}
    stop: str | None = None
    last: Any = None
    for event in _sse_events("".join(pieces)):
        last = event
        t, u, s = _from_openai(event)
        text.append(t)
        usage = u or usage
        stop = s or stop
    return last, "".join(text), [t for t in text if t], usage, stop


# ---- SageMaker ------------------------------------------------------------------------------
def _sagemaker(ep: Endpoint, body: dict[str, Any], stream: bool, component: str | None = None) -> Parsed:
    client = aws.client("sagemaker-runtime", ep.region)
    payload = json.dumps(body)
    extra = {"InferenceComponentName": component} if component else {}
    with aws.aws_errors("sagemaker-runtime", hint=f"Is endpoint {ep.name!r} InService?"):
        if not stream:
            r = client.invoke_endpoint(
                EndpointName=ep.name, ContentType="application/json", Accept="application/json", Body=payload, **extra
            )
            parsed = _json_or_text(r["Body"].read())
            text, usage, stop = _from_openai(parsed)
            return parsed, text, [], usage, stop
        r = client.invoke_endpoint_with_response_stream(
            EndpointName=ep.name, ContentType="application/json", Body=payload, **extra
        )
        pieces: list[str] = []
        for event in r["Body"]:
            if "PayloadPart" in event:
                pieces.append(event["PayloadPart"]["Bytes"].decode("utf-8", errors="replace"))
            for err in ("ModelStreamError", "InternalStreamFailure"):
                if err in event:
                    raise DeploymentError(f"SageMaker endpoint {ep.name!r} stream failed: {event[err]}")
    return _from_stream(pieces)


# ---- Bedrock --------------------------------------------------------------------------------
def _is_openai_style(body: Mapping[str, Any]) -> bool:
    messages = body.get("messages")
    if not isinstance(messages, list) or "schemaVersion" in body or "inferenceConfig" in body:
        return False
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list) and all(isinstance(c, dict) and "type" in c for c in content):
            continue
        if not isinstance(content, str):
            return False
    return True


def to_converse(model_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Translate an OpenAI chat-completions body into a Bedrock ``Converse`` request."""
    system: list[dict[str, str]] = []
    messages: list[dict[str, Any]] = []
    for m in body["messages"]:
        content = m.get("content")
        blocks = (
            [{"text": content}]
            if isinstance(content, str)
            else [{"text": c.get("text", "")} for c in content if c.get("type") == "text"]
        )
        if m.get("role") == "system":
            system.extend(blocks)
        else:
            messages.append({"role": m.get("role", "user"), "content": blocks})
    cfg: dict[str, Any] = {}
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
    if max_tokens is not None:
        cfg["maxTokens"] = int(max_tokens)
    if body.get("temperature") is not None:
        cfg["temperature"] = float(body["temperature"])
    if body.get("top_p") is not None:
        cfg["topP"] = float(body["top_p"])
    if body.get("stop"):
        cfg["stopSequences"] = [body["stop"]] if isinstance(body["stop"], str) else list(body["stop"])
    req: dict[str, Any] = {"modelId": model_id, "messages": messages}
    if system:
        req["system"] = system
    if cfg:
        req["inferenceConfig"] = cfg
    if body.get("top_k") is not None:
        req["additionalModelRequestFields"] = {"inferenceConfig": {"topK": int(body["top_k"])}}
    return req


def _bedrock(ep: Endpoint, body: dict[str, Any], stream: bool) -> Parsed:
    client = aws.client("bedrock-runtime", ep.region)
    with aws.aws_errors("bedrock-runtime", hint="Is the deployment Active (or the provisioned model InService)?"):
        if _is_openai_style(body):
            req = to_converse(ep.arn, body)
            if not stream:
                r = client.converse(**req)
                r.pop("ResponseMetadata", None)
                text = "".join(b.get("text", "") for b in r.get("output", {}).get("message", {}).get("content", []))
                return r, text, [], dict(r.get("usage") or {}), r.get("stopReason")
            pieces, usage, stop = [], {}, None
            for event in client.converse_stream(**req)["stream"]:
                if "contentBlockDelta" in event:
                    pieces.append(event["contentBlockDelta"].get("delta", {}).get("text", ""))
                elif "messageStop" in event:
                    stop = event["messageStop"].get("stopReason")
                elif "metadata" in event:
                    usage = dict(event["metadata"].get("usage") or {})
            return {"stopReason": stop, "usage": usage}, "".join(pieces), pieces, usage, stop
        payload = {k: v for k, v in body.items() if k != "stream"}
        if not stream:
            r = client.invoke_model(
                modelId=ep.arn, body=json.dumps(payload), contentType="application/json", accept="application/json"
            )
            parsed = _json_or_text(r["body"].read())
            text, usage, stop = _from_openai(parsed)
            return parsed, text, [], usage, stop
        r = client.invoke_model_with_response_stream(
            modelId=ep.arn, body=json.dumps(payload), contentType="application/json", accept="application/json"
        )
        pieces, usage, stop = [], {}, None
        for event in r["body"]:
            chunk = _json_or_text(event.get("chunk", {}).get("bytes", b""))
            if not isinstance(chunk, dict):
                continue
            delta = chunk.get("contentBlockDelta", {}).get("delta", {}).get("text")
            if delta:
                pieces.append(delta)
            stop = chunk.get("messageStop", {}).get("stopReason") or stop
            usage = chunk.get("metadata", {}).get("usage") or usage
    return {"stopReason": stop, "usage": usage}, "".join(pieces), pieces, usage, stop


# ---- local ----------------------------------------------------------------------------------
def _local(ep: Endpoint, body: dict[str, Any], stream: bool) -> Parsed:
    import urllib.error
    import urllib.request

    url = ep.arn.rstrip("/")
    if not url.endswith(_CHAT_PATH):
        url += _CHAT_PATH
    from amzn_nova_forge.manager._local._deploy import auth_headers

    headers = {"Content-Type": "application/json", **auth_headers(ep.arn)}  # the deployment's bearer token
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=LOCAL_TIMEOUT_S) as resp:
            is_sse = (resp.headers.get("Content-Type") or "").startswith("text/event-stream")
            if not (stream and is_sse):  # a server that does not stream answers with one JSON body
                parsed = _json_or_text(resp.read())
                text, usage, stop = _from_openai(parsed)
                return parsed, text, [], usage, stop
            pieces = [line.decode("utf-8", errors="replace") for line in resp]
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", errors="replace")[:500]
        raise DeploymentError(f"Local endpoint {url} answered HTTP {e.code}: {detail}") from e
    except OSError as e:
        raise DeploymentError(
            f"Local endpoint {url} is not reachable ({e}). Start it with "
            "customizer.deploy(deploy_platform=DeployPlatform.LOCAL)."
        ) from e
    return _from_stream(pieces)
