"""Checks of a configuration: at construction (offline) and before each submission (per validation_config).

``check_setup`` runs when a service class or the customizer is built and makes no network call:
the runtime is a runtime manager; the (model, method) is offered on its platform; the
region is supported there; data mixing and MLflow are allowed there; an iterative
training checkpoint comes from a compatible platform.

``run_checks`` runs in the submission pipeline after the recipe was built (the ``recipe``
family: overrides, instance type and count, is enforced by the recipe builder) and before
anything is created:

* ``iam``: the runtime's ``check_iam`` (SimulatePrincipalPolicy for the actions the job
  needs; the execution role's trust policy);
* ``infra``: the runtime's ``check_infra`` (output bucket reachable, data exists, HyperPod
  restricted instance group fits).

Every problem found is reported at once in one :class:`ValidationCheckError`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, ValidationCheckError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig, RuntimeManager
    from amzn_nova_forge.model._context import JobContext
    from amzn_nova_forge.monitor._mlflow import MLflowMonitor

__all__ = ["check_setup", "run_checks"]

logger = logging.getLogger(__name__)


def check_setup(
    *,
    model: Model,
    method: TrainingMethod,
    infra: object,
    data_mixing_enabled: bool = False,
    mlflow_monitor: MLflowMonitor | None = None,
    model_path: str | None = None,
    paths: Mapping[str, str | None] | None = None,
) -> RuntimeManager:
    """Validate a configuration (no network call); return ``infra`` as a runtime manager.

    Args:
        model: The Nova model.
        method: The method (``EVALUATION`` skips the catalogue check of a training recipe).
        infra: The runtime manager.
        data_mixing_enabled: Whether data mixing is requested.
        mlflow_monitor: MLflow tracking, when given.
        model_path: A checkpoint to continue from.
        paths: ``{argument name: S3 URI or local path}`` to check for the platform.

    Raises:
        ConfigError: Not a runtime manager; method not offered for the model on the platform
            (``UnsupportedFeatureError``); unsupported region (``UnsupportedRegionError``);
            data mixing or MLflow not available on the platform; incompatible checkpoint.
    """
    from amzn_nova_forge.manager._base import RuntimeManager

    if not isinstance(infra, RuntimeManager):
        raise ConfigError(
            f"infra must be a runtime manager (SMTJRuntimeManager, SMHPRuntimeManager, BedrockRuntimeManager, "
            f"SMTJServerlessRuntimeManager or LocalRuntimeManager), got {type(infra).__name__}."
        )
    if not isinstance(model, Model):
        raise ConfigError(f"model must be a Model enum (e.g. Model.NOVA_LITE_2), got {model!r}.")
    platform = Platform(infra.platform)
    caps = infra.capabilities
    from amzn_nova_forge.recipe._catalogue import catalogue
    from amzn_nova_forge.recipe._validate import check_region

    if method is not TrainingMethod.EVALUATION:
        catalogue().require(model, method.value, platform)
    if caps.aws:
        check_region(infra.region or "", platform)
    if data_mixing_enabled:
        from amzn_nova_forge.recipe._validate import DATA_MIXING_METHODS, DATA_MIXING_PLATFORMS

        if platform not in DATA_MIXING_PLATFORMS or method not in DATA_MIXING_METHODS:
            raise ConfigError(
                f"Data mixing is supported for {', '.join(m.name for m in DATA_MIXING_METHODS)} on "
                f"{', '.join(p.value for p in DATA_MIXING_PLATFORMS)}; not for {method.name} on {platform.value}. "
                "Set data_mixing_enabled=False or use SMHPRuntimeManager."
            )
    if mlflow_monitor is not None and not caps.mlflow:
        raise ConfigError(f"MLflow monitoring is not supported on {platform.value}; remove mlflow_monitor.")
    if mlflow_monitor is not None:  # a URI this platform's jobs cannot reach
        mlflow_monitor.check_platform(platform)
    _check_model_path(model_path, type(infra))
    for name, value in (paths or {}).items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{name} must be a string (S3 URI or local path), got {type(value).__name__}.")
        if value and not caps.local_paths and not value.startswith("s3://"):
            raise ConfigError(f"{name} must be an S3 URI (s3://bucket/key) on {platform.value}, got {value!r}.")
    return infra


def _check_model_path(model_path: str | None, runtime: type[RuntimeManager]) -> None:
    """A checkpoint another runtime wrote (e.g. SMTJ escrow on HyperPod) cannot continue here."""
    if not model_path:
        return
    path = str(model_path)
    for marker, origin in runtime.capabilities.foreign_checkpoint_markers.items():
        if marker in path:
            raise ConfigError(
                f"model_path {path!r} is a {origin} checkpoint; continue it on {origin}, not {runtime.platform.value}."
            )


def run_checks(ctx: JobContext, job_config: JobConfig, *, kind: str = "training") -> None:
    """Run the IAM and infrastructure checks that ``ctx.validation`` enables.

    Each runtime declares ``check_iam`` / ``check_infra``; the local runtime's find nothing.

    Raises:
        ValidationCheckError: Every problem found, with what to fix; nothing was created.
    """
    infra = ctx.infra
    checks = (("iam", ctx.validation.iam, infra.check_iam), ("infra", ctx.validation.infra, infra.check_infra))
    for family, enabled, check in checks:
        if not enabled:
            continue
        problems = list(check(job_config))
        if problems:
            lines = "\n  - ".join(problems)
            off = f"validation_config={{'{family}': False}}"
            raise ValidationCheckError(
                f"{family.upper()} check failed for {kind} job {job_config.job_name!r}; nothing was created:\n"
                f"  - {lines}\nFix the above, or skip this check with {off}.",
                check=family,
            )
        logger.debug("%s check passed for %s", family, job_config.job_name)
