"""Settings shared by the service classes: ``ForgeConfig``, ``ValidationConfig``, ``JobCachingConfig``.

Plain, validated dataclasses (no pydantic): they are built by users, checked once in
``__post_init__`` and then trusted by the code that reads them.

Example:
    >>> from amzn_nova_forge.core import ForgeConfig, ValidationConfig
    >>> cfg = ForgeConfig(output_s3_path="s3://my-bucket/out", validation_config={"iam": False})
    >>> cfg.validation_config
    ValidationConfig(iam=False, infra=True, recipe=True)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amzn_nova_forge.core.enums import JobStatus
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.monitor._mlflow import MLflowMonitor

__all__ = [
    "DEFAULT_JOB_CACHE_DIR",
    "ForgeConfig",
    "JobCachingConfig",
    "ValidationConfig",
    "ValidationConfigLike",
]

#: Where the service classes cache job results unless told otherwise.
DEFAULT_JOB_CACHE_DIR = "~/.nova-forge/cache"


@dataclass(frozen=True)
class ValidationConfig:
    """Which pre-flight checks run before a job is submitted.

    Args:
        iam: Check that the calling role may do what the job needs (calls IAM).
        infra: Check that buckets, clusters and quotas exist (calls AWS).
        recipe: Check the recipe's overrides, types and ranges (offline).

    Example:
        >>> ValidationConfig.coerce({"iam": False})
        ValidationConfig(iam=False, infra=True, recipe=True)
    """

    iam: bool = True
    infra: bool = True
    recipe: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, bool):
                raise ConfigError(f"ValidationConfig.{f.name} must be True or False, got {value!r}.")

    @classmethod
    def coerce(cls, value: ValidationConfigLike | None) -> ValidationConfig:
        """A ``ValidationConfig`` from an instance, a ``{"iam": bool, ...}`` dict or None (all checks on).

        Raises:
            ConfigError: An unknown key, or a value that is not a bool.
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            allowed = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                raise ConfigError(
                    f"Unknown validation_config key(s) {', '.join(map(repr, unknown))}; "
                    f"allowed keys: {', '.join(sorted(allowed))}."
                )
            return cls(**{str(k): v for k, v in value.items()})
        raise ConfigError(
            f"validation_config must be a ValidationConfig or a dict like {{'iam': False}}, got {value!r}."
        )

    def to_dict(self) -> dict[str, bool]:
        """The settings as ``{"iam": …, "infra": …, "recipe": …}``."""
        return {"iam": self.iam, "infra": self.infra, "recipe": self.recipe}


ValidationConfigLike = ValidationConfig | Mapping[str, bool]


@dataclass(frozen=True)
class JobCachingConfig:
    """What makes two jobs "the same" for the job cache.

    Args:
        include_core: Compare model, method, data and output paths.
        include_recipe: Compare the final recipe (overrides included).
        include_infra: Compare instance type and count.
        include_params: Extra parameter names to compare (e.g. ``["job_name"]``).
        exclude_params: Parameter names to ignore even when the groups above include them.
        allowed_statuses: Cached results in these states are reused.

    Example:
        >>> JobCachingConfig(include_infra=True).allowed_statuses
        (<JobStatus.COMPLETED: 'Completed'>, <JobStatus.IN_PROGRESS: 'InProgress'>)
    """

    include_core: bool = True
    include_recipe: bool = True
    include_infra: bool = False
    include_params: Sequence[str] = ()
    exclude_params: Sequence[str] = ()
    allowed_statuses: Sequence[JobStatus] = (JobStatus.COMPLETED, JobStatus.IN_PROGRESS)

    def __post_init__(self) -> None:
        for name in ("include_core", "include_recipe", "include_infra"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"JobCachingConfig.{name} must be True or False, got {getattr(self, name)!r}.")
        for name in ("include_params", "exclude_params"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"JobCachingConfig.{name} must be a list of parameter names, got {value!r}.")
            object.__setattr__(self, name, tuple(value))
        statuses: list[JobStatus] = []
        for s in self.allowed_statuses:
            try:
                statuses.append(JobStatus(s))
            except ValueError:
                raise ConfigError(
                    f"JobCachingConfig.allowed_statuses: {s!r} is not a JobStatus; "
                    f"choose from {', '.join(m.name for m in JobStatus)}."
                ) from None
        if not statuses:
            raise ConfigError("JobCachingConfig.allowed_statuses must name at least one JobStatus.")
        object.__setattr__(self, "allowed_statuses", tuple(statuses))


@dataclass
class ForgeConfig:
    """Settings shared by ``ForgeTrainer``, ``ForgeEvaluator``, ``ForgeDeployer`` and ``ForgeInference``.

    Args:
        kms_key_id: KMS key for outputs and imported models.
        output_s3_path: Where job outputs go (generated when None).
        generated_recipe_dir: Local folder where generated recipes are kept (a temp folder when None).
        validation_config: Pre-flight checks, a ``ValidationConfig`` or a dict (all on by default).
        image_uri: Container image that replaces the catalogue's image for the job.
        mlflow_monitor: MLflow tracking for the jobs.
        enable_job_caching: Reuse the result of an identical earlier job.
        job_cache_dir: Folder of the job cache (``~`` expanded).
        job_caching_config: What counts as an identical job.

    Example:
        >>> ForgeConfig(enable_job_caching=True).job_caching_config
        JobCachingConfig(include_core=True, include_recipe=True, include_infra=False, include_params=(), \
exclude_params=(), allowed_statuses=(<JobStatus.COMPLETED: 'Completed'>, <JobStatus.IN_PROGRESS: 'InProgress'>))
    """

    kms_key_id: str | None = None
    output_s3_path: str | None = None
    generated_recipe_dir: str | None = None
    validation_config: ValidationConfig | Mapping[str, bool] | None = None
    image_uri: str | None = None
    mlflow_monitor: MLflowMonitor | None = None
    enable_job_caching: bool = False
    job_cache_dir: str = DEFAULT_JOB_CACHE_DIR
    job_caching_config: JobCachingConfig | None = None

    def __post_init__(self) -> None:
        self.validation_config = ValidationConfig.coerce(self.validation_config)
        if not isinstance(self.enable_job_caching, bool):
            raise ConfigError(f"ForgeConfig.enable_job_caching must be True or False, got {self.enable_job_caching!r}.")
        if not isinstance(self.job_cache_dir, (str, os.PathLike)) or not str(self.job_cache_dir):
            raise ConfigError(f"ForgeConfig.job_cache_dir must be a folder path, got {self.job_cache_dir!r}.")
        if self.job_caching_config is None:
            self.job_caching_config = JobCachingConfig()
        elif not isinstance(self.job_caching_config, JobCachingConfig):
            raise ConfigError(
                f"ForgeConfig.job_caching_config must be a JobCachingConfig, got {self.job_caching_config!r}."
            )
        for name in ("kms_key_id", "output_s3_path", "generated_recipe_dir", "image_uri"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"ForgeConfig.{name} must be a non-empty string or None, got {value!r}.")

    @property
    def validation(self) -> ValidationConfig:
        """The validation settings as a ``ValidationConfig`` (whatever form was given)."""
        return ValidationConfig.coerce(self.validation_config)

    @property
    def resolved_job_cache_dir(self) -> str:
        """``job_cache_dir`` with ``~`` expanded."""
        return os.path.expanduser(str(self.job_cache_dir))
