"""Submitting and stopping SageMaker training jobs: shared by the SMTJ runtime and the data-prep runner.

:func:`create_training_job_once` is idempotent: the request carries a submission token tag; if
``CreateTrainingJob`` times out after SageMaker accepted it, or a retry meets ``ResourceInUse``,
the job of that name is described and adopted when its token matches, so no second job is created.
:mod:`amzn_nova_forge.manager._smtj` re-exports these names.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client
from amzn_nova_forge.errors import AWSServiceError, JobSubmissionError

__all__ = ["TOKEN_TAG", "create_training_job_once", "describe_training_job", "stop_training_job"]

logger = logging.getLogger(__name__)

#: Tag whose value identifies one submission (a retry adopts only the job carrying its token).
TOKEN_TAG = "nova-forge:submission-token"


def _code(err: Exception) -> str:
    return str(((getattr(err, "response", None) or {}).get("Error") or {}).get("Code") or "")


def describe_training_job(name: str, region: str | None) -> dict[str, Any]:
    """``DescribeTrainingJob`` (errors become :class:`AWSServiceError`)."""
    with aws_errors("sagemaker", f"while describing training job {name!r}"):
        return dict(client("sagemaker", region).describe_training_job(TrainingJobName=name))


def _token_of(sm: Any, arn: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        tags = sm.list_tags(ResourceArn=arn).get("Tags", [])
    except ClientError as e:
        logger.debug("list_tags(%s) failed: %s", arn, _code(e))
        return None
    for t in tags:
        if t.get("Key") == TOKEN_TAG:
            return str(t.get("Value"))
    return None


def _adopt(sm: Any, request: Mapping[str, Any], token: str) -> bool:
    """True when a job named like ``request`` exists and was created by this submission."""
    from botocore.exceptions import BotoCoreError, ClientError

    name = request["TrainingJobName"]
    try:
        job = sm.describe_training_job(TrainingJobName=name)
    except (ClientError, BotoCoreError) as e:
        logger.debug("describe_training_job(%s) after a failed create: %s", name, e)
        return False
    found = _token_of(sm, job["TrainingJobArn"])
    if found is not None:
        return found == token
    # Tags unreadable: accept the job when it is the same request (image, role, output).
    same = (
        job.get("RoleArn") == request.get("RoleArn")
        and (job.get("AlgorithmSpecification") or {}).get("TrainingImage")
        == (request.get("AlgorithmSpecification") or {}).get("TrainingImage")
        and (job.get("OutputDataConfig") or {}).get("S3OutputPath")
        == (request.get("OutputDataConfig") or {}).get("S3OutputPath")
    )
    return bool(same)


def create_training_job_once(request: dict[str, Any], region: str | None) -> str:
    """``CreateTrainingJob`` that never creates two jobs for one submission.

    Throttling and 5xx are retried by the client (adaptive mode). When the call times out
    after SageMaker accepted it (or a retry gets ``ResourceInUse``), the job of that name is
    adopted if it carries this submission's token.

    Returns:
        The training job name.

    Raises:
        JobSubmissionError: The name is taken by another job, or the outcome is unknown.
        AWSServiceError: SageMaker refused the request.
    """
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

    sm = client("sagemaker", region)
    name = request["TrainingJobName"]
    token = next((t["Value"] for t in request.get("Tags", []) if t["Key"] == TOKEN_TAG), "")
    try:
        sm.create_training_job(**request)
        return str(name)
    except ClientError as e:
        msg = str((e.response.get("Error") or {}).get("Message") or "")
        if _code(e) in ("ResourceInUse", "ResourceInUseException") or "already exists" in msg:
            if _adopt(sm, request, token):
                logger.info("Training job %s was already created by this submission; adopting it.", name)
                return str(name)
            raise JobSubmissionError(
                f"A training job named {name!r} already exists and was not started by this submission. "
                "Use another job_name.",
                job_id=name,
            ) from e
        raise AWSServiceError.from_client_error(
            e, service="sagemaker", hint=f"while creating training job {name}"
        ) from e
    except (ReadTimeoutError, ConnectionClosedError) as e:
        if _adopt(sm, request, token):
            logger.info("CreateTrainingJob(%s) timed out but the job exists; adopting it.", name)
            return str(name)
        raise JobSubmissionError(
            f"CreateTrainingJob for {name!r} timed out and no such job exists; it was not started. Retry train().",
            job_id=name,
        ) from e
    except BotoCoreError as e:  # connection refused, bad parameters, missing credentials ...
        raise AWSServiceError(
            f"sagemaker CreateTrainingJob for {name!r} failed: {e}", service="sagemaker", operation="CreateTrainingJob"
        ) from e


def stop_training_job(name: str, region: str | None) -> None:
    """``StopTrainingJob``; a job that already ended is not an error."""
    from botocore.exceptions import ClientError

    try:
        client("sagemaker", region).stop_training_job(TrainingJobName=name)
    except ClientError as e:
        msg = str((e.response.get("Error") or {}).get("Message") or "")
        if _code(e) == "ValidationException" and ("status" in msg.lower() or "already" in msg.lower()):
            logger.info("Training job %s is not running (%s); nothing to stop.", name, msg)
            return
        raise AWSServiceError.from_client_error(e, service="sagemaker", hint=f"while stopping {name}") from e
