"""Roles for Bedrock batch inference, Glue data preparation and SMTJ data-prep jobs.

Same rules as the deployment roles (:mod:`.iam_role_creator`): one ``CreateRole`` call with
the final trust policy (``aws:SourceAccount`` = the caller's account), one managed policy
``<role_name>Policy`` naming the resources given, created or updated idempotently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amzn_nova_forge.iam._iam_core import (
    Recorder,
    ResourceSpec,
    caller_account,
    ensure_role,
    fill,
    run,
    s3_resources,
    scoped,
    template,
    trust_policy,
    upsert_policy,
)

__all__ = [
    "bedrock_batch_inference_policy_document",
    "create_bedrock_batch_inference_execution_role",
    "create_sagemaker_invoke_role",
    "create_smtj_dataprep_execution_role",
    "sagemaker_invoke_policy_document",
    "smtj_dataprep_policy_document",
]

POLICY_SUFFIX = "Policy"


def bedrock_batch_inference_policy_document(
    account: str, s3_resource: ResourceSpec = "*", partition: str = "aws", region: str | None = None
) -> dict[str, Any]:
    """Permissions of the Bedrock batch inference role (pure; no AWS call).

    Example:
        >>> doc = bedrock_batch_inference_policy_document("123456789012", "s3://b/in/", region="us-east-1")
        >>> doc["Statement"][1]["Resource"]
        'arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/*'
    """
    return fill(  # type: ignore[no-any-return]
        template("bedrock_batch_inference_policy.json"),
        {
            "S3_RESOURCES": s3_resources(s3_resource, partition),
            "JOB_RESOURCES": f"arn:{partition}:bedrock:{region or '*'}:{account}:model-invocation-job/*",
        },
    )


def sagemaker_invoke_policy_document(
    account: str,
    s3_resource: ResourceSpec = "*",
    glue_job_resource: ResourceSpec = "*",
    partition: str = "aws",
    region: str | None = None,
) -> dict[str, Any]:
    """Permissions of the Glue data-prep role (pure; no AWS call).

    Example:
        >>> doc = sagemaker_invoke_policy_document("123456789012", "b", "prep-job", region="us-east-1")
        >>> doc["Statement"][0]["Resource"]
        'arn:aws:glue:us-east-1:123456789012:job/prep-job'
    """
    where = f"{region or '*'}:{account}"
    return fill(  # type: ignore[no-any-return]
        template("sagemaker_invoke_policy.json"),
        {
            "GLUE_JOB_RESOURCES": scoped(glue_job_resource, lambda n: f"arn:{partition}:glue:{where}:job/{n}"),
            "S3_RESOURCES": s3_resources(s3_resource, partition),
            "LOG_RESOURCES": f"arn:{partition}:logs:{where}:log-group:/aws-glue/*",
        },
    )


def smtj_dataprep_policy_document(
    account: str,
    s3_resource: ResourceSpec = "*",
    ecr_resource: ResourceSpec = "*",
    partition: str = "aws",
    region: str | None = None,
) -> dict[str, Any]:
    """Permissions of the SageMaker training-job data-prep role (pure; no AWS call).

    Example:
        >>> doc = smtj_dataprep_policy_document("123456789012", "b", "prep-image", region="us-east-1")
        >>> doc["Statement"][2]["Resource"]
        'arn:aws:ecr:us-east-1:123456789012:repository/prep-image'
    """
    where = f"{region or '*'}:{account}"
    return fill(  # type: ignore[no-any-return]
        template("smtj_dataprep_policy.json"),
        {
            "S3_RESOURCES": s3_resources(s3_resource, partition),
            "ECR_RESOURCES": scoped(ecr_resource, lambda n: f"arn:{partition}:ecr:{where}:repository/{n}"),
            "LOG_RESOURCES": [
                f"arn:{partition}:logs:{where}:log-group:/aws/sagemaker/TrainingJobs",
                f"arn:{partition}:logs:{where}:log-group:/aws/sagemaker/TrainingJobs:*",
            ],
            "EC2_RESOURCES": [
                f"arn:{partition}:ec2:{where}:network-interface/*",
                f"arn:{partition}:ec2:{where}:subnet/*",
                f"arn:{partition}:ec2:{where}:security-group/*",
            ],
        },
    )


def _create(
    iam_client: Any,
    role_name: str,
    principal: Mapping[str, Any],
    description: str,
    document: Any,
    region: str | None,
    record: Recorder | None,
) -> dict[str, Any]:
    created: list[str] = []

    def rec(what: str, undo: Any) -> None:
        created.append(what)
        if record is not None:
            record(what, undo)

    def go() -> dict[str, Any]:
        acct = caller_account(region)
        trust = trust_policy(principal, acct.account, "AssumeRoleForThisAccountOnly")
        role = ensure_role(iam_client, role_name, trust, description, rec)
        arn = role["Arn"]
        doc = document(arn.split(":")[4], arn.split(":")[1])
        upsert_policy(iam_client, role, f"{role_name}{POLICY_SUFFIX}", doc, description, rec)
        return iam_client.get_role(RoleName=role_name)  # type: ignore[no-any-return]

    return run(go, created)


def create_bedrock_batch_inference_execution_role(
    iam_client: Any,
    role_name: str,
    s3_resource: ResourceSpec = "*",
    region: str | None = None,
    *,
    record: Recorder | None = None,
) -> dict[str, Any]:
    """Create (or update) the role Bedrock assumes to run batch inference (model invocation) jobs.

    Args:
        iam_client: A boto3 IAM client.
        role_name: Name of the IAM role to create.
        s3_resource: Bucket, ``s3://bucket/prefix`` or ARN the jobs read input from and write to.
        region: Region for the STS account lookup and the job ARNs (default: any region).
        record: Called with ``(description, undo)`` for each role or policy created.

    Returns:
        The IAM role details (``{"Role": {...}}``).

    Raises:
        AWSServiceError: An IAM or STS call failed; the message lists anything created before.

    Example:
        >>> create_bedrock_batch_inference_execution_role(  # doctest: +SKIP
        ...     boto3.client("iam"), "NovaBatchRole", s3_resource="s3://my-bucket/batch/", region="us-east-1")
    """
    return _create(
        iam_client,
        role_name,
        {"Service": "bedrock.amazonaws.com"},
        "Nova Forge: Bedrock batch inference",
        lambda acct, part: bedrock_batch_inference_policy_document(acct, s3_resource, part, region),
        region,
        record,
    )


def create_sagemaker_invoke_role(
    iam_client: Any,
    role_name: str,
    s3_resource: ResourceSpec = "*",
    glue_job_resource: ResourceSpec = "*",
    trust_principal: Mapping[str, Any] | None = None,
    region: str | None = None,
    *,
    record: Recorder | None = None,
) -> dict[str, Any]:
    """Create (or update) the role AWS Glue data-preparation jobs run with.

    Args:
        iam_client: A boto3 IAM client.
        role_name: Name of the IAM role to create.
        s3_resource: Bucket, ``s3://bucket/prefix`` or ARN of the job scripts and data.
        glue_job_resource: Glue job name (or ARN) the role may run; ``"*"`` for all.
        trust_principal: Who may assume the role; default ``{"Service": "glue.amazonaws.com"}``.
        region: Region for the STS account lookup and the ARNs (default: any region).
        record: Called with ``(description, undo)`` for each role or policy created.

    Returns:
        The IAM role details (``{"Role": {...}}``).

    Raises:
        AWSServiceError: An IAM or STS call failed; the message lists anything created before.

    Example:
        >>> create_sagemaker_invoke_role(boto3.client("iam"), "GlueDataPrepExecutionRole",  # doctest: +SKIP
        ...     s3_resource="my-bucket", glue_job_resource="nova-prep", region="us-east-1")
    """
    return _create(
        iam_client,
        role_name,
        trust_principal or {"Service": "glue.amazonaws.com"},
        "Nova Forge: Glue data preparation",
        lambda acct, part: sagemaker_invoke_policy_document(acct, s3_resource, glue_job_resource, part, region),
        region,
        record,
    )


def create_smtj_dataprep_execution_role(
    iam_client: Any,
    role_name: str,
    s3_resource: ResourceSpec = "*",
    ecr_resource: ResourceSpec = "*",
    region: str | None = None,
    *,
    record: Recorder | None = None,
) -> dict[str, Any]:
    """Create (or update) the role SageMaker training jobs run data-preparation pipelines with.

    Args:
        iam_client: A boto3 IAM client.
        role_name: Name of the IAM role to create.
        s3_resource: Bucket, ``s3://bucket/prefix`` or ARN of the input and output data.
        ecr_resource: ECR repository name (or ARN) of the data-prep image; ``"*"`` for all.
        region: Region for the STS account lookup and the ARNs (default: any region).
        record: Called with ``(description, undo)`` for each role or policy created.

    Returns:
        The IAM role details (``{"Role": {...}}``).

    Raises:
        AWSServiceError: An IAM or STS call failed; the message lists anything created before.

    Example:
        >>> create_smtj_dataprep_execution_role(boto3.client("iam"), "NovaDataPrepRole",  # doctest: +SKIP
        ...     s3_resource="my-bucket", ecr_resource="nova-dataprep", region="us-east-1")
    """
    return _create(
        iam_client,
        role_name,
        {"Service": "sagemaker.amazonaws.com"},
        "Nova Forge: SageMaker data preparation",
        lambda acct, part: smtj_dataprep_policy_document(acct, s3_resource, ecr_resource, part, region),
        region,
        record,
    )
