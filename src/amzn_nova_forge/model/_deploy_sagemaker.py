"""SageMaker real-time endpoint with the Nova inference container.

``CreateModel`` (image ``nova-inference-repo:SM-Inference-latest`` from the region's
Nova account, the checkpoint as an uncompressed S3 prefix, network isolation, tagged
with the checkpoint) → ``CreateEndpointConfig`` (one ``primary`` variant, ``unit_count``
instances) → ``CreateEndpoint`` → wait ``InService``. The model is the first step
(:func:`create_sagemaker_model`, reusing a model made from the same checkpoint with the
same environment unless ``skip_model_reuse``); :func:`deploy_endpoint` is the second.
Names are deterministic (``<endpoint>-model``, ``<endpoint>-config``), so running the
same deploy again adopts what the earlier run created instead of failing or duplicating.

Before anything is created, the (model, instance type) pair and the container
environment are checked against what the Nova inference container supports:
``CONTEXT_LENGTH`` picks the first tier whose context is large enough, and
``MAX_CONCURRENCY`` must not exceed that tier's concurrency.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from amzn_nova_forge.core import aws
from amzn_nova_forge.core.enums import DeploymentMode
from amzn_nova_forge.errors import AWSServiceError, UnsupportedRegionError
from amzn_nova_forge.model._deploy_common import DeployContext
from amzn_nova_forge.model._deploy_smi import (
    SMI_CONFIGS,
    validate_environment,
)
from amzn_nova_forge.model._deploy_status import (
    sagemaker_endpoint_status as _describe,
    sagemaker_status as endpoint_status,
)
from amzn_nova_forge.model.result._deployment import ESCROW_TAG_KEY, DeploymentResult, EndpointInfo, ModelDeployResult

__all__ = [
    "SMI_CONFIGS",
    "create_sagemaker_model",
    "delete_endpoint",
    "deploy_endpoint",
    "deploy_sagemaker",
    "endpoint_status",
    "image_uri",
    "validate_environment",
]

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,55}$")  # room for the "-config" suffix
IMAGE_ACCOUNTS = {"us-east-1": "708977205387", "us-west-2": "176779409107", "eu-west-2": "470633809225"}
IMAGE_REPO_TAG = "nova-inference-repo:SM-Inference-latest"
#: Tag on endpoint configs of inference-component endpoints (as the official SDK sets it).
IC_TAG_KEY = "sagemaker:nova-inference-component"
MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[\w-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+$")


def image_uri(region: str) -> str:
    """The Nova inference image for ``region``.

    Example:
        >>> image_uri("us-west-2")
        '176779409107.dkr.ecr.us-west-2.amazonaws.com/nova-inference-repo:SM-Inference-latest'
    """
    account = IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise UnsupportedRegionError(region, sorted(IMAGE_ACCOUNTS))
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{IMAGE_REPO_TAG}"


def _describe_or_none(ctx: DeployContext, operation: str, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return ctx.call(aws.client("sagemaker", ctx.region), operation, **kwargs)  # type: ignore[no-any-return]
    except AWSServiceError as e:
        if e.code in ("ValidationException", "ResourceNotFound", "ResourceNotFoundException"):
            return None
        raise


def _exists(ctx: DeployContext, operation: str, **kwargs: Any) -> bool:
    return _describe_or_none(ctx, operation, **kwargs) is not None


def _escrow_of(ctx: DeployContext, arn: str) -> str | None:
    tags = ctx.call(aws.client("sagemaker", ctx.region), "list_tags", ResourceArn=arn).get("Tags", [])
    return next((t["Value"] for t in tags if t.get("Key") == ESCROW_TAG_KEY), None)


def _is_ours(ctx: DeployContext, model: Mapping[str, Any], environment: Mapping[str, str]) -> bool:
    """True when ``model`` was made from ``ctx.artifact`` with the same container environment."""
    from amzn_nova_forge.model._deploy_bedrock import escrow_tag_value

    container = model.get("PrimaryContainer") or {}
    same_env = dict(container.get("Environment") or {}) == dict(environment)
    return same_env and _escrow_of(ctx, model["ModelArn"]) == escrow_tag_value(ctx.artifact)


def _delete(region: str | None, operation: str, **kwargs: Any) -> Callable[[], None]:
    def undo() -> None:
        with aws.aws_errors("sagemaker"):
            getattr(aws.client("sagemaker", region), operation)(**kwargs)

    return undo


def _publish(ctx: DeployContext, model: Mapping[str, Any]) -> ModelDeployResult:
    created = model.get("CreationTime")
    return ModelDeployResult(
        str(model["ModelArn"]),
        str(model["ModelName"]),
        ctx.artifact,
        created if isinstance(created, datetime) else datetime.now(UTC),
        ctx.region,
    )


def find_reusable_model(ctx: DeployContext, environment: Mapping[str, str]) -> ModelDeployResult | None:
    """The newest SageMaker model made from ``ctx.artifact`` with this environment (escrow tag), if any."""
    from amzn_nova_forge.model._deploy_bedrock import find_models_by_escrow

    candidates = []
    for arn in find_models_by_escrow(ctx.region, ctx.artifact, "sagemaker:model"):
        model = _describe_or_none(ctx, "describe_model", ModelName=arn.rsplit("/", 1)[-1])
        if model is not None and _is_ours(ctx, model, environment):
            candidates.append(model)
    if not candidates:
        return None
    newest = max(candidates, key=lambda m: m.get("CreationTime") or datetime.min.replace(tzinfo=UTC))
    logger.info("Reusing SageMaker model %s created from %s.", newest["ModelName"], ctx.artifact)
    return _publish(ctx, newest)


def create_sagemaker_model(
    ctx: DeployContext,
    get_role: Callable[[], str],
    environment: Mapping[str, str],
    *,
    skip_model_reuse: bool = False,
) -> ModelDeployResult:
    """Publish ``ctx.artifact`` as the SageMaker model ``<endpoint_name>-model`` (or reuse one).

    A model of that name left by an earlier run of the same deploy (same checkpoint tag and
    environment) is adopted; one made from something else is an error.
    """
    from amzn_nova_forge.model._deploy_bedrock import escrow_tag_value

    if not skip_model_reuse:
        reused = find_reusable_model(ctx, environment)
        if reused is not None:
            return reused
    model_name = f"{ctx.endpoint_name}-model"
    left = _describe_or_none(ctx, "describe_model", ModelName=model_name)
    if left is not None:
        if _is_ours(ctx, left, environment):
            logger.info("Adopting SageMaker model %s left by an earlier run of this deploy.", model_name)
            return _publish(ctx, left)
        raise ctx.error(
            f"A SageMaker model named {model_name!r} already exists (left by an earlier deployment?). "
            "Delete it or choose another endpoint_name."
        )
    role_arn = get_role()
    if MODEL_PACKAGE_ARN.match(ctx.artifact):  # the package names its own image and artifacts
        container: dict[str, Any] = {"ModelPackageName": ctx.artifact, "Environment": dict(environment)}
    else:
        s3_uri = ctx.artifact if ctx.artifact.endswith("/") else ctx.artifact + "/"
        container = {
            "Image": image_uri(ctx.region or "us-east-1"),
            "Environment": dict(environment),
            "ModelDataSource": {"S3DataSource": {"S3Uri": s3_uri, "S3DataType": "S3Prefix", "CompressionType": "None"}},
        }
    region = ctx.region
    ctx.create(
        aws.client("sagemaker", region),
        "create_model",
        what=lambda r: f"SageMaker model {model_name}",
        probe=lambda: _describe_or_none(ctx, "describe_model", ModelName=model_name),
        undo=lambda r: _delete(region, "delete_model", ModelName=model_name),
        ModelName=model_name,
        PrimaryContainer=container,
        ExecutionRoleArn=role_arn,
        EnableNetworkIsolation=True,
        Tags=[{"Key": ESCROW_TAG_KEY, "Value": escrow_tag_value(ctx.artifact)}],
    )
    model = ctx.call(aws.client("sagemaker", region), "describe_model", ModelName=model_name)
    return _publish(ctx, model)


def _config_variants(ctx: DeployContext, model_name: str | None, instance_type: str) -> list[dict[str, Any]]:
    variant: dict[str, Any] = {
        "VariantName": "primary",
        "InitialInstanceCount": int(ctx.unit_count or 1),
        "InstanceType": instance_type,
    }
    if model_name is None:  # inference-component endpoint: models are placed by the components
        variant["RoutingConfig"] = {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    else:
        variant["ModelName"] = model_name
    return [variant]


def _ensure_config(
    ctx: DeployContext, model_name: str | None, instance_type: str, get_role: Callable[[], str] | None
) -> str:
    config_name = f"{ctx.endpoint_name}-config"
    wanted = _config_variants(ctx, model_name, instance_type)
    left = _describe_or_none(ctx, "describe_endpoint_config", EndpointConfigName=config_name)
    if left is not None:
        have = [v.get("ModelName") for v in left.get("ProductionVariants", [])]
        if have == [model_name]:
            logger.info("Adopting endpoint config %s left by an earlier run of this deploy.", config_name)
            return config_name
        raise ctx.error(
            f"A SageMaker endpoint config named {config_name!r} already exists (left by an earlier deployment?). "
            "Delete it or choose another endpoint_name."
        )
    extra: dict[str, Any] = {}
    if model_name is None:
        extra["Tags"] = [{"Key": IC_TAG_KEY, "Value": "true"}]
        if get_role is not None:
            extra["ExecutionRoleArn"] = get_role()
    region = ctx.region
    ctx.create(
        aws.client("sagemaker", region),
        "create_endpoint_config",
        what=lambda r: f"SageMaker endpoint config {config_name}",
        probe=lambda: _describe_or_none(ctx, "describe_endpoint_config", EndpointConfigName=config_name),
        undo=lambda r: _delete(region, "delete_endpoint_config", EndpointConfigName=config_name),
        EndpointConfigName=config_name,
        ProductionVariants=wanted,
        **extra,
    )
    return config_name


def existing_endpoint(ctx: DeployContext) -> dict[str, Any] | None:
    """The endpoint named ``ctx.endpoint_name``, if any (``DescribeEndpoint``)."""
    return _describe_or_none(ctx, "describe_endpoint", EndpointName=ctx.endpoint_name)


def _exists_error(ctx: DeployContext) -> Exception:
    name = ctx.endpoint_name
    why = (
        "deployment_mode=UPDATE_IF_EXISTS updates in place only Bedrock provisioned throughput deployments."
        if ctx.mode is DeploymentMode.UPDATE_IF_EXISTS
        else "deployment_mode is FAIL_IF_EXISTS."
    )
    return ctx.error(
        f"A SageMaker endpoint named {name!r} already exists. {why} Choose another endpoint_name or delete "
        f"it first (aws sagemaker delete-endpoint --endpoint-name {name})."
    )


def _adoptable(ctx: DeployContext, endpoint: Mapping[str, Any], model_name: str | None) -> bool:
    """True when ``endpoint`` is the one this same deploy made before (its config serves ``model_name``)."""
    if endpoint.get("EndpointConfigName") != f"{ctx.endpoint_name}-config" or endpoint.get("EndpointStatus") in (
        "Failed",
        "Deleting",
    ):
        return False
    config = _describe_or_none(ctx, "describe_endpoint_config", EndpointConfigName=endpoint["EndpointConfigName"])
    return config is not None and [v.get("ModelName") for v in config.get("ProductionVariants", [])] == [model_name]


def deploy_endpoint(
    ctx: DeployContext,
    publish: ModelDeployResult | None,
    instance_type: str,
    *,
    get_role: Callable[[], str] | None = None,
    looked_up: tuple[dict[str, Any] | None] | None = None,
) -> DeploymentResult:
    """Endpoint config + endpoint for ``publish`` (or an empty inference-component endpoint when None).

    ``looked_up`` is ``(DescribeEndpoint answer or None,)`` when the caller already asked.
    """
    name = ctx.endpoint_name
    model_name = publish.model_name if publish else None
    endpoint = looked_up[0] if looked_up is not None else existing_endpoint(ctx)
    if endpoint is not None and not _adoptable(ctx, endpoint, model_name):
        raise _exists_error(ctx)
    if endpoint is None:
        config_name = _ensure_config(ctx, model_name, instance_type, get_role)
        region = ctx.region
        endpoint = ctx.create(
            aws.client("sagemaker", region),
            "create_endpoint",
            what=lambda r: f"SageMaker endpoint {name}",
            probe=lambda: existing_endpoint(ctx),
            undo=lambda r: _delete(region, "delete_endpoint", EndpointName=name),
            EndpointName=name,
            EndpointConfigName=config_name,
            hint="Check your SageMaker endpoint instance quota for this instance type.",
        )
    else:
        logger.info("Endpoint %s already exists for this model: adopting it (same deploy run again).", name)
    if ctx.wait:
        ctx.wait_until(
            f"SageMaker endpoint {name}",
            lambda: _describe(ctx.region, name),
            ready=("InService",),
            failed=("Failed", "OutOfService", "Deleting"),
        )
    info = EndpointInfo(ctx.platform, name, str(endpoint["EndpointArn"]), ctx.artifact, ctx.region)
    return DeploymentResult(endpoint=info, model_arn=model_name, resources=list(ctx.created), model_publish=publish)


def deploy_sagemaker(
    ctx: DeployContext,
    get_role: Callable[[], str],
    instance_type: str,
    environment: Mapping[str, str],
    *,
    skip_model_reuse: bool = False,
) -> DeploymentResult:
    """Create (or adopt) model, endpoint config and endpoint; wait until ``InService``.

    ``get_role`` returns the execution role ARN (creating it if needed); it is called only
    after the name checks passed.
    """
    endpoint = existing_endpoint(ctx)
    if endpoint is not None:
        publish = _adoptable_model(ctx, endpoint, environment)
        if publish is None:
            raise _exists_error(ctx)
    else:
        publish = create_sagemaker_model(ctx, get_role, environment, skip_model_reuse=skip_model_reuse)
    return deploy_endpoint(ctx, publish, instance_type, looked_up=(endpoint,))


def _adoptable_model(
    ctx: DeployContext, endpoint: Mapping[str, Any], environment: Mapping[str, str]
) -> ModelDeployResult | None:
    """The model behind ``endpoint`` when the endpoint is this same deploy made before, else None."""
    if endpoint.get("EndpointConfigName") != f"{ctx.endpoint_name}-config":
        return None
    config = _describe_or_none(ctx, "describe_endpoint_config", EndpointConfigName=endpoint["EndpointConfigName"])
    names = [v.get("ModelName") for v in (config or {}).get("ProductionVariants", [])]
    if len(names) != 1 or not names[0]:
        return None
    model = _describe_or_none(ctx, "describe_model", ModelName=names[0])
    return _publish(ctx, model) if model is not None and _is_ours(ctx, model, environment) else None


def delete_endpoint(region: str | None, endpoint_name: str) -> list[str]:
    """Delete the endpoint, then its ``-config`` and ``-model`` when this SDK named them; return what went."""
    from amzn_nova_forge.errors import AWSServiceError as _Err

    sm = aws.client("sagemaker", region)
    gone: list[str] = []
    with aws.aws_errors("sagemaker"):
        described = sm.describe_endpoint(EndpointName=endpoint_name)
        sm.delete_endpoint(EndpointName=endpoint_name)
    gone.append(f"SageMaker endpoint {endpoint_name}")
    for op, key, value, what in (
        ("delete_endpoint_config", "EndpointConfigName", described.get("EndpointConfigName"), "endpoint config"),
        ("delete_model", "ModelName", f"{endpoint_name}-model", "model"),
    ):
        if not value or not str(value).startswith(endpoint_name):
            continue
        try:
            with aws.aws_errors("sagemaker"):
                getattr(sm, op)(**{key: value})
            gone.append(f"SageMaker {what} {value}")
        except _Err as e:
            logger.info("Not deleting SageMaker %s %s: %s", what, value, e)
    return gone
