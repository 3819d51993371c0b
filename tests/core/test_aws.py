"""core.aws: client configuration (retries, user agent, endpoints), caching, and typed AWS errors."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from amzn_nova_forge.core import aws
from amzn_nova_forge.errors import AWSServiceError


def test_clients_retry_adaptively_and_carry_the_user_agent(aws_credentials: None) -> None:
    c = aws.client("sagemaker", "us-west-2")
    assert c.meta.region_name == "us-west-2"
    assert c.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 9}  # 8 retries after the first try
    assert aws.USER_AGENT_EXTRA in c.meta.config.user_agent_extra
    assert aws.client("s3", "us-east-1").meta.config.retries["total_max_attempts"] == 9
    # a cached client with other retry settings is not handed out
    assert aws.client("s3", "us-east-1", max_attempts=3).meta.config.retries["total_max_attempts"] == 4
    assert aws.client("s3", "us-east-1").meta.config.retries["total_max_attempts"] == 9


def test_region_falls_back_to_environment_then_us_east_1(
    aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert aws.resolve_region() == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    assert aws.resolve_region() == "eu-west-2"
    assert aws.client("s3").meta.region_name == "eu-west-2"
    assert aws.resolve_region("ap-northeast-1") == "ap-northeast-1"


def test_endpoint_url_environment_is_honoured(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", "http://127.0.0.1:6001")
    assert aws.client("s3", "us-east-1").meta.endpoint_url == "http://127.0.0.1:5999"
    assert aws.client("sagemaker-runtime", "us-east-1").meta.endpoint_url == "http://127.0.0.1:6001"


def test_clients_are_cached_per_service_region_and_thread(aws_credentials: None) -> None:
    a = aws.client("s3", "us-east-1")
    assert aws.client("s3", "us-east-1") is a
    assert aws.client("s3", "us-west-2") is not a
    assert aws.client("sagemaker", "us-east-1") is not a
    other: list[Any] = []
    t = threading.Thread(target=lambda: other.append(aws.client("s3", "us-east-1")))
    t.start()
    t.join()
    assert other[0] is not a  # boto3 clients are created per thread
    aws.clear_cache()
    assert aws.client("s3", "us-east-1") is not a


def test_aws_errors_keeps_operation_code_and_request_id() -> None:
    err = ClientError(
        {
            "Error": {"Code": "ValidationException", "Message": "Role is invalid"},
            "ResponseMetadata": {"RequestId": "req-123", "HTTPStatusCode": 400},
        },
        "CreateTrainingJob",
    )
    with pytest.raises(AWSServiceError) as e, aws.aws_errors("sagemaker", hint="check the execution role"):
        raise err
    assert str(e.value) == (
        "sagemaker CreateTrainingJob failed (ValidationException): Role is invalid [request id req-123]. "
        "check the execution role"
    )
    assert (e.value.service, e.value.operation, e.value.code, e.value.request_id) == (
        "sagemaker",
        "CreateTrainingJob",
        "ValidationException",
        "req-123",
    )
    assert e.value.__cause__ is err


def test_aws_errors_without_credentials_says_how_to_configure_them() -> None:
    expected = r"sagemaker call failed: Unable to locate credentials"
    with pytest.raises(AWSServiceError, match=expected) as e, aws.aws_errors("sagemaker", hint="unused"):
        raise NoCredentialsError()
    assert "Configure AWS credentials (aws configure, AWS_PROFILE" in str(e.value)
    assert "dry_run=True" in str(e.value) and "unused" not in str(e.value)


def test_aws_errors_other_botocore_errors_keep_the_hint() -> None:
    expected = r"s3 call failed: Could not connect .*\. try again later$"
    with pytest.raises(AWSServiceError, match=expected), aws.aws_errors("s3", hint="try again later"):
        raise EndpointConnectionError(endpoint_url="https://s3.example")


def test_aws_errors_lets_other_exceptions_through() -> None:
    with pytest.raises(KeyError), aws.aws_errors("s3"):
        raise KeyError("not an AWS error")


def test_a_real_call_without_credentials_is_a_typed_error(no_aws_credentials: None) -> None:
    with pytest.raises(AWSServiceError, match="Configure AWS credentials"), aws.aws_errors("sts"):
        aws.client("sts", "us-east-1").get_caller_identity()
