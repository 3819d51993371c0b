"""Helpers for the training/runtime tests: moto state, request capture, one-call stubs.

Stubs here replace ONE operation on the SDK's own (factory) client with a botocore
``before-call`` hook, so every other operation on that client still goes to moto.
They are used only for operations moto does not implement (each use says which).
"""

from __future__ import annotations

import copy
import io
import json
import tarfile
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from amzn_nova_forge.core import aws as aws_factory

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["sagemaker.amazonaws.com", "bedrock.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


_CLIENTS: dict[tuple[str, ...], Any] = {}


def plain_client(service: str) -> Any:
    """A test-side client (not the SDK's), cached per credentials and endpoint."""
    import os

    key = (service, os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_ENDPOINT_URL", ""))
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(service, region_name=REGION)
    return _CLIENTS[key]


def create_role(name: str = "NovaForgeExecutionRole", trust: dict[str, Any] | None = None) -> str:
    iam = plain_client("iam")
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or TRUST))["Role"]["Arn"])


def assume_role(monkeypatch: Any, name: str = "NovaForgeExecutionRole") -> str:
    """Create a role and make the environment's credentials that role's (assumed-role) credentials."""
    arn = create_role(name)
    creds = plain_client("sts").assume_role(RoleArn=arn, RoleSessionName="notebook")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    aws_factory.clear_cache()
    return arn


def sdk_client(service: str) -> Any:
    """The very client the SDK uses (same cache key)."""
    return aws_factory.client(service, REGION)


def stub_one(service: str, operation: str, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer ``operation`` on the SDK's client with ``handler(params)``; returns the captured params.

    A handler may raise nothing and return a parsed response; to return an error, return
    ``{"Error": {"Code": ..., "Message": ...}, "ResponseMetadata": {"HTTPStatusCode": 400}}``.
    """
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(copy.deepcopy(params))

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = handler(calls[-1])
        status = (parsed.get("ResponseMetadata") or {}).get("HTTPStatusCode", 200)
        return AWSResponse("https://stub", status, {}, None), parsed

    c = sdk_client(service)
    c.meta.events.register(f"provide-client-params.{service}.{operation}", record)
    c.meta.events.register(f"before-call.{service}.{operation}", answer)
    return calls


def allow_simulation(denied: set[str] | None = None) -> list[dict[str, Any]]:
    """moto does not implement iam:SimulatePrincipalPolicy: answer it (allowed unless in ``denied``,
    a set the caller may change later)."""
    denied = denied if denied is not None else set()

    def handler(params: dict[str, Any]) -> dict[str, Any]:
        return {
            "EvaluationResults": [
                {
                    "EvalActionName": a,
                    "EvalResourceName": params["ResourceArns"][0],
                    "EvalDecision": "implicitDeny" if a in denied else "allowed",
                }
                for a in params["ActionNames"]
            ],
            "IsTruncated": False,
        }

    return stub_one("iam", "SimulatePrincipalPolicy", handler)


def capture(service: str, operation: str) -> list[dict[str, Any]]:
    """Record the API parameters of every ``operation`` call made by the SDK's client."""
    calls: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        calls.append(copy.deepcopy(params))

    sdk_client(service).meta.events.register(f"provide-client-params.{service}.{operation}", hook)
    return calls


def put(uri: str, body: bytes | str) -> None:
    bucket, _, key = uri[5:].partition("/")
    s3 = plain_client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def get(uri: str) -> bytes:
    bucket, _, key = uri[5:].partition("/")
    return bytes(plain_client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def set_training_status(name: str, status: str, reason: str | None = None) -> None:
    """moto jobs are Completed at once; force another status (in-process moto only)."""
    from moto.sagemaker.models import sagemaker_backends

    job = sagemaker_backends[ACCOUNT][REGION].training_jobs[name]
    job.training_job_status = status
    if reason is not None:
        job.failure_reason = reason


def set_bedrock_status(name: str, status: str) -> None:
    """moto Bedrock jobs stay InProgress; force another status (in-process moto only)."""
    from moto.bedrock.models import bedrock_backends

    bedrock_backends[ACCOUNT][REGION].model_customization_jobs[name].status = status


SFT_JSONL = (
    json.dumps(
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "You are helpful."}],
            "messages": [
                {"role": "user", "content": [{"text": "What is 2+2?"}]},
                {"role": "assistant", "content": [{"text": "4"}]},
            ],
        }
    )
    + "\n"
)

RFT_JSONL = "".join(
    json.dumps(
        {
            "id": f"s{i}",
            "messages": [{"role": "user", "content": f"What is {i}+{i}?"}],
            "reference_answer": str(2 * i),
        }
    )
    + "\n"
    for i in range(3)
)


def enforce_unique_training_job_names(monkeypatch: Any) -> None:
    """moto silently overwrites a training job created twice under one name; SageMaker answers
    ResourceInUse. Make moto behave like SageMaker for the idempotency tests."""
    from moto.sagemaker.exceptions import ResourceInUseException
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.create_training_job

    def create(self: Any, training_job_name: str, *args: Any, **kwargs: Any) -> Any:
        if training_job_name in self.training_jobs:
            raise ResourceInUseException(
                f"Training job names must be unique within an AWS account and region, and a training job "
                f"with this name already exists ({training_job_name})"
            )
        return original(self, training_job_name, *args, **kwargs)

    monkeypatch.setattr(SageMakerModelBackend, "create_training_job", create)


def fail_first(service: str, operation: str, statuses: list[int], monkeypatch: Any) -> list[int]:
    """Make the first ``len(statuses)`` HTTP attempts of ``operation`` fail with those statuses
    (429/500/503 …) before the request reaches moto; later attempts go to moto. Returns the list
    of attempt numbers seen. Sleeps between retries are skipped."""
    from moto.core.models import botocore_stubber

    monkeypatch.setattr("time.sleep", lambda s: None)
    seen: list[int] = []
    pending = list(statuses)
    codes = {429: "ThrottlingException", 500: "InternalFailure", 503: "ServiceUnavailable"}

    def before(request: Any, event_name: str = "", **_: Any) -> Any:
        if not event_name.endswith(f".{operation}"):
            return None
        seen.append(len(seen) + 1)
        if not pending:
            return None
        status = pending.pop(0)
        botocore_stubber.enabled = False  # this attempt never reaches moto (re-enabled below)
        body = json.dumps({"__type": codes.get(status, "InternalFailure"), "message": "injected"}).encode()
        code = codes.get(status, "InternalFailure")
        if service == "s3":
            body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        elif service in ("sts", "iam"):
            body = (
                f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>injected</Message>"
                "</Error><RequestId>r</RequestId></ErrorResponse>"
            ).encode()
        return AWSResponse(request.url, status, {}, _RawBody(body))

    def after(request: Any, **_: Any) -> None:
        botocore_stubber.enabled = True

    c = sdk_client(service)
    c.meta.events.register_first(f"before-send.{service}", before)
    c.meta.events.register_last(f"before-send.{service}", after)
    return seen


class _RawBody:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data
