"""The whole exception tree of ``amzn_nova_forge``.

Every error the SDK raises on purpose is a :class:`NovaForgeError`. Each one also
inherits from the matching builtin so that ``except ValueError`` in user code keeps
working (the published API documents ``ValueError`` for bad configuration)::

    NovaForgeError
    ├── ConfigError(ValueError)
    │   ├── DataPrepError                 .path .line .field
    │   │   └── DatasetValidationError    .problems (every problem found, capped)
    │   ├── RecipeValidationError         .recipe
    │   │   └── RecipeOverrideError       .key .value .allowed
    │   ├── InstanceConfigError           .instance_type .instance_count .allowed
    │   └── UnsupportedRegionError        .region .supported
    ├── UnknownRuntimeError(ValueError)   .name .known
    ├── UnsupportedFeatureError(ValueError) .runtime .features
    ├── MissingDependencyError(ImportError) .extra
    ├── AWSServiceError                   .service .operation .code .request_id
    ├── ValidationCheckError(ValueError)  .check   (IAM / infra checks before submission)
    ├── NotificationManagerInfraError
    ├── BatchTraceError                   (batch sample tracing: logs missing/corrupt)
    ├── DeploymentError                   .created (resources left behind)
    └── JobError                          .job_id
        ├── JobSubmissionError
        ├── JobFailedError                .reason .log_tail
        └── JobTimeoutError(TimeoutError)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AWSServiceError",
    "BatchTraceError",
    "ConfigError",
    "DataPrepError",
    "DatasetValidationError",
    "DeploymentError",
    "InstanceConfigError",
    "JobError",
    "JobFailedError",
    "JobSubmissionError",
    "JobTimeoutError",
    "LocalCommandExecutionError",
    "MissingDependencyError",
    "NotificationManagerInfraError",
    "NovaForgeError",
    "RecipeOverrideError",
    "RecipeValidationError",
    "SandboxUnavailableError",
    "UnknownRuntimeError",
    "UnsupportedFeatureError",
    "UnsupportedRegionError",
    "ValidationCheckError",
]


class NovaForgeError(Exception):
    """Base class of every error raised on purpose by the SDK."""


class ConfigError(NovaForgeError, ValueError):
    """A value given by the user is invalid; the message says which and how to fix it."""


class DataPrepError(ConfigError):
    """A dataset could not be loaded, transformed, split, validated or saved.

    Attributes:
        path: The file (local path or ``s3://`` URI) concerned, when known.
        line: 1-based line (or row) number in that file, when known.
        field: JSON path of the offending field (e.g. ``$.messages[1].role``), when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            if field:
                where += f" {field}"
            where += ": "
        super().__init__(f"{where}{message}")


class DatasetValidationError(DataPrepError):
    """A dataset failed validation. ``problems`` lists every problem found (capped).

    Attributes:
        problems: ``(line, json_path, message)`` tuples, in file order.
        total: How many problems were found in all (``len(problems)`` may be capped).
    """

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[tuple[int | None, str | None, str]] = (),
        total: int | None = None,
        path: str | None = None,
    ) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        super().__init__(message, path=path)


class RecipeValidationError(ConfigError):
    """A recipe (built by the SDK or given by the user) breaks a rule of its template."""

    def __init__(self, message: str, *, recipe: str | None = None) -> None:
        self.recipe = recipe
        super().__init__(message)


class RecipeOverrideError(RecipeValidationError):
    """An override key is unknown, or its value has the wrong type or is out of range.

    Attributes:
        key: The override key.
        value: The value given.
        allowed: Human-readable description of what is allowed (range, enum, keys).
    """

    def __init__(
        self,
        message: str,
        *,
        key: str,
        value: Any = None,
        allowed: Any = None,
        recipe: str | None = None,
    ) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(message, recipe=recipe)


class InstanceConfigError(ConfigError):
    """The instance type or count is not allowed for this (platform, model, method)."""

    def __init__(
        self,
        message: str,
        *,
        instance_type: str | None = None,
        instance_count: int | None = None,
        allowed: Any = None,
    ) -> None:
        self.instance_type = instance_type
        self.instance_count = instance_count
        self.allowed = allowed
        super().__init__(message)


class UnsupportedRegionError(ConfigError):
    """The AWS region is not one where Nova customization is offered."""

    def __init__(self, region: str, supported: Sequence[str]) -> None:
        self.region = region
        self.supported = list(supported)
        super().__init__(
            f"Region {region!r} is not supported for Nova customization. "
            f"Supported regions: {', '.join(self.supported)}. "
            "Pass one of them as region=... to the runtime manager (or set AWS_DEFAULT_REGION)."
        )


class UnknownRuntimeError(NovaForgeError, ValueError):
    """A runtime name that is not in the registry."""

    def __init__(self, message: str, *, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        super().__init__(message)


class UnsupportedFeatureError(NovaForgeError, ValueError):
    """The runtime (platform) cannot do what was asked; the message lists each reason."""

    def __init__(self, message: str, *, runtime: str | None = None, features: Sequence[str] = ()) -> None:
        self.runtime = runtime
        self.features = list(features)
        super().__init__(message)


class LocalCommandExecutionError(ConfigError):
    """An environment that runs model-written commands was asked to run on this machine without opt-in."""


class SandboxUnavailableError(NovaForgeError, RuntimeError):
    """Model-written commands cannot be confined here (no Linux, no Landlock); the message says what is missing."""


class MissingDependencyError(NovaForgeError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    def __init__(self, message: str, *, extra: str) -> None:
        self.extra = extra
        super().__init__(message)


class AWSServiceError(NovaForgeError):
    """An AWS call failed. The message names the operation, the error code and the request id.

    Attributes:
        service: e.g. ``"sagemaker"``.
        operation: e.g. ``"CreateTrainingJob"``.
        code: The AWS error code, e.g. ``"ValidationException"``.
        request_id: The AWS request id, to quote to AWS support.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str | None = None,
        operation: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.service = service
        self.operation = operation
        self.code = code
        self.request_id = request_id
        super().__init__(message)

    @classmethod
    def from_client_error(cls, err: Exception, *, service: str | None = None, hint: str = "") -> AWSServiceError:
        """Build from a ``botocore.exceptions.ClientError`` (or any botocore error)."""
        response = getattr(err, "response", {}) or {}
        error = response.get("Error", {}) or {}
        meta = response.get("ResponseMetadata", {}) or {}
        operation = getattr(err, "operation_name", None)
        code = error.get("Code")
        request_id = meta.get("RequestId")
        msg = f"{service + ' ' if service else ''}{operation or 'call'} failed"
        if code:
            msg += f" ({code})"
        msg += f": {error.get('Message') or err}"
        if request_id:
            msg += f" [request id {request_id}]"
        if hint:
            msg += f". {hint}"
        return cls(msg, service=service, operation=operation, code=code, request_id=request_id)


class ValidationCheckError(NovaForgeError, ValueError):
    """A pre-submission check (IAM, infrastructure, recipe) failed; nothing was created."""

    def __init__(self, message: str, *, check: str) -> None:
        self.check = check
        super().__init__(message)


class NotificationManagerInfraError(NovaForgeError):
    """The job-notification infrastructure could not be created or updated."""


class DeploymentError(NovaForgeError):
    """A deployment failed. ``created`` lists resources that exist and were not cleaned up."""

    def __init__(self, message: str, *, created: Sequence[str] = ()) -> None:
        self.created = list(created)
        if self.created:
            message += " Resources created and left in place: " + ", ".join(self.created) + "."
        super().__init__(message)


class JobError(NovaForgeError):
    """Base class for errors about a specific job."""

    def __init__(self, message: str, *, job_id: str | None = None) -> None:
        self.job_id = job_id
        super().__init__(message)


class JobSubmissionError(JobError):
    """The job could not be started."""


class JobFailedError(JobError):
    """The job ended in FAILED. ``reason`` and ``log_tail`` say why."""

    def __init__(
        self, message: str, *, job_id: str | None = None, reason: str | None = None, log_tail: Sequence[str] = ()
    ) -> None:
        self.reason = reason
        self.log_tail = list(log_tail)
        super().__init__(message, job_id=job_id)


class JobTimeoutError(JobError, TimeoutError):
    """Waiting for a job (or a deployment) took longer than the timeout."""


class BatchTraceError(NovaForgeError):
    """Batch sample tracing could not answer: hash logs missing or corrupt, or the data unreadable."""
