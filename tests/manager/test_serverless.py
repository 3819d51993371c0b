"""SMTJServerlessRuntimeManager: the serverless CreateTrainingJob request (moto in-process)."""

from __future__ import annotations

import json
from typing import Any

import aws_support as A
import boto3
import pytest

from amzn_nova_forge.core.enums import Model, TrainingMethod
from amzn_nova_forge.manager import JobConfig, SMTJServerlessRuntimeManager

HUB_ARN = "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/nova-textgeneration-lite-v2/1.0.0"


@pytest.fixture
def hub(nova_aws: Any) -> list[dict[str, Any]]:
    # moto does not implement DescribeHubContent: answer that one call.
    return A.stub_one(
        "sagemaker",
        "DescribeHubContent",
        lambda p: {
            "HubContentName": p["HubContentName"],
            "HubContentArn": HUB_ARN,
            "HubContentVersion": "1.0.0",
            "HubContentType": "Model",
            "DocumentSchemaVersion": "2.0.0",
            "HubName": p["HubName"],
            "HubArn": "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub",
            "HubContentDocument": "{}",
            "HubContentStatus": "Available",
            "CreationTime": "2025-01-01T00:00:00Z",
        },
    )


def _serverless_create() -> list[dict[str, Any]]:
    # moto's CreateTrainingJob crashes without AlgorithmSpecification (serverless jobs have none):
    # answer that one call like SageMaker does.
    return A.stub_one(
        "sagemaker",
        "CreateTrainingJob",
        lambda p: {"TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{p['TrainingJobName']}"},
    )


def _cfg(**kw: Any) -> JobConfig:
    base: dict[str, Any] = dict(
        job_name="sl-job-0123abcd",
        image_uri="",
        recipe_path="unused.yaml",
        output_s3_path="s3://my-bucket/output/",
        data_s3_path="s3://my-bucket/training-data/train.jsonl",
        input_s3_data_type="Converse",
        method=TrainingMethod.SFT_LORA,
        model=Model.NOVA_LITE_2,
        hyperparameters={
            "lr": 1e-5,
            "max_steps": 10,
            "loraplus_lr_ratio": 64.0,
            "max_length": 32768,
            "reasoning_enabled": True,
            "global_batch_size": 32,
        },
    )
    base.update(kw)
    return JobConfig(**base)


def test_spec_constructor_and_request_shape(hub: Any, nova_aws: Any) -> None:
    calls = _serverless_create()
    infra = SMTJServerlessRuntimeManager(
        model_package_group_name="model-group",
    )
    assert infra.model_package_group_name == "model-group"
    infra.kms_key_id = "kms-1"
    infra.encrypt_inter_container_traffic = True
    job_id = infra.execute(
        _cfg(
            mlflow_tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-x",
            mlflow_experiment_name="exp",
        )
    )
    assert job_id == "sl-job-0123abcd"
    (req,) = calls
    assert hub[0]["HubContentName"] == "nova-textgeneration-lite-v2"
    assert req["ServerlessJobConfig"] == {
        "BaseModelArn": HUB_ARN,
        "AcceptEula": True,
        "JobType": "FineTuning",
        "CustomizationTechnique": "SFT",
        "Peft": "LORA",
    }
    group = boto3.client("sagemaker", region_name="us-east-1").describe_model_package_group(
        ModelPackageGroupName="model-group"
    )  # created on first use
    assert req["ModelPackageConfig"] == {"ModelPackageGroupArn": group["ModelPackageGroupArn"]}
    assert req["HyperParameters"] == {
        "learning_rate": "1e-05",
        "max_steps": "10",
        "learning_rate_ratio": "64.0",
        "max_context_length": "32768",
        "reasoning_enabled": "true",
        "global_batch_size": "32",
    }
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert req["OutputDataConfig"] == {
        "S3OutputPath": "s3://my-bucket/output/",
        "CompressionType": "NONE",
        "KmsKeyId": "kms-1",
    }
    assert req["InputDataConfig"][0]["ChannelName"] == "train"
    assert req["EnableInterContainerTrafficEncryption"] is True
    assert req["MlflowConfig"] == {
        "MlflowResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-x",
        "MlflowExperimentName": "exp",
    }
    assert req["RoleArn"] == nova_aws["role"]


def test_rlvr_registers_the_reward_lambda_as_an_evaluator(hub: Any, nova_aws: Any) -> None:
    # moto implements neither DescribeHub/CreateHub nor ImportHubContent: answer those calls.
    A.stub_one(
        "sagemaker",
        "DescribeHub",
        lambda p: {
            "Error": {"Code": "ResourceNotFound", "Message": "no hub"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
    )
    created = A.stub_one(
        "sagemaker", "CreateHub", lambda p: {"HubArn": "arn:aws:sagemaker:us-east-1:123456789012:hub/model-group"}
    )
    imported = A.stub_one(
        "sagemaker",
        "ImportHubContent",
        lambda p: {
            "HubArn": "arn:aws:sagemaker:us-east-1:123456789012:hub/model-group",
            "HubContentArn": "arn:aws:sagemaker:us-east-1:123456789012:hub-content/model-group/JsonDoc/my-reward-fn/0.0.1",
        },
    )
    calls = _serverless_create()
    infra = SMTJServerlessRuntimeManager(
        model_package_group_name="model-group",
        max_job_runtime=3600,
        rft_lambda="arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn",
    )
    infra.execute(
        _cfg(method=TrainingMethod.RFT_LORA, input_s3_data_type="S3Prefix", hyperparameters={"max_length": 8192})
    )
    req = calls[0]
    assert created[0]["HubName"] == "model-group"
    doc = json.loads(imported[0]["HubContentDocument"])
    assert doc["SubType"] == "AWS/Evaluator"
    assert json.loads(doc["JsonContent"]) == {
        "EvaluatorType": "RewardFunction",
        "Reference": "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn",
    }
    assert req["ServerlessJobConfig"]["CustomizationTechnique"] == "RLVR"
    assert req["ServerlessJobConfig"]["EvaluatorArn"].endswith("JsonDoc/my-reward-fn/0.0.1")
    assert req["HyperParameters"] == {"max_length": "8192"}
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_constructor_and_method_validation(hub: Any) -> None:
    with pytest.raises(ValueError, match="model_package_group_name"):
        SMTJServerlessRuntimeManager(model_package_group_name="bad name")
    with pytest.raises(ValueError, match="max_job_runtime"):
        SMTJServerlessRuntimeManager(model_package_group_name="g", max_job_runtime=0)
    infra = SMTJServerlessRuntimeManager(model_package_group_name="g")
    with pytest.raises(ValueError, match="Serverless training supports"):
        infra.build_request(_cfg(method=TrainingMethod.CPT))
