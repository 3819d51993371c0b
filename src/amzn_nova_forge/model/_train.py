"""Training jobs: say what to train, then hand it to the submission pipeline.

This module decides the run settings of a training job (data, validation data, checkpoint
for iterative training, data mixing, reward Lambda, validation interval) and which result
class to return; ``_submit.submit`` does the rest (recipe, checks, cache, runtime). It is
called by ``ForgeTrainer.train`` (and so by ``NovaModelCustomizer.train``) and returns a
:class:`~amzn_nova_forge.model._context.Submission`; the caller keeps the result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import TrainingMethod
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model._context import JobContext, Submission
    from amzn_nova_forge.model.result._training import TrainingResult

__all__ = ["train"]

logger = logging.getLogger(__name__)

_S3 = re.compile(r"^s3://([a-zA-Z0-9.\-_]+)/(.+)$")


def _reward_lambda(ctx: JobContext, explicit: str | None) -> str | None:
    """The reward Lambda ARN for an RFT job: the argument wins over the runtime's."""
    method = ctx.method
    if method.family != "rft":
        if explicit:
            logger.warning("rft_lambda_arn is only used by RFT methods; ignoring it for %s.", method.name)
        return None
    if explicit:
        return explicit
    arn = ctx.infra.rft_lambda_arn  # the local runtime answers with its .py file as well
    if arn:
        return str(arn)
    source = ctx.infra.rft_lambda
    if source:
        raise ConfigError(
            f"infra.rft_lambda is the local file {source!r}, which is not deployed yet. "
            "Call infra.deploy_lambda() first (or pass rft_lambda_arn=...)."
        )
    raise ConfigError(
        f"{method.name} needs a reward Lambda: pass rft_lambda_arn='arn:aws:lambda:...' "
        "or set infra.rft_lambda before calling train()."
    )


def _with_val_check_interval(
    overrides: dict[str, Any] | None, val_check_interval: int | None, validation_data_s3_path: str | None
) -> dict[str, Any] | None:
    """``overrides`` plus ``val_check_interval`` (validated) when validation data is given."""
    if val_check_interval is None:
        return overrides
    if isinstance(val_check_interval, bool) or not isinstance(val_check_interval, int) or val_check_interval < 1:
        raise ConfigError(f"val_check_interval must be an integer >= 1 (training steps), got {val_check_interval!r}.")
    if not validation_data_s3_path:
        logger.warning(
            "val_check_interval=%s is used only with validation (holdout) data; ignoring it.", val_check_interval
        )
        return overrides
    out = dict(overrides or {})
    if "val_check_interval" in out and out["val_check_interval"] != val_check_interval:
        raise ConfigError(
            f"val_check_interval={val_check_interval} disagrees with overrides['val_check_interval']="
            f"{out['val_check_interval']!r}; give it once."
        )
    out["val_check_interval"] = val_check_interval
    return out


def train(
    ctx: JobContext,
    *,
    job_name: str,
    data_s3_path: str | None,
    model_path: str | None = None,
    data_mixing: dict[str, Any] | None = None,
    recipe_path: str | None = None,
    overrides: dict[str, Any] | None = None,
    rft_lambda_arn: str | None = None,
    validation_data_s3_path: str | None = None,
    val_check_interval: int | None = None,
    dry_run: bool = False,
    rft_multiturn_infra: Any = None,
    batch_sample_tracing: bool = False,
) -> Submission[TrainingResult] | None:
    """Start a training job (see ``ForgeTrainer.train``); None when ``dry_run``.

    Args:
        ctx: Model, method, runtime and shared settings.
        job_name: The user's job name (a unique suffix is added).
        data_s3_path: Training data.
        model_path: A checkpoint (or Bedrock custom model ARN) to continue from.
        data_mixing: The data mixing config to write into the recipe (None: off).
        recipe_path: A user recipe merged under the overrides.
        overrides: Recipe overrides.
        rft_lambda_arn: Reward Lambda (RFT); wins over the runtime's.
        validation_data_s3_path: Holdout data.
        val_check_interval: Validate every this many steps (with holdout data).
        dry_run: Build and check only.
        rft_multiturn_infra: RFT multi-turn infrastructure (RFT_MULTITURN_* methods).
        batch_sample_tracing: Ask the training container to log each step's sample hashes
            (``training_config.enable_batch_sample_tracing``; see ``trainer.utils.batch_trace``).

    Raises:
        ConfigError: The method cannot be trained, data is missing, or a check failed.
    """
    from amzn_nova_forge.model import _submit
    from amzn_nova_forge.model.result._training import TRAINING_RESULT_CLASSES, ModelArtifacts
    from amzn_nova_forge.recipe._recipe import RunSettings

    method = ctx.method
    platform = ctx.platform
    if method is TrainingMethod.EVALUATION:
        raise ConfigError("TrainingMethod.EVALUATION cannot be trained; call evaluate(...) instead.")
    if not data_s3_path:
        raise ConfigError(
            "data_s3_path is required to train: pass ForgeTrainer(training_data_s3_path=...) "
            "or NovaModelCustomizer(data_s3_path=...)."
        )
    if validation_data_s3_path and not ctx.infra.capabilities.local_paths and not _S3.match(validation_data_s3_path):
        raise ConfigError(f"validation_data_s3_path must look like s3://bucket/key, got {validation_data_s3_path!r}.")
    overrides = _with_val_check_interval(overrides, val_check_interval, validation_data_s3_path)
    multiturn: dict[str, Any] = {}
    if rft_multiturn_infra is not None or method.family == "rft_multiturn":
        from amzn_nova_forge.rft_multiturn._integration import training_settings

        multiturn = training_settings(rft_multiturn_infra, model=ctx.model, method=method, platform=platform)
    reward = multiturn.get("rft_lambda_arn") or _reward_lambda(ctx, rft_lambda_arn)
    extra: dict[str, Any] = {}
    if model_path and str(model_path).startswith("arn:aws:bedrock:"):
        # a Bedrock custom model to continue from: the runtime's base model, not a recipe path
        extra["model_name_or_path"] = model_path
        model_path = None
    run = RunSettings(
        data_s3_path=data_s3_path,
        output_s3_path=ctx.output_s3_path,
        model_name_or_path=model_path,
        validation_data_s3_path=validation_data_s3_path,
        data_mixing=data_mixing,
        rft_lambda_arn=reward,
    )
    if rft_multiturn_infra is not None:
        extra["rft_multiturn_infra"] = rft_multiturn_infra
    result_class = TRAINING_RESULT_CLASSES[platform]

    def make_result(job_id: str, job_config: JobConfig) -> TrainingResult:
        return result_class(
            job_id,
            datetime.now(UTC),
            method,
            ModelArtifacts(output_s3_path=job_config.output_s3_path),
            ctx.model,
            **_submit.base_result_kwargs(ctx, job_id),
        )

    return _submit.submit(
        ctx,
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
        recipe_patch=_recipe_patch(multiturn, batch_sample_tracing),
    )


def _recipe_patch(multiturn: dict[str, Any], batch_sample_tracing: bool) -> Callable[[dict[str, Any]], None] | None:
    """What ``submit`` changes in the built recipe: multi-turn settings, batch sample tracing."""
    if not multiturn and not batch_sample_tracing:
        return None

    def patch(recipe: dict[str, Any]) -> None:
        if multiturn:
            from amzn_nova_forge.rft_multiturn._integration import apply_to_recipe

            apply_to_recipe(recipe, multiturn)
        if batch_sample_tracing:
            recipe.setdefault("training_config", {})["enable_batch_sample_tracing"] = True

    return patch
