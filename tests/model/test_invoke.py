"""customizer.invoke_inference on SageMaker, Bedrock on-demand / provisioned, and local endpoints.

moto gaps (reference/moto-coverage.md) and what replaces them here:
* sagemaker-runtime InvokeEndpoint: moto answers, with results queued through its
  ``/moto-api/static/sagemaker/endpoint-results`` API.
* InvokeEndpointWithResponseStream, bedrock-runtime Converse / ConverseStream /
  InvokeModelWithResponseStream: missing in moto → a ``before-call`` hook answers that one
  operation (event streams cannot be built through Stubber).
* bedrock-runtime InvokeModel: moto always returns ``{}`` → Stubber for that call.
"""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from botocore.stub import Stubber

from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge.core.enums import DeployPlatform, JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import AWSServiceError, ConfigError, DeploymentError
from amzn_nova_forge.manager._base import JobInfo, RuntimeManager
from amzn_nova_forge.model import NovaModelCustomizer
from amzn_nova_forge.model._invoke import parse_endpoint, to_converse
from amzn_nova_forge.model.result import DeploymentResult, EndpointInfo, SingleInferenceResult

ACCT = "123456789012"
OD_ARN = f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model-deployment/dep123"
PT_ARN = f"arn:aws:bedrock:us-west-2:{ACCT}:provisioned-model/pt123"

# Verbatim from api-spec.txt ("invoke_inference()" example).
SPEC_INVOKE = """
inference_result = customizer.invoke_inference(
    request_body={
      "messages": [{"role": "user", "content": "Hello! How are you?"}],
      "max_tokens": 100,
      "stream": False,
    },
    endpoint_arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/endpoint",
)
inference_result.show()
"""

COMPLETION = {
    "id": "chatcmpl-42",
    "object": "chat.completion",
    "created": 1700000000,
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "I'm well, thanks!"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
}


class FakeInfra(RuntimeManager):
    platform = Platform.SMTJ
    region = "us-east-1"

    def execute(self, job_config):  # pragma: no cover
        raise AssertionError

    def cleanup(self, job_name):  # pragma: no cover
        pass

    @classmethod
    def job_info(cls, ref):  # pragma: no cover
        return JobInfo(JobStatus.COMPLETED, "Completed")


@pytest.fixture
def customizer(aws):
    return NovaModelCustomizer(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=FakeInfra())


def _hook(client, operation: str, parsed: dict, seen: list | None = None) -> None:
    def handler(**kwargs):
        if seen is not None:
            seen.append(kwargs["params"])
        return AWSResponse(None, 200, {}, None), parsed

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", handler)


def test_spec_example_sagemaker_verbatim(customizer, capsys):
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={"results": [{"Body": json.dumps(COMPLETION), "ContentType": "application/json"}], "region": "us-east-1"},
    )
    ns = {"customizer": customizer}
    exec(SPEC_INVOKE, ns)
    out = capsys.readouterr().out
    assert "I'm well, thanks!" in out and "chatcmpl-42" in out and "total_tokens=14" in out
    r = ns["inference_result"]
    assert isinstance(r, SingleInferenceResult)
    assert (r.job_id, r.inference_output_path, r.text, r.stop_reason) == (
        "chatcmpl-42",
        "",
        "I'm well, thanks!",
        "stop",
    )
    assert r.deploy_platform is DeployPlatform.SAGEMAKER and r.response == COMPLETION


def test_sagemaker_streaming(customizer):
    chunks = [
        b'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\n\n',
        b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},',  # an event split in two parts
        b'"finish_reason":null}]}\n\ndata: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
        b"data: [DONE]\n\n",
    ]
    client = aws_factory.client("sagemaker-runtime", "us-east-1")
    _hook(client, "InvokeEndpointWithResponseStream", {"Body": [{"PayloadPart": {"Bytes": c}} for c in chunks]})
    r = customizer.invoke_inference(
        {"messages": [{"role": "user", "content": "Hi"}], "stream": True},
        endpoint_arn=f"arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/ep",
    )
    assert r.text == "Hello" and r.chunks == ["Hel", "lo"] and r.stop_reason == "stop" and r.job_id == "c1"


def test_sagemaker_stream_error_is_raised(customizer):
    client = aws_factory.client("sagemaker-runtime", "us-east-1")
    _hook(
        client,
        "InvokeEndpointWithResponseStream",
        {"Body": [{"ModelStreamError": {"Message": "boom", "ErrorCode": "ModelError"}}]},
    )
    with pytest.raises(DeploymentError, match="stream failed"):
        customizer.invoke_inference({"messages": [], "stream": True}, f"arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/ep")


def test_bedrock_on_demand_converse(customizer):
    client = aws_factory.client("bedrock-runtime", "us-east-1")
    body = {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello! How are you?"}],
        "max_tokens": 100,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": "END",
        "stream": False,
    }
    with Stubber(client) as stub:  # moto has no bedrock-runtime Converse
        stub.add_response(
            "converse",
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "Fine."}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 7, "outputTokens": 2, "totalTokens": 9},
                "metrics": {"latencyMs": 12},
            },
            {
                "modelId": OD_ARN,
                "messages": [{"role": "user", "content": [{"text": "Hello! How are you?"}]}],
                "system": [{"text": "Be brief."}],
                "inferenceConfig": {"maxTokens": 100, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
            },
        )
        r = customizer.invoke_inference(body, endpoint_arn=OD_ARN)
    assert (r.text, r.stop_reason, r.usage["totalTokens"]) == ("Fine.", "end_turn", 9)
    assert r.deploy_platform is DeployPlatform.BEDROCK_OD


def test_bedrock_provisioned_native_body_uses_invoke_model(customizer):
    client = aws_factory.client("bedrock-runtime", "us-west-2")  # region comes from the ARN
    native = {
        "schemaVersion": "messages-v1",
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"maxTokens": 10},
    }
    answer = json.dumps(
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "Hey"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1},
        }
    ).encode()
    with Stubber(client) as stub:  # moto's invoke_model always answers "{}"
        stub.add_response(
            "invoke_model",
            {"body": StreamingBody(io.BytesIO(answer), len(answer)), "contentType": "application/json"},
            {
                "modelId": PT_ARN,
                "body": json.dumps(native),
                "contentType": "application/json",
                "accept": "application/json",
            },
        )
        r = customizer.invoke_inference(native, endpoint_arn=PT_ARN)
    assert (r.text, r.stop_reason, r.deploy_platform) == ("Hey", "end_turn", DeployPlatform.BEDROCK_PT)


def test_bedrock_provisioned_converse_stream(customizer):
    client = aws_factory.client("bedrock-runtime", "us-west-2")
    events = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "A"}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": "B"}, "contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "max_tokens"}},
        {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 1}}},
    ]
    seen: list = []
    _hook(client, "ConverseStream", {"stream": events}, seen)
    r = customizer.invoke_inference({"messages": [{"role": "user", "content": "x"}], "stream": True}, PT_ARN)
    assert (r.text, r.chunks, r.stop_reason, r.usage["totalTokens"]) == ("AB", ["A", "B"], "max_tokens", 5)
    assert PT_ARN.replace(":", "%3A").replace("/", "%2F") in seen[0]["url_path"]


def test_bedrock_error_is_typed(customizer):
    client = aws_factory.client("bedrock-runtime", "us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("converse", "ValidationException", "deployment is not active", 400)
        with pytest.raises(AWSServiceError, match="Converse failed .*ValidationException"):
            customizer.invoke_inference({"messages": [{"role": "user", "content": "x"}]}, OD_ARN)


def test_default_endpoint_is_the_last_deployment(customizer):
    with pytest.raises(ConfigError, match="pass endpoint_arn"):
        customizer.invoke_inference({"messages": []})
    customizer.last_deployment = DeploymentResult(
        EndpointInfo(
            DeployPlatform.SAGEMAKER, "ep", f"arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/ep", "s3://b/", "us-east-1"
        )
    )
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={"results": [{"Body": json.dumps(COMPLETION)}], "region": "us-east-1"},
    )
    assert customizer.invoke_inference({"messages": [{"role": "user", "content": "x"}]}).text == "I'm well, thanks!"


def test_parse_endpoint_accepts_every_kind():
    assert parse_endpoint(f"arn:aws:sagemaker:eu-west-2:{ACCT}:endpoint/my-ep").name == "my-ep"
    od = parse_endpoint(OD_ARN)
    assert (od.platform, od.region) == (DeployPlatform.BEDROCK_OD, "us-east-1")
    pt = parse_endpoint(PT_ARN)  # the anchor SDK rejected provisioned-model ARNs
    assert (pt.platform, pt.region, pt.name) == (DeployPlatform.BEDROCK_PT, "us-west-2", "pt123")
    assert parse_endpoint("http://127.0.0.1:8080").platform is DeployPlatform.LOCAL
    with pytest.raises(ConfigError, match="deploy it first"):
        parse_endpoint(f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/imported/x")
    with pytest.raises(ConfigError, match="provisioned-model"):
        parse_endpoint("endpoint")


def test_to_converse_content_lists_and_top_k():
    req = to_converse("m", {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}], "top_k": 5})
    assert req == {
        "modelId": "m",
        "messages": [{"role": "user", "content": [{"text": "a"}]}],
        "additionalModelRequestFields": {"inferenceConfig": {"topK": 5}},
    }


# ---- local endpoints (an OpenAI-compatible server on 127.0.0.1) ----------------------------------
class _Handler(BaseHTTPRequestHandler):
    requests_seen: ClassVar[list] = []

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.requests_seen.append((self.path, body))
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ("lo", "cal"):
                event = {"id": "l1", "choices": [{"index": 0, "delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        if body.get("messages") == []:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"error": "messages must not be empty"}')
            return
        data = json.dumps({**COMPLETION, "id": "local-1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Handler.requests_seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_local_endpoint(customizer, local_server):
    r = customizer.invoke_inference({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}, local_server)
    assert (r.text, r.job_id, r.deploy_platform) == ("I'm well, thanks!", "local-1", DeployPlatform.LOCAL)
    assert _Handler.requests_seen[0] == (
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
    )
    s = customizer.invoke_inference({"messages": [{"role": "user", "content": "hi"}], "stream": True}, local_server)
    assert (s.text, s.chunks) == ("local", ["lo", "cal"])
    with pytest.raises(DeploymentError, match="HTTP 400.*must not be empty"):
        customizer.invoke_inference({"messages": []}, local_server)
    status = DeploymentResult(EndpointInfo(DeployPlatform.LOCAL, "l", local_server, "/ckpt")).status
    assert status == "InService"  # the server answers (even with 501 for GET)


def test_local_endpoint_not_running(customizer):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeploymentError, match="not reachable"):
        customizer.invoke_inference({"messages": [{"role": "user", "content": "x"}]}, f"http://127.0.0.1:{port}")
    assert (
        DeploymentResult(EndpointInfo(DeployPlatform.LOCAL, "l", f"http://127.0.0.1:{port}", "/c")).status
        == "NotRunning"
    )


def test_show_without_text_prints_body(capsys):
    SingleInferenceResult("j", response={"raw": 1}, latency_s=0.5).show()
    out = capsys.readouterr().out
    assert '"raw": 1' in out and "latency: 0.50s" in out


def test_single_result_is_an_inference_result_and_round_trips(tmp_path):
    from amzn_nova_forge.core.enums import Platform
    from amzn_nova_forge.model.result import BaseJobResult, InferenceResult

    r = SingleInferenceResult(
        "chat-1",
        endpoint_arn=PT_ARN,
        deploy_platform=DeployPlatform.BEDROCK_PT,
        text="hi",
        response={"x": 1},
        usage={"totalTokens": 3},
        region="us-west-2",
    )
    assert isinstance(r, InferenceResult) and r.platform is Platform.BEDROCK and r.inference_output_path == ""
    assert r.get_job_status() == (JobStatus.COMPLETED, "Completed")  # no AWS call (no moto here)
    loaded = BaseJobResult.load(str(r.dump(str(tmp_path))))
    assert isinstance(loaded, SingleInferenceResult)
    assert (loaded.text, loaded.deploy_platform, loaded.usage, loaded.endpoint_arn) == (
        "hi",
        DeployPlatform.BEDROCK_PT,
        {"totalTokens": 3},
        PT_ARN,
    )
