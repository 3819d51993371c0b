"""The shared deployment machinery: waiting with progress, timeouts, IAM-propagation retries."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.errors import AWSServiceError, DeploymentError
from amzn_nova_forge.model._deploy_common import DeployContext


class Clock:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, s):
        self.sleeps.append(s)
        self.now += s

    def __call__(self):
        return self.now


def _ctx(clock: Clock, **kw) -> DeployContext:
    return DeployContext(
        DeployPlatform.SAGEMAKER, "us-east-1", "ep", "s3://b/", sleep=clock.sleep, clock=clock, poll_interval=10, **kw
    )


def test_progress_line_when_enabled(monkeypatch, capsys):
    monkeypatch.setenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", "0")
    clock = Clock()
    seq = iter([("Creating", None), ("Creating", None), ("InService", None)])
    assert (
        _ctx(clock).wait_until("endpoint ep", lambda: next(seq), ready={"InService"}, failed={"Failed"}) == "InService"
    )
    err = capsys.readouterr().err
    assert "Waiting for endpoint ep" in err and "InService" in err
    assert clock.sleeps == [10, 10]


def test_no_progress_when_disabled(capsys):  # conftest sets NOVA_FORGE_DISABLE_PROGRESS_BARS=1
    clock = Clock()
    _ctx(clock).wait_until("x", lambda: ("Active", None), ready={"Active"}, failed=())
    assert capsys.readouterr().err == ""


def test_timeout_counts_from_the_start_of_the_deployment():
    clock = Clock()
    ctx = _ctx(clock, timeout=25)
    ctx.record("SageMaker model m")
    with pytest.raises(DeploymentError, match="Timed out after 25s waiting for y \\(still Creating\\)") as ei:
        ctx.wait_until("y", lambda: ("Creating", None), ready={"InService"}, failed={"Failed"})
    assert ei.value.created == ["SageMaker model m"] and clock.sleeps == [10, 10, 10]


def test_role_propagation_is_retried_only_for_new_roles(aws):
    client = aws_factory.client("bedrock", "us-east-1")
    clock = Clock()
    ctx = _ctx(clock)
    ctx.role_created = True
    with Stubber(client) as stub:  # moto has no CreateCustomModel
        stub.add_client_error("create_custom_model", "ValidationException", "The role cannot be assumed by Bedrock")
        stub.add_response("create_custom_model", {"modelArn": "arn:aws:bedrock:us-east-1:123456789012:custom-model/x"})
        out = ctx.call(client, "create_custom_model", modelName="m")
    assert out["modelArn"].endswith("custom-model/x") and clock.sleeps == [10.0]

    ctx.role_created = False
    with Stubber(client) as stub:
        stub.add_client_error("create_custom_model", "ValidationException", "The role cannot be assumed by Bedrock")
        with pytest.raises(AWSServiceError) as ei:
            ctx.call(client, "create_custom_model", modelName="m")
    assert ei.value.operation == "CreateCustomModel" and ei.value.code == "ValidationException"


def test_rollback_deletes_newest_first_and_reports_what_it_could_not_delete():
    deleted: list[str] = []
    ctx = DeployContext(platform=DeployPlatform.SAGEMAKER, region="us-east-1", endpoint_name="e", artifact="s3://b/")
    ctx.rollback = True
    ctx.record("IAM role r", lambda: deleted.append("role"))

    def stuck() -> None:
        raise RuntimeError("DeleteModel AccessDenied")

    ctx.record("SageMaker model m", stuck)
    ctx.record("SageMaker endpoint config c", lambda: deleted.append("config"))
    ctx.record("external thing x")  # no undo known
    err = ctx.error("Deploying failed.")
    assert deleted == ["config", "role"]  # newest first, and a failure does not stop the rest
    assert err.created == ["SageMaker model m", "external thing x"]
    text = str(err)
    assert "Rolled back: SageMaker endpoint config c, IAM role r." in text
    assert (
        "Could not roll back: external thing x (cannot be deleted by the SDK); SageMaker model m (DeleteModel AccessDenied)."
        in text
    )
    again = ctx.error("Second failure.")  # rollback runs once per deploy
    assert deleted == ["config", "role"] and "Rolled back" not in str(again)
