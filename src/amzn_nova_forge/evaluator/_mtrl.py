"""``ForgeEvaluator.evaluate(eval_task=RFT_MULTITURN_EVAL)`` on SMTJServerless: ``execute_mtrl_eval``.

The model evaluated is ``model_path`` (a model package ARN), else the output model package of
``job_result`` (a multi-turn RFT training result), else the base model. ``EvalTaskConfig
(evaluate_base_model=True)`` also evaluates the base model next to the fine-tuned one.

Example:
    >>> result = evaluator.evaluate(job_name="mtrl-eval", eval_task=EvaluationTask.RFT_MULTITURN_EVAL,  # doctest: +SKIP
    ...     job_result=training_result)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import EvaluationTask, Platform
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.evaluator._evaluator import EvalTaskConfig, ForgeEvaluator
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.model.result._evaluation import EvaluationResult

__all__ = ["evaluate_mtrl", "is_mtrl_eval"]

logger = logging.getLogger(__name__)


def is_mtrl_eval(platform: Platform, task: EvaluationTask) -> bool:
    """True for ``RFT_MULTITURN_EVAL`` where the runtime runs AgentRFT jobs (SMTJServerless: ``AgentRFTEvaluation``)."""
    from amzn_nova_forge.manager._registry import capabilities_of

    return task is EvaluationTask.RFT_MULTITURN_EVAL and capabilities_of(platform).agentcore_mtrl


def evaluate_mtrl(
    evaluator: ForgeEvaluator,
    *,
    job_name: str,
    model_path: str | None,
    task_config: EvalTaskConfig,
    overrides: Mapping[str, Any] | None,
    dry_run: bool,
    job_result: BaseJobResult | None,
) -> EvaluationResult | None:
    """Start the ``AgentRFTEvaluation`` job(s) of ``evaluator`` (None for a dry run)."""
    from amzn_nova_forge.manager import _mtrl
    from amzn_nova_forge.manager._serverless import SMTJServerlessRuntimeManager
    from amzn_nova_forge.model.result._evaluation import SMTJEvaluationResult
    from amzn_nova_forge.trainer._mtrl import mlflow_tracking_uri

    infra = evaluator.infra
    if not isinstance(infra, SMTJServerlessRuntimeManager):
        raise ConfigError(f"RFT_MULTITURN_EVAL on SMTJServerless needs an SMTJServerlessRuntimeManager, got {infra!r}.")
    uri = mlflow_tracking_uri(evaluator.config.mlflow_monitor, "multi-turn RFT evaluation (AgentRFTEvaluation)")
    training_job = None
    if model_path is None and job_result is not None:
        if job_result.extras.get("job_category") != _mtrl.TRAIN_CATEGORY:
            raise ConfigError(
                f"job_result {job_result.job_id!r} is not a multi-turn RFT training job on SMTJServerless; "
                "pass model_path= (a model package ARN) instead."
            )
        training_job = job_result.job_id
    data = task_config.override_data_s3_path or evaluator.data_s3_path
    output = evaluator.output_s3_path
    if not output:
        raise ConfigError("Multi-turn RFT evaluation needs config=ForgeConfig(output_s3_path='s3://bucket/prefix').")
    _mtrl.agent_config(infra.agent_core_arn or infra.rft_lambda)
    _mtrl.check_job_name(job_name)
    if not data:
        raise ConfigError("Multi-turn RFT evaluation needs data_s3_path (the S3 prefix of the evaluation prompts).")
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model import _checks

    job_config = JobConfig(
        job_name,
        "",
        "",
        output_s3_path=output,
        data_s3_path=data,
        model=evaluator.model,
        job_kind="evaluation",
        extra={"job_category": _mtrl.EVAL_CATEGORY},
    )
    _checks.run_checks(evaluator._context(), job_config, kind="multi-turn RFT evaluation")
    if dry_run:
        logger.info("[dry_run] Would start multi-turn RFT evaluation %r (model_path=%s).", job_name, model_path)
        return None
    started = datetime.now(UTC)
    eval_output = f"{output.rstrip('/')}/{job_name}/"
    jobs = infra.execute_mtrl_eval(
        model=evaluator.model,
        data_s3_path=data,
        output_s3_path=eval_output,
        mlflow_tracking_uri=uri,
        model_path=model_path,
        overrides=dict(overrides) if overrides else None,
        training_job_name=training_job,
        evaluate_base_model=task_config.evaluate_base_model,
        job_name=job_name,
    )
    extras: dict[str, Any] = {"job_category": _mtrl.EVAL_CATEGORY}
    if jobs.base_job_name:
        extras["base_job_name"] = jobs.base_job_name
    logger.info("Started multi-turn RFT evaluation %s.", ", ".join(jobs.job_names))
    return SMTJEvaluationResult(
        jobs.job_name,
        started,
        EvaluationTask.RFT_MULTITURN_EVAL,
        eval_output,
        platform=Platform.SMTJServerless,
        region=infra.region,
        extras=extras,
    )
