"""SageMaker inference components: several model copies (or models) on one endpoint.

An inference-component endpoint has a variant with no model (``RoutingConfig``
``LEAST_OUTSTANDING_REQUESTS``, the execution role on the endpoint config); each
component then places a model on it with its own reservation::

    CreateInferenceComponent(InferenceComponentName, EndpointName, VariantName,
        Specification={ModelName, ComputeResourceRequirements={NumberOfCpuCoresRequired,
        NumberOfAcceleratorDevicesRequired, MinMemoryRequiredInMb}}, RuntimeConfig={CopyCount})

then ``DescribeInferenceComponent`` until ``InService``. Requests name the component
(``InvokeEndpoint(InferenceComponentName=...)``). As everywhere in deploy, each create is
recorded the moment it exists, and a component left by an earlier run of the same
deploy (same endpoint and model) is adopted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from amzn_nova_forge.core import aws
from amzn_nova_forge.errors import AWSServiceError
from amzn_nova_forge.model import _deploy_sagemaker as sm_deploy
from amzn_nova_forge.model._deploy_common import DeployContext
from amzn_nova_forge.model._deploy_env import InferenceComponentConfig
from amzn_nova_forge.model._deploy_status import component_status
from amzn_nova_forge.model.result._deployment import DeploymentResult

__all__ = [
    "component_status",
    "create_inference_component",
    "delete_inference_component",
    "deploy_components",
    "monitor_inference_component",
]

logger = logging.getLogger(__name__)

_READY, _FAILED = ("InService",), ("Failed", "Deleting")


def _describe(ctx: DeployContext, name: str) -> dict[str, Any] | None:
    try:
        return ctx.call(  # type: ignore[no-any-return]
            aws.client("sagemaker", ctx.region), "describe_inference_component", InferenceComponentName=name
        )
    except AWSServiceError as e:
        if e.code in ("ValidationException", "ResourceNotFound", "ResourceNotFoundException"):
            return None
        raise


def delete_inference_component(region: str | None, name: str) -> None:
    """Delete an inference component (``DeleteInferenceComponent``)."""
    with aws.aws_errors("sagemaker"):
        aws.client("sagemaker", region).delete_inference_component(InferenceComponentName=name)


def monitor_inference_component(ctx: DeployContext, name: str) -> str:
    """Wait until the component is ``InService``; return that status.

    Raises:
        DeploymentError: It failed (with SageMaker's reason) or the deployment's timeout passed.
    """
    return ctx.wait_until(
        f"SageMaker inference component {name}",
        lambda: component_status(ctx.region, name),
        ready=_READY,
        failed=_FAILED,
    )


def create_inference_component(ctx: DeployContext, config: InferenceComponentConfig, model_name: str) -> str:
    """Create (or adopt) one component placing ``model_name`` on ``ctx.endpoint_name``; return its name."""
    name = config.inference_component_name
    left = _describe(ctx, name)
    if left is not None:
        spec = left.get("Specification") or {}
        if left.get("EndpointName") == ctx.endpoint_name and spec.get("ModelName") == model_name:
            logger.info("Adopting inference component %s left by an earlier run of this deploy.", name)
            return name
        raise ctx.error(
            f"A SageMaker inference component named {name!r} already exists on endpoint "
            f"{left.get('EndpointName')!r} for model {spec.get('ModelName')!r}. Choose another name or delete it."
        )
    region = ctx.region
    ctx.create(
        aws.client("sagemaker", region),
        "create_inference_component",
        what=lambda r: f"SageMaker inference component {name}",
        probe=lambda: _describe(ctx, name),
        undo=lambda r: lambda: delete_inference_component(region, name),
        hint="Check the endpoint's instance has room for the reserved CPUs, accelerators and memory.",
        InferenceComponentName=name,
        EndpointName=ctx.endpoint_name,
        VariantName=config.variant_name,
        Specification={
            "ModelName": model_name,
            "ComputeResourceRequirements": {
                "NumberOfCpuCoresRequired": config.num_cpus,
                "NumberOfAcceleratorDevicesRequired": config.num_accelerators,
                "MinMemoryRequiredInMb": config.min_memory_in_mb,
            },
        },
        RuntimeConfig={"CopyCount": config.copy_count},
    )
    return name


def deploy_components(
    ctx: DeployContext,
    get_role: Callable[[], str],
    instance_type: str,
    environment: Mapping[str, str],
    configs: Sequence[InferenceComponentConfig],
    *,
    skip_model_reuse: bool = False,
) -> DeploymentResult:
    """Model → inference-component endpoint → one component per config, each waited for."""
    from amzn_nova_forge.errors import ConfigError

    if not configs:
        raise ConfigError("inference_component_configs is empty: give at least one InferenceComponentConfig.")
    names = [c.inference_component_name for c in configs]
    if len(set(names)) != len(names):
        raise ConfigError(f"inference_component_configs repeat a name: {names}.")
    for config in configs:
        config.check_minimums(ctx.model)
    endpoint = sm_deploy.existing_endpoint(ctx)
    if endpoint is not None and endpoint.get("EndpointConfigName") != f"{ctx.endpoint_name}-config":
        raise ctx.error(
            f"A SageMaker endpoint named {ctx.endpoint_name!r} already exists and was not made by this deploy. "
            "Choose another endpoint_name or delete it first."
        )
    publish = sm_deploy.create_sagemaker_model(ctx, get_role, environment, skip_model_reuse=skip_model_reuse)
    result = sm_deploy.deploy_endpoint(ctx, None, instance_type, get_role=get_role, looked_up=(endpoint,))
    for config in configs:
        create_inference_component(ctx, config, publish.model_name)
        if ctx.wait:
            monitor_inference_component(ctx, config.inference_component_name)
    result.model_publish = publish
    result.model_arn = publish.model_name
    result.inference_components = names
    result.resources = list(ctx.created)
    return result
