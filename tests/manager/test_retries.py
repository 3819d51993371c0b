"""Throttling and 5xx on each AWS call the training path makes are retried (adaptive mode)."""

from __future__ import annotations

from typing import Any

import aws_support as A
import pytest

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.manager import BedrockRuntimeManager, JobConfig, SMTJRuntimeManager
from amzn_nova_forge.manager._base import JobRef


@pytest.mark.parametrize("statuses", [[429], [500, 503], [503, 429, 500]])
def test_describe_training_job_is_retried(nova_aws: Any, monkeypatch: Any, statuses: list[int]) -> None:
    A.plain_client("sagemaker").create_training_job(
        TrainingJobName="j1",
        RoleArn=nova_aws["role"],
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://my-bucket/output/"},
        ResourceConfig={"InstanceType": "ml.p5.48xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    seen = A.fail_first("sagemaker", "DescribeTrainingJob", statuses, monkeypatch)
    info = SMTJRuntimeManager.job_info(JobRef(Platform.SMTJ, "j1", "us-east-1"))
    assert info.status is JobStatus.COMPLETED
    assert len(seen) == len(statuses) + 1


def test_bedrock_create_is_retried_without_a_second_job(nova_aws: Any, monkeypatch: Any) -> None:
    seen = A.fail_first("bedrock", "CreateModelCustomizationJob", [503, 500], monkeypatch)
    infra = BedrockRuntimeManager(execution_role="arn:aws:iam::123456789012:role/BedrockRole")
    arn = infra.execute(
        JobConfig(
            job_name="b-0123abcd",
            image_uri="",
            recipe_path="x",
            output_s3_path="s3://my-bucket/output/",
            data_s3_path="s3://my-bucket/training-data/train.jsonl",
            method=TrainingMethod.SFT_LORA,
            model=Model.NOVA_MICRO,
        )
    )
    assert "b-0123abcd" in arn and len(seen) == 3
    jobs = A.plain_client("bedrock").list_model_customization_jobs()["modelCustomizationJobSummaries"]
    assert [j["jobName"] for j in jobs] == ["b-0123abcd"]


def test_recipe_upload_and_caller_identity_are_retried(nova_aws: Any, monkeypatch: Any, tmp_path: Any) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("run:\n  model_name_or_path: nova-micro/prod\n")
    put = A.fail_first("s3", "PutObject", [503], monkeypatch)
    who = A.fail_first("sts", "GetCallerIdentity", [500], monkeypatch)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    job = infra.execute(
        JobConfig(
            job_name="r-0123abcd",
            image_uri="img:tag",
            recipe_path=str(recipe),
            output_s3_path="s3://my-bucket/output/",
            data_s3_path="s3://my-bucket/training-data/train.jsonl",
            method=TrainingMethod.SFT_LORA,
            model=Model.NOVA_MICRO,
        )
    )
    assert job == "r-0123abcd"
    assert len(put) == 2 and len(who) == 2
    assert A.get("s3://my-bucket/output/r-0123abcd/input/recipe/recipe.yaml").startswith(b"run:")


def test_throttling_that_never_ends_is_a_typed_error_after_the_retry_budget(nova_aws: Any, monkeypatch: Any) -> None:
    from amzn_nova_forge.errors import AWSServiceError

    seen = A.fail_first("sagemaker", "DescribeTrainingJob", [429] * 20, monkeypatch)
    with pytest.raises(AWSServiceError, match=r"DescribeTrainingJob failed \(ThrottlingException\)") as e:
        SMTJRuntimeManager.job_info(JobRef(Platform.SMTJ, "j1", "us-east-1"))
    assert len(seen) == 9  # the first try and 8 retries (core.aws max_attempts), then it gives up
    assert e.value.code == "ThrottlingException" and e.value.service == "sagemaker"
