"""Names and limits shared by the RFT multiturn modules."""

from __future__ import annotations

import re

#: Default IAM role of the RFT infrastructure (Lambda, ECS tasks, EC2 workers).
RFT_EXECUTION_ROLE_NAME = "RFTExecutionRoleNovaSDK"
#: Every stack the SDK deploys is named ``<stack_name>-NovaForgeSDK``.
STACK_NAME_SUFFIX = "NovaForgeSDK"
#: The user's stack name: a letter first, at most 32 characters, so that the rollout Lambda
#: ``<stack>-NovaForgeSDK-SageMaker-rollout`` stays within Lambda's 64-character limit.
STACK_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,31}$")
#: HyperPod may only invoke reward/rollout functions whose name contains "SageMaker".
ROLLOUT_FUNCTION_SUFFIX = "SageMaker-rollout"
#: Stack states that cannot be used or updated (delete the stack first).
UNUSABLE_STACK_STATES = frozenset(
    {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}
)
#: Queue names in stack outputs -> keys used by check_all_queues / flush_all_queues.
QUEUE_OUTPUTS = {
    "rollout_request": "RolloutQueueUrl",
    "rollout_response": "RolloutFinishedQueueUrl",
    "generate_request": "RequestQueueUrl",
    "generate_response": "RequestResponseQueueUrl",
}
#: Worker module run by every platform.
WORKER_MODULE = "amzn_nova_forge.rft_multiturn._worker"
#: Default container image of ECS workers (installs the SDK at start).
DEFAULT_ECS_IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"


def full_stack_name(stack_name: str) -> str:
    """``my-stack`` -> ``my-stack-NovaForgeSDK`` (names already suffixed are kept)."""
    if stack_name.endswith(f"-{STACK_NAME_SUFFIX}"):
        return stack_name
    return f"{stack_name}-{STACK_NAME_SUFFIX}"
