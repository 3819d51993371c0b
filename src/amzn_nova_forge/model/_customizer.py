"""``NovaModelCustomizer``: the entry point. It orchestrates and never builds an AWS request.

Each public verb is a thin method that hands the customizer to one module that does
that job (``_train``, ``_evaluate``, ``_batch``, ``_deploy``, ``_invoke``, ``_logs``,
``_mixing``); those modules use the recipe builder, the checks, the job cache and the
runtime's ``execute``. Provider request shapes live only under ``manager/``,
``model/_deploy*`` backends and ``iam/``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, EvaluationTask, Model, TrainingMethod
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model.result import (
        BaseJobResult,
        DeploymentResult,
        EvaluationResult,
        InferenceResult,
        TrainingResult,
    )
    from amzn_nova_forge.monitor import MLflowMonitor

__all__ = ["NovaModelCustomizer"]

logger = logging.getLogger(__name__)

_DEFAULT_VALIDATION = {"iam": True, "infra": True, "recipe": True}


class NovaModelCustomizer:
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
        validation_config: dict[str, bool] | None = None,
        generated_recipe_dir: str | None = None,
        mlflow_monitor: MLflowMonitor | None = None,
        deployment_mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS,
        data_mixing_enabled: bool = False,
        enable_job_caching: bool = False,
    ) -> None:
        if not isinstance(model, Model):
            raise ConfigError(f"model must be a Model enum (e.g. Model.NOVA_LITE_2), got {model!r}.")
        if not isinstance(method, TrainingMethod):
            try:
                method = TrainingMethod(method)
            except ValueError:
                raise ConfigError(
                    f"method must be a TrainingMethod, got {method!r}. "
                    f"Choose from: {', '.join(m.name for m in TrainingMethod)}."
                ) from None
        cfg = dict(_DEFAULT_VALIDATION)
        for key, value in (validation_config or {}).items():
            if key not in cfg:
                raise ConfigError(f"Unknown validation_config key {key!r}; allowed keys: {', '.join(sorted(cfg))}.")
            cfg[key] = bool(value)
        self.model = model
        self.method = method
        self.infra = infra
        self.data_s3_path = data_s3_path
        self._output_s3_path = output_s3_path
        self.model_path = model_path
        self.validation_config = cfg
        self.generated_recipe_dir = generated_recipe_dir
        self.mlflow_monitor = mlflow_monitor
        self.deployment_mode = DeploymentMode(deployment_mode)
        self.data_mixing_enabled = data_mixing_enabled
        self.enable_job_caching = enable_job_caching
        #: The most recent job started by this customizer (training, evaluation or batch inference).
        self.job_result: BaseJobResult | None = None
        #: The most recent training job.
        self.last_training_result: TrainingResult | None = None
        #: The most recent deployment.
        self.last_deployment: DeploymentResult | None = None
        self._data_mixing_config: dict[str, Any] | None = None
        from amzn_nova_forge.model import _checks

        _checks.check_customizer(self)

    @property
    def platform(self) -> Any:
        """The :class:`Platform` of ``infra``."""
        return self.infra.platform

    @property
    def region(self) -> str | None:
        """The AWS region of ``infra`` (None for the local runtime)."""
        return getattr(self.infra, "region", None)

    @property
    def output_s3_path(self) -> str | None:
        """Output location (generated on first use when not given)."""
        return self._output_s3_path

    @output_s3_path.setter
    def output_s3_path(self, value: str | None) -> None:
        self._output_s3_path = value

    # ---- data mixing -------------------------------------------------------------------------
    def get_data_mixing_config(self) -> dict[str, Any]:
        """Return the current data mixing configuration.

        Example:
            >>> customizer.get_data_mixing_config()  # doctest: +SKIP
            {'customer_data_percent': 50, 'nova_code_percent': 30, 'nova_general_percent': 70}
        """
        from amzn_nova_forge.model import _mixing

        return _mixing.get_config(self)

    def set_data_mixing_config(self, config: dict[str, Any]) -> None:
        """Set the data mixing configuration (percentages 0–100; Nova percentages sum to 100).

        Raises:
            ValueError: Data mixing is not enabled, or the configuration is invalid.

        Example:
            >>> customizer.set_data_mixing_config(  # doctest: +SKIP
            ...     {"customer_data_percent": 50, "nova_code_percent": 30, "nova_general_percent": 70})
        """
        from amzn_nova_forge.model import _mixing

        _mixing.set_config(self, config)

    # ---- jobs --------------------------------------------------------------------------------
    def train(
        self,
        job_name: str,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        rft_lambda_arn: str | None = None,
        validation_data_s3_path: str | None = None,
        dry_run: bool | None = False,
        rft_multiturn_infra: Any = None,
    ) -> TrainingResult | None:
        """Build the recipe, run the checks and start a training job.

        Override keys depend on the recipe of (model, method, platform): list them with
        ``nova-forge recipe keys --model nova_lite_2 --method sft_lora`` (Nova 2 Lite recipes count
        ``max_steps``, Nova 1 recipes ``max_epochs``). An unknown key or a value out of range raises
        ``RecipeOverrideError`` naming the closest keys and the allowed range.

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
        from amzn_nova_forge.model import _train

        return _train.train(
            self,
            job_name=job_name,
            recipe_path=recipe_path,
            overrides=overrides,
            rft_lambda_arn=rft_lambda_arn,
            validation_data_s3_path=validation_data_s3_path,
            dry_run=bool(dry_run),
            rft_multiturn_infra=rft_multiturn_infra,
        )

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
        dry_run: bool | None = False,
        job_result: TrainingResult | None = None,
    ) -> EvaluationResult | None:
        """Build the evaluation recipe and start an evaluation job (None when ``dry_run``).

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
            dry_run: Build and validate only.
            job_result: A completed ``TrainingResult`` whose checkpoint is evaluated.

        Returns:
            An ``EvaluationResult``; ``.wait()`` then ``.get()`` / ``.show()`` for the metrics.

        Example:
            >>> eval_result = customizer.evaluate(job_name="my-eval", eval_task=EvaluationTask.MMLU,  # doctest: +SKIP
            ...     job_result=training_result)
            >>> eval_result.wait(); eval_result.show()  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _evaluate

        return _evaluate.evaluate(
            self,
            job_name=job_name,
            eval_task=eval_task,
            model_path=model_path,
            subtask=subtask,
            data_s3_path=data_s3_path,
            recipe_path=recipe_path,
            overrides=overrides,
            processor=processor,
            rl_env=rl_env,
            dry_run=bool(dry_run),
            job_result=job_result,
        )

    def batch_inference(
        self,
        job_name: str,
        input_path: str,
        output_s3_path: str,
        model_path: str | None = None,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        dry_run: bool | None = False,
    ) -> InferenceResult | None:
        """Start a batch inference job on a trained model (SageMaker platforms and local).

        Args:
            job_name: Name of the job.
            input_path: JSONL of gen_qa rows (``query``, ``response``, optional ``system``, ``metadata``).
            output_s3_path: Where ``inference_results.jsonl`` is also written.
            model_path: Checkpoint to run (default: this customizer's last training result, else the base model).
            recipe_path: Your own recipe to merge.
            overrides: Inference settings, e.g. ``{"max_new_tokens": 512}``.
            dry_run: Build and validate only.

        Returns:
            An inference result; ``.wait()`` then ``.get()`` returns ``{"inference_results": [...]}``.

        Example:
            >>> inference_result = customizer.batch_inference(job_name="my-batch",  # doctest: +SKIP
            ...     input_path="s3://my-bucket/eval.jsonl", output_s3_path="s3://my-bucket/batch-out/")
            >>> inference_result.wait(); inference_result.show()  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _batch

        return _batch.batch_inference(
            self,
            job_name=job_name,
            input_path=input_path,
            output_s3_path=output_s3_path,
            model_path=model_path,
            recipe_path=recipe_path,
            overrides=overrides,
            dry_run=bool(dry_run),
        )

    def get_logs(
        self,
        limit: int | None = None,
        start_from_head: bool = False,
        end_time: str | None = None,
    ) -> None:
        """Print the logs of the most recent job started by this customizer.

        Args:
            limit: At most this many log events.
            start_from_head: Oldest first (default: the latest events).
            end_time: Only events up to this time.

        Example:
            >>> customizer.get_logs(limit=50, start_from_head=True)  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _logs

        _logs.get_logs(self, limit=limit, start_from_head=start_from_head, end_time=end_time)

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
            f"NovaModelCustomizer(model={self.model.name}, method={self.method.name}, "
            f"platform={getattr(self.platform, 'value', self.platform)})"
        )
