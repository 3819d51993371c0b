"""The spec's "Using Job Notifications" example end to end: train on SMTJ (moto), then enable notifications.

The pre-submission IAM check needs IAM policy simulation, which moto lacks, so the checks
are switched off on the customizer after its (verbatim) construction.
"""

from __future__ import annotations

import json

import boto3
import pytest

from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge_sdk import *  # the spec's import line, verbatim (an alias of amzn_nova_forge)


@pytest.fixture
def notebook(aws, monkeypatch):
    """A notebook session in us-west-2 with an assumed SageMaker-capable role and a data bucket."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    iam = boto3.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}
        ],
    }
    arn = iam.create_role(RoleName="NotebookRole", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    creds = boto3.client("sts", region_name="us-west-2").assume_role(RoleArn=arn, RoleSessionName="nb")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    aws_factory.clear_cache()
    s3 = boto3.client("s3", region_name="us-west-2")
    s3.create_bucket(Bucket="my-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    row = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "Hi"}]},
            {"role": "assistant", "content": [{"text": "Hello!"}]},
        ],
    }
    s3.put_object(
        Bucket="my-bucket", Key="training-data/train.jsonl", Body="".join(json.dumps(row) + "\n" for _ in range(8))
    )


def test_spec_using_job_notifications(notebook) -> None:
    # Start a training job
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2),
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    customizer.validation_config = {"iam": False, "infra": False, "recipe": True}

    result = customizer.train(job_name="my-training-job")

    # Enable notifications
    result.enable_job_notifications(
        emails=["user@example.com", "team@example.com"],
        region="us-west-2",  # Optional
        kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab",  # Optional customer KMS key
        output_s3_path="s3://my-bucket/custom-output-path/",  # Optional output path
    )

    assert result.region == "us-west-2"
    cfn = boto3.client("cloudformation", region_name="us-west-2")
    assert (
        cfn.describe_stacks(StackName="NovaForgeSDK-SMTJ-JobNotifications")["Stacks"][0]["StackStatus"]
        == "CREATE_COMPLETE"
    )
    item = boto3.client("dynamodb", region_name="us-west-2").get_item(
        TableName="NovaForgeSDK-SMTJ-JobNotifications", Key={"job_id": {"S": result.job_id}}
    )["Item"]
    assert item["output_s3_path"]["S"] == "s3://my-bucket/custom-output-path/"
    assert sorted(item["emails"]["SS"]) == ["team@example.com", "user@example.com"]
    # The job really exists: the rule's events for it will find this entry.
    sm = boto3.client("sagemaker", region_name="us-west-2")
    assert sm.describe_training_job(TrainingJobName=result.job_id)["TrainingJobName"] == result.job_id

    # Without output_s3_path the job's own output location is used.
    result.enable_job_notifications(emails=["user@example.com"])
    item = boto3.client("dynamodb", region_name="us-west-2").get_item(
        TableName="NovaForgeSDK-SMTJ-JobNotifications", Key={"job_id": {"S": result.job_id}}
    )["Item"]
    assert item["output_s3_path"]["S"].startswith("s3://my-bucket/output")
