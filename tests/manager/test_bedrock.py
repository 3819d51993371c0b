"""BedrockRuntimeManager: CreateModelCustomizationJob request shapes, status, stop (moto in-process)."""

from __future__ import annotations

from typing import Any

import aws_support as A
import boto3
import pytest

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.manager import BedrockRuntimeManager, JobConfig

ROLE = "arn:aws:iam::123456789012:role/BedrockRole"


def _cfg(**kw: Any) -> JobConfig:
    base: dict[str, Any] = dict(
        job_name="bedrock-job-0123abcd",
        image_uri="",
        recipe_path="unused.yaml",
        output_s3_path="s3://my-bucket/output/",
        data_s3_path="s3://my-bucket/training-data/train.jsonl",
        method=TrainingMethod.SFT_LORA,
        model=Model.NOVA_MICRO,
        hyperparameters={"max_epochs": 3, "lr": 1e-05, "warmup_steps": 10, "global_batch_size": 64, "other": 1},
    )
    base.update(kw)
    return JobConfig(**base)


def test_sft_request_shape_with_kms_and_vpc(nova_aws: Any) -> None:
    calls = A.capture("bedrock", "CreateModelCustomizationJob")
    infra = BedrockRuntimeManager(
        execution_role=ROLE,
        kms_key_id="kms-1",
        vpc_config={"subnet_ids": ["subnet-1"], "security_group_ids": ["sg-1"]},
    )
    job_arn = infra.execute(_cfg(validation_data_s3_path="s3://my-bucket/val.jsonl"))
    (req,) = calls
    assert job_arn.endswith(":model-customization-job/bedrock-job-0123abcd") or "bedrock-job-0123abcd" in job_arn
    assert req["jobName"] == req["customModelName"] == "bedrock-job-0123abcd"
    assert req["roleArn"] == ROLE
    assert req["baseModelIdentifier"] == "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k"
    assert req["customizationType"] == "FINE_TUNING"
    assert req["hyperParameters"] == {
        "epochCount": "3",
        "learningRate": "1e-05",
        "learningRateWarmupSteps": "10",
        "batchSize": "64",
    }
    assert req["trainingDataConfig"] == {"s3Uri": "s3://my-bucket/training-data/train.jsonl"}
    assert req["validationDataConfig"] == {"validators": [{"s3Uri": "s3://my-bucket/val.jsonl"}]}
    assert req["outputDataConfig"] == {"s3Uri": "s3://my-bucket/output/"}
    assert req["customModelKmsKeyId"] == "kms-1"
    assert req["vpcConfig"] == {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]}
    assert "customizationConfig" not in req
    ref = infra.job_ref(job_arn)
    assert ref.extras["job_name"] == "bedrock-job-0123abcd"
    info = BedrockRuntimeManager.job_info(ref)
    assert (info.status, info.raw_status) == (JobStatus.IN_PROGRESS, "InProgress")  # moto: forever InProgress
    A.set_bedrock_status("bedrock-job-0123abcd", "Completed")
    assert BedrockRuntimeManager.job_info(ref).status is JobStatus.COMPLETED
    out = BedrockRuntimeManager.job_outputs(ref)
    assert out.output_s3_path == "s3://my-bucket/output/" and out.output_model_arn


def test_rft_request_uses_lambda_grader_and_iterative_base_model(nova_aws: Any) -> None:
    calls = A.capture("bedrock", "CreateModelCustomizationJob")
    custom = "arn:aws:bedrock:us-east-1::custom-model/amazon.nova-2-lite-v1:0:256k:abcdefghijk"
    infra = BedrockRuntimeManager(execution_role=ROLE, base_model_identifier=custom)
    infra.rft_lambda = "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
    infra.execute(
        _cfg(
            method=TrainingMethod.RFT_LORA,
            model=Model.NOVA_LITE_2,
            hyperparameters={"max_epochs": 2, "number_generation": 4, "reasoning_effort": "low"},
            validation_data_s3_path="s3://my-bucket/val.jsonl",
        )
    )
    req = calls[0]
    assert req["baseModelIdentifier"] == custom
    assert req["customizationType"] == "REINFORCEMENT_FINE_TUNING"
    rft = req["customizationConfig"]["rftConfig"]
    assert rft["graderConfig"] == {"lambdaGrader": {"lambdaArn": infra.rft_lambda_arn}}
    assert rft["hyperParameters"] == {"epochCount": 2, "trainingSamplePerPrompt": 4, "reasoningEffort": "low"}
    assert "hyperParameters" not in req
    assert "validationDataConfig" not in req  # not taken for Nova 2 Lite


def test_unsupported_method_and_bad_role_are_config_errors() -> None:
    with pytest.raises(ValueError, match="IAM role ARN"):
        BedrockRuntimeManager(execution_role="BedrockRole")
    infra = BedrockRuntimeManager(execution_role=ROLE)
    with pytest.raises(ValueError, match="SFT_LORA, RFT_LORA"):
        infra.build_request(_cfg(method=TrainingMethod.DPO_LORA))
    with pytest.raises(ValueError, match="reward Lambda"):
        infra.build_request(_cfg(method=TrainingMethod.RFT_LORA, model=Model.NOVA_LITE_2))
    assert infra.platform is Platform.BEDROCK


def test_cleanup_stops_and_is_idempotent(nova_aws: Any) -> None:
    infra = BedrockRuntimeManager(execution_role=ROLE)
    arn = infra.execute(_cfg())
    infra.cleanup("bedrock-job-0123abcd")
    job = boto3.client("bedrock", region_name="us-east-1").get_model_customization_job(
        jobIdentifier="bedrock-job-0123abcd"
    )
    assert job["status"] == "Stopped"
    assert BedrockRuntimeManager.job_info(infra.job_ref(arn)).status is JobStatus.STOPPED


def test_create_that_timed_out_after_success_is_adopted(nova_aws: Any, monkeypatch: Any) -> None:
    from botocore.exceptions import ReadTimeoutError

    monkeypatch.setattr("time.sleep", lambda s: None)
    br = A.sdk_client("bedrock")
    other = boto3.client("bedrock", region_name="us-east-1")  # plays Bedrock's side
    attempts: list[int] = []

    def before_send(request: Any, event_name: str = "", **_: Any) -> Any:
        if not event_name.endswith("CreateModelCustomizationJob"):
            return None
        attempts.append(1)
        if len(attempts) == 1:
            import json

            other.create_model_customization_job(**json.loads(request.body))  # accepted ...
        raise ReadTimeoutError(endpoint_url=request.url)  # ... but no reply ever arrives

    br.meta.events.register_first("before-send.bedrock", before_send)
    arn = BedrockRuntimeManager(execution_role=ROLE).execute(_cfg())
    assert arn.endswith("bedrock-job-0123abcd") and len(attempts) >= 2
    jobs = other.list_model_customization_jobs()["modelCustomizationJobSummaries"]
    assert [j["jobName"] for j in jobs] == ["bedrock-job-0123abcd"]
