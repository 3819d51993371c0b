"""``create_rft_execution_role``: the IAM role used by the RFT multiturn infrastructure."""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.rft_multiturn._constants import RFT_EXECUTION_ROLE_NAME

__all__ = ["RFT_EXECUTION_ROLE_NAME", "create_rft_execution_role", "rft_policy_document"]

logger = logging.getLogger(__name__)

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Service": [
                    "lambda.amazonaws.com",
                    "ecs-tasks.amazonaws.com",
                    "ec2.amazonaws.com",
                    "sagemaker.amazonaws.com",
                ]
            },
            "Action": "sts:AssumeRole",
        }
    ],
}
_POLICY_NAME = "NovaForgeSDK-RFTMultiturn"


def rft_policy_document(region: str, account_id: str, custom_policy_path: str | None = None) -> dict:
    """The role's permissions, with ``{region}`` and ``{account_id}`` filled in."""
    if custom_policy_path:
        path = Path(custom_policy_path).expanduser()
        if not path.is_file():
            raise ConfigError(f"custom_policy_path {custom_policy_path!r} does not exist.")
        text = path.read_text()
    else:
        text = resources.files("amzn_nova_forge.rft_multiturn").joinpath("rft_policy.json").read_text()
    text = text.replace("{region}", region).replace("{account_id}", account_id)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"Policy file is not valid JSON (line {e.lineno}): {e.msg}.") from e
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise ConfigError("Policy document must be a JSON object with a 'Statement' list.")
    return doc


def create_rft_execution_role(
    region: str = "us-east-1",
    role_name: str | None = None,
    custom_policy_path: str | None = None,
) -> str:
    """Create (or update) the RFT multiturn execution role and return its ARN.

    Idempotent: an existing role keeps its trust policy and gets its inline policy
    ``NovaForgeSDK-RFTMultiturn`` rewritten.

    Args:
        region: AWS region the role's permissions are scoped to.
        role_name: Role name (default ``RFTExecutionRoleNovaSDK``).
        custom_policy_path: JSON policy file to use instead of the SDK's; ``{region}`` and
            ``{account_id}`` placeholders are filled in.

    Returns:
        The role ARN.

    Example:
        >>> from amzn_nova_forge import create_rft_execution_role
        >>> role_arn = create_rft_execution_role(region="us-east-1")  # doctest: +SKIP
    """
    region = resolve_region(region)
    name = role_name or RFT_EXECUTION_ROLE_NAME
    with aws_errors("sts"):
        account = client("sts", region).get_caller_identity()["Account"]
    policy = rft_policy_document(region, account, custom_policy_path)
    iam = client("iam", region)
    from botocore.exceptions import ClientError

    with aws_errors("iam", hint=f"Your credentials need iam:CreateRole and iam:PutRolePolicy on role {name}."):
        try:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
            logger.info("Using existing RFT role %s", name)
        except ClientError as e:
            if (e.response.get("Error") or {}).get("Code") != "NoSuchEntity":
                raise
            arn = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(_TRUST),
                Description="Nova Forge SDK RFT multiturn infrastructure (rollout Lambda, workers).",
                Tags=[{"Key": "CreatedBy", "Value": "NovaForgeSDK"}],
            )["Role"]["Arn"]
            logger.info("Created RFT role %s", name)
        iam.put_role_policy(RoleName=name, PolicyName=_POLICY_NAME, PolicyDocument=json.dumps(policy))
    return str(arn)
