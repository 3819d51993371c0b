"""``ForgeEvaluator`` and ``EvalTaskConfig``: evaluation jobs (the official service class).

The evaluator owns its settings and last result; ``evaluate`` hands the submission pipeline
one :class:`~amzn_nova_forge.model._context.JobContext` and keeps what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.config import ForgeConfig, JobCachingConfig
from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.evaluator.inspect_lens_config import InspectLensConfig
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model._context import JobContext
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.model.result._evaluation import EvaluationResult
    from amzn_nova_forge.model.result._training import TrainingResult

__all__ = ["EvalTaskConfig", "ForgeEvaluator"]


@dataclass(frozen=True)
class EvalTaskConfig:
    """Per-task settings of one evaluation job.

    Args:
        subtask: A benchmark subtask, e.g. ``"abstract_algebra"`` for MMLU.
        processor: Bring-your-own-metrics Lambda for GEN_QA:
            ``{"lambda_arn": ..., "preprocessing": {"enabled": True}, "aggregation": "average"}``.
        rl_env: Reward function of RFT evaluation: ``{"reward_lambda_arn": "arn:aws:lambda:..."}``.
        override_data_s3_path: Evaluation data for this job instead of the evaluator's ``data_s3_path``.
        evaluate_base_model: Evaluate the base model (no ``model_path`` / ``job_result`` allowed).

    Example:
        >>> EvalTaskConfig(subtask="abstract_algebra").subtask
        'abstract_algebra'
    """

    subtask: str | None = None
    processor: Mapping[str, Any] | None = None
    rl_env: Mapping[str, Any] | None = None
    override_data_s3_path: str | None = None
    evaluate_base_model: bool = False

    def __post_init__(self) -> None:
        for name in ("subtask", "override_data_s3_path"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"EvalTaskConfig.{name} must be a non-empty string or None, got {value!r}.")
        for name in ("processor", "rl_env"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError(f"EvalTaskConfig.{name} must be a dict or None, got {type(value).__name__}.")
        if not isinstance(self.evaluate_base_model, bool):
            raise ConfigError(
                f"EvalTaskConfig.evaluate_base_model must be True or False, got {self.evaluate_base_model!r}."
            )


class ForgeEvaluator:
    """Evaluate a Nova model (base or trained) on a benchmark, your data or a judge.

    Args:
        model: The Nova model.
        infra: The runtime manager the evaluation jobs run on.
        data_s3_path: Evaluation data for BYOD tasks (gen_qa, llm_judge, rft_eval …).
        config: Shared settings (output path, validation, MLflow, caching, image).
        region: The AWS region; must match the runtime manager's (default: the runtime's).
        hub_content_version: A recipe version from the SageMaker Hub (None: the offline catalogue).

    Raises:
        ConfigError: An invalid model, runtime, path or configuration.

    Example:
        >>> evaluator = ForgeEvaluator(model=Model.NOVA_MICRO,  # doctest: +SKIP
        ...     infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2),
        ...     data_s3_path="s3://my-bucket/eval-data/data.jsonl")
        >>> result = evaluator.evaluate(job_name="my-eval", eval_task=EvaluationTask.MMLU)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Model,
        infra: RuntimeManager,
        data_s3_path: str | None = None,
        config: ForgeConfig | None = None,
        region: str | None = None,
        hub_content_version: str | None = None,
    ) -> None:
        from amzn_nova_forge.model import _checks
        from amzn_nova_forge.trainer._trainer import _check_version, _coerce_config, check_region

        self._config = _coerce_config(config)
        self.model = model
        self.infra = _checks.check_setup(
            model=model,
            method=TrainingMethod.EVALUATION,
            infra=infra,
            mlflow_monitor=self._config.mlflow_monitor,
            paths={"data_s3_path": data_s3_path, "output_s3_path": self._config.output_s3_path},
        )
        self.region = check_region(region, self.infra)
        self.data_s3_path = data_s3_path
        self.hub_content_version = _check_version(hub_content_version)
        self._resolved_output: str | None = None
        #: The most recent evaluation job started by this evaluator.
        self.last_evaluation_result: EvaluationResult | None = None

    @property
    def config(self) -> ForgeConfig:
        """The shared settings (``ForgeConfig``)."""
        return self._config

    @property
    def platform(self) -> Platform:
        """The :class:`Platform` of ``infra``."""
        return Platform(self.infra.platform)

    @property
    def output_s3_path(self) -> str | None:
        """``config.output_s3_path``, else the default location used by the first job (None before it)."""
        return self._config.output_s3_path or self._resolved_output

    def _context(self) -> JobContext:
        from amzn_nova_forge.model._context import CacheSettings, JobContext

        cfg = self._config
        cache = None
        if cfg.enable_job_caching:
            cache = CacheSettings(cfg.resolved_job_cache_dir, cfg.job_caching_config or JobCachingConfig())
        return JobContext(
            model=self.model,
            method=TrainingMethod.EVALUATION,
            infra=self.infra,
            output_s3_path=self.output_s3_path,
            validation=cfg.validation,
            generated_recipe_dir=cfg.generated_recipe_dir,
            mlflow_monitor=cfg.mlflow_monitor,
            image_uri=cfg.image_uri,
            cache=cache,
            hub_content_version=self.hub_content_version,
        )

    def evaluate(
        self,
        job_name: str,
        eval_task: EvaluationTask,
        model_path: str | None = None,
        task_config: EvalTaskConfig | None = None,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        dry_run: bool = False,
        job_result: TrainingResult | None = None,
        rft_multiturn_infra: Any = None,
        inspect_lens_config: InspectLensConfig | None = None,
    ) -> EvaluationResult | None:
        """Build the evaluation recipe and start the job (None when ``dry_run``).

        The model evaluated is ``model_path``, else ``job_result``'s checkpoint, else the base model.

        Args:
            job_name: Your name for the job (a unique suffix is added).
            eval_task: The task, e.g. ``EvaluationTask.MMLU`` or ``EvaluationTask.GEN_QA``.
            model_path: The checkpoint to evaluate.
            task_config: Subtask, processor, rl_env, data override, base-model flag.
            recipe_path: Your own evaluation recipe to merge.
            overrides: Inference settings, e.g. ``{"max_new_tokens": 2048, "temperature": 0}``.
            dry_run: Build and check only.
            job_result: A completed training result whose checkpoint is evaluated.
            rft_multiturn_infra: An ``RFTMultiturnInfrastructure`` driving ``RFT_MULTITURN_EVAL``.
            inspect_lens_config: The benchmarks and inference provider of ``EvaluationTask.INSPECT_LENS``
                (its ``overrides`` are decoding settings: temperature, top_p, top_k, max_tokens,
                max_connections, max_retries, timeout).

        Returns:
            An :class:`EvaluationResult` (per platform): ``.wait()``, then ``.get()`` / ``.show()``.

        Raises:
            ConfigError: Unknown task, BYOD task without data, incompatible checkpoint, conflicting settings.
            RecipeOverrideError: An override or subtask the recipe does not accept.
            ValidationCheckError: An IAM / infrastructure check failed (nothing was created).

        Example:
            >>> evaluator.evaluate(job_name="my-eval-job", eval_task=EvaluationTask.MMLU,  # doctest: +SKIP
            ...     model_path="s3://my-bucket/checkpoints/my-model", overrides={"max_new_tokens": 2048})
        """
        return self._evaluate(
            job_name=job_name,
            eval_task=eval_task,
            model_path=model_path,
            task_config=task_config,
            recipe_path=recipe_path,
            overrides=overrides,
            dry_run=dry_run,
            job_result=job_result,
            rft_multiturn_infra=rft_multiturn_infra,
            inspect_lens_config=inspect_lens_config,
        )

    def upload_benchmarks(self, local_dir: str, s3_path: str) -> str:
        """Upload a folder of Inspect AI benchmarks for ``EvaluationTask.INSPECT_LENS``; returns the S3 prefix.

        ``.py`` files (subfolders kept), ``pyproject.toml`` and ``requirements.txt`` are uploaded
        (encrypted with ``config.kms_key_id`` when set). Use the returned URI as
        ``InspectLensConfig(benchmarks_path=...)``.

        Raises:
            ConfigError: Not a folder, no ``@task`` function in it, over 256 MiB, or not an ``s3://`` target.

        Example:
            >>> path = evaluator.upload_benchmarks("./my_benchmarks", "s3://my-bucket/benchmarks/")  # doctest: +SKIP
        """
        from amzn_nova_forge.evaluator._inspect_lens import upload_benchmarks

        return upload_benchmarks(local_dir, s3_path, kms_key_id=self._config.kms_key_id)

    def _evaluate(
        self,
        *,
        job_name: str,
        eval_task: EvaluationTask,
        model_path: str | None,
        task_config: EvalTaskConfig | None,
        recipe_path: str | None,
        overrides: Mapping[str, Any] | None,
        dry_run: bool,
        job_result: BaseJobResult | None,
        rft_multiturn_infra: Any,
        fallback_result: BaseJobResult | None = None,
        inspect_lens_config: InspectLensConfig | None = None,
    ) -> EvaluationResult | None:
        from amzn_nova_forge.model import _evaluate

        try:
            task = EvaluationTask(eval_task)
        except ValueError:
            raise ConfigError(
                f"Unknown eval_task {eval_task!r}; choose one of {', '.join(t.name for t in EvaluationTask)}."
            ) from None
        task_config = task_config if task_config is not None else EvalTaskConfig()
        if not isinstance(task_config, EvalTaskConfig):
            raise ConfigError(f"task_config must be an EvalTaskConfig, got {type(task_config).__name__}.")
        if task is EvaluationTask.INSPECT_LENS:
            return self._evaluate_inspect_lens(
                job_name=job_name,
                config=inspect_lens_config,
                model_path=model_path,
                job_result=job_result or fallback_result,
                overrides=overrides,
                recipe_path=recipe_path,
                dry_run=bool(dry_run),
            )
        if inspect_lens_config is not None:
            raise ConfigError(f"inspect_lens_config is for EvaluationTask.INSPECT_LENS, not {task.name}; drop it.")
        from amzn_nova_forge.evaluator import _mtrl

        if _mtrl.is_mtrl_eval(self.platform, task):  # AgentRFTEvaluation job(s), no recipe
            if recipe_path:
                raise ConfigError("RFT_MULTITURN_EVAL on SMTJServerless takes no recipe; drop recipe_path.")
            mtrl = _mtrl.evaluate_mtrl(
                self,
                job_name=job_name,
                model_path=model_path,
                task_config=task_config,
                overrides=overrides,
                dry_run=bool(dry_run),
                job_result=job_result or fallback_result,
            )
            self.last_evaluation_result = mtrl or self.last_evaluation_result
            return mtrl
        if task_config.evaluate_base_model:
            if model_path or job_result is not None:
                raise ConfigError(
                    "EvalTaskConfig(evaluate_base_model=True) evaluates the base model: drop model_path / job_result."
                )
            fallback_result = None
        submission = _evaluate.evaluate(
            self._context(),
            job_name=job_name,
            eval_task=task,
            model_path=model_path,
            subtask=task_config.subtask,
            data_s3_path=task_config.override_data_s3_path or (self.data_s3_path if task.is_byod else None),
            recipe_path=recipe_path,
            overrides=overrides,
            processor=task_config.processor,
            rl_env=task_config.rl_env,
            dry_run=bool(dry_run),
            job_result=job_result,
            fallback_result=fallback_result,
            rft_multiturn_infra=rft_multiturn_infra,
        )
        if submission is None:
            return None
        if self._config.output_s3_path is None:
            self._resolved_output = submission.output_s3_path
        self.last_evaluation_result = submission.result
        return submission.result

    def _evaluate_inspect_lens(
        self,
        *,
        job_name: str,
        config: InspectLensConfig | None,
        model_path: str | None,
        job_result: BaseJobResult | None,
        overrides: Mapping[str, Any] | None,
        recipe_path: str | None,
        dry_run: bool,
    ) -> EvaluationResult | None:
        from amzn_nova_forge.evaluator._inspect_lens import run_inspect_lens
        from amzn_nova_forge.model._submit import resolve_output_path
        from amzn_nova_forge.model.result._training import TrainingResult

        if recipe_path:
            raise ConfigError(
                "INSPECT_LENS takes no recipe (its settings are the InspectLensConfig); drop recipe_path."
            )
        if job_result is not None and not isinstance(job_result, TrainingResult):
            raise ConfigError(f"job_result must be a training result, got {type(job_result).__name__}.")
        ctx = self._context()
        output = resolve_output_path(ctx, None, dry_run=dry_run)
        if output is None:
            raise ConfigError("INSPECT_LENS runs on SageMaker: give ForgeConfig(output_s3_path='s3://...').")
        monitor = self._config.mlflow_monitor
        result = run_inspect_lens(
            infra=self.infra,
            model=self.model,
            region=self.region or ctx.region or "us-east-1",
            job_name=job_name,
            config=config,
            output_s3_path=output,
            model_path=model_path,
            job_result=job_result,
            overrides=overrides,
            image_uri=self._config.image_uri,
            generated_recipe_dir=self._config.generated_recipe_dir,
            mlflow_tracking_uri=monitor.tracking_uri if monitor is not None else None,
            mlflow_experiment_name=monitor.experiment_name if monitor is not None else None,
            dry_run=dry_run,
        )
        if result is not None:
            if self._config.output_s3_path is None:
                self._resolved_output = output
            self.last_evaluation_result = result
        return result

    def get_logs(
        self,
        job_result: EvaluationResult | None = None,
        job_id: str | None = None,
        started_time: datetime | None = None,
        limit: int | None = None,
        start_from_head: bool = False,
        end_time: int | str | None = None,
    ) -> None:
        """Print the logs of an evaluation job (``job_result``, else ``job_id``, else the last job).

        Raises:
            ConfigError: No job given and none started by this evaluator.

        Example:
            >>> evaluator.get_logs(job_result=eval_result, limit=50)  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _logs
        from amzn_nova_forge.monitor._mtrl import show_mtrl_logs

        if job_result is None and job_id is None:
            job_result = self.last_evaluation_result
        if show_mtrl_logs(job_result, limit=limit):
            return
        _logs.show_logs(
            self.infra,
            job_result=job_result,
            job_id=job_id,
            started_time=started_time,
            limit=limit,
            start_from_head=start_from_head,
            end_time=end_time,
        )

    def __repr__(self) -> str:
        return f"ForgeEvaluator(model={self.model.name}, platform={self.platform.value})"
