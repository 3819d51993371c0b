"""SMTJRuntimeManager: the CreateTrainingJob request, role resolution, idempotency, retries, status."""

from __future__ import annotations

import json
from typing import Any

import aws_support as A
import boto3
import pytest
import yaml
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, JobSubmissionError
from amzn_nova_forge.manager import JobConfig, SMTJRuntimeManager
from amzn_nova_forge.manager._base import JobRef
from amzn_nova_forge.manager._smtj import TOKEN_TAG

IMAGE = "708977205387.dkr.ecr.us-east-1.amazonaws.com/nova-fine-tune-repo:SM-TJ-SFT-latest"


def _recipe(tmp_path: Any, **run: Any) -> str:
    recipe = {
        "run": {
            "name": "job",
            "model_type": "amazon.nova-micro-v1:0:128k",
            "model_name_or_path": "nova-micro/prod",
            "replicas": 2,
            **run,
        },
        "training_config": {"max_length": 8192, "global_batch_size": 64},
    }
    p = tmp_path / "recipe.yaml"
    p.write_text(yaml.safe_dump(recipe))
    return str(p)


def _config(tmp_path: Any, name: str = "my-job-0123abcd", **kw: Any) -> JobConfig:
    base = dict(
        job_name=name,
        image_uri=IMAGE,
        recipe_path=_recipe(tmp_path),
        output_s3_path="s3://my-bucket/output/",
        data_s3_path="s3://my-bucket/training-data/train.jsonl",
        input_s3_data_type="Converse",
        method=TrainingMethod.SFT_LORA,
        model=Model.NOVA_MICRO,
    )
    base.update(kw)
    return JobConfig(**base)


def test_request_shape_has_image_channels_role_kms_vpc_encryption(nova_aws: Any, tmp_path: Any) -> None:
    calls = A.capture("sagemaker", "CreateTrainingJob")
    infra = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge",
        instance_count=2,
        execution_role="arn:aws:iam::123456789012:role/MyExecutionRole",
        kms_key_id="kms-key-1",
        encrypt_inter_container_traffic=True,
        subnets=["subnet-1", "subnet-2"],
        security_group_ids=["sg-1"],
    )
    cfg = _config(tmp_path, validation_data_s3_path="s3://my-bucket/val/val.jsonl")
    job_id = infra.execute(cfg)

    assert job_id == "my-job-0123abcd"
    (req,) = calls
    assert req["TrainingJobName"] == job_id
    assert req["RoleArn"] == "arn:aws:iam::123456789012:role/MyExecutionRole"
    assert req["AlgorithmSpecification"] == {"TrainingImage": IMAGE, "TrainingInputMode": "File"}
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in req["InputDataConfig"]}
    assert channels["recipe"] == {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://my-bucket/output/my-job-0123abcd/input/recipe/",
        "S3DataDistributionType": "FullyReplicated",
    }
    assert channels["train"]["S3DataType"] == "Converse"
    assert channels["train"]["S3Uri"] == "s3://my-bucket/training-data/train.jsonl"
    assert channels["validation"]["S3Uri"] == "s3://my-bucket/val/val.jsonl"
    assert req["HyperParameters"] == {
        "sagemaker_recipe_local_path": "/opt/ml/input/data/recipe/recipe.yaml",
        "base_model": "nova-micro/prod",
    }
    assert req["OutputDataConfig"] == {"S3OutputPath": "s3://my-bucket/output/", "KmsKeyId": "kms-key-1"}
    assert req["ResourceConfig"]["InstanceType"] == "ml.p5.48xlarge"
    assert req["ResourceConfig"]["InstanceCount"] == 2
    assert req["ResourceConfig"]["VolumeKmsKeyId"] == "kms-key-1"
    assert req["VpcConfig"] == {"Subnets": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}
    assert req["EnableInterContainerTrafficEncryption"] is True
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert any(t["Key"] == TOKEN_TAG for t in req["Tags"])
    # the recipe SageMaker reads is the one we generated
    uploaded = yaml.safe_load(A.get("s3://my-bucket/output/my-job-0123abcd/input/recipe/recipe.yaml"))
    assert uploaded == yaml.safe_load(open(cfg.recipe_path).read())
    # moto's record of the job agrees (the job really exists under that name)
    described = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(TrainingJobName=job_id)
    assert described["AlgorithmSpecification"]["TrainingImage"] == IMAGE


def test_rft_uses_s3prefix_and_reward_lambda_and_s3_checkpoint(nova_aws: Any, tmp_path: Any) -> None:
    calls = A.capture("sagemaker", "CreateTrainingJob")
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4)
    cfg = _config(
        tmp_path,
        input_s3_data_type="S3Prefix",
        method=TrainingMethod.RFT_LORA,
        rft_lambda_arn="arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn",
        model_name_or_path="s3://customer-escrow-123-smtj-abc/ckpt/",
    )
    infra.execute(cfg)
    req = calls[0]
    assert req["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3DataType"] == "S3Prefix"
    assert req["HyperParameters"]["reward_lambda_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
    assert req["HyperParameters"]["base_model_location"] == "s3://customer-escrow-123-smtj-abc/ckpt/"
    assert "base_model" not in req["HyperParameters"]
    # default role: the caller's assumed role, resolved from STS + IAM
    assert req["RoleArn"] == nova_aws["role"]
    assert "VpcConfig" not in req
    assert req["EnableInterContainerTrafficEncryption"] is False


def test_default_role_refuses_iam_user_credentials(aws: Any, tmp_path: Any) -> None:
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    with pytest.raises(ConfigError, match="execution_role="):
        infra.execute(_config(tmp_path))
    assert boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"] == []


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="instance_count"):
        SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=0)
    with pytest.raises(ValueError, match="both subnets and security_group_ids"):
        SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2, subnets=["s"])
    with pytest.raises(ValueError, match="instance_type"):
        SMTJRuntimeManager(instance_type="p5", instance_count=2)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    assert (infra.instance_type, infra.instance_count, infra.platform) == ("ml.p5.48xlarge", 2, Platform.SMTJ)


def test_timeout_after_success_adopts_the_job_instead_of_creating_a_second(
    nova_aws: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    """The first attempt reaches SageMaker but the reply is lost (read timeout); botocore retries;
    the retry meets ResourceInUse and the job this submission created is adopted."""
    A.enforce_unique_training_job_names(monkeypatch)
    sm = A.sdk_client("sagemaker")
    other = boto3.client("sagemaker", region_name="us-east-1")  # plays SageMaker's side of attempt 1
    attempts: list[str] = []

    def before_send(request: Any, **_: Any) -> Any:
        if b"CreateTrainingJob" not in (request.headers.get("X-Amz-Target") or b""):
            return None
        attempts.append("create")
        if len(attempts) == 1:
            other.create_training_job(**json.loads(request.body))  # the service accepted it ...
            raise ReadTimeoutError(endpoint_url=request.url)  # ... but the client never heard back
        return None  # the retry goes to moto, which answers ResourceInUse

    sm.meta.events.register_first("before-send.sagemaker", before_send)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    job_id = infra.execute(_config(tmp_path))
    assert job_id == "my-job-0123abcd"
    assert attempts == ["create", "create"]
    names = [j["TrainingJobName"] for j in other.list_training_jobs()["TrainingJobSummaries"]]
    assert names == ["my-job-0123abcd"]


def test_timeout_without_a_job_is_a_clear_submission_error(nova_aws: Any, tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    sm = A.sdk_client("sagemaker")

    def before_send(request: Any, **_: Any) -> Any:
        if b"CreateTrainingJob" in (request.headers.get("X-Amz-Target") or b""):
            raise ReadTimeoutError(endpoint_url=request.url)
        return None

    sm.meta.events.register_first("before-send.sagemaker", before_send)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    with pytest.raises(JobSubmissionError, match="timed out and no such job exists"):
        infra.execute(_config(tmp_path))


def test_name_taken_by_another_job_is_an_error(nova_aws: Any, tmp_path: Any, monkeypatch: Any) -> None:
    A.enforce_unique_training_job_names(monkeypatch)
    boto3.client("sagemaker", region_name="us-east-1").create_training_job(
        TrainingJobName="my-job-0123abcd",
        RoleArn=nova_aws["role"],
        AlgorithmSpecification={"TrainingImage": "other", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://elsewhere/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
        Tags=[{"Key": TOKEN_TAG, "Value": "someone-else"}],
    )
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    with pytest.raises(JobSubmissionError, match="already exists"):
        infra.execute(_config(tmp_path))
    job = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(TrainingJobName="my-job-0123abcd")
    assert job["AlgorithmSpecification"]["TrainingImage"] == "other"  # the other job is untouched


def test_throttling_and_5xx_are_retried(nova_aws: Any, tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    sm = A.sdk_client("sagemaker")
    seen: list[int] = []

    def before_send(request: Any, **_: Any) -> Any:
        if b"CreateTrainingJob" not in (request.headers.get("X-Amz-Target") or b""):
            return None
        seen.append(1)
        if len(seen) == 1:
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            return AWSResponse(request.url, 400, {}, _Raw(body))
        if len(seen) == 2:
            return AWSResponse(request.url, 503, {}, _Raw(b'{"__type": "ServiceUnavailable", "message": "busy"}'))
        return None

    sm.meta.events.register_first("before-send.sagemaker", before_send)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    assert infra.execute(_config(tmp_path)) == "my-job-0123abcd"
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("InProgress", JobStatus.IN_PROGRESS),
        ("Stopping", JobStatus.IN_PROGRESS),
        ("Completed", JobStatus.COMPLETED),
        ("Failed", JobStatus.FAILED),
        ("Stopped", JobStatus.STOPPED),
        ("SomethingNew", JobStatus.UNKNOWN),
    ],
)
def test_job_info_maps_raw_status_without_unknown_to_failed(
    nova_aws: Any, tmp_path: Any, raw: str, expected: JobStatus
) -> None:
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    job_id = infra.execute(_config(tmp_path))
    A.set_training_status(job_id, raw, reason="CUDA out of memory" if raw == "Failed" else None)
    info = SMTJRuntimeManager.job_info(JobRef(Platform.SMTJ, job_id, "us-east-1"))
    assert info.status is expected
    assert info.raw_status == raw
    if raw == "Failed":
        assert info.message == "CUDA out of memory"


def test_job_outputs_reads_checkpoint_from_manifest_in_output_tar(nova_aws: Any, tmp_path: Any) -> None:
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    job_id = infra.execute(_config(tmp_path))
    manifest = {"checkpoint_s3_bucket": "s3://customer-escrow-123456789012-smtj-x/my-job/checkpoints/"}
    A.put(
        f"s3://my-bucket/output/{job_id}/output/output.tar.gz",
        A.tar_gz(
            {
                "../../evil.json": b'{"checkpoint_s3_bucket": "s3://evil/"}',
                "manifest.json": json.dumps(manifest).encode(),
                "step_wise_training_metrics.csv": b"step_number,training_loss\n1,2.0\n",
            }
        ),
    )
    out = SMTJRuntimeManager.job_outputs(JobRef(Platform.SMTJ, job_id, "us-east-1"))
    assert out.checkpoint_s3_path == manifest["checkpoint_s3_bucket"]
    assert out.output_archive == f"s3://my-bucket/output/{job_id}/output/output.tar.gz"
    assert out.output_s3_path == "s3://my-bucket/output/"


def test_cleanup_stops_the_job(nova_aws: Any) -> None:
    # moto does not implement StopTrainingJob: answer that one call.
    calls = A.stub_one("sagemaker", "StopTrainingJob", lambda p: {})
    SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2).cleanup("my-job-0123abcd")
    assert calls == [{"TrainingJobName": "my-job-0123abcd"}]


def test_cleanup_of_finished_job_is_not_an_error(nova_aws: Any) -> None:
    # moto does not implement StopTrainingJob: answer that one call with SageMaker's error.
    calls = A.stub_one(
        "sagemaker",
        "StopTrainingJob",
        lambda p: {
            "Error": {"Code": "ValidationException", "Message": "The job status is Completed"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
    )
    assert SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2).cleanup("done-job") is None
    assert calls == [{"TrainingJobName": "done-job"}]


def test_cleanup_other_service_errors_are_raised_typed(nova_aws: Any) -> None:
    from amzn_nova_forge.errors import AWSServiceError

    # moto does not implement StopTrainingJob: answer that one call with an access error.
    A.stub_one(
        "sagemaker",
        "StopTrainingJob",
        lambda p: {
            "Error": {"Code": "AccessDeniedException", "Message": "not authorized to stop"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
    )
    with pytest.raises(AWSServiceError, match="stopping my-job") as info:
        SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2).cleanup("my-job")
    assert info.value.code == "AccessDeniedException"


class _Raw:
    """A minimal raw body for AWSResponse."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data
