"""Execution roles for deployment, with least-privilege policies kept as package data.

The policy templates live in ``iam/policies/*.json``. Each ``${NAME}`` placeholder is
filled with the resources (or condition) the caller gives; ``"*"`` is used only where the
caller asks for it (the published default) or where AWS offers no resource-level
permission (``ecr:GetAuthorizationToken``, ``ec2:Describe*``, ``cloudwatch:PutMetricData``).
No statement ever uses a wildcard *action*.

Both creators are idempotent: an existing role is kept (its trust policy is left alone),
the managed policy ``<role_name>DeployPolicy`` is created, or given a new default version
when its document changed (the oldest version is deleted when five exist), and attached.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from amzn_nova_forge.errors import AWSServiceError, ConfigError

__all__ = [
    "DEFAULT_BEDROCK_DEPLOY_ROLE",
    "DEFAULT_SAGEMAKER_DEPLOY_ROLE",
    "MANAGED_TAG",
    "bedrock_policy_document",
    "create_bedrock_execution_role",
    "create_sagemaker_execution_role",
    "managed_s3_resources",
    "sagemaker_policy_document",
]

logger = logging.getLogger(__name__)

DEFAULT_BEDROCK_DEPLOY_ROLE = "BedrockDeployModelExecutionRole"
DEFAULT_SAGEMAKER_DEPLOY_ROLE = "SageMakerDeployModelExecutionRole"
#: Tag put on roles this SDK creates; ``deploy`` only widens the S3 scope of roles that carry it.
MANAGED_TAG = "amzn-nova-forge:managed"
POLICY_SUFFIX = "DeployPolicy"
#: Accounts that host the Nova inference image (``nova-inference-repo``), per region.
NOVA_IMAGE_ACCOUNTS = {"us-east-1": "708977205387", "us-west-2": "176779409107", "eu-west-2": "470633809225"}

ResourceSpec = str | Sequence[str]


def _template(name: str) -> dict[str, Any]:
    text = resources.files("amzn_nova_forge.iam").joinpath("policies", name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    """Replace ``"${NAME}"`` strings (whole value) and ``${NAME}`` inside strings."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            filled = _fill(v, values)
            if filled is None:  # a condition the caller did not give: drop the key
                continue
            out[k] = filled
        return out
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    if isinstance(node, str):
        if node.startswith("${") and node.endswith("}") and node[2:-1] in values:
            return copy.deepcopy(values[node[2:-1]])
        for key, val in values.items():
            if isinstance(val, str):
                node = node.replace("${" + key + "}", val)
        return node
    return node


def _as_list(spec: ResourceSpec | None) -> list[str]:
    if spec is None:
        return ["*"]
    items = [spec] if isinstance(spec, str) else list(spec)
    items = [str(s).strip() for s in items if str(s).strip()]
    return items or ["*"]


def _collapse(resources_: list[str]) -> str | list[str]:
    if "*" in resources_:
        return "*"
    unique = list(dict.fromkeys(resources_))
    return unique[0] if len(unique) == 1 else unique


def s3_resources(spec: ResourceSpec | None, partition: str = "aws") -> str | list[str]:
    """S3 ARNs for a bucket name, ``s3://bucket/prefix`` URI or ARN (``"*"`` stays ``"*"``).

    Example:
        >>> s3_resources("my-bucket")
        ['arn:aws:s3:::my-bucket', 'arn:aws:s3:::my-bucket/*']
    """
    out: list[str] = []
    for item in _as_list(spec):
        if item == "*" or item.startswith("arn:"):
            out.append(item)
            continue
        path = item[5:] if item.startswith("s3://") else item
        bucket, _, prefix = path.partition("/")
        if not bucket:
            raise ConfigError(f"s3_resource {item!r} names no bucket; give a bucket name or s3://bucket/prefix.")
        out.append(f"arn:{partition}:s3:::{bucket}")
        out.append(f"arn:{partition}:s3:::{bucket}/{prefix.rstrip('*')}*")
    return _collapse(out)


def _bedrock_resources(spec: ResourceSpec | None, kinds: Sequence[str], partition: str, account: str) -> Any:
    out: list[str] = []
    for item in _as_list(spec):
        if item == "*" or item.startswith("arn:"):
            out.append(item)
            continue
        out.extend(f"arn:{partition}:bedrock:*:{account}:{kind}/{item}*" for kind in kinds)
    return _collapse(out)


def _kms_resources(spec: ResourceSpec | None, partition: str, account: str) -> Any:
    out: list[str] = []
    for item in _as_list(spec):
        if item == "*" or item.startswith("arn:"):
            out.append(item)
        elif item.startswith("alias/"):
            out.append(f"arn:{partition}:kms:*:{account}:{item}")
        else:
            out.append(f"arn:{partition}:kms:*:{account}:key/{item}")
    return _collapse(out)


def _log_resources(group: str, stream: str, partition: str, account: str) -> tuple[Any, Any]:
    def group_arn(g: str) -> str:
        return g if g.startswith("arn:") else f"arn:{partition}:logs:*:{account}:log-group:{g}"

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
    account: str, bedrock_resource: ResourceSpec = "*", s3_resource: ResourceSpec = "*", partition: str = "aws"
) -> dict[str, Any]:
    """The permission policy of the Bedrock deployment role (pure; no AWS call)."""
    return _fill(  # type: ignore[no-any-return]
        _template("bedrock_deploy_policy.json"),
        {
            "S3_RESOURCES": s3_resources(s3_resource, partition),
            "BEDROCK_MODEL_RESOURCES": _bedrock_resources(bedrock_resource, ["custom-model"], partition, account),
            "BEDROCK_DEPLOYMENT_RESOURCES": _bedrock_resources(
                bedrock_resource, ["custom-model", "custom-model-deployment", "provisioned-model"], partition, account
            ),
            # Importing from a SageMaker model package (serverless training output): this account's only.
            "MODEL_PACKAGE_RESOURCES": f"arn:{partition}:sagemaker:*:{account}:model-package/*",
        },
    )


def sagemaker_policy_document(
    account: str,
    s3_resource: ResourceSpec = "*",
    kms_resource: ResourceSpec = "*",
    ec2_condition: dict[str, Any] | None = None,
    cloudwatch_metric_condition: dict[str, Any] | None = None,
    cloudwatch_logstream_resource: str = "*",
    cloudwatch_loggroup_resource: str = "*",
    partition: str = "aws",
) -> dict[str, Any]:
    """The permission policy of the SageMaker deployment role (pure; no AWS call)."""
    groups, streams = _log_resources(cloudwatch_loggroup_resource, cloudwatch_logstream_resource, partition, account)
    ecr = [
        f"arn:{partition}:ecr:{region}:{acct}:repository/nova-inference-repo"
        for region, acct in NOVA_IMAGE_ACCOUNTS.items()
    ]
    return _fill(  # type: ignore[no-any-return]
        _template("sagemaker_deploy_policy.json"),
        {
            "S3_RESOURCES": s3_resources(s3_resource, partition),
            "KMS_RESOURCES": _kms_resources(kms_resource, partition, account),
            "ECR_RESOURCES": ecr,
            "EC2_CONDITION": ec2_condition,
            "CLOUDWATCH_METRIC_CONDITION": cloudwatch_metric_condition,
            "LOGGROUP_RESOURCES": groups,
            "LOGSTREAM_RESOURCES": streams,
        },
    )


# ---- AWS side -------------------------------------------------------------------------------
def _code(err: Exception) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


def _ensure_role(iam_client: Any, role_name: str, trust_template: str, description: str) -> dict[str, Any]:
    """Create the role unless it exists; return the role dict."""
    from botocore.exceptions import ClientError

    try:
        return iam_client.get_role(RoleName=role_name)["Role"]  # type: ignore[no-any-return]
    except ClientError as e:
        if _code(e) != "NoSuchEntity":
            raise AWSServiceError.from_client_error(e, service="iam") from e
    trust = _template(trust_template)
    unconditioned = copy.deepcopy(trust)
    for st in unconditioned["Statement"]:
        st.pop("Condition", None)
    try:
        role = iam_client.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(unconditioned),
            Description=description,
            Tags=[{"Key": MANAGED_TAG, "Value": "true"}],
        )["Role"]
    except ClientError as e:
        if _code(e) == "EntityAlreadyExists":  # created concurrently: fine
            return iam_client.get_role(RoleName=role_name)["Role"]  # type: ignore[no-any-return]
        raise AWSServiceError.from_client_error(e, service="iam", hint="Check iam:CreateRole permission.") from e
    # Now that the account id is known, restrict the trust to this account (confused deputy).
    account = role["Arn"].split(":")[4]
    iam_client.update_assume_role_policy(
        RoleName=role_name, PolicyDocument=json.dumps(_fill(trust, {"ACCOUNT_ID": account}))
    )
    logger.info("Created IAM role %s", role["Arn"])
    return role  # type: ignore[no-any-return]


def _normalise(doc: Any) -> Any:
    if isinstance(doc, str):
        from urllib.parse import unquote

        doc = json.loads(unquote(doc))
    return json.loads(json.dumps(doc, sort_keys=True))


def _upsert_policy(iam_client: Any, role: Mapping[str, Any], document: dict[str, Any]) -> str:
    """Create or update ``<role>DeployPolicy`` with ``document`` and attach it to the role."""
    from botocore.exceptions import ClientError

    partition, account = role["Arn"].split(":")[1], role["Arn"].split(":")[4]
    name = f"{role['RoleName']}{POLICY_SUFFIX}"
    arn = f"arn:{partition}:iam::{account}:policy/{name}"
    body = json.dumps(document)
    try:
        policy = iam_client.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as e:
        if _code(e) != "NoSuchEntity":
            raise AWSServiceError.from_client_error(e, service="iam") from e
        iam_client.create_policy(PolicyName=name, PolicyDocument=body, Description="Nova Forge deployment")
        logger.info("Created IAM policy %s", arn)
    else:
        current = iam_client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        if _normalise(current["PolicyVersion"]["Document"]) != _normalise(document):
            versions = iam_client.list_policy_versions(PolicyArn=arn)["Versions"]
            if len(versions) >= 5:
                oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
                iam_client.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
            iam_client.create_policy_version(PolicyArn=arn, PolicyDocument=body, SetAsDefault=True)
            logger.info("Updated IAM policy %s", arn)
    iam_client.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    return arn


def _run(iam_client: Any, fn: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn()  # type: ignore[no-any-return]
    except ClientError as e:
        raise AWSServiceError.from_client_error(
            e, service="iam", hint="The caller needs iam:CreateRole, iam:CreatePolicy and iam:AttachRolePolicy."
        ) from e
    except BotoCoreError as e:
        raise AWSServiceError(f"iam call failed: {e}", service="iam") from e


def create_bedrock_execution_role(
    iam_client: Any, role_name: str, bedrock_resource: ResourceSpec = "*", s3_resource: ResourceSpec = "*"
) -> dict[str, Any]:
    """Create (or update) the role Bedrock assumes to import and deploy a custom model.

    Args:
        iam_client: A boto3 IAM client.
        role_name: Name of the IAM role to create.
        bedrock_resource: Name (prefix) or ARN of the Bedrock resources the role may create and get;
            ``"*"`` (default) for all.
        s3_resource: Bucket name, ``s3://bucket/prefix`` or ARN the role may read; ``"*"`` for all.

    Returns:
        The IAM role details (``{"Role": {"RoleName", "Arn", ...}}``, as ``GetRole`` returns).

    Example:
        >>> iam_client = boto3.client("iam")  # doctest: +SKIP
        >>> create_bedrock_execution_role(iam_client, "role-name", "bedrock_resource", "s3_resource")  # doctest: +SKIP
    """

    def go() -> dict[str, Any]:
        role = _ensure_role(
            iam_client, role_name, "bedrock_deploy_trust.json", "Nova Forge: Bedrock custom model import and deployment"
        )
        arn = role["Arn"]
        doc = bedrock_policy_document(arn.split(":")[4], bedrock_resource, s3_resource, arn.split(":")[1])
        _upsert_policy(iam_client, role, doc)
        return iam_client.get_role(RoleName=role_name)  # type: ignore[no-any-return]

    return _run(iam_client, go)


def create_sagemaker_execution_role(
    iam_client: Any,
    role_name: str,
    s3_resource: ResourceSpec = "*",
    kms_resource: ResourceSpec = "*",
    ec2_condition: dict[str, Any] | None = None,
    cloudwatch_metric_condition: dict[str, Any] | None = None,
    cloudwatch_logstream_resource: str = "*",
    cloudwatch_loggroup_resource: str = "*",
) -> dict[str, Any]:
    """Create (or update) the role a SageMaker endpoint runs the Nova inference container with.

    Args:
        iam_client: A boto3 IAM client.
        role_name: Name of the IAM role to create.
        s3_resource: Bucket name, ``s3://bucket/prefix`` or ARN of the model artifacts.
        kms_resource: KMS key id, ``alias/...`` or ARN used to decrypt them.
        ec2_condition: IAM condition on the network-interface actions (VPC endpoints).
        cloudwatch_metric_condition: IAM condition on ``cloudwatch:PutMetricData``.
        cloudwatch_logstream_resource: Log stream name or ARN the endpoint writes to.
        cloudwatch_loggroup_resource: Log group name or ARN the endpoint writes to.

    Returns:
        The IAM role details (``{"Role": {"RoleName", "Arn", ...}}``).

    Example:
        >>> create_sagemaker_execution_role(iam_client, role_name="role-name",  # doctest: +SKIP
        ...     s3_resource="example-bucket", kms_resource="encryption-key")
    """

    def go() -> dict[str, Any]:
        role = _ensure_role(
            iam_client, role_name, "sagemaker_deploy_trust.json", "Nova Forge: SageMaker Nova inference endpoint"
        )
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
        )
        _upsert_policy(iam_client, role, doc)
        return iam_client.get_role(RoleName=role_name)  # type: ignore[no-any-return]

    return _run(iam_client, go)


def managed_s3_resources(iam_client: Any, role: Mapping[str, Any]) -> list[str] | None:
    """Buckets (``s3://bucket/prefix`` form) readable by an SDK-managed role; None if not managed by us.

    ``deploy`` uses this to widen the scope of its own default role to a new artifact bucket
    instead of failing later with AccessDenied; roles the SDK did not create are never changed.
    """
    from botocore.exceptions import ClientError

    tags = role.get("Tags")
    if tags is None:
        tags = iam_client.list_role_tags(RoleName=role["RoleName"]).get("Tags", [])
    if not any(t.get("Key") == MANAGED_TAG for t in tags):
        return None
    partition, account = role["Arn"].split(":")[1], role["Arn"].split(":")[4]
    arn = f"arn:{partition}:iam::{account}:policy/{role['RoleName']}{POLICY_SUFFIX}"
    try:
        policy = iam_client.get_policy(PolicyArn=arn)["Policy"]
        doc = _normalise(
            iam_client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"][
                "Document"
            ]
        )
    except ClientError:
        return []
    out: list[str] = []
    for st in doc.get("Statement", []):
        if st.get("Sid") != "ReadModelArtifacts":
            continue
        res = st.get("Resource")
        for r in [res] if isinstance(res, str) else res or []:
            if r == "*":
                return ["*"]
            prefix = f"arn:{partition}:s3:::"
            if r.startswith(prefix) and "/" in r:
                out.append("s3://" + r[len(prefix) :].rstrip("*"))
    return out
