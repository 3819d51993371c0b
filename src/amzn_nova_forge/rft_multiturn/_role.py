"""``create_rft_execution_role``: the IAM role used by the RFT multiturn infrastructure.

The role is assumed by the stack's rollout Lambda (``lambda.amazonaws.com``), by ECS worker
tasks (``ecs-tasks.amazonaws.com``, as task and execution role) and by SageMaker
(``sagemaker.amazonaws.com``); each trust statement only holds for calls made on behalf of
this account (``aws:SourceAccount``). Its inline policy ``NovaForgeSDK-RFTMultiturn`` names
what it uses:

* the queues ``*-NovaForgeSDK-*`` and tables ``*-NovaForgeSDK-tasks`` of this region and account,
* the log groups ``/aws/lambda/*-NovaForgeSDK-SageMaker-rollout`` and ``/nova-forge/rft/*-NovaForgeSDK``,
* ``s3:GetObject`` on the given ``s3://bucket/prefix`` locations only (worker code, starter
  kits, custom environments),
* image pulls from the given ECR repositories only (plus ``ecr:GetAuthorizationToken``, an
  action that has no resource-level permissions and so always names ``*``).

Locations and repositories added later (another bucket, another image) are merged into the
policy of a role this SDK created.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.rft_multiturn._constants import RFT_EXECUTION_ROLE_NAME

__all__ = [
    "RFT_EXECUTION_ROLE_NAME",
    "TRUSTED_SERVICES",
    "create_rft_execution_role",
    "rft_policy_document",
    "trust_policy",
]

logger = logging.getLogger(__name__)

#: Services that assume the role (each conditioned on the account).
TRUSTED_SERVICES = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "sagemaker.amazonaws.com")
POLICY_NAME = "NovaForgeSDK-RFTMultiturn"
#: Actions AWS authorizes only on ``"Resource": "*"`` (no resource-level permissions exist).
STAR_ONLY_ACTIONS = frozenset({"ecr:GetAuthorizationToken"})


def trust_policy(account_id: str) -> dict[str, Any]:
    """One statement per trusted service, each with ``StringEquals aws:SourceAccount``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": service.split(".")[0].replace("-", "").title() + "Trust",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
            for service in TRUSTED_SERVICES
        ],
    }


def _s3_object_arns(locations: Sequence[str]) -> list[str]:
    arns = []
    for uri in locations:
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise ConfigError(f"S3 location must be s3://bucket/prefix, got {uri!r}.")
        bucket, _, prefix = uri[5:].partition("/")
        prefix = prefix.strip("/")
        if not bucket or "*" in uri:
            raise ConfigError(f"S3 location must name a bucket (no wildcards), got {uri!r}.")
        arns.append(f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*")
    return sorted(set(arns))


def _ecr_repository_arns(region: str, account_id: str, repositories: Sequence[str]) -> list[str]:
    arns = []
    for repo in repositories:
        if repo.startswith("arn:aws:ecr:"):
            arns.append(repo)
            continue
        if not repo or "*" in repo or ":" in repo:
            raise ConfigError(f"ECR repository must be a name (e.g. 'my-worker') or ARN, got {repo!r}.")
        arns.append(f"arn:aws:ecr:{region}:{account_id}:repository/{repo}")
    return sorted(set(arns))


def rft_policy_document(
    region: str,
    account_id: str,
    custom_policy_path: str | None = None,
    *,
    s3_locations: Sequence[str] = (),
    ecr_repositories: Sequence[str] = (),
) -> dict[str, Any]:
    """The role's permissions, with ``{region}`` and ``{account_id}`` filled in.

    Args:
        region: Region of the stacks.
        account_id: The account.
        custom_policy_path: Use this JSON policy file as is (placeholders filled in) instead.
        s3_locations: ``s3://bucket/prefix`` locations the workers read.
        ecr_repositories: ECR repositories (names or ARNs) of private worker images.
    """
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
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list):
        raise ConfigError("Policy document must be a JSON object with a 'Statement' list.")
    if custom_policy_path:
        return doc
    if objects := _s3_object_arns(s3_locations):
        doc["Statement"].append({"Sid": "WorkerCode", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects})
    if repos := _ecr_repository_arns(region, account_id, ecr_repositories):
        doc["Statement"] += [
            {
                "Sid": "ImagePull",
                "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                "Resource": repos,
            },
            {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        ]
    return doc


def _existing(iam: Any, name: str) -> tuple[list[str], list[str]] | None:
    """S3 locations and ECR repository ARNs in the role's SDK policy; None when the role has none."""
    from botocore.exceptions import ClientError

    try:
        doc = iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"]
    except ClientError:
        return None
    if isinstance(doc, str):
        doc = json.loads(doc)
    s3: list[str] = []
    ecr: list[str] = []
    for st in doc.get("Statement", []):
        res = st.get("Resource", [])
        res = [res] if isinstance(res, str) else list(res)
        if st.get("Sid") == "WorkerCode":
            s3 += ["s3://" + r.removeprefix("arn:aws:s3:::").removesuffix("*").rstrip("/") for r in res]
        elif st.get("Sid") == "ImagePull":
            ecr += res
    return s3, ecr


def create_rft_execution_role(
    region: str = "us-east-1",
    role_name: str | None = None,
    custom_policy_path: str | None = None,
    *,
    s3_locations: Sequence[str] = (),
    ecr_repositories: Sequence[str] = (),
) -> str:
    """Create (or update) the RFT multiturn execution role and return its ARN.

    Idempotent: an existing role gets the account-conditioned trust policy and its inline
    policy ``NovaForgeSDK-RFTMultiturn`` rewritten, keeping the S3 locations and ECR
    repositories it already allowed.

    Args:
        region: AWS region the role's permissions are scoped to.
        role_name: Role name (default ``RFTExecutionRoleNovaSDK``).
        custom_policy_path: JSON policy file to use instead of the SDK's; ``{region}`` and
            ``{account_id}`` placeholders are filled in.
        s3_locations: ``s3://bucket/prefix`` locations ECS/EC2 workers read (worker code,
            custom environments); :class:`RFTMultiturnInfrastructure` passes its own.
        ecr_repositories: Private ECR repositories of worker images (names or ARNs).

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
    iam = client("iam", region)
    from botocore.exceptions import ClientError

    with aws_errors("iam", hint=f"Your credentials need iam:CreateRole and iam:PutRolePolicy on role {name}."):
        trust = json.dumps(trust_policy(account))
        try:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
            logger.info("Using existing RFT role %s", name)
        except ClientError as e:
            if (e.response.get("Error") or {}).get("Code") != "NoSuchEntity":
                raise
            arn = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=trust,
                Description="Nova Forge SDK RFT multiturn infrastructure (rollout Lambda, workers).",
                Tags=[{"Key": "CreatedBy", "Value": "NovaForgeSDK"}],
            )["Role"]["Arn"]
            logger.info("Created RFT role %s", name)
        old_s3, old_ecr = _existing(iam, name) or ([], [])
        policy = rft_policy_document(
            region,
            account,
            custom_policy_path,
            s3_locations=[*old_s3, *s3_locations],
            ecr_repositories=[*old_ecr, *ecr_repositories],
        )
        iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy))
    return str(arn)


def sdk_managed(region: str, role_name: str) -> bool:
    """Does the role carry this SDK's inline policy (so :func:`create_rft_execution_role` may extend it)?"""
    return _existing(client("iam", region), role_name) is not None
