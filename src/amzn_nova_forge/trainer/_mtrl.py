"""``ForgeTrainer.train`` for multi-turn RFT on SMTJServerless: one ``execute_mtrl`` call, no recipe.

Multi-turn RFT on serverless SageMaker runs the agent in Amazon Bedrock AgentCore (or a Lambda);
SageMaker picks the recipe, so ``train`` skips the recipe build and starts the ``AgentRFT`` job
directly. MLflow is required (SageMaker reports the job's metrics there).

Example:
    >>> trainer = ForgeTrainer(Model.NOVA_LITE_2, TrainingMethod.RFT_MULTITURN_LORA,  # doctest: +SKIP
    ...     infra=SMTJServerlessRuntimeManager(model_package_group_name="g", agent_core_arn=AGENT_ARN),
    ...     training_data_s3_path="s3://bucket/prompts/",
    ...     config=ForgeConfig(output_s3_path="s3://bucket/out", mlflow_monitor=MLflowMonitor(tracking_uri=ARN)))
    >>> result = trainer.train(job_name="mtrl")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.model.result._training import TrainingResult
    from amzn_nova_forge.trainer._trainer import ForgeTrainer

__all__ = ["is_mtrl_serverless", "mlflow_tracking_uri", "train_mtrl"]

logger = logging.getLogger(__name__)

MTRL_METHODS = (TrainingMethod.RFT_MULTITURN_LORA, TrainingMethod.RFT_MULTITURN_FULL)


def is_mtrl_serverless(platform: Platform, method: Any) -> bool:
    """True when ``method`` is multi-turn RFT and ``platform``'s runtime runs it as AgentRFT jobs (SMTJServerless)."""
    from amzn_nova_forge.manager._registry import capabilities_of

    return method in MTRL_METHODS and capabilities_of(platform).agentcore_mtrl


def mlflow_tracking_uri(mlflow_monitor: Any, what: str) -> str:
    """The MLflow tracking URI an AgentRFT job needs (a typed error naming the fix when missing)."""
    uri = getattr(mlflow_monitor, "tracking_uri", None) if mlflow_monitor is not None else None
    if not uri:
        raise ConfigError(
            f"MLflow is required for {what} on SMTJServerless: pass "
            "config=ForgeConfig(mlflow_monitor=MLflowMonitor(tracking_uri='arn:aws:sagemaker:<region>:<account>:"
            "mlflow-app/<id>'))."
        )
    return str(uri)


def train_mtrl(
    trainer: ForgeTrainer,
    *,
    job_name: str,
    overrides: dict[str, Any] | None,
    dry_run: bool,
    recipe_path: str | None = None,
) -> TrainingResult | None:
    """Start the ``AgentRFT`` job of ``trainer`` (None for a dry run, after the offline checks)."""
    from amzn_nova_forge.manager import _mtrl
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.manager._serverless import SMTJServerlessRuntimeManager
    from amzn_nova_forge.model import _cache, _checks
    from amzn_nova_forge.model.result._training import ModelArtifacts, SMTJServerlessTrainingResult

    infra = trainer.infra
    if not isinstance(infra, SMTJServerlessRuntimeManager):
        raise ConfigError(f"Multi-turn RFT on SMTJServerless needs an SMTJServerlessRuntimeManager, got {infra!r}.")
    uri = mlflow_tracking_uri(trainer.config.mlflow_monitor, "multi-turn RFT (AgentRFT) jobs")
    if recipe_path:
        raise ConfigError(
            "Multi-turn RFT on SMTJServerless takes no recipe (SageMaker picks it); drop recipe_path and pass "
            "hyperparameters as overrides=."
        )
    if trainer.model_s3_path:
        raise ConfigError(
            "Multi-turn RFT continues from a model package (model_arn=...), not from an S3 checkpoint "
            f"(model_s3_path={trainer.model_s3_path!r})."
        )
    output = trainer.output_s3_path
    if not output:
        raise ConfigError("Multi-turn RFT needs config=ForgeConfig(output_s3_path='s3://bucket/prefix').")
    # offline checks first: a dry run fails here exactly as train() would
    _mtrl.agent_config(infra.agent_core_arn or infra.rft_lambda)
    _mtrl.check_job_name(job_name)
    if not trainer.training_data_s3_path:
        raise ConfigError("Multi-turn RFT needs training_data_s3_path (the S3 prefix of the prompts).")
    ctx = trainer._context()
    job_config = JobConfig(
        job_name,
        "",
        "",
        output_s3_path=output,
        data_s3_path=trainer.training_data_s3_path,
        model_name_or_path=trainer.model_arn,
        method=trainer.method,
        model=trainer.model,
        extra={"job_category": _mtrl.TRAIN_CATEGORY},
    )
    _checks.run_checks(ctx, job_config, kind="multi-turn RFT")  # IAM and data/bucket, as validation says
    if dry_run:
        logger.info("[dry_run] Would start multi-turn RFT job %r on SMTJServerless.", job_name)
        return None
    params: dict[str, Any] = {}
    if ctx.cache is not None:  # the job cache, as for every other job (ForgeConfig(enable_job_caching=True))
        params = _cache.job_parameters(
            ctx,
            kind="train",
            method=trainer.method,
            job_config=job_config,
            overrides=overrides,
            recipe_path=None,
            job_name=job_name,
            extra={"agent": infra.agent_core_arn or infra.rft_lambda, "mlflow": uri},
        )
        cached = _cache.lookup(ctx.cache, params)
        if cached is not None:
            logger.info("Reusing cached multi-turn RFT job %s (identical configuration).", cached.job_id)
            return cached  # type: ignore[return-value]
    started = datetime.now(UTC)
    name = infra.execute_mtrl(
        model=trainer.model,
        job_name=job_name,
        data_s3_path=trainer.training_data_s3_path,
        output_s3_path=output,
        mlflow_tracking_uri=uri,
        overrides=dict(overrides) if overrides else None,
        model_path=trainer.model_arn,
    )
    logger.info("Started multi-turn RFT job %s.", name)
    result = SMTJServerlessTrainingResult(
        name,
        started,
        trainer.method,
        ModelArtifacts(output_s3_path=output),
        trainer.model,
        region=infra.region,
        extras={"job_category": _mtrl.TRAIN_CATEGORY},
    )
    if ctx.cache is not None:
        _cache.store(ctx.cache, _cache.cache_key(params), result, job_name=job_name, kind="train", parameters=params)
    return result
