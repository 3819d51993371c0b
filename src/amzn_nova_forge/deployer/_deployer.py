"""``ForgeDeployer``: deploy Nova models to Bedrock, SageMaker (endpoints or inference components) or locally.

A thin service class over :mod:`amzn_nova_forge.model._deploy` (one-step deploy),
:mod:`amzn_nova_forge.model._deploy_steps` (two-step deploy) and the deploy-target
registry (status, delete). ``NovaModelCustomizer.deploy`` runs the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from amzn_nova_forge.core.config import ForgeConfig
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, JobStatus, Model, TrainingMethod
from amzn_nova_forge.errors import ConfigError, UnsupportedRegionError
from amzn_nova_forge.model._deploy_env import InferenceComponentConfig, SageMakerEndpointEnvironment
from amzn_nova_forge.model.result._deployment import DeploymentResult, EndpointInfo, ModelDeployResult

__all__ = ["ForgeDeployer"]

logger = logging.getLogger(__name__)

#: Regions with the Nova inference image and escrow accounts.
SUPPORTED_REGIONS = ("us-east-1", "us-west-2", "eu-west-2")
_READY = {"InService", "Active"}
_PENDING = {"Creating", "Updating", "Pending", "SystemUpdating", "RollingBack"}
_FAILED = {"Failed", "OutOfService", "NotRunning"}
#: Most log lines ``get_logs`` prints.
MAX_LOG_LINES = 1000


def _job_status(raw: str) -> JobStatus:
    if raw in _READY:
        return JobStatus.COMPLETED
    if raw in _FAILED:
        return JobStatus.FAILED
    if raw in _PENDING:
        return JobStatus.IN_PROGRESS
    return JobStatus.UNKNOWN


class ForgeDeployer:
    """Deploy trained Nova models and manage the endpoints.

    Args:
        region: AWS region to deploy in (us-east-1, us-west-2 or eu-west-2).
        model: The Nova model being deployed.
        deployment_mode: What to do when the endpoint name exists. Default ``FAIL_IF_EXISTS``.
        config: Shared settings (``kms_key_id`` encrypts the imported Bedrock model and scopes
            the SageMaker role's KMS access).
        method: The training method (used for default endpoint names).

    Raises:
        UnsupportedRegionError: The region has no Nova inference support.
        ConfigError: ``model`` is not a :class:`Model`.

    Example:
        >>> from amzn_nova_forge.deployer import ForgeDeployer
        >>> deployer = ForgeDeployer(region="us-east-1", model=Model.NOVA_MICRO)
        >>> deployer.deployment_mode.name
        'FAIL_IF_EXISTS'
    """

    def __init__(
        self,
        region: str,
        model: Model,
        deployment_mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS,
        config: ForgeConfig | None = None,
        method: TrainingMethod | None = None,
    ) -> None:
        if region not in SUPPORTED_REGIONS:
            raise UnsupportedRegionError(region, list(SUPPORTED_REGIONS))
        if not isinstance(model, Model):
            raise ConfigError(f"model must be a Model enum (e.g. Model.NOVA_MICRO), got {model!r}.")
        self.region = region
        self.model = model
        self.method = TrainingMethod(method) if method is not None else None
        self.deployment_mode = DeploymentMode(deployment_mode)
        self._config = config or ForgeConfig()
        self._published: set[tuple[str, str, str]] = set()
        #: The model published by the last ``create_custom_model`` / deploy (for retries).
        self.last_model_publish: ModelDeployResult | None = None
        #: The last deployment made by this deployer.
        self.last_deployment: DeploymentResult | None = None

    # ---- one step -------------------------------------------------------------------------------
    def deploy(
        self,
        model_artifact_path: str,
        deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
        endpoint_name: str | None = None,
        unit_count: int = 1,
        execution_role_name: str | None = None,
        sagemaker_instance_type: str | None = "ml.p5.48xlarge",
        sagemaker_environment: SageMakerEndpointEnvironment | Mapping[str, Any] | None = None,
        skip_model_reuse: bool = False,
        inference_component_configs: Sequence[InferenceComponentConfig] | None = None,
        *,
        rollback: bool = False,
        **options: Any,
    ) -> DeploymentResult:
        """Publish the model (or reuse it) and deploy it in one step.

        Args:
            model_artifact_path: S3 checkpoint, Bedrock custom model ARN, SageMaker model package
                ARN, or (``DeployPlatform.LOCAL``) a local checkpoint folder.
            deploy_platform: ``BEDROCK_OD`` (default), ``BEDROCK_PT``, ``SAGEMAKER`` or ``LOCAL``.
            endpoint_name: Endpoint name (default ``<model>-<method>-<platform>``).
            unit_count: Provisioned model units (PT) or instances (SageMaker). Default 1.
            execution_role_name: IAM role to use as is; default: an SDK-managed, scoped role.
            sagemaker_instance_type: Instance type for SageMaker. Default ``ml.p5.48xlarge``.
            sagemaker_environment: A :class:`SageMakerEndpointEnvironment` (or a dict of variables).
            skip_model_reuse: Always import a new model, even if one exists for this checkpoint.
            inference_component_configs: Deploy as SageMaker inference components instead.
            rollback: On failure, delete what this call created (the error names what remains).
            **options: ``wait``, ``timeout``, ``poll_interval``.

        Returns:
            The :class:`DeploymentResult` (``model_publish`` holds the published model).

        Raises:
            ConfigError: Invalid platform, name, unit count, instance type, environment or components.
            DeploymentError: The name exists (see ``deployment_mode``), an AWS call failed or the
                endpoint did not come up; ``.created`` lists every resource that exists.

        Example:
            >>> deployment = deployer.deploy(  # doctest: +SKIP
            ...     model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
            ...     deploy_platform=DeployPlatform.BEDROCK_OD, endpoint_name="my-custom-nova-model")
        """
        from amzn_nova_forge.model import _deploy

        on_demand = DeployPlatform(deploy_platform) is DeployPlatform.BEDROCK_OD
        result = _deploy.deploy_model(
            model_artifact_path,
            model=self.model,
            method=self.method,
            deploy_platform=deploy_platform,
            unit_count=None if on_demand and unit_count == 1 else unit_count,  # 1 is the default, not a request
            endpoint_name=endpoint_name,
            execution_role_name=execution_role_name,
            sagemaker_instance_type=sagemaker_instance_type,
            sagemaker_environment_variables=sagemaker_environment,
            region=self.region,
            deployment_mode=self.deployment_mode,
            skip_model_reuse=skip_model_reuse,
            rollback=rollback,
            inference_component_configs=inference_component_configs,
            kms_key_id=self._config.kms_key_id,
            **options,
        )
        return self._remember(result)

    # ---- two steps ------------------------------------------------------------------------------
    def create_custom_model(
        self,
        model_artifact_path: str,
        endpoint_name: str | None = None,
        execution_role_name: str | None = None,
        tags: list[dict[str, str]] | None = None,
        skip_model_reuse: bool = False,
        *,
        rollback: bool = False,
        **options: Any,
    ) -> ModelDeployResult:
        """Publish a checkpoint as a Bedrock custom model without deploying it.

        Args:
            model_artifact_path: S3 checkpoint (or SageMaker model package ARN).
            endpoint_name: Prefix of the model name (default ``<model>-<method>-bedrock-od``).
            execution_role_name: IAM role for the import (default: an SDK-managed, scoped role).
            tags: Extra ``{"key": ..., "value": ...}`` tags on the model.
            skip_model_reuse: Import again even if a model exists for this checkpoint.
            rollback: On failure, delete what this call created.
            **options: ``wait``, ``timeout``, ``poll_interval``.

        Returns:
            The :class:`ModelDeployResult` (``model_arn``, ``model_name``, ``escrow_uri``, ``created_at``).

        Raises:
            ConfigError: Not an S3 checkpoint or model package; invalid tags or name.
            DeploymentError: The import failed; ``.created`` lists what exists.

        Example:
            >>> publish = deployer.create_custom_model("s3://escrow-bucket/my-model-artifacts/")  # doctest: +SKIP
            >>> publish.dump(file_path="./results/")  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _deploy_steps

        publish = _deploy_steps.create_custom_model(
            model_artifact_path,
            region=self.region,
            model=self.model,
            method=self.method,
            endpoint_name=endpoint_name,
            execution_role_name=execution_role_name,
            tags=tags,
            skip_model_reuse=skip_model_reuse,
            kms_key_id=self._config.kms_key_id,
            rollback=rollback,
            **options,
        )
        self._remember_model(publish)
        return publish

    def deploy_to_bedrock(
        self,
        model_deploy_result: ModelDeployResult | None = None,
        model_arn: str | None = None,
        deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
        pt_units: int | None = None,
        endpoint_name: str | None = None,
        *,
        rollback: bool = False,
        **options: Any,
    ) -> DeploymentResult:
        """Deploy a published Bedrock custom model (default: this deployer's last published model).

        Raises:
            ConfigError: Both ``model_deploy_result`` and ``model_arn``, or no model at all; the model
                is Failed; ``pt_units`` missing for ``BEDROCK_PT``.
            DeploymentError: The deployment failed; ``.created`` lists what exists.

        Example:
            >>> deployment = deployer.deploy_to_bedrock(model_deploy_result=publish,  # doctest: +SKIP
            ...                                         endpoint_name="my-endpoint")
        """
        from amzn_nova_forge.model import _deploy_steps

        if model_deploy_result is None and model_arn is None:
            model_deploy_result = self.last_model_publish
        result = _deploy_steps.deploy_to_bedrock(
            model_deploy_result,
            model_arn,
            region=self.region,
            deploy_platform=deploy_platform,
            pt_units=pt_units,
            endpoint_name=endpoint_name,
            model=self.model,
            method=self.method,
            deployment_mode=self.deployment_mode,
            rollback=rollback,
            **options,
        )
        return self._remember(result)

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
        inference_component_configs: Sequence[InferenceComponentConfig] | None = None,
        *,
        rollback: bool = False,
        **options: Any,
    ) -> DeploymentResult:
        """Deploy to a SageMaker endpoint from a checkpoint, or retry from a published SageMaker model.

        Raises:
            ConfigError: Both or neither of ``model_deploy_result`` / ``model_artifact_path``; invalid
                instance type, environment or components.
            DeploymentError: The endpoint failed; ``.created`` lists what exists. Retry with
                ``model_deploy_result=deployer.last_model_publish``.

        Example:
            >>> result = deployer.deploy_to_sagemaker(  # doctest: +SKIP
            ...     instance_type="ml.p5.48xlarge", model_artifact_path="s3://escrow-bucket/checkpoint/")
        """
        from amzn_nova_forge.model import _deploy_steps

        result = _deploy_steps.deploy_to_sagemaker(
            instance_type,
            model_deploy_result,
            model_artifact_path,
            unit_count,
            endpoint_name,
            sagemaker_environment,
            execution_role_name,
            skip_model_reuse,
            region=self.region,
            model=self.model,
            method=self.method,
            deployment_mode=self.deployment_mode,
            inference_component_configs=inference_component_configs,
            kms_key_id=self._config.kms_key_id,
            rollback=rollback,
            **options,
        )
        return self._remember(result)

    def find_published_model(self, platform: str, escrow_path: str, skip_model_reuse: bool = False) -> str | None:
        """ARN of a model already published from ``escrow_path`` on ``"bedrock"`` or ``"sagemaker"``.

        Looks in this deployer's session first, then by the escrow-URI tag. None when nothing
        is found or ``skip_model_reuse`` is True.

        Raises:
            ConfigError: ``platform`` is neither ``"bedrock"`` nor ``"sagemaker"``.

        Example:
            >>> deployer.find_published_model("bedrock", "s3://escrow-bucket/my-model-artifacts/")  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _deploy_bedrock

        kinds = {"bedrock": "bedrock:custom-model", "sagemaker": "sagemaker:model"}
        if platform not in kinds:
            raise ConfigError(f"platform must be 'bedrock' or 'sagemaker', got {platform!r}.")
        if skip_model_reuse:
            return None
        for cached_platform, arn, path in self._published:
            if cached_platform == platform and path == escrow_path:
                return arn
        found = _deploy_bedrock.find_model_by_escrow(self.region, escrow_path, kinds[platform])
        if found:
            self._published.add((platform, found, escrow_path))
        return found

    # ---- inference components -------------------------------------------------------------------
    def create_inference_component(
        self,
        inference_component_name: str,
        model_name: str,
        num_cpus: int,
        num_accelerators: int,
        min_memory_in_mb: int,
        endpoint_name: str,
        variant_name: str = "primary",
        copy_count: int = 1,
        *,
        rollback: bool = False,
    ) -> str:
        """Place ``model_name`` on an inference-component endpoint (does not wait; see :meth:`monitor_inference_component`).

        Raises:
            ConfigError: Invalid name or reservation (below the model's minimum).
            DeploymentError: The call failed, or a component of that name serves something else.

        Example:
            >>> deployer.create_inference_component("lite2-a", "my-ep-model", 20, 4, 100000, "my-ep")  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _deploy, _deploy_components
        from amzn_nova_forge.model._deploy_steps import _guard

        config = InferenceComponentConfig(
            inference_component_name, num_cpus, num_accelerators, min_memory_in_mb, copy_count, variant_name
        )
        config.check_minimums(self.model)
        ctx = _deploy.make_context(
            model_name,
            deploy_platform=DeployPlatform.SAGEMAKER,
            endpoint_name=endpoint_name,
            region=self.region,
            rollback=rollback,
        )
        return _guard(ctx, lambda: _deploy_components.create_inference_component(ctx, config, model_name))

    def monitor_inference_component(
        self, inference_component_name: str, timeout: float | None = None, poll_interval: float | None = None
    ) -> str:
        """Wait until the component is ``InService``; return that status.

        Raises:
            DeploymentError: It failed (with SageMaker's reason) or ``timeout`` passed.
        """
        from amzn_nova_forge.model import _deploy, _deploy_components

        ctx = _deploy.make_context(
            inference_component_name,
            deploy_platform=DeployPlatform.SAGEMAKER,
            endpoint_name=inference_component_name,
            region=self.region,
            timeout=timeout,
            poll_interval=poll_interval,
        )
        return _deploy_components.monitor_inference_component(ctx, inference_component_name)

    # ---- status, logs, delete -------------------------------------------------------------------
    def get_status(self, result: DeploymentResult) -> JobStatus:
        """The deployment's status as a :class:`JobStatus` (``IN_PROGRESS``, ``COMPLETED``, ``FAILED``)."""
        return _job_status(result.get_status()[0])

    def get_status_by_arn(self, endpoint_arn: str, platform: DeployPlatform) -> JobStatus | None:
        """The status of the endpoint ``endpoint_arn`` on ``platform``; None when it cannot be read."""
        from amzn_nova_forge.errors import NovaForgeError
        from amzn_nova_forge.model import _deploy

        name = endpoint_arn.rsplit("/", 1)[-1]
        info = EndpointInfo(DeployPlatform(platform), name, endpoint_arn, "", self.region)
        try:
            return _job_status(_deploy.endpoint_status(info)[0])
        except NovaForgeError as e:
            logger.warning("Could not read the status of %s: %s", endpoint_arn, e)
            return None

    def get_logs(
        self,
        job_result: DeploymentResult | None = None,
        endpoint_arn: str | None = None,
        platform: DeployPlatform | None = None,
        limit: int = 100,
    ) -> None:
        """Print a deployment's logs: the SageMaker endpoint's CloudWatch lines, or Bedrock's status.

        Raises:
            ConfigError: Neither ``job_result`` nor ``endpoint_arn`` (with ``platform``) is given.
        """
        from amzn_nova_forge.deployer._logs import show_endpoint_logs

        if job_result is not None:
            info = job_result.endpoint
        elif endpoint_arn is not None and platform is not None:
            info = EndpointInfo(
                DeployPlatform(platform), endpoint_arn.rsplit("/", 1)[-1], endpoint_arn, "", self.region
            )
        else:
            raise ConfigError("get_logs needs job_result=<DeploymentResult>, or endpoint_arn=... with platform=....")
        show_endpoint_logs(info, min(max(int(limit), 1), MAX_LOG_LINES))

    def delete(self, result: DeploymentResult) -> list[str]:
        """Delete a deployment (endpoint, and the config/model/components the SDK named after it).

        Returns:
            What was deleted, ``"<kind> <id>"``.
        """
        from amzn_nova_forge.model._deploy_targets import get_target, target_key

        target = get_target(target_key(result.platform, components=bool(result.inference_components)))
        return target.delete(result.endpoint, result.inference_components)

    # ---- bookkeeping ----------------------------------------------------------------------------
    def _remember_model(self, publish: ModelDeployResult) -> None:
        self.last_model_publish = publish
        if publish.platform and publish.escrow_uri:
            self._published.add((publish.platform, publish.model_arn, publish.escrow_uri))

    def _remember(self, result: DeploymentResult) -> DeploymentResult:
        if result.model_publish is not None:
            self._remember_model(result.model_publish)
        self.last_deployment = result
        return result
