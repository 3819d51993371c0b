"""``NovaModelCustomizer``: the older all-in-one interface, a facade over the service classes.

It holds one :class:`~amzn_nova_forge.trainer.ForgeTrainer` and one
:class:`~amzn_nova_forge.evaluator.ForgeEvaluator` sharing one ``ForgeConfig``; its
attributes read and write theirs, and ``train`` / ``evaluate`` / ``get_config`` delegate to
them. ``batch_inference`` and ``get_logs`` use the same pipeline modules (``_batch``,
``_logs``); ``deploy`` / ``invoke_inference`` hand the customizer to ``_deploy`` / ``_invoke``.
Both interfaces are first-class: no deprecation warning. Provider request shapes live only
under ``manager/``, ``model/_deploy*`` backends and ``iam/``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.config import ForgeConfig, JobCachingConfig, ValidationConfig
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.model._customizer_deploy import TwoStepDeployMixin

if TYPE_CHECKING:
    from amzn_nova_forge.evaluator._evaluator import ForgeEvaluator
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model._context import JobContext
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.model.result._deployment import DeploymentResult
    from amzn_nova_forge.model.result._evaluation import EvaluationResult
    from amzn_nova_forge.model.result._inference import InferenceResult
    from amzn_nova_forge.model.result._training import TrainingResult
    from amzn_nova_forge.monitor._mlflow import MLflowMonitor
    from amzn_nova_forge.recipe._config import RecipeConfig
    from amzn_nova_forge.trainer._trainer import ForgeTrainer

__all__ = ["NovaModelCustomizer"]

logger = logging.getLogger(__name__)


class NovaModelCustomizer(TwoStepDeployMixin):
    """Customize, evaluate and deploy an Amazon Nova model (or rehearse it locally).

    Args:
        model: The Nova model, e.g. ``Model.NOVA_LITE_2``.
        method: The customization method, e.g. ``TrainingMethod.SFT_LORA``.
        infra: A runtime manager (``SMTJRuntimeManager``, ``SMTJServerlessRuntimeManager``,
            ``SMHPRuntimeManager``, ``BedrockRuntimeManager`` or ``LocalRuntimeManager``).
        data_s3_path: Training data (S3 URI; a local path for the local runtime).
        output_s3_path: Output location; generated when absent.
        model_path: Checkpoint to start from (iterative training).
        validation_config: ``{"iam": bool, "infra": bool, "recipe": bool}``; all True by default.
            The iam / infra checks call AWS; ``{"iam": False, "infra": False}`` with
            ``train(..., dry_run=True)`` checks a configuration offline.
        generated_recipe_dir: Local directory where the generated recipe YAML is written.
        mlflow_monitor: MLflow tracking (SageMaker platforms only).
        deployment_mode: What ``deploy`` does when the endpoint name exists.
        data_mixing_enabled: Enable data mixing (CPT/SFT on HyperPod).
        enable_job_caching: Reuse results of identical jobs from ``.cached-nova-jobs/``.

    Raises:
        ValueError: Invalid model, method, platform combination or validation_config key.

    Example:
        >>> infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)  # doctest: +SKIP
        >>> customizer = NovaModelCustomizer(  # doctest: +SKIP
        ...     model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra=infra,
        ...     data_s3_path="s3://my-bucket/training-data/", output_s3_path="s3://my-bucket/output/")
    """

    def __init__(
        self,
        model: Model,
        method: TrainingMethod,
        infra: RuntimeManager,
        data_s3_path: str | None = None,
        output_s3_path: str | None = None,
        model_path: str | None = None,
        validation_config: dict[str, bool] | ValidationConfig | None = None,
        generated_recipe_dir: str | None = None,
        mlflow_monitor: MLflowMonitor | None = None,
        deployment_mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS,
        data_mixing_enabled: bool = False,
        enable_job_caching: bool = False,
        image_uri: str | None = None,
        is_multimodal: bool | None = None,
        hub_content_version: str | None = None,
    ) -> None:
        from amzn_nova_forge._config import job_cache_dir
        from amzn_nova_forge.evaluator._evaluator import ForgeEvaluator
        from amzn_nova_forge.trainer._trainer import ForgeTrainer

        if not isinstance(model, Model):
            raise ConfigError(f"model must be a Model enum (e.g. Model.NOVA_LITE_2), got {model!r}.")
        # The published customizer keeps its cache in ./.cached-nova-jobs and compares instance settings too.
        self._config = ForgeConfig(
            output_s3_path=output_s3_path,
            generated_recipe_dir=generated_recipe_dir,
            validation_config=validation_config,
            image_uri=image_uri,
            mlflow_monitor=mlflow_monitor,
            enable_job_caching=bool(enable_job_caching),
            job_cache_dir=job_cache_dir(),
            job_caching_config=JobCachingConfig(include_infra=True),
        )
        self._trainer: ForgeTrainer = ForgeTrainer(
            model,
            method,
            infra,
            training_data_s3_path=data_s3_path,
            model_s3_path=model_path,
            data_mixing_enabled=data_mixing_enabled,
            config=self._config,
            is_multimodal=is_multimodal,
            hub_content_version=hub_content_version,
        )
        self._evaluator: ForgeEvaluator = ForgeEvaluator(
            model, infra, config=self._config, hub_content_version=hub_content_version
        )
        # The older interface hands out a live dict: ``customizer.validation_config["iam"] = False`` works.
        self._validation = self._config.validation.to_dict()
        self._config.validation_config = self._validation
        self.deployment_mode = DeploymentMode(deployment_mode)
        #: The most recent job started by this customizer (training, evaluation or batch inference).
        self.job_result: BaseJobResult | None = None
        #: The most recent deployment.
        self.last_deployment: DeploymentResult | None = None

    # ---- settings (read and written through the service classes) -----------------------------
    @property
    def trainer(self) -> ForgeTrainer:
        """The :class:`ForgeTrainer` this customizer trains with."""
        return self._trainer

    @property
    def evaluator(self) -> ForgeEvaluator:
        """The :class:`ForgeEvaluator` this customizer evaluates with."""
        return self._evaluator

    @property
    def config(self) -> ForgeConfig:
        """The ``ForgeConfig`` shared by the trainer and the evaluator."""
        return self._config

    @property
    def model(self) -> Model:
        """The Nova model."""
        return self._trainer.model

    @property
    def method(self) -> TrainingMethod:
        """The customization method."""
        return self._trainer.method

    @property
    def infra(self) -> RuntimeManager:
        """The runtime manager."""
        return self._trainer.infra

    @property
    def platform(self) -> Platform:
        """The :class:`Platform` of ``infra``."""
        return self._trainer.platform

    @property
    def region(self) -> str | None:
        """The AWS region of ``infra`` (None for the local runtime)."""
        return self._trainer.infra.region

    @property
    def data_s3_path(self) -> str | None:
        """Training data (``ForgeTrainer.training_data_s3_path``)."""
        return self._trainer.training_data_s3_path

    @data_s3_path.setter
    def data_s3_path(self, value: str | None) -> None:
        self._trainer.training_data_s3_path = value

    @property
    def model_path(self) -> str | None:
        """The checkpoint to start from (``ForgeTrainer.model_s3_path``)."""
        return self._trainer.model_s3_path

    @model_path.setter
    def model_path(self, value: str | None) -> None:
        self._trainer.model_s3_path = value

    @property
    def output_s3_path(self) -> str | None:
        """Output location (the default location once the first job used it, when not given)."""
        return self._config.output_s3_path or self._trainer.output_s3_path or self._evaluator.output_s3_path

    @output_s3_path.setter
    def output_s3_path(self, value: str | None) -> None:
        self._config.output_s3_path = value

    @property
    def validation_config(self) -> dict[str, bool]:
        """``{"iam": bool, "infra": bool, "recipe": bool}`` (a live dict: changing a key changes the checks)."""
        return self._validation

    @validation_config.setter
    def validation_config(self, value: dict[str, bool] | ValidationConfig | None) -> None:
        self._validation = ValidationConfig.coerce(value).to_dict()
        self._config.validation_config = self._validation

    @property
    def generated_recipe_dir(self) -> str | None:
        """Where generated recipe YAML files are written (a temporary folder when None)."""
        return self._config.generated_recipe_dir

    @generated_recipe_dir.setter
    def generated_recipe_dir(self, value: str | None) -> None:
        self._config.generated_recipe_dir = value

    @property
    def mlflow_monitor(self) -> MLflowMonitor | None:
        """MLflow tracking of the jobs."""
        return self._config.mlflow_monitor

    @mlflow_monitor.setter
    def mlflow_monitor(self, value: MLflowMonitor | None) -> None:
        self._config.mlflow_monitor = value

    @property
    def image_uri(self) -> str | None:
        """A container image replacing the catalogue's for every job (None: the catalogue's)."""
        return self._config.image_uri

    @image_uri.setter
    def image_uri(self, value: str | None) -> None:
        self._config.image_uri = value

    @property
    def enable_job_caching(self) -> bool:
        """Reuse the result of an identical earlier job (cache in ``NOVA_FORGE_JOB_CACHE_DIR``)."""
        return self._config.enable_job_caching

    @enable_job_caching.setter
    def enable_job_caching(self, value: bool) -> None:
        self._config.enable_job_caching = bool(value)

    @property
    def data_mixing_enabled(self) -> bool:
        """Whether data mixing is on."""
        return self._trainer.data_mixing_enabled

    @property
    def is_multimodal(self) -> bool:
        """Whether the training data has images or video (detected from the data when not given)."""
        return self._trainer.is_multimodal

    @is_multimodal.setter
    def is_multimodal(self, value: bool | None) -> None:
        self._trainer.is_multimodal = value

    @property
    def hub_content_version(self) -> str | None:
        """The SageMaker Hub recipe version pinned (None: the offline catalogue)."""
        return self._trainer.hub_content_version

    @property
    def last_training_result(self) -> TrainingResult | None:
        """The most recent training job (evaluated and deployed by default)."""
        return self._trainer.last_training_result

    @last_training_result.setter
    def last_training_result(self, value: TrainingResult | None) -> None:
        self._trainer.last_training_result = value

    def _context(self) -> JobContext:
        """The job context of batch inference (the evaluator's: an evaluation recipe)."""
        from dataclasses import replace

        return replace(self._evaluator._context(), output_s3_path=self.output_s3_path)

    # ---- data mixing -------------------------------------------------------------------------
    def get_data_mixing_config(self) -> dict[str, Any]:
        """Return the current data mixing configuration.

        Example:
            >>> customizer.get_data_mixing_config()  # doctest: +SKIP
            {'customer_data_percent': 50, 'nova_code_percent': 30, 'nova_general_percent': 70}
        """
        return self._trainer.get_data_mixing_config()

    def set_data_mixing_config(self, config: dict[str, Any]) -> None:
        """Set the data mixing configuration (percentages 0–100; Nova percentages sum to 100).

        Raises:
            ValueError: Data mixing is not enabled, or the configuration is invalid.

        Example:
            >>> customizer.set_data_mixing_config(  # doctest: +SKIP
            ...     {"customer_data_percent": 50, "nova_code_percent": 30, "nova_general_percent": 70})
        """
        self._trainer.set_data_mixing_config(config)

    # ---- jobs --------------------------------------------------------------------------------
    def train(
        self,
        job_name: str,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        rft_lambda_arn: str | None = None,
        rft_multiturn_infra: Any = None,
        validation_data_s3_path: str | None = None,
        val_check_interval: int | None = None,
        dry_run: bool | None = False,
    ) -> TrainingResult | None:
        """Build the recipe, run the checks and start a training job (``ForgeTrainer.train``).

        Override keys depend on the recipe of (model, method, platform): list them with
        :meth:`get_config` or ``nova-forge recipe keys --model nova_lite_2 --method sft_lora``
        (Nova 2 Lite recipes count ``max_steps``, Nova 1 recipes ``max_epochs``). An unknown key or
        a value out of range raises ``RecipeOverrideError`` naming the closest keys and the range.

        Args:
            job_name: Your name for the job (a unique suffix is added).
            recipe_path: Your own recipe YAML, merged under ``overrides``.
            overrides: Recipe overrides.
            rft_lambda_arn: The reward Lambda of an RFT job; wins over the runtime's.
            rft_multiturn_infra: An ``RFTMultiturnInfrastructure`` (RFT multi-turn methods).
            validation_data_s3_path: Validation (holdout) data.
            val_check_interval: Validate every this many steps (with validation data).
            dry_run: Build and validate only.

        Returns:
            A ``TrainingResult`` (``SMTJTrainingResult``, ``SMHPTrainingResult``,
            ``BedrockTrainingResult`` or ``LocalTrainingResult``), or None when ``dry_run``.

        Raises:
            UnsupportedFeatureError: The method is not offered for this model on this platform.
            RecipeOverrideError: An unknown override key or a value out of range.
            ValidationCheckError: An IAM / infrastructure check failed (``validation_config``).
            AWSServiceError: An AWS call failed (e.g. no credentials: the message says how to run offline).

        Example:
            >>> result = customizer.train(job_name="my-training-job",  # doctest: +SKIP
            ...     overrides={"max_epochs": 10, "lr": 5e-6, "warmup_steps": 20, "global_batch_size": 128})
        """
        result = self._trainer._train(
            job_name=job_name,
            recipe_path=recipe_path,
            overrides=overrides,
            rft_lambda_arn=rft_lambda_arn,
            dry_run=dry_run,
            rft_multiturn_infra=rft_multiturn_infra,
            validation_data_s3_path=validation_data_s3_path,
            val_check_interval=val_check_interval,
        )
        if result is not None:
            self.job_result = result
        return result

    def get_config(self, overrides: dict[str, Any] | None = None) -> RecipeConfig:
        """The overridable parameters of the training recipe (``ForgeTrainer.get_config``).

        Example:
            >>> customizer.get_config()["lr"].max  # doctest: +SKIP
            1.0
        """
        return self._trainer.get_config(overrides)

    def evaluate(
        self,
        job_name: str,
        eval_task: EvaluationTask,
        model_path: str | None = None,
        subtask: str | None = None,
        data_s3_path: str | None = None,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        processor: dict[str, Any] | None = None,
        rl_env: dict[str, Any] | None = None,
        rft_multiturn_infra: Any = None,
        dry_run: bool | None = False,
        job_result: TrainingResult | None = None,
    ) -> EvaluationResult | None:
        """Build the evaluation recipe and start an evaluation job (``ForgeEvaluator.evaluate``).

        The model evaluated is ``model_path``, else ``job_result``'s checkpoint, else this customizer's
        last training job's, else the base model.

        Args:
            job_name: Name of the evaluation job.
            eval_task: The benchmark or BYOD task, e.g. ``EvaluationTask.MMLU``, ``EvaluationTask.GEN_QA``.
            model_path: Checkpoint to evaluate (``s3://...``; a local checkpoint folder on the local runtime).
            subtask: A benchmark subtask, e.g. ``"abstract_algebra"`` for MMLU.
            data_s3_path: Your data for BYOD tasks (gen_qa, llm_judge, rft_eval).
            recipe_path: Your own evaluation recipe to merge.
            overrides: Inference settings, e.g. ``{"max_new_tokens": 2048, "temperature": 0}``.
            processor: Custom processor config (BYOM evaluation).
            rl_env: Reward-function config for ``RFT_EVAL``.
            rft_multiturn_infra: An ``RFTMultiturnInfrastructure`` driving ``RFT_MULTITURN_EVAL``.
            dry_run: Build and validate only.
            job_result: A completed ``TrainingResult`` whose checkpoint is evaluated.

        Returns:
            An ``EvaluationResult``; ``.wait()`` then ``.get()`` / ``.show()`` for the metrics.

        Example:
            >>> eval_result = customizer.evaluate(job_name="my-eval", eval_task=EvaluationTask.MMLU,  # doctest: +SKIP
            ...     job_result=training_result)
            >>> eval_result.wait(); eval_result.show()  # doctest: +SKIP
        """
        from amzn_nova_forge.evaluator._evaluator import EvalTaskConfig

        result = self._evaluator._evaluate(
            job_name=job_name,
            eval_task=eval_task,
            model_path=model_path,
            task_config=EvalTaskConfig(
                subtask=subtask, processor=processor, rl_env=rl_env, override_data_s3_path=data_s3_path
            ),
            recipe_path=recipe_path,
            overrides=overrides,
            dry_run=bool(dry_run),
            job_result=job_result,
            rft_multiturn_infra=rft_multiturn_infra,
            fallback_result=self.last_training_result,
        )
        if result is not None:
            self.job_result = result
        return result

    def batch_inference(
        self,
        job_name: str,
        input_path: str,
        output_s3_path: str,
        model_path: str | None = None,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        dry_run: bool | None = False,
        job_result: TrainingResult | None = None,
    ) -> InferenceResult | None:
        """Start a batch inference job on a trained model (SageMaker platforms and local).

        Args:
            job_name: Name of the job.
            input_path: JSONL of gen_qa rows (``query``, ``response``, optional ``system``, ``metadata``).
            output_s3_path: Where ``inference_results.jsonl`` is also written.
            model_path: Checkpoint to run (default: ``job_result``'s, else this customizer's last
                training result's, else the base model).
            recipe_path: Your own recipe to merge.
            overrides: Inference settings, e.g. ``{"max_new_tokens": 512}``.
            dry_run: Build and validate only.
            job_result: A completed ``TrainingResult`` whose checkpoint is run.

        Returns:
            An inference result; ``.wait()`` then ``.get()`` returns ``{"inference_results": [...]}``.

        Example:
            >>> inference_result = customizer.batch_inference(job_name="my-batch",  # doctest: +SKIP
            ...     input_path="s3://my-bucket/eval.jsonl", output_s3_path="s3://my-bucket/batch-out/")
            >>> inference_result.wait(); inference_result.show()  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _batch

        submission = _batch.batch_inference(
            self._context(),
            job_name=job_name,
            input_path=input_path,
            output_s3_path=output_s3_path,
            model_path=model_path,
            recipe_path=recipe_path,
            overrides=overrides,
            dry_run=bool(dry_run),
            job_result=job_result,
            fallback_result=self.last_training_result,
        )
        if submission is None:
            return None
        self.job_result = submission.result
        return submission.result

    def get_logs(
        self,
        limit: int | None = None,
        start_from_head: bool = False,
        end_time: int | str | None = None,
    ) -> None:
        """Print the logs of the most recent job started by this customizer.

        Args:
            limit: At most this many log events.
            start_from_head: Oldest first (default: the latest events).
            end_time: Only events up to this time.

        Raises:
            ConfigError: No job started yet.

        Example:
            >>> customizer.get_logs(limit=50, start_from_head=True)  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _logs

        if self.job_result is None:
            raise ConfigError(
                "This customizer has not started a job yet; call train(), evaluate() or batch_inference() first, "
                "or use CloudWatchLogMonitor.from_job_id(...) for an existing job."
            )
        _logs.show_logs(
            self.infra, job_result=self.job_result, limit=limit, start_from_head=start_from_head, end_time=end_time
        )

    def deploy(
        self,
        model_artifact_path: str | None = None,
        deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
        unit_count: int | None = None,
        endpoint_name: str | None = None,
        job_result: TrainingResult | None = None,
        execution_role_name: str | None = None,
        sagemaker_instance_type: str | None = "ml.p5.48xlarge",
        sagemaker_environment_variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> DeploymentResult:
        """Deploy the trained model to Bedrock (on-demand or provisioned), SageMaker or locally.

        The checkpoint is ``model_artifact_path``, else ``job_result``'s (which must be
        Completed), else this customizer's last training job. Waits until the endpoint is
        ready. Extra keyword arguments: ``wait`` (default True), ``timeout`` (seconds),
        ``poll_interval`` (seconds), and the older names ``pt_units`` and
        ``bedrock_execution_role_name``.

        Raises:
            ValueError: Invalid platform, unit count, name, instance type or environment.
            DeploymentError: The name exists (see ``deployment_mode``), a call failed or the
                endpoint did not come up; ``.created`` lists the resources left in place.

        Example:
            >>> deployment = customizer.deploy(  # doctest: +SKIP
            ...     model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
            ...     deploy_platform=DeployPlatform.BEDROCK_OD, endpoint_name="my-custom-nova-model-bedrock")
            >>> print(deployment.endpoint.uri, deployment.status)  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _deploy

        return _deploy.deploy(
            self,
            model_artifact_path=model_artifact_path,
            deploy_platform=deploy_platform,
            unit_count=unit_count,
            endpoint_name=endpoint_name,
            job_result=job_result,
            execution_role_name=execution_role_name,
            sagemaker_instance_type=sagemaker_instance_type,
            sagemaker_environment_variables=sagemaker_environment_variables,
            **kwargs,
        )

    def invoke_inference(self, request_body: dict[str, Any], endpoint_arn: str | None = None) -> Any:
        """Send one inference request to a deployed model; returns a ``SingleInferenceResult``.

        Args:
            request_body: The request, e.g. ``{"messages": [{"role": "user", "content": "Hi"}],
                "max_tokens": 100}`` (Bedrock/SageMaker: the Nova request body; local: OpenAI chat).
            endpoint_arn: The endpoint (ARN, or the local URL); default: this customizer's last deployment.

        Example:
            >>> customizer.deploy(deploy_platform=DeployPlatform.LOCAL, job_result=result)  # doctest: +SKIP
            >>> customizer.invoke_inference(  # doctest: +SKIP
            ...     request_body={"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 32})
        """
        from amzn_nova_forge.model import _invoke

        return _invoke.invoke_inference(self, request_body=request_body, endpoint_arn=endpoint_arn)

    def __repr__(self) -> str:
        return (
            f"NovaModelCustomizer(model={self.model.name}, method={self.method.name}, platform={self.platform.value})"
        )
