"""``ForgeInference``: real-time requests to deployed models, batch-inference jobs, and their logs.

``invoke`` goes through the deploy targets' request code (:mod:`amzn_nova_forge.model._invoke`,
also behind ``NovaModelCustomizer.invoke_inference``); ``invoke_batch`` starts the same
batch-inference job as ``NovaModelCustomizer.batch_inference``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.config import ForgeConfig
from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.model.result._single import SingleInferenceResult

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.model.result._inference import InferenceResult

__all__ = ["ForgeInference"]


class ForgeInference:
    """Send requests to deployed Nova models and run batch inference.

    Args:
        region: AWS region (default: the environment's).
        model: The Nova model (needed for batch inference).
        infra: The runtime for batch inference (``SMTJRuntimeManager``, ``SMHPRuntimeManager``,
            or ``LocalRuntimeManager`` to rehearse).
        config: Shared settings (``output_s3_path``, ``kms_key_id`` …).
        method: The training method of the checkpoint (needed for batch inference).
        hub_content_version: SageMaker Hub recipe version (default: the latest).

    Example:
        >>> from amzn_nova_forge.inference import ForgeInference
        >>> inference = ForgeInference(region="us-east-1")
        >>> inference.region
        'us-east-1'
    """

    def __init__(
        self,
        region: str | None = None,
        model: Model | None = None,
        infra: RuntimeManager | None = None,
        config: ForgeConfig | None = None,
        method: TrainingMethod | None = None,
        hub_content_version: str | None = None,
    ) -> None:
        from amzn_nova_forge.core import aws

        if model is not None and not isinstance(model, Model):
            raise ConfigError(f"model must be a Model enum (e.g. Model.NOVA_MICRO), got {model!r}.")
        self.region = aws.resolve_region(region or getattr(infra, "region", None))
        self.model = model
        self.infra = infra
        self.method = TrainingMethod(method) if method is not None else None
        self.hub_content_version = hub_content_version
        self._config = config or ForgeConfig()
        self._batch_runner: Any = None
        #: The last batch-inference job started by this object.
        self.last_batch_result: InferenceResult | None = None

    def invoke(
        self,
        endpoint_arn: str,
        request_body: dict[str, Any],
        inference_component_name: str | None = None,
    ) -> SingleInferenceResult:
        """Send one request to a deployed model and return its answer.

        Args:
            endpoint_arn: SageMaker endpoint ARN, Bedrock deployment or provisioned-model ARN, or
                a local endpoint URL (``deployment.endpoint.uri``).
            request_body: The request (OpenAI-style ``messages``; ``"stream": True`` streams).
            inference_component_name: On an inference-component endpoint, the component to ask.

        Returns:
            A :class:`SingleInferenceResult` (``text``, ``response``, ``usage`` …).

        Raises:
            ConfigError: Unrecognised endpoint, a body that is not a dict, or a component name
                for a non-SageMaker endpoint.
            AWSServiceError: The request failed (the message has the request id).

        Example:
            >>> response = inference.invoke(  # doctest: +SKIP
            ...     endpoint_arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint",
            ...     request_body={"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 100})
        """
        from amzn_nova_forge.model import _invoke

        return _invoke.invoke(endpoint_arn, request_body, inference_component_name=inference_component_name)

    def _runner(self) -> Any:
        """The customizer whose batch path runs the job (built once, from model, method and infra)."""
        if self.model is None or self.infra is None or self.method is None:
            missing = [n for n in ("model", "infra", "method") if getattr(self, n) is None]
            raise ConfigError(
                f"invoke_batch needs {', '.join(missing)}: ForgeInference(model=Model..., "
                "infra=SMTJRuntimeManager(...), method=TrainingMethod...)."
            )
        if self._batch_runner is None:
            from amzn_nova_forge.model._customizer import NovaModelCustomizer

            self._batch_runner = NovaModelCustomizer(
                model=self.model,
                method=self.method,
                infra=self.infra,
                output_s3_path=self._config.output_s3_path,
                generated_recipe_dir=self._config.generated_recipe_dir,
            )
        return self._batch_runner

    def invoke_batch(
        self,
        job_name: str,
        input_path: str,
        output_s3_path: str,
        model_path: str | None = None,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        dry_run: bool = False,
        job_result: BaseJobResult | None = None,
    ) -> InferenceResult | None:
        """Start a batch-inference job over ``input_path``; None when ``dry_run``.

        Args:
            job_name: Name of the job.
            input_path: S3 path of the input records (a local path with ``LocalRuntimeManager``).
            output_s3_path: Where the outputs go.
            model_path: The checkpoint; default: ``job_result``'s, else the base model.
            recipe_path: A recipe YAML to use instead of the generated one.
            overrides: Inference settings (``max_new_tokens``, ``temperature``, ``top_p`` …).
            dry_run: Validate only.
            job_result: A completed training result to take the checkpoint from.

        Raises:
            ConfigError: ``model``, ``infra`` or ``method`` missing; bad paths; the training job
                is not completed.
            UnsupportedFeatureError: The runtime runs no batch inference (Bedrock, serverless).

        Example:
            >>> result = inference.invoke_batch(job_name="batch-inference-job",  # doctest: +SKIP
            ...     input_path="s3://my-bucket/inference-input", output_s3_path="s3://my-bucket/inference-output",
            ...     model_path="s3://my-bucket/trained-model")
        """
        runner = self._runner()
        result: InferenceResult | None = runner.batch_inference(
            job_name=job_name,
            input_path=input_path,
            output_s3_path=output_s3_path,
            model_path=model_path,
            recipe_path=recipe_path,
            overrides=overrides,
            dry_run=dry_run,
            job_result=job_result,
        )
        if result is not None:
            self.last_batch_result = result
        return result

    def get_logs(
        self,
        job_result: BaseJobResult | None = None,
        job_id: str | None = None,
        started_time: datetime | None = None,
        limit: int | None = None,
        start_from_head: bool = False,
        end_time: int | str | None = None,
    ) -> None:
        """Print the CloudWatch log lines of a batch-inference job.

        Args:
            job_result: The job (default: this object's last batch job, unless ``job_id`` is given).
            job_id: A job id, with ``started_time``, when there is no result object.
            started_time: When the job started (narrows the search).
            limit: Maximum number of lines.
            start_from_head: True: the first ``limit`` lines; False: the last.
            end_time: Only lines up to this time (epoch milliseconds or ISO-8601).

        Raises:
            ConfigError: No job given and none started here.

        Example:
            >>> inference.get_logs(job_result=inference_result, limit=100)  # doctest: +SKIP
        """
        from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor

        result = job_result or (None if job_id else self.last_batch_result)
        if result is not None:
            monitor = CloudWatchLogMonitor.from_job_result(result)
        elif job_id:
            platform = Platform(getattr(self.infra, "platform", Platform.SMTJ))
            monitor = CloudWatchLogMonitor.from_job_id(job_id, platform, started_time, region=self.region)
        else:
            raise ConfigError(
                "get_logs needs job_result=<InferenceResult> or job_id=...; no batch job was started here."
            )
        monitor.show_logs(limit=limit, start_from_head=start_from_head, end_time=end_time)
