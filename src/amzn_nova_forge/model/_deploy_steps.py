"""The two-step deploy: publish a model, then deploy it (retry the endpoint without importing again).

* :func:`create_custom_model`: checkpoint → Bedrock custom model (:class:`ModelDeployResult`).
* :func:`deploy_to_bedrock`: a published model (result or ARN) → on-demand deployment or
  provisioned throughput.
* :func:`deploy_to_sagemaker`: a published SageMaker model, or a checkpoint → endpoint
  (optionally with inference components).

Each step is one :class:`DeployContext`: what it creates is recorded, listed in the error
and removed with ``rollback=True``; run again after a failure, it adopts what exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, Model, TrainingMethod
from amzn_nova_forge.core.storage import is_s3
from amzn_nova_forge.errors import AWSServiceError, ConfigError, DeploymentError
from amzn_nova_forge.iam.iam_role_creator import DEFAULT_BEDROCK_DEPLOY_ROLE, DEFAULT_SAGEMAKER_DEPLOY_ROLE
from amzn_nova_forge.model import _deploy
from amzn_nova_forge.model._deploy_common import DeployContext
from amzn_nova_forge.model._deploy_env import InferenceComponentConfig, SageMakerEndpointEnvironment, environment_dict
from amzn_nova_forge.model.result._deployment import DeploymentResult, ModelDeployResult

__all__ = ["create_custom_model", "deploy_to_bedrock", "deploy_to_sagemaker"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _guard(ctx: DeployContext, step: Callable[[], T]) -> T:
    """Like :func:`_deploy.run_guarded`, for any result type."""
    try:
        return step()
    except DeploymentError:
        raise
    except AWSServiceError as e:
        raise ctx.error(f"{ctx.platform.name} step for {ctx.endpoint_name!r} failed: {e}") from e
    except Exception as e:
        if not ctx.created:
            raise
        raise ctx.error(f"{ctx.platform.name} step for {ctx.endpoint_name!r} failed: {e}") from e


def create_custom_model(
    model_artifact_path: str,
    *,
    region: str | None,
    model: Model | None = None,
    method: TrainingMethod | None = None,
    endpoint_name: str | None = None,
    execution_role_name: str | None = None,
    tags: Sequence[Mapping[str, str]] | None = None,
    skip_model_reuse: bool = False,
    kms_key_id: str | None = None,
    rollback: bool = False,
    **options: Any,
) -> ModelDeployResult:
    """Publish an S3 checkpoint (or SageMaker model package) as an Active Bedrock custom model.

    A model already imported from the same checkpoint (escrow-URI tag) is reused unless
    ``skip_model_reuse``.

    Raises:
        ConfigError: The path is not an S3 checkpoint or model package, the name or tags are invalid.
        DeploymentError: An AWS call failed or the import failed; ``.created`` lists what exists.
    """
    from amzn_nova_forge.model import _deploy_bedrock

    path = str(model_artifact_path or "")
    if not (is_s3(path) or _deploy._is_model_package(path)):
        raise ConfigError(
            f"create_custom_model imports an S3 checkpoint (s3://...) or a SageMaker model package ARN; got {path!r}."
        )
    for tag in tags or []:
        if not isinstance(tag, Mapping) or set(tag) != {"key", "value"}:
            raise ConfigError(f"Each tag must be {{'key': str, 'value': str}}; got {tag!r}.")
    ctx = _deploy.make_context(
        path,
        model=model,
        method=method,
        deploy_platform=DeployPlatform.BEDROCK_OD,
        endpoint_name=endpoint_name,
        region=region,
        rollback=rollback,
        kms_key_id=kms_key_id,
        **options,
    )
    if not _deploy_bedrock.NAME_PATTERN.match(ctx.endpoint_name):
        raise ConfigError(
            f"endpoint_name {ctx.endpoint_name!r} is not a valid Bedrock name prefix: 1–63 letters and digits, "
            "optionally separated by single '-' or '_'."
        )
    role_name = execution_role_name or DEFAULT_BEDROCK_DEPLOY_ROLE
    return _guard(
        ctx,
        lambda: _deploy_bedrock.create_custom_model(
            ctx,
            lambda: _deploy._execution_role(ctx, role_name, "bedrock"),
            tags=tags,
            skip_model_reuse=skip_model_reuse,
        ),
    )


def deploy_to_bedrock(
    model_deploy_result: ModelDeployResult | None = None,
    model_arn: str | None = None,
    *,
    region: str | None,
    deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
    pt_units: int | None = None,
    endpoint_name: str | None = None,
    model: Model | None = None,
    method: TrainingMethod | None = None,
    deployment_mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS,
    rollback: bool = False,
    **options: Any,
) -> DeploymentResult:
    """Deploy a published Bedrock custom model (a :class:`ModelDeployResult` or its ARN).

    The model must be Active (a Creating one is waited for); running this again after a
    failure adopts the deployment made before instead of creating a second one.

    Raises:
        ConfigError: Both or neither of ``model_deploy_result`` / ``model_arn``; not a Bedrock
            model; ``pt_units`` missing for ``BEDROCK_PT``; the model is Failed.
        DeploymentError: The name exists for another model, an AWS call failed, or the
            deployment did not come up; ``.created`` lists what exists.
    """
    from amzn_nova_forge.model import _deploy_bedrock

    if model_deploy_result is not None and model_arn is not None:
        raise ConfigError("Give model_deploy_result or model_arn, not both.")
    publish = model_deploy_result
    arn = publish.model_arn if publish is not None else model_arn
    if not arn:
        raise ConfigError(
            "No model to deploy: pass model_deploy_result=<create_custom_model() result> or model_arn='arn:...'."
        )
    if not _deploy_bedrock.is_custom_model_arn(arn):
        raise ConfigError(
            f"{arn!r} is not a Bedrock custom model ARN (arn:aws:bedrock:<region>:<acct>:custom-model/...)."
        )
    platform = DeployPlatform(deploy_platform)
    if platform not in (DeployPlatform.BEDROCK_OD, DeployPlatform.BEDROCK_PT):
        raise ConfigError(f"deploy_to_bedrock deploys to BEDROCK_OD or BEDROCK_PT, not {platform.name}.")
    if platform is DeployPlatform.BEDROCK_PT:
        _deploy._validate(platform, arn, endpoint_name or "x", pt_units)
    escrow = publish.escrow_uri if publish is not None else ""
    ctx = _deploy.make_context(
        escrow or arn,
        model=model,
        method=method,
        deploy_platform=platform,
        unit_count=pt_units,
        endpoint_name=endpoint_name,
        region=region or (publish.region if publish else None),
        deployment_mode=deployment_mode,
        rollback=rollback,
        **options,
    )
    _deploy._validate(platform, arn, ctx.endpoint_name, pt_units)

    def step() -> DeploymentResult:
        current = _deploy_bedrock.reuse_model(ctx, arn, escrow)
        if current is None:
            raise ConfigError(f"Cannot deploy model {arn!r}: its status is Failed. Create the model again.")
        existing = _deploy_bedrock.find_existing(ctx)
        if _deploy_bedrock.adopt_or_check(ctx, existing, arn):
            assert existing is not None
            _deploy_bedrock._wait_endpoint(ctx, existing["arn"], f"Bedrock deployment {ctx.endpoint_name}")
            return _deploy_bedrock._result(ctx, existing["arn"], publish or current)
        return _deploy_bedrock.deploy_endpoint(ctx, publish or current, existing)

    return _guard(ctx, step)


def deploy_to_sagemaker(
    instance_type: str,
    model_deploy_result: ModelDeployResult | None = None,
    model_artifact_path: str | None = None,
    unit_count: int = 1,
    endpoint_name: str | None = None,
    sagemaker_environment: SageMakerEndpointEnvironment | Mapping[str, Any] | None = None,
    execution_role_name: str | None = None,
    skip_model_reuse: bool = False,
    *,
    region: str | None,
    model: Model | None = None,
    method: TrainingMethod | None = None,
    deployment_mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS,
    inference_component_configs: Sequence[InferenceComponentConfig] | None = None,
    kms_key_id: str | None = None,
    rollback: bool = False,
    **options: Any,
) -> DeploymentResult:
    """Deploy to a SageMaker endpoint from a checkpoint, or from a published SageMaker model (retry).

    Raises:
        ConfigError: Both or neither of ``model_deploy_result`` / ``model_artifact_path``; no
            ``instance_type``; a Bedrock model; an invalid environment or component.
        DeploymentError: An AWS call failed or the endpoint did not come up; ``.created`` lists what exists.
    """
    from amzn_nova_forge.model import _deploy_components, _deploy_sagemaker

    if not instance_type:
        raise ConfigError("deploy_to_sagemaker needs instance_type, e.g. 'ml.p5.48xlarge'.")
    if (model_deploy_result is None) == (model_artifact_path is None):
        raise ConfigError(
            "Give exactly one of model_deploy_result (a published SageMaker model) or model_artifact_path."
        )
    if model_artifact_path is not None:
        return _deploy.deploy_model(
            model_artifact_path,
            model=model,
            method=method,
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=unit_count,
            endpoint_name=endpoint_name,
            execution_role_name=execution_role_name,
            sagemaker_instance_type=instance_type,
            sagemaker_environment_variables=sagemaker_environment,
            region=region,
            deployment_mode=deployment_mode,
            skip_model_reuse=skip_model_reuse,
            rollback=rollback,
            inference_component_configs=inference_component_configs,
            kms_key_id=kms_key_id,
            **options,
        )
    publish = model_deploy_result
    assert publish is not None
    if publish.platform != "sagemaker":
        raise ConfigError(
            f"model_deploy_result holds {publish.model_arn!r}, not a SageMaker model: "
            "use deploy_to_bedrock for Bedrock custom models."
        )
    ctx = _deploy.make_context(
        publish.escrow_uri or publish.model_arn,
        model=model,
        method=method,
        deploy_platform=DeployPlatform.SAGEMAKER,
        unit_count=unit_count,
        endpoint_name=endpoint_name,
        region=region or publish.region,
        deployment_mode=deployment_mode,
        rollback=rollback,
        kms_key_id=kms_key_id,
        **options,
    )
    _deploy._validate(DeployPlatform.SAGEMAKER, "s3://placeholder/", ctx.endpoint_name, unit_count)
    components = list(inference_component_configs or [])
    for config in components:
        config.check_minimums(model)
    role_name = execution_role_name or DEFAULT_SAGEMAKER_DEPLOY_ROLE
    if environment_dict(sagemaker_environment):
        logger.warning("sagemaker_environment is ignored: the published model %s keeps its own.", publish.model_name)

    def step() -> DeploymentResult:
        ctx.call(_sm(ctx), "describe_model", ModelName=publish.model_name)  # it must still exist
        endpoint = _deploy_sagemaker.existing_endpoint(ctx)
        get_role = (lambda: _deploy._execution_role(ctx, role_name, "sagemaker")) if components else None
        result = _deploy_sagemaker.deploy_endpoint(
            ctx, None if components else publish, instance_type, get_role=get_role, looked_up=(endpoint,)
        )
        for config in components:
            _deploy_components.create_inference_component(ctx, config, publish.model_name)
            if ctx.wait:
                _deploy_components.monitor_inference_component(ctx, config.inference_component_name)
        result.model_publish = publish
        result.model_arn = publish.model_name
        result.inference_components = [c.inference_component_name for c in components]
        result.resources = list(ctx.created)
        return result

    return _guard(ctx, step)


def _sm(ctx: DeployContext) -> Any:
    from amzn_nova_forge.core import aws

    return aws.client("sagemaker", ctx.region)
