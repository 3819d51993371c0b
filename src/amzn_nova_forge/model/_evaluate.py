"""Evaluation jobs (``ForgeEvaluator.evaluate``, ``NovaModelCustomizer.evaluate``).

What is evaluated (first that applies):

1. ``model_path`` given by the caller;
2. the checkpoint of ``job_result`` (a :class:`TrainingResult`; its platform must be
   compatible with the runtime's);
3. the checkpoint of ``fallback_result`` (the customizer's last training job);
4. otherwise the base model.

``rft_multiturn_infra`` drives ``RFT_MULTITURN_EVAL``: the recipe's reward Lambda is the
infrastructure's rollout Lambda and its ``run`` section gets the queue URLs.

RFT evaluation takes its reward function from ``rl_env`` / ``processor`` when either is
given, and only otherwise from the runtime's ``rft_lambda_arn``. BYOM (``processor``) gets
the published defaults: ``preprocessing.enabled=True``, ``postprocessing.enabled=True``,
``aggregation="average"``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import EvaluationTask, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model._context import JobContext, Submission
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.model.result._evaluation import EvaluationResult

__all__ = ["evaluate", "output_location", "resolve_model_path"]

logger = logging.getLogger(__name__)

_AGGREGATIONS = ("min", "max", "average", "sum")
_PROCESSOR_DEFAULTS: dict[str, Any] = {
    "preprocessing": {"enabled": True},
    "postprocessing": {"enabled": True},
    "aggregation": "average",
}


def resolve_model_path(
    platform: Platform,
    model_path: str | None,
    job_result: BaseJobResult | None,
    fallback_result: BaseJobResult | None = None,
) -> str | None:
    """The model to evaluate: ``model_path`` > ``job_result`` > ``fallback_result`` > None (base model).

    Raises:
        ConfigError: ``job_result`` ran on a platform whose checkpoints this platform cannot read,
            or it has no checkpoint yet (job not completed).
    """
    from amzn_nova_forge.manager._registry import get_runtime_class
    from amzn_nova_forge.model._checks import _check_model_path

    platform = Platform(platform)
    runtime = get_runtime_class(platform)
    source = "model_path"
    path = model_path
    if path is None:
        result = job_result if job_result is not None else fallback_result
        if result is None:
            return None
        source = "job_result" if job_result is not None else "the customizer's last training job"
        other = Platform(result.platform)
        if other not in runtime.capabilities.reads_checkpoints_of:
            raise ConfigError(
                f"{source} {result.job_id!r} ran on {other.value}; a {platform.value} job cannot read its checkpoint. "
                f"Evaluate it with a {other.value} runtime, or pass model_path=..."
            )
        artifacts = getattr(result, "model_artifacts", None)
        path = getattr(artifacts, "checkpoint_s3_path", None) if artifacts is not None else None
        if not path:
            status = result.get_job_status()[1] if hasattr(result, "get_job_status") else "unknown"
            raise ConfigError(
                f"{source} {result.job_id!r} has no checkpoint yet (job status: {status}). "
                "Wait until the training job completes, or pass model_path=..."
            )
    _check_model_path(path, runtime)
    logger.info("Evaluating model %s (from %s).", path, source)
    return str(path)


def output_location(platform: Platform, output_s3_path: str | None, job_id: str, extras: Mapping[str, Any]) -> str:
    """Where an evaluation or batch-inference job's results are: the runtime's layout.

    SMTJ: ``<output>/<job>/output/output.tar.gz``; SMTJ Serverless (uncompressed output):
    ``<output>/<job>/output/output/``; SMHP: ``<output>/<job>/eval-result/``;
    Bedrock: ``<output>/<job>/``; LOCAL: ``<job folder>/output/output.tar.gz``.
    """
    from amzn_nova_forge.manager._registry import get_runtime_class

    return get_runtime_class(platform).eval_output_location(output_s3_path, job_id, extras)


def _processor_with_defaults(processor: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(processor, Mapping):
        raise ConfigError(
            f"processor must be a dict such as {{'lambda_arn': 'arn:aws:lambda:...'}}, got {processor!r}."
        )
    if not processor.get("lambda_arn"):
        raise ConfigError("processor needs 'lambda_arn': the ARN of your metrics (BYOM) or reward Lambda function.")
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in _PROCESSOR_DEFAULTS.items()}
    for key, value in processor.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    if out.get("aggregation") not in _AGGREGATIONS:
        raise ConfigError(f"processor aggregation {out.get('aggregation')!r} is not one of {', '.join(_AGGREGATIONS)}.")
    return out


def _sections_for(
    task: EvaluationTask, processor: Mapping[str, Any] | None, rl_env: Mapping[str, Any] | None, is_rft: bool
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """Keep the ``processor`` / ``rl_env`` sections the task's recipe has (warn about the others).

    GEN_QA takes ``processor``; RFT evaluation takes ``rl_env`` (a lone ``processor`` supplies its
    ``reward_lambda_arn``); benchmarks and judges take neither.
    """
    if is_rft:
        if processor is not None and not rl_env:
            if not isinstance(processor, Mapping) or not processor.get("lambda_arn"):
                raise ConfigError("processor needs 'lambda_arn' (the reward Lambda) for RFT evaluation.")
            return None, {"reward_lambda_arn": processor["lambda_arn"]}
        if processor is not None:
            logger.warning("%s uses rl_env; ignoring processor (rl_env takes priority).", task.name)
        return None, rl_env
    if rl_env:
        logger.warning("rl_env applies to RFT evaluation only; ignoring it for %s.", task.name)
    if processor is not None and task is not EvaluationTask.GEN_QA:
        logger.warning("processor (bring-your-own metrics) applies to GEN_QA only; ignoring it for %s.", task.name)
        processor = None
    return processor, None


def _multiturn_settings(rft_multiturn_infra: Any, task: EvaluationTask) -> dict[str, Any]:
    """``{"rft_lambda_arn", "recipe_run"}`` for an RFT_MULTITURN_EVAL job driven by the infrastructure."""
    if rft_multiturn_infra is None:
        return {}
    if task is not EvaluationTask.RFT_MULTITURN_EVAL:
        raise ConfigError(f"rft_multiturn_infra drives EvaluationTask.RFT_MULTITURN_EVAL only, not {task.name}.")
    getter = getattr(rft_multiturn_infra, "get_recipe_overrides", None)
    if not callable(getter):
        raise ConfigError(
            f"rft_multiturn_infra must be an RFTMultiturnInfrastructure, got {type(rft_multiturn_infra).__name__}."
        )
    overrides = dict(getter())
    arn = overrides.get("rollout_request_arn")
    if not arn:
        raise ConfigError(
            "rft_multiturn_infra has no rollout Lambda yet: call setup() and start_environment(env_type=EnvType.EVAL) "
            "before evaluate()."
        )
    return {"rft_lambda_arn": arn, "recipe_run": overrides}


def evaluate(
    ctx: JobContext,
    *,
    job_name: str,
    eval_task: EvaluationTask,
    model_path: str | None = None,
    subtask: str | None = None,
    data_s3_path: str | None = None,
    recipe_path: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    processor: Mapping[str, Any] | None = None,
    rl_env: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    job_result: BaseJobResult | None = None,
    fallback_result: BaseJobResult | None = None,
    rft_multiturn_infra: Any = None,
) -> Submission[EvaluationResult] | None:
    """Start an evaluation job (see ``ForgeEvaluator.evaluate``); None when ``dry_run``.

    Raises:
        ConfigError: Unknown task, BYOD task without data, incompatible checkpoint, bad processor.
        RecipeOverrideError: An override or subtask the evaluation recipe does not accept.
        ValidationCheckError: An IAM or infrastructure check failed (nothing was created).
    """
    from amzn_nova_forge.model._submit import base_result_kwargs, submit
    from amzn_nova_forge.recipe._recipe import RunSettings

    try:
        task = EvaluationTask(eval_task)
    except ValueError:
        raise ConfigError(
            f"Unknown eval_task {eval_task!r}; choose one of {', '.join(t.name for t in EvaluationTask)}."
        ) from None
    platform = ctx.platform
    if task.is_byod and not data_s3_path:
        raise ConfigError(
            f"{task.name} evaluates your own data: pass data_s3_path=... (e.g. s3://bucket/gen_qa.jsonl)."
        )
    checkpoint = resolve_model_path(platform, model_path, job_result, fallback_result)
    multiturn = _multiturn_settings(rft_multiturn_infra, task)
    if multiturn:
        if rl_env or processor is not None:
            logger.warning("rft_multiturn_infra supplies the reward Lambda; ignoring rl_env / processor.")
        rl_env, processor = {"reward_lambda_arn": multiturn["rft_lambda_arn"]}, None
    is_rft = task in (EvaluationTask.RFT_EVAL, EvaluationTask.RFT_MULTITURN_EVAL)
    processor, rl_env = _sections_for(task, processor, rl_env, is_rft)
    proc = _processor_with_defaults(processor) if processor is not None else None
    rft_arn = None
    if is_rft and proc is None and not rl_env:
        rft_arn = ctx.infra.rft_lambda_arn
        if not rft_arn:
            raise ConfigError(
                f"{task.name} needs a reward function: pass rl_env={{'reward_lambda_arn': 'arn:aws:lambda:...'}} "
                "(or rft_multiturn_infra=... for RFT_MULTITURN_EVAL) or set rft_lambda_arn on the runtime manager."
            )
    run = RunSettings(
        data_s3_path=data_s3_path,
        model_name_or_path=checkpoint,
        rft_lambda_arn=rft_arn,
        processor=proc,
        rl_env=dict(rl_env) if rl_env else None,
    )

    def make_result(job_id: str, job_config: JobConfig) -> EvaluationResult:
        kwargs = base_result_kwargs(ctx, job_id)
        path = output_location(platform, job_config.output_s3_path, job_id, kwargs["extras"])
        from amzn_nova_forge.model.result._evaluation import EVALUATION_RESULT_CLASSES

        return EVALUATION_RESULT_CLASSES[platform](job_id, None, task, path, **kwargs)

    extra: dict[str, Any] = {
        "eval_task": task.value,
        # SMTJ Serverless: which evaluation service flavour runs the job.
        "evaluation_type": "CustomScorerEvaluation"
        if task.is_byod and task.strategy != "judge"
        else "BenchmarkEvaluation",
    }
    reward = (rl_env or {}).get("reward_lambda_arn") or rft_arn
    if reward:  # the reward function this job really uses (rl_env/processor win over the runtime's)
        extra["rft_lambda_arn"] = reward
    for key, value in (("subtask", subtask), ("processor", proc), ("rl_env", dict(rl_env) if rl_env else None)):
        if value is not None:
            extra[key] = value
    if multiturn:
        from amzn_nova_forge.rft_multiturn._integration import apply_to_recipe

        extra["rft_multiturn_infra"] = rft_multiturn_infra
    return submit(
        ctx,
        kind="evaluation",
        job_name=job_name,
        builder_kwargs={"method": TrainingMethod.EVALUATION, "eval_task": task, "subtask": subtask},
        run=run,
        overrides=overrides,
        recipe_path=recipe_path,
        job_config_extra=extra,
        result_factory=make_result,
        cache_params={
            "eval_task": task.value,
            "subtask": subtask,
            "processor": proc,
            "rl_env": rl_env,
            "model_path": checkpoint,
            **({"rft_multiturn": multiturn["recipe_run"]} if multiturn else {}),
        },
        dry_run=dry_run,
        recipe_patch=(lambda recipe: apply_to_recipe(recipe, multiturn)) if multiturn else None,
    )
