"""The RFT multiturn CloudFormation stack: list, deploy, read outputs, delete."""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import ConfigError, DeploymentError
from amzn_nova_forge.rft_multiturn._constants import STACK_NAME_SUFFIX, UNUSABLE_STACK_STATES

__all__ = ["StackOutputs", "delete_stack", "deploy_stack", "list_rft_stacks", "load_stack_outputs", "stack_status"]

logger = logging.getLogger(__name__)

_LISTED = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]


@dataclass(frozen=True)
class StackOutputs:
    """What the stack gives the trainer and the workers."""

    rollout_request_arn: str
    rollout_function_name: str
    rollout_request_queue_url: str
    rollout_response_sqs_url: str
    generate_request_sqs_url: str
    generate_response_sqs_url: str
    dynamo_table_name: str
    worker_log_group: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def list_rft_stacks(region: str = "us-east-1", all_stacks: bool = False) -> list[str]:
    """List usable CloudFormation stacks in ``region`` (sorted).

    Args:
        region: AWS region.
        all_stacks: True to list every stack; False (default) for the SDK's RFT stacks only
            (names ending with ``NovaForgeSDK``).

    Example:
        >>> from amzn_nova_forge import list_rft_stacks
        >>> nova_stacks = list_rft_stacks(region="us-east-1")  # doctest: +SKIP
    """
    names: list[str] = []
    with aws_errors("cloudformation", hint=f"Could not list stacks in {region}."):
        for page in (
            client("cloudformation", resolve_region(region))
            .get_paginator("list_stacks")
            .paginate(StackStatusFilter=_LISTED)
        ):
            for summary in page.get("StackSummaries", []):
                name = summary["StackName"]
                if all_stacks or name.endswith(STACK_NAME_SUFFIX):
                    names.append(name)
    return sorted(set(names))


def stack_status(stack_name: str, region: str) -> str | None:
    """Status of the stack, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        stacks = client("cloudformation", region).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def deploy_stack(stack_name: str, region: str, role_arn: str, *, visibility_timeout: int = 900) -> None:
    """Create the stack from the bundled template, wait, and upload the rollout Lambda code."""
    from botocore.exceptions import WaiterError

    cfn = client("cloudformation", region)
    body = resources.files("amzn_nova_forge.rft_multiturn").joinpath("templates", "rft_stack.yaml").read_text()
    with aws_errors("cloudformation", hint="Check CloudFormation, SQS, DynamoDB, Lambda and IAM permissions."):
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=body,
            Parameters=[
                {"ParameterKey": "RoleArn", "ParameterValue": role_arn},
                {"ParameterKey": "VisibilityTimeoutSeconds", "ParameterValue": str(visibility_timeout)},
            ],
            Tags=[{"Key": "CreatedBy", "Value": "NovaForgeSDK"}],
        )
        try:
            cfn.get_waiter("stack_create_complete").wait(
                StackName=stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 180}
            )
        except WaiterError as e:
            raise DeploymentError(
                f"Stack {stack_name} failed to deploy ({stack_status(stack_name, region)}). See its events in the "
                f"CloudFormation console, then delete it and run setup() again.",
                created=[stack_name],
            ) from e
    sync_rollout_code(stack_name, region)


def sync_rollout_code(stack_name: str, region: str) -> None:
    """Upload the packaged rollout handler when the deployed code differs."""
    from amzn_nova_forge.rft_multiturn.handlers import build_rollout_zip

    code = build_rollout_zip()
    sha = base64.b64encode(hashlib.sha256(code).digest()).decode()
    lam = client("lambda", region)
    name = f"{stack_name}-SageMaker-rollout"
    with aws_errors("lambda"):
        if lam.get_function_configuration(FunctionName=name).get("CodeSha256") != sha:
            lam.update_function_code(FunctionName=name, ZipFile=code)


def load_stack_outputs(stack_name: str, region: str) -> StackOutputs:
    """Read the stack's outputs; raises ``ConfigError`` for missing or unusable stacks."""
    from botocore.exceptions import ClientError

    try:
        stack = client("cloudformation", region).describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as e:
        raise ConfigError(f"Stack {stack_name} does not exist in {region}; run setup() first.") from e
    if stack["StackStatus"] in UNUSABLE_STACK_STATES:
        raise ConfigError(
            f"Stack {stack_name} is in state {stack['StackStatus']} and cannot be used. Delete it "
            f"(`aws cloudformation delete-stack --stack-name {stack_name} --region {region}`) and run setup() again."
        )
    out: dict[str, Any] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [
        k
        for k in (
            "RolloutFunctionArn",
            "RolloutQueueUrl",
            "RolloutFinishedQueueUrl",
            "RequestQueueUrl",
            "RequestResponseQueueUrl",
            "TasksTableName",
        )
        if k not in out
    ]
    if missing:
        raise ConfigError(
            f"Stack {stack_name} lacks outputs {missing}; it was not deployed by this SDK. Use another stack_name."
        )
    return StackOutputs(
        rollout_request_arn=out["RolloutFunctionArn"],
        rollout_function_name=out.get("RolloutFunctionName", out["RolloutFunctionArn"].rsplit(":", 1)[-1]),
        rollout_request_queue_url=out["RolloutQueueUrl"],
        rollout_response_sqs_url=out["RolloutFinishedQueueUrl"],
        generate_request_sqs_url=out["RequestQueueUrl"],
        generate_response_sqs_url=out["RequestResponseQueueUrl"],
        dynamo_table_name=out["TasksTableName"],
        worker_log_group=out.get("WorkerLogGroupName", f"/nova-forge/rft/{stack_name}"),
    )


def delete_stack(stack_name: str, region: str, *, wait: bool = True) -> None:
    """Delete the stack (queues, table, function, log groups)."""
    cfn = client("cloudformation", region)
    with aws_errors("cloudformation"):
        cfn.delete_stack(StackName=stack_name)
        if wait:
            cfn.get_waiter("stack_delete_complete").wait(
                StackName=stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 180}
            )
    logger.info("Deleted stack %s", stack_name)
