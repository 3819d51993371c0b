"""Execution roles for deployment, with least-privilege policies kept as package data.

The policy templates live in ``iam/policies/*.json``. Each ``${NAME}`` placeholder is
filled with the resources (or condition) the caller gives; ``"*"`` is used only where the
caller asks for it (the published default) or where AWS offers no resource-level
permission (``ecr:GetAuthorizationToken``, ``ec2:Describe*``, ``cloudwatch:PutMetricData``).
No statement ever uses a wildcard *action*.

Roles are created with their final trust policy (``aws:SourceAccount`` = the caller's
account, looked up with STS in ``region``) in one ``CreateRole`` call. Both creators are
idempotent: an existing role is kept (its trust policy is left alone), the managed policy
``<role_name>DeployPolicy`` is created, or given a new default version when its document
changed (the oldest version is deleted when five exist), and attached.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from amzn_nova_forge.iam._iam_core import (
    MANAGED_TAG,
    Recorder,
    ResourceSpec,
    as_list,
    caller_account,
    collapse,
    ensure_role,
    fill,
    normalise,
    run,
    s3_resources,
    template,
    trust_policy,
    upsert_policy,
)
from amzn_nova_forge.iam._service_roles import (  # the official module path of these helpers
    create_bedrock_batch_inference_execution_role,
    create_sagemaker_invoke_role,
    create_smtj_dataprep_execution_role,
)

__all__ = [
    "DEFAULT_BEDROCK_DEPLOY_ROLE",
    "DEFAULT_SAGEMAKER_DEPLOY_ROLE",
    "MANAGED_TAG",
    "bedrock_policy_document",
    "create_bedrock_batch_inference_execution_role",
    "create_bedrock_execution_role",
    "create_sagemaker_execution_role",
    "create_sagemaker_invoke_role",
    "create_smtj_dataprep_execution_role",
    "managed_log_groups",
    "managed_s3_resources",
    "s3_resources",
    "sagemaker_policy_document",
]

logger = logging.getLogger(__name__)

DEFAULT_BEDROCK_DEPLOY_ROLE = "BedrockDeployModelExecutionRole"
DEFAULT_SAGEMAKER_DEPLOY_ROLE = "SageMakerDeployModelExecutionRole"
POLICY_SUFFIX = "DeployPolicy"
#: Accounts that host the Nova inference image (``nova-inference-repo``), per region.
NOVA_IMAGE_ACCOUNTS = {"us-east-1": "708977205387", "us-west-2": "176779409107", "eu-west-2": "470633809225"}
#: Statements about endpoint networking; deploy configures no VPC, so its role leaves them out.
NETWORK_SIDS = ("ManageEndpointNetworkInterfaces", "DescribeNetworkHasNoResourceLevelPermissions")


def _bedrock_resources(
    spec: ResourceSpec | None, kinds: Sequence[str], partition: str, account: str, region: str | None = None
) -> Any:
    out: list[str] = []
    for item in as_list(spec):
        if item == "*" or item.startswith("arn:"):
            out.append(item)
            continue
        out.extend(f"arn:{partition}:bedrock:{region or '*'}:{account}:{kind}/{item}*" for kind in kinds)
    return collapse(out)


def _kms_resources(spec: ResourceSpec | None, partition: str, account: str, region: str | None = None) -> Any:
    out: list[str] = []
    for item in as_list(spec):
        if item == "*" or item.startswith("arn:"):
            out.append(item)
        elif item.startswith("alias/"):
            out.append(f"arn:{partition}:kms:{region or '*'}:{account}:{item}")
        else:
            out.append(f"arn:{partition}:kms:{region or '*'}:{account}:key/{item}")
    return collapse(out)


def _log_resources(
    group: str | Sequence[str], stream: str, partition: str, account: str, region: str | None = None
) -> tuple[Any, Any]:
    """Log-group and log-stream resources for one group name (or ARN, or ``"*"``) or several names."""

    def group_arn(g: str) -> str:
        return g if g.startswith("arn:") else f"arn:{partition}:logs:{region or '*'}:{account}:log-group:{g}"

    if not isinstance(group, str):
        names = list(dict.fromkeys(group))
        if not names or "*" in names:
            return _log_resources("*", stream, partition, account, region)
        group_arns = [a for g in names for a in (group_arn(g), group_arn(g) + ":*")]
        stream_arns = [f"{group_arn(g)}:log-stream:{stream}" for g in names]
        return collapse(group_arns), collapse(stream_arns)
    if group == "*":
        groups: Any = "*"
    elif group.startswith("arn:"):
        groups = group
    else:
        groups = [group_arn(group), group_arn(group) + ":*"]
    if stream.startswith("arn:"):
        streams: Any = stream
    elif group == "*" and stream == "*":
        streams = "*"
    else:
        streams = f"{group_arn(group if group != '*' else '*')}:log-stream:{stream}"
    return groups, streams


def bedrock_policy_document(
    account: str,
    bedrock_resource: ResourceSpec = "*",
    s3_resource: ResourceSpec = "*",
    partition: str = "aws",
    region: str | None = None,
    model_package_resource: str | None = None,
) -> dict[str, Any]:
    """The permission policy of the Bedrock deployment role (pure; no AWS call).

    ``model_package_resource`` names the one SageMaker model package the role may import
    (default: any package of this account).

    Example:
        >>> doc = bedrock_policy_document("123456789012", "my-model", "s3://b/ckpt/", region="us-east-1")
        >>> doc["Statement"][1]["Resource"]
        'arn:aws:bedrock:us-east-1:123456789012:custom-model/my-model*'
    """
    return fill(  # type: ignore[no-any-return]
        template("bedrock_deploy_policy.json"),
        {
            "S3_RESOURCES": s3_resources(s3_resource, partition),
            "BEDROCK_MODEL_RESOURCES": _bedrock_resources(
                bedrock_resource, ["custom-model"], partition, account, region
            ),
            "BEDROCK_DEPLOYMENT_RESOURCES": _bedrock_resources(
                bedrock_resource,
                ["custom-model", "custom-model-deployment", "provisioned-model"],
                partition,
                account,
                region,
            ),
            # Importing from a SageMaker model package (serverless training output): this account's only.
            "MODEL_PACKAGE_RESOURCES": model_package_resource
            or f"arn:{partition}:sagemaker:{region or '*'}:{account}:model-package/*",
        },
    )


def sagemaker_policy_document(
    account: str,
    s3_resource: ResourceSpec = "*",
    kms_resource: ResourceSpec | None = "*",
    ec2_condition: dict[str, Any] | None = None,
    cloudwatch_metric_condition: dict[str, Any] | None = None,
    cloudwatch_logstream_resource: str = "*",
    cloudwatch_loggroup_resource: str | Sequence[str] = "*",
    partition: str = "aws",
    region: str | None = None,
    network_interfaces: bool = True,
) -> dict[str, Any]:
    """The permission policy of the SageMaker deployment role (pure; no AWS call).

    ``kms_resource=None`` leaves out the KMS statement (no key to decrypt with);
    ``network_interfaces=False`` leaves out the VPC network-interface statements.

    Example:
        >>> doc = sagemaker_policy_document("123456789012", "b", kms_resource=None, network_interfaces=False)
        >>> sorted(s["Sid"] for s in doc["Statement"])[:2]
        ['EcrLoginHasNoResourceLevelPermissions', 'PublishEndpointMetrics']
    """
    groups, streams = _log_resources(
        cloudwatch_loggroup_resource, cloudwatch_logstream_resource, partition, account, region
    )
    ecr = [
        f"arn:{partition}:ecr:{r}:{acct}:repository/nova-inference-repo"
        for r, acct in NOVA_IMAGE_ACCOUNTS.items()
        if region is None or r == region
    ]
    doc: dict[str, Any] = fill(
        template("sagemaker_deploy_policy.json"),
        {
            "S3_RESOURCES": s3_resources(s3_resource, partition),
            "KMS_RESOURCES": _kms_resources(kms_resource, partition, account, region),
            "ECR_RESOURCES": ecr if len(ecr) != 1 else ecr[0],
            "EC2_CONDITION": ec2_condition,
            "CLOUDWATCH_METRIC_CONDITION": cloudwatch_metric_condition,
            "LOGGROUP_RESOURCES": groups,
            "LOGSTREAM_RESOURCES": streams,
        },
    )
    drop = set() if network_interfaces else set(NETWORK_SIDS)
    if kms_resource is None:
        drop.add("DecryptWithKey")
    doc["Statement"] = [st for st in doc["Statement"] if st.get("Sid") not in drop]
    return doc


def _recorder(created: list[str], record: Recorder | None) -> Recorder:
    def rec(what: str, undo: Any) -> None:
        created.append(what)
        if record is not None:
            record(what, undo)

    return rec


def create_bedrock_execution_role(
    iam_client: Any,
    role_name: str,
    bedrock_resource: ResourceSpec = "*",
    s3_resource: ResourceSpec = "*",
    region: str | None = None,
    *,
    model_package_resource: str | None = None,
    record: Recorder | None = None,
) -> dict[str, Any]:
    """Create (or update) the role Bedrock assumes to import and deploy a custom model.

    Args:
        iam_client: A boto3 IAM client.
        role_name: Name of the IAM role to create.
        bedrock_resource: Name (prefix) or ARN of the Bedrock resources the role may create and get;
            ``"*"`` (default) for all.
        s3_resource: Bucket name, ``s3://bucket/prefix`` or ARN the role may read; ``"*"`` for all.
        region: Region used to look up the caller's account (STS) and to scope the Bedrock ARNs;
            default: the environment's region, Bedrock ARNs in any region.
        model_package_resource: The SageMaker model package ARN the role may import (default: any).
        record: Called with ``(description, undo)`` for each role or policy created.

    Returns:
        The IAM role details (``{"Role": {"RoleName", "Arn", ...}}``, as ``GetRole`` returns).

    Raises:
        AWSServiceError: An IAM or STS call failed; the message lists anything created before.

    Example:
        >>> iam_client = boto3.client("iam")  # doctest: +SKIP
        >>> create_bedrock_execution_role(iam_client, "role-name", "bedrock_resource", "s3_resource")  # doctest: +SKIP
    """
    created: list[str] = []
    rec = _recorder(created, record)

    def go() -> dict[str, Any]:
        acct = caller_account(region)
        trust = trust_policy({"Service": "bedrock.amazonaws.com"}, acct.account, "BedrockAssumesRoleForThisAccountOnly")
        role = ensure_role(iam_client, role_name, trust, "Nova Forge: Bedrock custom model import and deployment", rec)
        arn = role["Arn"]
        doc = bedrock_policy_document(
            arn.split(":")[4], bedrock_resource, s3_resource, arn.split(":")[1], region, model_package_resource
        )
        upsert_policy(iam_client, role, f"{role_name}{POLICY_SUFFIX}", doc, "Nova Forge deployment", rec)
        return iam_client.get_role(RoleName=role_name)  # type: ignore[no-any-return]

    return run(go, created)


def create_sagemaker_execution_role(
    iam_client: Any,
    role_name: str,
    s3_resource: ResourceSpec = "*",
    kms_resource: ResourceSpec | None = "*",
    ec2_condition: dict[str, Any] | None = None,
    cloudwatch_metric_condition: dict[str, Any] | None = None,
    cloudwatch_logstream_resource: str = "*",
    cloudwatch_loggroup_resource: str | Sequence[str] = "*",
    region: str | None = None,
    *,
    network_interfaces: bool = True,
    record: Recorder | None = None,
) -> dict[str, Any]:
    """Create (or update) the role a SageMaker endpoint runs the Nova inference container with.

    Args:
        iam_client: A boto3 IAM client.
        role_name: Name of the IAM role to create.
        s3_resource: Bucket name, ``s3://bucket/prefix`` or ARN of the model artifacts.
        kms_resource: KMS key id, ``alias/...`` or ARN used to decrypt them; ``None``: no KMS access.
        ec2_condition: IAM condition on the network-interface actions (VPC endpoints).
        cloudwatch_metric_condition: IAM condition on ``cloudwatch:PutMetricData``.
        cloudwatch_logstream_resource: Log stream name or ARN the endpoint writes to.
        cloudwatch_loggroup_resource: Log group name or ARN (or several names) the endpoint writes to.
        region: Region used to look up the caller's account (STS) and to scope the ARNs.
        network_interfaces: Include the VPC network-interface statements (False when no VPC is used).
        record: Called with ``(description, undo)`` for each role or policy created.

    Returns:
        The IAM role details (``{"Role": {"RoleName", "Arn", ...}}``).

    Raises:
        AWSServiceError: An IAM or STS call failed; the message lists anything created before.

    Example:
        >>> create_sagemaker_execution_role(iam_client, role_name="role-name",  # doctest: +SKIP
        ...     s3_resource="example-bucket", kms_resource="encryption-key")
    """
    created: list[str] = []
    rec = _recorder(created, record)

    def go() -> dict[str, Any]:
        acct = caller_account(region)
        trust = trust_policy(
            {"Service": "sagemaker.amazonaws.com"}, acct.account, "SageMakerAssumesRoleForThisAccountOnly"
        )
        role = ensure_role(iam_client, role_name, trust, "Nova Forge: SageMaker Nova inference endpoint", rec)
        arn = role["Arn"]
        doc = sagemaker_policy_document(
            arn.split(":")[4],
            s3_resource=s3_resource,
            kms_resource=kms_resource,
            ec2_condition=ec2_condition,
            cloudwatch_metric_condition=cloudwatch_metric_condition,
            cloudwatch_logstream_resource=cloudwatch_logstream_resource,
            cloudwatch_loggroup_resource=cloudwatch_loggroup_resource,
            partition=arn.split(":")[1],
            region=region,
            network_interfaces=network_interfaces,
        )
        upsert_policy(iam_client, role, f"{role_name}{POLICY_SUFFIX}", doc, "Nova Forge deployment", rec)
        return iam_client.get_role(RoleName=role_name)  # type: ignore[no-any-return]

    return run(go, created)


def _managed_resources(iam_client: Any, role: Mapping[str, Any], sid: str) -> list[str] | None:
    """Resources of statement ``sid`` in an SDK-managed role's policy; None if the role is not ours."""
    from botocore.exceptions import ClientError

    from amzn_nova_forge.iam._iam_core import is_managed

    if not is_managed(role, iam_client):
        return None
    partition, account = role["Arn"].split(":")[1], role["Arn"].split(":")[4]
    arn = f"arn:{partition}:iam::{account}:policy/{role['RoleName']}{POLICY_SUFFIX}"
    try:
        policy = iam_client.get_policy(PolicyArn=arn)["Policy"]
        doc = normalise(
            iam_client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"][
                "Document"
            ]
        )
    except ClientError:
        return []
    out: list[str] = []
    for st in doc.get("Statement", []):
        if st.get("Sid") == sid:
            res = st.get("Resource")
            out.extend([res] if isinstance(res, str) else res or [])
    return out


def managed_s3_resources(iam_client: Any, role: Mapping[str, Any]) -> list[str] | None:
    """Buckets (``s3://bucket/prefix`` form) readable by an SDK-managed role; None if not managed by us.

    ``deploy`` uses this to widen the scope of its own default role to a new artifact bucket
    instead of failing later with AccessDenied; roles the SDK did not create are never changed.
    """
    resources_ = _managed_resources(iam_client, role, "ReadModelArtifacts")
    if resources_ is None:
        return None
    partition = role["Arn"].split(":")[1]
    prefix = f"arn:{partition}:s3:::"
    if "*" in resources_:
        return ["*"]
    return ["s3://" + r[len(prefix) :].rstrip("*") for r in resources_ if r.startswith(prefix) and "/" in r]


def managed_log_groups(iam_client: Any, role: Mapping[str, Any]) -> list[str] | None:
    """Log groups (names) an SDK-managed SageMaker deploy role may write; None if not managed by us."""
    resources_ = _managed_resources(iam_client, role, "WriteEndpointLogGroups")
    if resources_ is None:
        return None
    if "*" in resources_:
        return ["*"]
    names = [r.split(":log-group:", 1)[1] for r in resources_ if ":log-group:" in r and not r.endswith(":*")]
    return list(dict.fromkeys(names))
