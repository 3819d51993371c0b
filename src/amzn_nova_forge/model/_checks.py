"""Checks on a customizer: at construction (offline) and before each submission (per validation_config).

``check_customizer`` runs in ``NovaModelCustomizer.__init__`` and makes no network call:
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
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, ValidationCheckError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model._customizer import NovaModelCustomizer

__all__ = ["check_customizer", "run_checks"]

logger = logging.getLogger(__name__)

_MLFLOW_PLATFORMS = (Platform.SMTJ, Platform.SMHP, Platform.SMTJServerless, Platform.LOCAL)


def check_customizer(customizer: NovaModelCustomizer) -> None:
    """Validate the customizer's configuration (no network call).

    Raises:
        ConfigError: Not a runtime manager; method not offered for the model on the platform
            (``UnsupportedFeatureError``); unsupported region (``UnsupportedRegionError``);
            data mixing or MLflow not available on the platform; incompatible checkpoint.
    """
    from amzn_nova_forge.manager._base import RuntimeManager

    infra = customizer.infra
    if not isinstance(infra, RuntimeManager):
        raise ConfigError(
            f"infra must be a runtime manager (SMTJRuntimeManager, SMHPRuntimeManager, BedrockRuntimeManager, "
            f"SMTJServerlessRuntimeManager or LocalRuntimeManager), got {type(infra).__name__}."
        )
    platform = Platform(infra.platform)
    method = customizer.method
    from amzn_nova_forge.recipe import check_region
    from amzn_nova_forge.recipe._catalogue import catalogue

    if method is not TrainingMethod.EVALUATION:
        catalogue().require(customizer.model, method.value, platform)
    if platform is not Platform.LOCAL:
        check_region(customizer.region or "", platform)
    if customizer.data_mixing_enabled:
        from amzn_nova_forge.recipe._validate import DATA_MIXING_METHODS, DATA_MIXING_PLATFORMS

        if platform not in DATA_MIXING_PLATFORMS or method not in DATA_MIXING_METHODS:
            raise ConfigError(
                f"Data mixing is supported for {', '.join(m.name for m in DATA_MIXING_METHODS)} on "
                f"{', '.join(p.value for p in DATA_MIXING_PLATFORMS)}; not for {method.name} on {platform.value}. "
                "Set data_mixing_enabled=False or use SMHPRuntimeManager."
            )
    if customizer.mlflow_monitor is not None and platform not in _MLFLOW_PLATFORMS:
        raise ConfigError(f"MLflow monitoring is not supported on {platform.value}; remove mlflow_monitor.")
    monitor = customizer.mlflow_monitor
    if monitor is not None and hasattr(monitor, "check_platform"):  # a URI this platform's jobs cannot reach
        monitor.check_platform(platform)
    _check_model_path(customizer.model_path, platform)
    for name in ("data_s3_path", "output_s3_path"):
        value = getattr(customizer, name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{name} must be a string (S3 URI or local path), got {type(value).__name__}.")
        if value and platform is not Platform.LOCAL and not value.startswith("s3://"):
            raise ConfigError(f"{name} must be an S3 URI (s3://bucket/key) on {platform.value}, got {value!r}.")


def _check_model_path(model_path: str | None, platform: Platform) -> None:
    """An escrow checkpoint from SMTJ cannot continue on HyperPod and vice versa."""
    if not model_path or platform in (Platform.LOCAL, Platform.BEDROCK):
        return
    path = str(model_path)
    from_smtj, from_hp = "-smtj-" in path, "-hp-" in path
    if from_smtj and platform is Platform.SMHP:
        raise ConfigError(
            f"model_path {path!r} is a SageMaker Training Jobs checkpoint; continue it on SMTJ, not HyperPod."
        )
    if from_hp and platform in (Platform.SMTJ, Platform.SMTJServerless):
        raise ConfigError(f"model_path {path!r} is a HyperPod checkpoint; continue it on HyperPod (SMHP).")


def run_checks(customizer: NovaModelCustomizer, job_config: JobConfig, *, kind: str = "training") -> None:
    """Run the IAM and infrastructure checks that ``validation_config`` enables.

    Runtimes without ``check_iam`` / ``check_infra`` (the local runtime) are not checked.

    Raises:
        ValidationCheckError: Every problem found, with what to fix; nothing was created.
    """
    cfg = customizer.validation_config
    infra: Any = customizer.infra
    for family in ("iam", "infra"):
        if not cfg.get(family, True):
            continue
        check = getattr(infra, f"check_{family}", None)
        if not callable(check):
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
