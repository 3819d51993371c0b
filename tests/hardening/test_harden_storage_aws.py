"""AWS configuration and clean failure: the user's retry settings, paginators, bucket races,
missing buckets, uploads removed after a failed submission, temporary recipe folders cleaned up.

AWS runs in moto. ``CreateTrainingJob`` is replaced by a stand-in (moto cannot be told to refuse
it), and botocore's ``Stubber`` answers the few calls whose failure moto cannot produce
(``BucketAlreadyOwnedByYou``, a two-page Bedrock listing).
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from amzn_nova_forge.core import aws as aws_mod, storage
from amzn_nova_forge.core.enums import Model, TrainingMethod
from amzn_nova_forge.errors import AWSServiceError, ConfigError

ROLE = "arn:aws:iam::123456789012:role/nova-exec"


# ---------------------------------------------------------------- retry configuration
def test_default_is_adaptive_with_the_sdk_attempts(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    retries = aws_mod.client("s3").meta.config.retries
    assert retries["mode"] == "adaptive" and retries["total_max_attempts"] == 9
    assert aws_mod.user_retry_settings() == {}


@pytest.mark.parametrize(
    ("env", "mode", "attempts"),
    [
        ({"AWS_RETRY_MODE": "standard"}, "standard", None),
        ({"AWS_RETRY_MODE": "legacy"}, "legacy", None),
        ({"AWS_MAX_ATTEMPTS": "2"}, None, 2),
        ({"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "4"}, "standard", 4),
        ({"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "1"}, "adaptive", 1),
    ],
)
def test_user_env_retry_settings_win(
    env: dict[str, str], mode: str | None, attempts: int | None, aws_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    retries = aws_mod.client("sagemaker").meta.config.retries
    if mode is not None:
        assert retries["mode"] == mode
    if attempts is not None:
        assert retries["total_max_attempts"] == attempts
    assert retries != {"mode": "adaptive", "total_max_attempts": 9}


def test_config_file_retry_settings_win(aws_credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    cfg = tmp_path / "config"
    cfg.write_text("[profile team]\nretry_mode = standard\nmax_attempts = 3\nregion = us-west-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("AWS_PROFILE", "team")
    aws_mod.clear_cache()
    assert aws_mod.user_retry_settings() == {"retry_mode": "standard", "max_attempts": "3"}
    retries = aws_mod.client("s3").meta.config.retries
    assert retries == {"mode": "standard", "total_max_attempts": 3}


def test_a_missing_profile_does_not_break_the_check(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.setattr(aws_mod, "session", lambda region=None: (_ for _ in ()).throw(RuntimeError("no profile")))
    assert aws_mod.user_retry_settings() == {}


# ---------------------------------------------------------------- paginators
def test_log_streams_are_listed_across_pages(aws: Any) -> None:
    from amzn_nova_forge.monitor._sources import CloudWatchStreams

    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    for i in range(120):  # DescribeLogStreams returns 50 per page
        logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=f"job-1/algo-{i:03d}")
    logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="other/algo-1")
    source = CloudWatchStreams(aws_mod.client("logs"), "/aws/sagemaker/TrainingJobs", "job-1/")
    names = source.streams()
    assert len(names) == 120 and names[0] == "job-1/algo-000" and names[-1] == "job-1/algo-119"


def test_filtered_events_are_read_across_pages(aws: Any) -> None:
    from amzn_nova_forge.monitor._sources import CloudWatchFilter

    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="job-1/a")
    now = int(time.time() * 1000) - 60_000
    events = [{"timestamp": now + i, "message": f"step {i} loss 0.{i}"} for i in range(250)]
    logs.put_log_events(logGroupName="g", logStreamName="job-1/a", logEvents=events)
    logs.put_log_events(logGroupName="g", logStreamName="job-1/a", logEvents=[{"timestamp": now + 999, "message": "x"}])
    out = CloudWatchFilter(aws_mod.client("logs"), "g", "job-1/", "loss")._filter(None, None)
    assert [e["message"] for e in out] == [e["message"] for e in events]


def test_bedrock_listing_follows_next_token(aws_credentials: None) -> None:
    from amzn_nova_forge.core.enums import DeployPlatform
    from amzn_nova_forge.model import _deploy_bedrock

    client = aws_mod.client("bedrock")
    arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abc"
    with Stubber(client) as stub:  # moto has no ListCustomModelDeployments
        stub.add_response(
            "list_custom_model_deployments",
            {"modelDeploymentSummaries": [_od("my-model-old", arn + "0")], "nextToken": "t1"},
            {"nameContains": "my-model"},
        )
        stub.add_response(
            "list_custom_model_deployments",
            {"modelDeploymentSummaries": [_od("my-model", arn)]},
            {"nameContains": "my-model", "nextToken": "t1"},
        )

        class Ctx:
            region = "us-east-1"
            endpoint_name = "my-model"
            platform = DeployPlatform.BEDROCK_OD

        found = _deploy_bedrock.find_existing(Ctx())  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
    assert found is not None and found["arn"] == arn


def _od(name: str, arn: str) -> dict[str, Any]:
    import datetime

    return {
        "customModelDeploymentArn": arn,
        "customModelDeploymentName": name,
        "modelArn": "arn:aws:bedrock:us-east-1:123456789012:custom-model/x",
        "createdAt": datetime.datetime(2026, 1, 1),
        "status": "Active",
    }


# ---------------------------------------------------------------- bucket races and missing buckets
def test_bucket_already_owned_by_you_carries_on(aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    from amzn_nova_forge.manager import _checks_aws

    s3 = aws_mod.client("s3")
    with Stubber(s3) as stub:  # moto creates the bucket; a concurrent creator is simulated
        stub.add_client_error("head_bucket", "404", http_status_code=404)
        stub.add_client_error("create_bucket", "BucketAlreadyOwnedByYou", http_status_code=409)
        with caplog.at_level(logging.INFO):
            _checks_aws.ensure_output_bucket("s3://sagemaker-nova-123456789012-us-east-1/output")
        stub.assert_no_pending_responses()
    assert "created concurrently" in caplog.text


@pytest.mark.parametrize("code", ["BucketAlreadyExists", "AccessDenied", "InvalidBucketName"])
def test_other_create_bucket_errors_still_fail(code: str, aws: Any) -> None:
    from amzn_nova_forge.manager import _checks_aws

    s3 = aws_mod.client("s3")
    with Stubber(s3) as stub:
        stub.add_client_error("head_bucket", "404", http_status_code=404)
        stub.add_client_error("create_bucket", code, http_status_code=409)
        with pytest.raises(AWSServiceError, match=code):
            _checks_aws.ensure_output_bucket("s3://sagemaker-nova-123456789012-us-east-1/output")


def _customizer(output: str, **infra: Any) -> Any:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    return NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, execution_role=ROLE, **infra),
        data_s3_path="s3://my-bucket/train.jsonl",
        output_s3_path=output,
        validation_config={"iam": False, "infra": False},
    )


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tempfile`` writes into a folder of this test only, so leftovers can be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_missing_output_bucket_with_checks_off_is_a_config_error(aws: Any, private_tmp: Path) -> None:
    c = _customizer("s3://no-such-bucket/output/")
    with pytest.raises(
        ConfigError, match=r"no-such-bucket.*does not exist.*was not started|was not started.*no-such-bucket"
    ) as e:
        c.train(job_name="my-job")
    assert not isinstance(e.value, FileNotFoundError)
    assert "output_s3_path" in str(e.value)
    assert not list(private_tmp.glob("nova-forge-recipe-*"))


# ---------------------------------------------------------------- clean failure
def _objects(bucket: str) -> list[str]:
    resp = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in resp.get("Contents", [])]


def test_failed_submission_removes_the_uploaded_recipe(
    s3_bucket: str, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amzn_nova_forge.manager import _smtj

    seen: list[list[str]] = []

    def refuse(request: dict[str, Any], region: str | None) -> str:
        seen.append(_objects(s3_bucket))
        raise AWSServiceError("sagemaker CreateTrainingJob failed (ValidationException)", code="ValidationException")

    monkeypatch.setattr(_smtj, "create_training_job_once", refuse)
    with pytest.raises(AWSServiceError, match="ValidationException"):
        _customizer("s3://my-bucket/output/").train(job_name="my-job")
    assert len(seen) == 1 and any(k.endswith("/input/recipe/recipe.yaml") for k in seen[0])  # it was uploaded
    assert _objects(s3_bucket) == []  # and removed
    assert not list(private_tmp.glob("nova-forge-recipe-*"))


def test_an_upload_that_cannot_be_removed_is_named_in_the_error(
    s3_bucket: str, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amzn_nova_forge.manager import _smtj

    def refuse(request: dict[str, Any], region: str | None) -> str:
        raise AWSServiceError("sagemaker CreateTrainingJob failed (ResourceLimitExceeded)")

    def no_delete(uri: str) -> None:
        raise AWSServiceError(f"S3 DeleteObject of {uri} failed (AccessDenied)")

    monkeypatch.setattr(_smtj, "create_training_job_once", refuse)
    monkeypatch.setattr(storage, "delete", no_delete)
    with pytest.raises(AWSServiceError) as e:
        _customizer("s3://my-bucket/output/").train(job_name="my-job")
    assert "left in place" in str(e.value) and "/input/recipe/recipe.yaml" in str(e.value)
    assert any(k.endswith("recipe.yaml") for k in _objects(s3_bucket))


def test_successful_submission_keeps_inputs_and_removes_the_temp_folder(
    s3_bucket: str, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amzn_nova_forge.manager import _smtj

    monkeypatch.setattr(_smtj, "create_training_job_once", lambda request, region: request["TrainingJobName"])
    result = _customizer("s3://my-bucket/output/").train(job_name="my-job")
    assert result.job_id.startswith("my-job-")
    assert _objects(s3_bucket) == [f"output/{result.job_id}/input/recipe/recipe.yaml"]
    assert not list(private_tmp.glob("nova-forge-recipe-*"))


def test_a_failed_check_leaves_no_temp_folder_after_exit(
    s3_bucket: str, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amzn_nova_forge.model import _checks, _submit_guard

    def fail(*a: Any, **k: Any) -> None:
        raise ConfigError("check failed")

    monkeypatch.setattr(_checks, "run_checks", fail)
    with pytest.raises(ConfigError, match="check failed"):
        _customizer("s3://my-bucket/output/").train(job_name="my-job")
    assert len(list(private_tmp.glob("nova-forge-recipe-*"))) == 1  # pending until exit ...
    _submit_guard.discard_pending()  # ... which is what atexit runs
    assert not list(private_tmp.glob("nova-forge-recipe-*"))


def test_dry_run_keeps_the_recipe_and_says_where(aws: Any, private_tmp: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert _customizer("s3://my-bucket/output/").train(job_name="my-job", dry_run=True) is None
    kept = list(private_tmp.glob("nova-forge-recipe-*"))
    assert len(kept) == 1 and str(kept[0]) in caplog.text
    assert list(kept[0].glob("*.yaml"))


def test_explicit_recipe_dir_is_never_removed(s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amzn_nova_forge.manager import _smtj

    monkeypatch.setattr(_smtj, "create_training_job_once", lambda request, region: request["TrainingJobName"])
    c = _customizer("s3://my-bucket/output/")
    c.generated_recipe_dir = str(tmp_path / "recipes")
    c.train(job_name="my-job")
    assert len(list((tmp_path / "recipes").glob("*.yaml"))) == 1


# ---------------------------------------------------------------- storage.delete
def test_storage_delete(s3_bucket: str, tmp_path: Path) -> None:
    storage.write_text("s3://my-bucket/a/b.txt", "x")
    storage.delete("s3://my-bucket/a/b.txt")
    assert not storage.exists("s3://my-bucket/a/b.txt")
    storage.delete("s3://my-bucket/a/never.txt")  # missing: fine
    f = tmp_path / "f.txt"
    f.write_text("x")
    storage.delete(str(f))
    storage.delete(str(f))
    assert not f.exists()
