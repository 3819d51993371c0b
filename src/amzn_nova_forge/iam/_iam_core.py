"""What every role helper shares: templates, resource ARNs, create-once roles and policies.

* Roles are created **with their final trust policy in one call**: the account id comes
  from STS first, so ``aws:SourceAccount`` is in the trust policy from its first version.
* Each resource is reported to a :data:`Recorder` the moment it exists (with a function
  that deletes it), so a caller such as ``deploy`` can list it on failure or roll it back.
* A create whose response was lost (timeout, 5xx after success) is recognised by looking
  the resource up by its name; one that exists and carries :data:`MANAGED_TAG` is adopted.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from amzn_nova_forge.errors import AWSServiceError, ConfigError

__all__ = [
    "MANAGED_TAG",
    "Recorder",
    "ResourceSpec",
    "caller_account",
    "ensure_role",
    "fill",
    "template",
    "upsert_policy",
]

logger = logging.getLogger(__name__)

#: Tag put on roles this SDK creates; ``deploy`` only widens the S3 scope of roles that carry it.
MANAGED_TAG = "amzn-nova-forge:managed"

ResourceSpec = str | Sequence[str]
#: ``record(description, undo)``: called once per resource the moment it exists.
Recorder = Callable[[str, Callable[[], None] | None], None]


@dataclass(frozen=True)
class Account:
    """The caller's account id and partition (``aws``, ``aws-cn`` …)."""

    account: str
    partition: str


def template(name: str) -> dict[str, Any]:
    """A policy template from ``iam/policies/<name>`` (package data)."""
    text = resources.files("amzn_nova_forge.iam").joinpath("policies", name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def fill(node: Any, values: Mapping[str, Any]) -> Any:
    """Replace ``"${NAME}"`` strings (whole value) and ``${NAME}`` inside strings.

    A whole-value placeholder whose value is ``None`` drops its key (an optional condition).
    """
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            filled = fill(v, values)
            if filled is None:
                continue
            out[k] = filled
        return out
    if isinstance(node, list):
        return [fill(v, values) for v in node]
    if isinstance(node, str):
        if node.startswith("${") and node.endswith("}") and node[2:-1] in values:
            return copy.deepcopy(values[node[2:-1]])
        for key, val in values.items():
            if isinstance(val, str):
                node = node.replace("${" + key + "}", val)
        return node
    return node


def as_list(spec: ResourceSpec | None) -> list[str]:
    """Resource names as a list; nothing given means ``["*"]`` (the published default)."""
    if spec is None:
        return ["*"]
    items = [spec] if isinstance(spec, str) else list(spec)
    items = [str(s).strip() for s in items if str(s).strip()]
    return items or ["*"]


def collapse(resources_: list[str]) -> str | list[str]:
    """``"*"`` if any item is ``"*"``, one string for one item, else the unique list."""
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
    for item in as_list(spec):
        if item == "*" or item.startswith("arn:"):
            out.append(item)
            continue
        path = item[5:] if item.startswith("s3://") else item
        bucket, _, prefix = path.partition("/")
        if not bucket:
            raise ConfigError(f"s3_resource {item!r} names no bucket; give a bucket name or s3://bucket/prefix.")
        out.append(f"arn:{partition}:s3:::{bucket}")
        out.append(f"arn:{partition}:s3:::{bucket}/{prefix.rstrip('*')}*")
    return collapse(out)


def scoped(spec: ResourceSpec | None, arn_for: Callable[[str], str]) -> str | list[str]:
    """``"*"`` and ARNs as given; every other name through ``arn_for``."""
    out = [i if i == "*" or i.startswith("arn:") else arn_for(i) for i in as_list(spec)]
    return collapse(out)


def code(err: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` ("" for anything else)."""
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


def caller_account(region: str | None = None) -> Account:
    """Account id and partition of the caller (STS ``GetCallerIdentity`` in ``region``)."""
    from amzn_nova_forge.core import aws

    with aws.aws_errors("sts", hint="Check your AWS credentials."):
        arn = aws.client("sts", region).get_caller_identity()["Arn"]
    parts = str(arn).split(":")
    return Account(account=parts[4], partition=parts[1])


def is_managed(role: Mapping[str, Any], iam_client: Any) -> bool:
    tags = role.get("Tags")
    if tags is None:
        tags = iam_client.list_role_tags(RoleName=role["RoleName"]).get("Tags", [])
    return any(t.get("Key") == MANAGED_TAG for t in tags)


def delete_role(iam_client: Any, role_name: str) -> None:
    """Detach every managed policy, delete inline policies, then delete the role."""
    for p in iam_client.list_attached_role_policies(RoleName=role_name).get("AttachedPolicies", []):
        iam_client.detach_role_policy(RoleName=role_name, PolicyArn=p["PolicyArn"])
    for name in iam_client.list_role_policies(RoleName=role_name).get("PolicyNames", []):
        iam_client.delete_role_policy(RoleName=role_name, PolicyName=name)
    iam_client.delete_role(RoleName=role_name)


def delete_policy(iam_client: Any, policy_arn: str) -> None:
    """Detach a managed policy from every role, delete its old versions, then the policy."""
    for r in iam_client.list_entities_for_policy(PolicyArn=policy_arn).get("PolicyRoles", []):
        iam_client.detach_role_policy(RoleName=r["RoleName"], PolicyArn=policy_arn)
    for v in iam_client.list_policy_versions(PolicyArn=policy_arn).get("Versions", []):
        if not v["IsDefaultVersion"]:
            iam_client.delete_policy_version(PolicyArn=policy_arn, VersionId=v["VersionId"])
    iam_client.delete_policy(PolicyArn=policy_arn)


def ensure_role(
    iam_client: Any,
    role_name: str,
    trust: dict[str, Any],
    description: str,
    record: Recorder | None = None,
) -> dict[str, Any]:
    """The role ``role_name``: the existing one (left unchanged), or a new one with ``trust``.

    ``trust`` is the final trust policy (with ``aws:SourceAccount``): it is sent in the one
    ``CreateRole`` call. If that call fails but the role exists afterwards with our tag (the
    response was lost), the role is adopted; either way ``record`` hears of it.
    """
    from botocore.exceptions import ClientError

    try:
        return iam_client.get_role(RoleName=role_name)["Role"]  # type: ignore[no-any-return]
    except ClientError as e:
        if code(e) != "NoSuchEntity":
            raise AWSServiceError.from_client_error(e, service="iam") from e
    try:
        role = iam_client.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=description,
            Tags=[{"Key": MANAGED_TAG, "Value": "true"}],
        )["Role"]
    except ClientError as e:
        if code(e) == "EntityAlreadyExists":  # created concurrently by someone else: not ours to delete
            return iam_client.get_role(RoleName=role_name)["Role"]  # type: ignore[no-any-return]
        role = _probe_role(iam_client, role_name)
        if role is None:
            raise AWSServiceError.from_client_error(e, service="iam", hint="Check iam:CreateRole permission.") from e
        logger.warning("CreateRole %s failed (%s) but the role exists: adopting it.", role_name, code(e))
    logger.info("Created IAM role %s", role["Arn"])
    if record is not None:
        record(f"IAM role {role['Arn']}", lambda: delete_role(iam_client, role_name))
    return role  # type: ignore[no-any-return]


def _probe_role(iam_client: Any, role_name: str) -> dict[str, Any] | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        role = iam_client.get_role(RoleName=role_name)["Role"]
    except (ClientError, BotoCoreError):
        return None
    return role if is_managed(role, iam_client) else None


def normalise(doc: Any) -> Any:
    """A policy document as sorted plain data (IAM returns it URL-encoded or as a dict)."""
    if isinstance(doc, str):
        from urllib.parse import unquote

        doc = json.loads(unquote(doc))
    return json.loads(json.dumps(doc, sort_keys=True))


def upsert_policy(
    iam_client: Any,
    role: Mapping[str, Any],
    name: str,
    document: dict[str, Any],
    description: str,
    record: Recorder | None = None,
) -> str:
    """Create or update the managed policy ``name`` with ``document`` and attach it to ``role``."""
    from botocore.exceptions import BotoCoreError, ClientError

    partition, account = role["Arn"].split(":")[1], role["Arn"].split(":")[4]
    arn = f"arn:{partition}:iam::{account}:policy/{name}"
    body = json.dumps(document)
    try:
        policy = iam_client.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as e:
        if code(e) != "NoSuchEntity":
            raise AWSServiceError.from_client_error(e, service="iam") from e
        try:
            iam_client.create_policy(PolicyName=name, PolicyDocument=body, Description=description)
        except ClientError as create_error:
            try:  # a lost response: the policy exists with our document
                iam_client.get_policy(PolicyArn=arn)
            except (ClientError, BotoCoreError):
                raise AWSServiceError.from_client_error(create_error, service="iam") from create_error
            logger.warning("CreatePolicy %s failed (%s) but it exists: adopting it.", name, code(create_error))
        logger.info("Created IAM policy %s", arn)
        if record is not None:
            record(f"IAM policy {arn}", lambda: delete_policy(iam_client, arn))
    else:
        current = iam_client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        if normalise(current["PolicyVersion"]["Document"]) != normalise(document):
            versions = iam_client.list_policy_versions(PolicyArn=arn)["Versions"]
            if len(versions) >= 5:
                oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
                iam_client.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
            iam_client.create_policy_version(PolicyArn=arn, PolicyDocument=body, SetAsDefault=True)
            logger.info("Updated IAM policy %s", arn)
    iam_client.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    return arn


def run(fn: Callable[[], dict[str, Any]], created: list[str] | None = None) -> dict[str, Any]:
    """Run ``fn``; botocore errors become :class:`AWSServiceError` naming what was left in place."""
    from botocore.exceptions import BotoCoreError, ClientError

    left = f" Created and left in place: {', '.join(created)}." if created else ""
    try:
        return fn()
    except AWSServiceError as e:
        if left:
            raise AWSServiceError(
                str(e) + left, service=e.service, operation=e.operation, code=e.code, request_id=e.request_id
            ) from e
        raise
    except ClientError as e:
        err = AWSServiceError.from_client_error(
            e, service="iam", hint="The caller needs iam:CreateRole, iam:CreatePolicy and iam:AttachRolePolicy."
        )
        raise AWSServiceError(
            str(err) + left, service="iam", operation=err.operation, code=err.code, request_id=err.request_id
        ) from e
    except BotoCoreError as e:
        raise AWSServiceError(f"iam call failed: {e}.{left}", service="iam") from e


def trust_policy(service_principal: Mapping[str, Any], account: str, sid: str) -> dict[str, Any]:
    """A trust policy for ``service_principal`` restricted to ``account`` (confused deputy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": dict(service_principal),
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }
