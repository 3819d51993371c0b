"""The official two-step deployment on ``NovaModelCustomizer``, delegated to :class:`ForgeDeployer`.

``create_custom_model`` publishes (or reuses) the model once; ``deploy_to_bedrock`` /
``deploy_to_sagemaker`` then create the endpoint and can be retried without importing the
model again. Each method is one call into a deployer built from the customizer's model,
method, region, deployment mode and shared config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, Model, TrainingMethod

if TYPE_CHECKING:
    from amzn_nova_forge.core.config import ForgeConfig
    from amzn_nova_forge.deployer import ForgeDeployer
    from amzn_nova_forge.model._deploy_env import SageMakerEndpointEnvironment
    from amzn_nova_forge.model.result._deployment import DeploymentResult, ModelDeployResult
    from amzn_nova_forge.model.result._training import TrainingResult

__all__ = ["TwoStepDeployMixin"]


class TwoStepDeployMixin:
    """``create_custom_model``, ``deploy_to_bedrock``, ``deploy_to_sagemaker`` and ``find_published_model``."""

    deployment_mode: DeploymentMode
    last_deployment: DeploymentResult | None

    # provided by NovaModelCustomizer
    @property
    def model(self) -> Model:
        raise NotImplementedError

    @property
    def method(self) -> TrainingMethod:
        raise NotImplementedError

    @property
    def region(self) -> str | None:
        raise NotImplementedError

    @property
    def config(self) -> ForgeConfig:
        raise NotImplementedError

    def _deployer(self) -> ForgeDeployer:
        from amzn_nova_forge.core.aws import resolve_region
        from amzn_nova_forge.deployer import ForgeDeployer

        return ForgeDeployer(
            region=self.region or resolve_region(None),
            model=self.model,
            deployment_mode=self.deployment_mode,
            config=self.config,
            method=self.method,
        )

    def create_custom_model(
        self,
        model_artifact_path: str | None = None,
        job_result: TrainingResult | None = None,
        endpoint_name: str | None = None,
        execution_role_name: str | None = None,
        tags: list[dict[str, str]] | None = None,
        skip_model_reuse: bool = False,
    ) -> ModelDeployResult:
        """Publish the trained model (Bedrock custom model), or reuse the one already published from it.

        The checkpoint is ``model_artifact_path``, else ``job_result``'s, else this customizer's
        last training job. The result can be dumped, loaded and passed to :meth:`deploy_to_bedrock`.

        Raises:
            ConfigError: Nothing to publish, or the training job has not completed.
            DeploymentError: An AWS call failed; ``.created`` lists what exists.

        Example:
            >>> published = customizer.create_custom_model(job_result=training_result)  # doctest: +SKIP
            >>> deployment = customizer.deploy_to_bedrock(model_deploy_result=published)  # doctest: +SKIP
        """
        from amzn_nova_forge.model._deploy import resolve_artifact_path

        path = resolve_artifact_path(self, model_artifact_path, job_result)
        return self._deployer().create_custom_model(
            path,
            endpoint_name=endpoint_name,
            execution_role_name=execution_role_name,
            tags=tags,
            skip_model_reuse=skip_model_reuse,
        )

    def deploy_to_bedrock(
        self,
        model_deploy_result: ModelDeployResult | None = None,
        model_arn: str | None = None,
        deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
        pt_units: int | None = None,
        endpoint_name: str | None = None,
    ) -> DeploymentResult:
        """Deploy a published model on Bedrock (on-demand, or provisioned throughput with ``pt_units``).

        Raises:
            ConfigError: Both or neither of ``model_deploy_result`` and ``model_arn``.
            DeploymentError: An AWS call failed; ``.created`` lists what exists.

        Example:
            >>> customizer.deploy_to_bedrock(model_arn="arn:aws:bedrock:...:custom-model/abc")  # doctest: +SKIP
        """
        result = self._deployer().deploy_to_bedrock(
            model_deploy_result=model_deploy_result,
            model_arn=model_arn,
            deploy_platform=deploy_platform,
            pt_units=pt_units,
            endpoint_name=endpoint_name,
        )
        self.last_deployment = result
        return result

    def deploy_to_sagemaker(
        self,
        instance_type: str,
        model_deploy_result: ModelDeployResult | None = None,
        model_artifact_path: str | None = None,
        unit_count: int = 1,
        endpoint_name: str | None = None,
        sagemaker_environment: SageMakerEndpointEnvironment | Mapping[str, Any] | None = None,
        execution_role_name: str | None = None,
        skip_model_reuse: bool = False,
    ) -> DeploymentResult:
        """Deploy on a SageMaker endpoint (reusing a published SageMaker model unless ``skip_model_reuse``).

        Raises:
            ConfigError: No model to deploy, or an environment value out of range.
            DeploymentError: An AWS call failed; ``.created`` lists what exists.

        Example:
            >>> customizer.deploy_to_sagemaker("ml.p5.48xlarge", model_artifact_path="s3://b/ckpt/")  # doctest: +SKIP
        """
        result = self._deployer().deploy_to_sagemaker(
            instance_type,
            model_deploy_result=model_deploy_result,
            model_artifact_path=model_artifact_path,
            unit_count=unit_count,
            endpoint_name=endpoint_name,
            sagemaker_environment=sagemaker_environment,
            execution_role_name=execution_role_name,
            skip_model_reuse=skip_model_reuse,
        )
        self.last_deployment = result
        return result

    def find_published_model(self, platform: str, escrow_path: str, skip_model_reuse: bool = False) -> str | None:
        """The ARN of a model already published from ``escrow_path`` (``"bedrock"`` or ``"sagemaker"``), or None.

        Example:
            >>> customizer.find_published_model("bedrock", "s3://escrow-bucket/my-model/")  # doctest: +SKIP
        """
        return self._deployer().find_published_model(platform, escrow_path, skip_model_reuse)
