"""SMTJ notifications end to end against moto: the spec's examples, verbatim."""

from __future__ import annotations

import base64
import hashlib
import time

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from amzn_nova_forge import NotificationManagerInfraError, SMTJNotificationManager
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError
from amzn_nova_forge.notifications.handlers import build_zip

from .conftest import cached_client

STACK = "NovaForgeSDK-SMTJ-JobNotifications"
TABLE = "NovaForgeSDK-SMTJ-JobNotifications"
TOPIC = "NovaForgeSDK-SMTJ-Notifications"


def _topic_arn(region: str = "us-east-1") -> str:
    return f"arn:aws:sns:{region}:123456789012:{TOPIC}"


def _subscribers(region: str = "us-east-1") -> list[str]:
    subs = boto3.client("sns", region_name=region).list_subscriptions_by_topic(TopicArn=_topic_arn(region))
    return sorted(s["Endpoint"] for s in subs["Subscriptions"] if s["Protocol"] == "email")


def test_spec_basic_usage(aws, smtj_result) -> None:
    result = smtj_result
    # --- spec example, verbatim ---
    result.enable_job_notifications(emails=["user@example.com", "team@example.com"])
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    }
    assert {"JobTable", "NotificationTopic", "HandlerFunction", "JobStateRule", "HandlerRole"} <= set(resources)

    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE, Key={"job_id": {"S": "my-job-abc123"}}
    )["Item"]
    assert sorted(item["emails"]["SS"]) == ["team@example.com", "user@example.com"]
    assert item["output_s3_path"]["S"] == "s3://my-bucket/output"
    assert item["created_at"]["S"]
    ttl = int(item["ttl"]["N"])
    assert abs(ttl - (time.time() + 30 * 86400)) < 120
    assert _subscribers() == ["team@example.com", "user@example.com"]

    fn = boto3.client("lambda", region_name="us-east-1").get_function_configuration(
        FunctionName="NovaForgeSDK-SMTJ-NotificationHandler"
    )
    assert fn["CodeSha256"] == base64.b64encode(hashlib.sha256(build_zip("SMTJ")).digest()).decode()
    assert fn["Runtime"] == "python3.12" and fn["Timeout"] == 180
    rule = boto3.client("events", region_name="us-east-1").describe_rule(Name="NovaForgeSDK-SMTJ-Job-State-Change")
    assert '"Completed"' in rule["EventPattern"] and '"Stopped"' in rule["EventPattern"]


def test_stack_is_reused_and_emails_not_resubscribed(aws, smtj_result) -> None:
    mgr = SMTJNotificationManager(region="us-east-1")
    first = mgr.enable_notifications("job-1", ["a@example.com"], "s3://b/out")
    second = mgr.enable_notifications("job-2", ["a@example.com", "b@example.com"], "s3://b/out")
    assert first["created_stack"] is True and second["created_stack"] is False
    assert first["subscribed"] == ["a@example.com"]
    assert second["subscribed"] == ["b@example.com"] and second["already_subscribed"] == ["a@example.com"]
    assert _subscribers() == ["a@example.com", "b@example.com"]
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    assert ddb.scan(TableName=TABLE)["Count"] == 2


def test_spec_kms_example(aws, smtj_result) -> None:
    result = smtj_result
    # --- spec example, verbatim ---
    result.enable_job_notifications(
        emails=["user@example.com"],
        kms_key_id="abc-123-def-456",  # Just the key ID, not full ARN
    )
    attrs = boto3.client("sns", region_name="us-east-1").get_topic_attributes(TopicArn=_topic_arn())["Attributes"]
    assert attrs["KmsMasterKeyId"] == "abc-123-def-456"
    role = boto3.client("iam").get_role_policy(
        RoleName="NovaForgeSDK-SMTJ-NotificationLambda-Role-us-east-1",
        PolicyName="NovaForgeSDK-SMTJ-NotificationHandler",
    )
    assert "key/abc-123-def-456" in str(role["PolicyDocument"])


def test_spec_region_example(aws) -> None:
    from amzn_nova_forge.model.result._training import ModelArtifacts, SMTJTrainingResult

    # A job result that does not record its region: the region argument decides.
    result = SMTJTrainingResult("west-job", "sft_lora", model_artifacts=ModelArtifacts(output_s3_path="s3://b/o"))
    # --- spec example, verbatim ---
    result.enable_job_notifications(emails=["user@example.com"], region="us-west-2")
    west = boto3.client("cloudformation", region_name="us-west-2")
    assert west.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    east = boto3.client("cloudformation", region_name="us-east-1")
    assert east.list_stacks()["StackSummaries"] == []
    assert _subscribers("us-west-2") == ["user@example.com"]


def test_spec_overview_example_with_output_path(aws, smtj_result) -> None:
    result = smtj_result
    result.region = None  # the overview example chooses the region explicitly
    # --- spec example, verbatim ---
    result.enable_job_notifications(
        emails=["user@example.com", "team@example.com"],
        region="us-west-2",  # Optional
        kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab",  # Optional customer KMS key
        output_s3_path="s3://my-bucket/custom-output-path/",  # Optional output path
    )
    item = boto3.client("dynamodb", region_name="us-west-2").get_item(
        TableName=TABLE, Key={"job_id": {"S": "my-job-abc123"}}
    )["Item"]
    assert item["output_s3_path"]["S"] == "s3://my-bucket/custom-output-path/"


def test_job_region_wins_over_default(aws) -> None:
    from amzn_nova_forge.model.result._training import ModelArtifacts, SMTJTrainingResult

    result = SMTJTrainingResult(
        "j", "sft_lora", model_artifacts=ModelArtifacts(output_s3_path="s3://b/o"), region="us-west-2"
    )
    result.enable_job_notifications(emails=["user@example.com"])
    [stack] = boto3.client("cloudformation", region_name="us-west-2").describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    east = boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"]
    assert [s["StackName"] for s in east] == []  # not in the default region


@pytest.mark.parametrize(
    "emails",
    [["not-an-email"], [], "user@example.com", ["user@example.com", "bad@"]],
    ids=["bad", "empty", "str", "mixed"],
)
def test_invalid_emails_create_nothing(aws, smtj_result, emails) -> None:
    with pytest.raises(ValueError, match="email"):
        smtj_result.enable_job_notifications(emails=emails)
    assert boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"] == []


def test_missing_output_path_is_a_value_error(aws) -> None:
    from amzn_nova_forge.model.result._training import SMTJTrainingResult

    result = SMTJTrainingResult("j", "sft_lora", region="us-east-1")
    with pytest.raises(ConfigError, match="output_s3_path="):
        result.enable_job_notifications(emails=["user@example.com"])


def test_unknown_option_and_arn_kms_rejected(aws, smtj_result) -> None:
    with pytest.raises(ConfigError, match="namespace"):
        smtj_result.enable_job_notifications(emails=["user@example.com"], namespace="kubeflow")
    with pytest.raises(ConfigError, match="not an ARN"):
        smtj_result.enable_job_notifications(
            emails=["user@example.com"], kms_key_id="arn:aws:kms:us-east-1:123456789012:key/abc"
        )


def test_other_platforms_unsupported(aws) -> None:
    from amzn_nova_forge.model.result._training import BedrockTrainingResult, ModelArtifacts

    result = BedrockTrainingResult(
        "arn:aws:bedrock:us-east-1:1:model-customization-job/x",
        "sft_lora",
        model_artifacts=ModelArtifacts(output_s3_path="s3://b/o"),
    )
    with pytest.raises(UnsupportedFeatureError, match="SMTJ and SMHP"):
        result.enable_job_notifications(emails=["user@example.com"])


def test_failed_stack_raises_infra_error(aws) -> None:
    cfn = cached_client("cloudformation")

    def rolled_back(**kwargs):
        body = {
            "Stacks": [{"StackName": STACK, "StackStatus": "ROLLBACK_COMPLETE", "CreationTime": "2024-01-01T00:00:00Z"}]
        }
        return AWSResponse(None, 200, {}, None), body

    cfn.meta.events.register("before-call.cloudformation.DescribeStacks", rolled_back)
    with pytest.raises(NotificationManagerInfraError, match="ROLLBACK_COMPLETE.*Delete it"):
        SMTJNotificationManager().enable_notifications("j", ["user@example.com"], "s3://b/o")


def test_create_stack_error_raises_infra_error(aws) -> None:
    from botocore.exceptions import ClientError

    cfn = cached_client("cloudformation")

    def denied(**kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "CreateStack")

    cfn.meta.events.register("before-call.cloudformation.CreateStack", denied)
    with pytest.raises(NotificationManagerInfraError, match="AccessDenied"):
        SMTJNotificationManager().enable_notifications("j", ["user@example.com"], "s3://b/o")


def test_delete_notification_stack(aws, smtj_result) -> None:
    smtj_result.enable_job_notifications(emails=["user@example.com"])
    mgr = SMTJNotificationManager(region="us-east-1")
    assert mgr.stack_status() == "CREATE_COMPLETE"
    mgr.delete_notification_stack()
    assert mgr.stack_status() is None
    assert TABLE not in boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"]


def test_evaluation_result_notifications(aws) -> None:
    from amzn_nova_forge.model.result._evaluation import SMTJEvaluationResult

    result = SMTJEvaluationResult(
        "eval-job-1",
        eval_task="mmlu",
        eval_output_path="s3://my-bucket/out/eval-job-1/output/output.tar.gz",
        region="us-east-1",
    )
    result.enable_job_notifications(emails=["user@example.com"])
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE, Key={"job_id": {"S": "eval-job-1"}}
    )["Item"]
    assert item["validate_output"] == {"BOOL": False}
    assert item["output_s3_path"]["S"] == "s3://my-bucket/out/eval-job-1/output/output.tar.gz"


def test_training_entries_validate_output(aws, smtj_result) -> None:
    smtj_result.enable_job_notifications(emails=["user@example.com"])
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE, Key={"job_id": {"S": "my-job-abc123"}}
    )["Item"]
    assert item["validate_output"] == {"BOOL": True}


def test_stack_created_concurrently_by_someone_else_is_used(aws) -> None:
    from botocore.exceptions import ClientError

    mgr = SMTJNotificationManager()
    cfn = cached_client("cloudformation")
    real_status = mgr.stack_status
    calls = {"n": 0}

    def lost_race(**kwargs):
        # The other process's CreateStack wins between our DescribeStacks and CreateStack.
        calls["n"] += 1
        cfn.meta.events.unregister("before-call.cloudformation.CreateStack", lost_race)
        cfn.create_stack(StackName=STACK, TemplateBody=mgr.template_body(), Capabilities=["CAPABILITY_NAMED_IAM"])
        raise ClientError({"Error": {"Code": "AlreadyExistsException", "Message": "exists"}}, "CreateStack")

    cfn.meta.events.register("before-call.cloudformation.CreateStack", lost_race)
    info = mgr.enable_notifications("j", ["user@example.com"], "s3://b/o")
    assert calls["n"] == 1 and info["created_stack"] is False and real_status() == "CREATE_COMPLETE"
