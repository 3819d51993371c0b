"""``NovaModelCustomizer.train``: say what to train, then hand it to the submission pipeline.

This module decides the run settings of a training job (data, validation data, checkpoint
for iterative training, MLflow, data mixing, reward Lambda) and which result class to
return; ``_submit.submit`` does the rest (recipe, checks, cache, runtime).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model._customizer import NovaModelCustomizer
    from amzn_nova_forge.model.result._training import TrainingResult

__all__ = ["train"]

logger = logging.getLogger(__name__)

_S3 = re.compile(r"^s3://([a-zA-Z0-9.\-_]+)/(.+)$")


def _mlflow(customizer: NovaModelCustomizer) -> dict[str, Any] | None:
    monitor = customizer.mlflow_monitor
    if monitor is None:
        return None
    out = {
        "tracking_uri": getattr(monitor, "tracking_uri", None),
        "experiment_name": getattr(monitor, "experiment_name", None),
        "run_name": getattr(monitor, "run_name", None),
    }
    return {k: v for k, v in out.items() if v is not None} or None


def _reward_lambda(customizer: NovaModelCustomizer, explicit: str | None) -> str | None:
    """The reward Lambda ARN for an RFT job: the argument wins over the runtime's."""
    if customizer.method.family != "rft":
        if explicit:
            logger.warning("rft_lambda_arn is only used by RFT methods; ignoring it for %s.", customizer.method.name)
        return None
    if explicit:
        return explicit
    infra: Any = customizer.infra
    arn = getattr(infra, "rft_lambda_arn", None)
    if customizer.platform is Platform.LOCAL:
        # the local runtime runs the reward itself: a Lambda ARN or a local .py file (both pass on)
        return str(arn) if arn else None
    if arn:
        return str(arn)
    source = getattr(infra, "rft_lambda", None)
    if source:
        raise ConfigError(
            f"infra.rft_lambda is the local file {source!r}, which is not deployed yet. "
            "Call infra.deploy_lambda() first (or pass rft_lambda_arn=...)."
        )
    raise ConfigError(
        f"{customizer.method.name} needs a reward Lambda: pass rft_lambda_arn='arn:aws:lambda:...' "
        "or set infra.rft_lambda before calling train()."
    )


def train(
    customizer: NovaModelCustomizer,
    *,
    job_name: str,
    recipe_path: str | None = None,
    overrides: dict[str, Any] | None = None,
    rft_lambda_arn: str | None = None,
    validation_data_s3_path: str | None = None,
    dry_run: bool = False,
    rft_multiturn_infra: Any = None,
) -> TrainingResult | None:
    """Start a training job for ``customizer`` (see ``NovaModelCustomizer.train``).

    Raises:
        ValueError: The method cannot be trained, data is missing, or a check failed.
    """
    from amzn_nova_forge.model import _mixing, _submit
    from amzn_nova_forge.model.result._training import TRAINING_RESULT_CLASSES, ModelArtifacts

    method = customizer.method
    platform = customizer.platform
    if method is TrainingMethod.EVALUATION:
        raise ConfigError("TrainingMethod.EVALUATION cannot be trained; call customizer.evaluate(...) instead.")
    if not customizer.data_s3_path:
        raise ConfigError("data_s3_path is required to train; pass it to NovaModelCustomizer(data_s3_path=...).")
    if validation_data_s3_path and platform is not Platform.LOCAL and not _S3.match(validation_data_s3_path):
        raise ConfigError(f"validation_data_s3_path must look like s3://bucket/key, got {validation_data_s3_path!r}.")
    multiturn: dict[str, Any] = {}
    if rft_multiturn_infra is not None or method.family == "rft_multiturn":
        from amzn_nova_forge.rft_multiturn._integration import apply_to_recipe, training_settings

        multiturn = training_settings(rft_multiturn_infra, model=customizer.model, method=method, platform=platform)
    reward = multiturn.get("rft_lambda_arn") or _reward_lambda(customizer, rft_lambda_arn)
    extra: dict[str, Any] = {}
    model_path = customizer.model_path
    if model_path and str(model_path).startswith("arn:aws:bedrock:"):
        # a Bedrock custom model to continue from: the runtime's base model, not a recipe path
        extra["model_name_or_path"] = model_path
        model_path = None
    run = {
        "data_s3_path": customizer.data_s3_path,
        "output_s3_path": customizer.output_s3_path,
        "model_name_or_path": model_path,
        "validation_data_s3_path": validation_data_s3_path,
        "mlflow": _mlflow(customizer),
        "data_mixing": _mixing.train_config(customizer),
        "rft_lambda_arn": reward,
    }
    if rft_multiturn_infra is not None:
        extra["rft_multiturn_infra"] = rft_multiturn_infra
    result_class = TRAINING_RESULT_CLASSES[Platform(platform)]

    def make_result(job_id: str, job_config: JobConfig) -> TrainingResult:
        return result_class(
            job_id,
            method,
            datetime.now(UTC),
            ModelArtifacts(output_s3_path=job_config.output_s3_path),
            customizer.model,
            **_submit.base_result_kwargs(customizer, job_id),
        )

    result = _submit.submit(
        customizer,
        kind="training",
        job_name=job_name,
        builder_kwargs={},
        run=run,
        overrides=overrides,
        recipe_path=recipe_path,
        job_config_extra=extra,
        result_factory=make_result,
        cache_params={"rft_multiturn": multiturn.get("recipe_run")} if multiturn else {},
        dry_run=dry_run,
        recipe_patch=(lambda recipe: apply_to_recipe(recipe, multiturn)) if multiturn else None,
    )
    if result is not None:
        customizer.last_training_result = result
    return result  # type: ignore[return-value]
