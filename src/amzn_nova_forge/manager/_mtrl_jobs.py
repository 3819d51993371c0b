"""Multi-turn RFT jobs on SageMaker: ``CreateJob`` / ``DescribeJob`` / ``StopJob`` and what they need.

* :func:`create_job_once` starts a job and never starts two for one submission: the request
  carries a token tag, and after a timeout or ``ResourceInUse`` the job of that name is
  adopted only if ``DescribeJob`` shows the same token.
* :func:`job_info` maps ``DescribeJob`` to :class:`JobInfo`; :func:`service_output` reads the
  ``ServiceOutput`` section (output model package, MLflow run, token usage, progress) that
  SageMaker writes into the job's ``JobConfigDocument``.
* :func:`model_package_group_arn` gets or creates a model package group;
  :func:`base_model_arn` reads the Nova model's hub content ARN (optionally a pinned version).

Example:
    >>> info = job_info("my-mtrl-job", "AgentRFT", "us-east-1")  # doctest: +SKIP
    >>> info.status  # doctest: +SKIP
    <JobStatus.IN_PROGRESS: 'InProgress'>
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client
from amzn_nova_forge.core.enums import JobStatus, Model
from amzn_nova_forge.errors import AWSServiceError, ConfigError, JobSubmissionError
from amzn_nova_forge.manager._base import JobInfo
from amzn_nova_forge.manager._mtrl import EVAL_CATEGORY, SCHEMA_VERSION, TRAIN_CATEGORY

__all__ = [
    "base_model_arn",
    "create_job_once",
    "describe_job",
    "job_info",
    "model_package_group_arn",
    "service_output",
    "stop_job",
]

logger = logging.getLogger(__name__)

PUBLIC_HUB = "SageMakerPublicHub"
CATEGORIES = (TRAIN_CATEGORY, EVAL_CATEGORY)


def _code(err: Exception) -> str:
    return str(((getattr(err, "response", None) or {}).get("Error") or {}).get("Code") or "")


def _category(category: str) -> str:
    if category not in CATEGORIES:
        raise ConfigError(f"job_category must be one of {', '.join(CATEGORIES)}, got {category!r}.")
    return category


def base_model_arn(model: Model, region: str | None, hub_content_version: str | None = None) -> str:
    """The hub content ARN of ``model`` in ``SageMakerPublicHub`` (the pinned version when given)."""
    params: dict[str, str] = {
        "HubName": PUBLIC_HUB,
        "HubContentType": "Model",
        "HubContentName": model.hub_content_name,
    }
    if hub_content_version:
        params["HubContentVersion"] = hub_content_version
    hint = f"while looking up {model.hub_content_name}" + (
        f" version {hub_content_version} (check hub_content_version)" if hub_content_version else ""
    )
    with aws_errors("sagemaker", hint):
        resp = client("sagemaker", region).describe_hub_content(**params)
    return str(resp["HubContentArn"])


def model_package_group_arn(name: str, region: str | None, *, description: str) -> str:
    """The ARN of model package group ``name``, created when missing."""
    from botocore.exceptions import ClientError

    sm = client("sagemaker", region)
    try:
        return str(sm.describe_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"])
    except ClientError as e:
        if _code(e) not in ("ValidationException", "ResourceNotFound"):
            raise AWSServiceError.from_client_error(e, service="sagemaker", hint=f"while describing {name}") from e
    with aws_errors("sagemaker", f"while creating model package group {name}"):
        resp = sm.create_model_package_group(ModelPackageGroupName=name, ModelPackageGroupDescription=description)
    logger.info("Created model package group %s", name)
    return str(resp["ModelPackageGroupArn"])


def describe_job(name: str, category: str, region: str | None) -> dict[str, Any]:
    """``DescribeJob`` of one MTRL job."""
    with aws_errors("sagemaker", f"while describing {category} job {name}"):
        resp: dict[str, Any] = client("sagemaker", region).describe_job(JobName=name, JobCategory=_category(category))
    return resp


def _token_matches(sm: Any, name: str, category: str, token: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        job = sm.describe_job(JobName=name, JobCategory=category)
    except (ClientError, BotoCoreError) as e:
        logger.debug("describe_job(%s) after a failed create: %s", name, e)
        return False
    tags = {t.get("Key"): t.get("Value") for t in job.get("Tags") or []}
    return bool(token) and tags.get(_token_key()) == token


def _token_key() -> str:
    from amzn_nova_forge.manager._smtj import TOKEN_TAG

    return TOKEN_TAG


def create_job_once(
    name: str,
    category: str,
    role_arn: str,
    document: str,
    region: str | None,
    *,
    token: str,
    tags: Mapping[str, str] | None = None,
) -> str:
    """``CreateJob`` that never creates two jobs for one submission; returns the job name.

    Raises:
        JobSubmissionError: The name is taken by another job, or the call timed out and no job exists.
        AWSServiceError: SageMaker refused the request.
    """
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

    sm = client("sagemaker", region)
    request_tags = [{"Key": _token_key(), "Value": token}] + [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
    try:
        sm.create_job(
            JobName=name,
            RoleArn=role_arn,
            JobCategory=_category(category),
            JobConfigSchemaVersion=SCHEMA_VERSION,
            JobConfigDocument=document,
            Tags=request_tags,
        )
        logger.info("Started %s job %s", category, name)
        return name
    except ClientError as e:
        if _code(e) in ("ResourceInUse", "ResourceInUseException"):
            if _token_matches(sm, name, category, token):
                logger.info("%s job %s was already created by this submission; adopting it.", category, name)
                return name
            raise JobSubmissionError(
                f"A {category} job named {name!r} already exists and was not started by this submission. "
                "Use another job_name.",
                job_id=name,
            ) from e
        raise AWSServiceError.from_client_error(
            e, service="sagemaker", hint=f"while creating {category} job {name}"
        ) from e
    except (ReadTimeoutError, ConnectionClosedError) as e:
        if _token_matches(sm, name, category, token):
            logger.info("CreateJob(%s) timed out but the job exists; adopting it.", name)
            return name
        raise JobSubmissionError(
            f"CreateJob for {name!r} timed out and no such job exists; it was not started. Retry.", job_id=name
        ) from e
    except BotoCoreError as e:
        raise AWSServiceError(
            f"sagemaker CreateJob for {name!r} failed: {e}", service="sagemaker", operation="CreateJob"
        ) from e


def service_output(job: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ServiceOutput`` section of a ``DescribeJob`` answer ({} while SageMaker has written none)."""
    raw = job.get("JobConfigDocument")
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        logger.warning("Job %s has a JobConfigDocument that is not JSON; ignoring it.", job.get("JobName"))
        return {}
    out = doc.get("ServiceOutput") if isinstance(doc, dict) else None
    return dict(out) if isinstance(out, dict) else {}


def job_info(name: str, category: str, region: str | None) -> JobInfo:
    """One status snapshot of an MTRL job (``FailureReason`` when failed, else ``SecondaryStatus``)."""
    job = describe_job(name, category, region)
    raw = str(job.get("JobStatus") or "")
    status = JobStatus.from_raw(raw)
    message = job.get("FailureReason") if status is JobStatus.FAILED else job.get("SecondaryStatus")
    return JobInfo(
        status=status,
        raw_status=raw,
        message=message,
        started_at=job.get("CreationTime"),
        ended_at=job.get("EndTime"),
    )


def stop_job(name: str, category: str, region: str | None) -> None:
    """``StopJob``; a job that already ended is not an error."""
    from botocore.exceptions import ClientError

    try:
        client("sagemaker", region).stop_job(JobName=name, JobCategory=_category(category))
        logger.info("Stopping %s job %s", category, name)
    except ClientError as e:
        msg = str((e.response.get("Error") or {}).get("Message") or "").lower()
        if _code(e) == "ValidationException" and ("status" in msg or "already" in msg):
            logger.info("%s job %s is not running; nothing to stop.", category, name)
            return
        raise AWSServiceError.from_client_error(
            e, service="sagemaker", hint=f"while stopping {category} job {name}"
        ) from e
