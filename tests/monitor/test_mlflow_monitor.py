"""MLflowMonitor: to_dict, lazy default discovery that never raises, presigned URL ranges.

moto implements no SageMaker MLflow operation, so those calls are stubbed with
botocore's Stubber on the SDK's own client (the rest of that client is untouched).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from amzn_nova_forge.core.aws import client
from amzn_nova_forge.errors import AWSServiceError
from amzn_nova_forge.monitor import MLflowMonitor
from amzn_nova_forge.monitor._mlflow import MLflowPresignedURLError

APP = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx"


@pytest.fixture
def sm_stub(aws: Any) -> Iterator[Stubber]:
    stub = Stubber(client("sagemaker", "us-east-1"))
    with stub:
        yield stub
    stub.assert_no_pending_responses()


def test_spec_example_to_dict() -> None:
    monitor = MLflowMonitor(
        tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx", experiment_name="nova-customization"
    )
    config_dict = monitor.to_dict()
    assert config_dict == {
        "mlflow_tracking_uri": "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx",
        "mlflow_experiment_name": "nova-customization",
    }
    full = MLflowMonitor(
        tracking_uri="arn:aws:sagemaker:us-east-1:123456:mlflow-app/app-xxx",  # readme's 6-digit id
        experiment_name="nova-customization",
        run_name="my-training-run",
    )
    assert full.to_dict()["mlflow_run_name"] == "my-training-run"


def test_invalid_uri_is_value_error() -> None:
    for bad in ("mlflow-app/app-xxx", "arn:aws:s3:::bucket", "ftp://x", ""):
        with pytest.raises(ValueError, match="Invalid MLflow tracking_uri"):
            MLflowMonitor(tracking_uri=bad)
    with pytest.raises(ValueError, match="experiment_name"):
        MLflowMonitor(tracking_uri=APP, experiment_name="  ")


def test_no_default_server_never_raises(no_aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monitor = MLflowMonitor(experiment_name="nova-customization", run_name="sft-run-1")  # no creds: no raise
    assert monitor.to_dict() == {}
    assert monitor.tracking_uri is None
    with pytest.raises(ValueError, match="no tracking_uri"):
        monitor.get_presigned_url()


def test_default_app_discovered_lazily(sm_stub: Stubber) -> None:
    monitor = MLflowMonitor(experiment_name="nova-customization", run_name="sft-run-1")
    sm_stub.add_response(
        "list_mlflow_apps",
        {"Summaries": [{"Arn": APP, "Name": "DefaultMLFlowApp", "Status": "Created"}]},
        {"AccountDefaultStatus": "ENABLED", "MaxResults": 10},
    )
    assert monitor.to_dict() == {
        "mlflow_tracking_uri": APP,
        "mlflow_experiment_name": "nova-customization",
        "mlflow_run_name": "sft-run-1",
    }
    assert monitor.tracking_uri == APP  # cached: no second call (Stubber would fail)


def test_default_lookup_error_turns_tracking_off(sm_stub: Stubber) -> None:
    sm_stub.add_client_error("list_mlflow_apps", "AccessDeniedException", "not allowed")
    assert MLflowMonitor().to_dict() == {}


def test_presigned_url_app_and_ranges(sm_stub: Stubber) -> None:
    monitor = MLflowMonitor(tracking_uri=APP, experiment_name="nova-customization")
    sm_stub.add_response(
        "create_presigned_mlflow_app_url",
        {"AuthorizedUrl": "https://app-xxx.mlflow.sagemaker.us-east-1.app.aws/auth?token=abc"},
        {"Arn": APP, "ExpiresInSeconds": 300, "SessionExpirationDurationInSeconds": 43200},
    )
    assert monitor.get_presigned_url().startswith("https://app-xxx.mlflow")
    sm_stub.add_response(
        "create_presigned_mlflow_app_url",
        {"AuthorizedUrl": "https://u2"},
        {"Arn": APP, "ExpiresInSeconds": 60, "SessionExpirationDurationInSeconds": 3600},
    )
    url = monitor.get_presigned_url(
        session_expiration_duration_in_seconds=3600,  # 1 hour session
        expires_in_seconds=60,  # URL expires in 1 minute
    )
    assert url == "https://u2"
    for kwargs in (
        {"session_expiration_duration_in_seconds": 1799},
        {"session_expiration_duration_in_seconds": 43201},
        {"expires_in_seconds": 4},
        {"expires_in_seconds": 301},
        {"expires_in_seconds": 30.0},
    ):
        with pytest.raises(ValueError, match="between"):
            monitor.get_presigned_url(**kwargs)


def test_presigned_url_tracking_server_and_failure(sm_stub: Stubber) -> None:
    server = MLflowMonitor(tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/my-server")
    sm_stub.add_response(
        "create_presigned_mlflow_tracking_server_url",
        {"AuthorizedUrl": "https://ts"},
        {"TrackingServerName": "my-server", "ExpiresInSeconds": 300, "SessionExpirationDurationInSeconds": 43200},
    )
    assert server.get_presigned_url() == "https://ts"
    sm_stub.add_client_error("create_presigned_mlflow_tracking_server_url", "ResourceNotFound", "no such server")
    with pytest.raises(RuntimeError, match="ResourceNotFound") as info:
        server.get_presigned_url()
    assert isinstance(info.value, MLflowPresignedURLError) and isinstance(info.value, AWSServiceError)
    with pytest.raises(ValueError, match="plain URL"):
        MLflowMonitor(tracking_uri="https://mlflow.example.com").get_presigned_url()
