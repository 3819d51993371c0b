"""``customizer.deploy`` / ``ForgeDeployer.deploy``: resolve the checkpoint, check the request, hand it to a target.

Targets live behind :mod:`._deploy_targets` (Bedrock on-demand and provisioned
throughput, SageMaker endpoint, SageMaker inference components, the local runtime).
Whatever fails after the first resource was created raises :class:`DeploymentError`
listing every resource that exists; with ``rollback=True`` what this call created is
deleted first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core import aws
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, JobStatus, Model, TrainingMethod
from amzn_nova_forge.core.storage import is_s3
from amzn_nova_forge.errors import AWSServiceError, ConfigError, DeploymentError, JobFailedError
from amzn_nova_forge.iam.iam_role_creator import DEFAULT_BEDROCK_DEPLOY_ROLE, DEFAULT_SAGEMAKER_DEPLOY_ROLE
from amzn_nova_forge.model import _deploy_common
from amzn_nova_forge.model._deploy_common import DeployContext
from amzn_nova_forge.model._deploy_env import InferenceComponentConfig, SageMakerEndpointEnvironment, environment_dict
from amzn_nova_forge.model.result._deployment import DeploymentResult, EndpointInfo

if TYPE_CHECKING:
    from amzn_nova_forge.model._customizer import NovaModelCustomizer

__all__ = ["default_endpoint_name", "deploy", "deploy_model", "endpoint_status", "resolve_artifact_path"]

logger = logging.getLogger(__name__)

#: Deprecated argument names still accepted (older README / API spec).
_ALIASES = {
    "pt_units": "unit_count",
    "bedrock_execution_role_name": "execution_role_name",
    "sagemaker_environment": "sagemaker_environment_variables",
}
_OPTIONS = (
    "wait",
    "timeout",
    "poll_interval",
    "sleep",
    "clock",
    "skip_model_reuse",
    "rollback",
    "inference_component_configs",
    "kms_key_id",
)


def default_endpoint_name(model: Model | None, method: TrainingMethod | None, platform: DeployPlatform) -> str:
    """``<model>-<method>-<platform>`` with ``_`` → ``-``, e.g. ``nova-lite-2-sft-lora-bedrock-od``.

    Example:
        >>> default_endpoint_name(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, DeployPlatform.SAGEMAKER)
        'nova-lite-2-sft-lora-sagemaker'
    """
    parts = [model.key if model else "nova", method.value if method else "custom", platform.value]
    return "-".join(parts).replace("_", "-").lower()


def resolve_artifact_path(customizer: Any, model_artifact_path: str | None, job_result: Any) -> str:
    """The checkpoint to deploy: the argument, else ``job_result``'s, else the customizer's last training job.

    Raises:
        ConfigError: Nothing to deploy, the training job has not completed, or its checkpoint is unknown.
        JobFailedError: The training job failed or was stopped.
    """
    if model_artifact_path:
        return str(model_artifact_path)
    source = job_result
    if source is None and customizer is not None:
        source = getattr(customizer, "last_training_result", None)
        last_job = getattr(customizer, "job_result", None)
        is_training = hasattr(type(last_job), "model_artifacts") or "model_artifacts" in getattr(
            last_job, "__dict__", {}
        )
        if source is None and is_training:  # checked without triggering the artifacts lookup
            source = last_job
    if source is None:
        raise ConfigError(
            "No model to deploy: pass model_artifact_path='s3://...' or job_result=<TrainingResult> "
            "(e.g. TrainingResult.load('my-job_SMTJ.json')), or train with this customizer first."
        )
    status, raw = source.get_job_status()
    job_id = getattr(source, "job_id", "?")
    if status in (JobStatus.FAILED, JobStatus.STOPPED):
        raise JobFailedError(
            f"Training job {job_id!r} is {raw}; there is no trained model to deploy.", job_id=job_id, reason=raw
        )
    if status is not JobStatus.COMPLETED:
        raise ConfigError(
            f"Training job {job_id!r} is {raw}, not Completed. Wait for it (job_result.wait()) and deploy again."
        )
    artifacts = getattr(source, "model_artifacts", None)
    ckpt = getattr(artifacts, "checkpoint_s3_path", None)
    model_arn = getattr(artifacts, "output_model_arn", None)
    if not (ckpt or model_arn) and hasattr(source, "_runtime_class"):
        outputs = source._runtime_class().job_outputs(source.ref)
        ckpt, model_arn = outputs.checkpoint_s3_path, outputs.output_model_arn
    arn_first = _capability(getattr(source, "platform", None), "deploys_model_arn")
    path = (model_arn or ckpt) if arn_first else (ckpt or model_arn)
    if not path:
        raise ConfigError(
            f"Training job {job_id!r} completed but its checkpoint location is unknown. "
            "Pass model_artifact_path (the checkpoint S3 path from the job's manifest.json)."
        )
    return str(path)


def _capability(platform: Any, name: str) -> bool:
    """The runtime of ``platform`` declares the capability ``name`` (False without a platform)."""
    from amzn_nova_forge.manager._registry import capabilities_of

    return platform is not None and bool(getattr(capabilities_of(platform), name))


def _pop_options(kwargs: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    for old, new in _ALIASES.items():
        if old in kwargs:
            value = kwargs.pop(old)
            if args.get(new) is None:
                args[new] = value
    options = {k: kwargs.pop(k) for k in _OPTIONS if k in kwargs}
    if kwargs:
        allowed = sorted(list(_ALIASES) + list(_OPTIONS))
        raise TypeError(f"deploy() got unexpected arguments {sorted(kwargs)}; extra arguments accepted: {allowed}.")
    return options


def deploy(
    customizer: NovaModelCustomizer,
    *,
    model_artifact_path: str | None = None,
    deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
    unit_count: int | None = None,
    endpoint_name: str | None = None,
    job_result: Any = None,
    execution_role_name: str | None = None,
    sagemaker_instance_type: str | None = "ml.p5.48xlarge",
    sagemaker_environment_variables: SageMakerEndpointEnvironment | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> DeploymentResult:
    """Deploy the customizer's trained model; see :meth:`NovaModelCustomizer.deploy`.

    Extra keyword arguments: ``skip_model_reuse`` (always import a new model),
    ``rollback`` (delete what this call created if it fails), ``inference_component_configs``
    (SageMaker inference components), ``kms_key_id``, ``wait`` (default True), ``timeout``
    (seconds, whole deployment), ``poll_interval`` (seconds), ``sleep``/``clock`` (for
    tests), and the older names ``pt_units``, ``bedrock_execution_role_name``,
    ``sagemaker_environment`` (a :class:`SageMakerEndpointEnvironment` or a dict).
    """
    args: dict[str, Any] = {
        "unit_count": unit_count,
        "execution_role_name": execution_role_name,
        "sagemaker_environment_variables": sagemaker_environment_variables,
    }
    options = _pop_options(dict(kwargs), args)
    path = resolve_artifact_path(customizer, model_artifact_path, job_result)
    platform = DeployPlatform(deploy_platform)
    serves_locally = _capability(getattr(customizer, "platform", None), "serves_local_checkpoints")
    if serves_locally and platform is DeployPlatform.BEDROCK_OD and not is_s3(path) and not path.startswith("arn:"):
        logger.info("Local checkpoint %s with the local runtime: deploying locally.", path)
        platform = DeployPlatform.LOCAL
    result = deploy_model(
        path,
        model=customizer.model,
        method=customizer.method,
        deploy_platform=platform,
        unit_count=args["unit_count"],
        endpoint_name=endpoint_name,
        execution_role_name=args["execution_role_name"],
        sagemaker_instance_type=sagemaker_instance_type,
        sagemaker_environment_variables=args["sagemaker_environment_variables"],
        region=customizer.region,
        deployment_mode=customizer.deployment_mode,
        infra=customizer.infra,
        **options,
    )
    customizer.last_deployment = result
    return result


def _is_model_package(path: str) -> bool:
    from amzn_nova_forge.model._deploy_sagemaker import MODEL_PACKAGE_ARN

    return bool(MODEL_PACKAGE_ARN.match(path))


def _validate(platform: DeployPlatform, path: str, name: str, unit_count: int | None) -> None:
    from amzn_nova_forge.model import _deploy_bedrock, _deploy_sagemaker

    if platform in (DeployPlatform.BEDROCK_PT, DeployPlatform.SAGEMAKER):
        if unit_count is None:
            what = "model units to purchase" if platform is DeployPlatform.BEDROCK_PT else "instances to start"
            raise ConfigError(f"{platform.name} needs unit_count (number of {what}), e.g. unit_count=1.")
        if not isinstance(unit_count, int) or isinstance(unit_count, bool) or unit_count < 1:
            raise ConfigError(f"unit_count must be a positive integer, got {unit_count!r}.")
    if platform in (DeployPlatform.BEDROCK_OD, DeployPlatform.BEDROCK_PT):
        if not (is_s3(path) or _deploy_bedrock.is_custom_model_arn(path) or _is_model_package(path)):
            raise ConfigError(
                "Bedrock deploys an S3 checkpoint (s3://...), a SageMaker model package ARN or a Bedrock "
                f"custom model ARN; got {path!r}."
                + (" For a local checkpoint use DeployPlatform.LOCAL." if not path.startswith("arn:") else "")
            )
        if not _deploy_bedrock.NAME_PATTERN.match(name):
            raise ConfigError(
                f"endpoint_name {name!r} is not a valid Bedrock name: 1–63 letters and digits, "
                "optionally separated by single '-' or '_'."
            )
    elif platform is DeployPlatform.SAGEMAKER:
        if not (is_s3(path) or _is_model_package(path)):
            raise ConfigError(
                f"SageMaker deploys an S3 checkpoint (s3://...) or a SageMaker model package ARN; got {path!r}. "
                "Bedrock custom models can only be deployed to Bedrock (BEDROCK_OD / BEDROCK_PT)."
            )
        if not _deploy_sagemaker.NAME_PATTERN.match(name):
            raise ConfigError(
                f"endpoint_name {name!r} is not a valid SageMaker endpoint name: 1–56 letters, digits and "
                "'-', starting and ending with a letter or digit."
            )


def _endpoint_log_group(ctx: DeployContext) -> str:
    return f"/aws/sagemaker/Endpoints/{ctx.endpoint_name}"


def _role_scope(ctx: DeployContext, kind: str, s3: Any, log_groups: list[str] | None = None) -> dict[str, Any]:
    """The resources the SDK-managed deploy role is allowed, named as narrowly as the request allows."""
    from amzn_nova_forge.iam._iam_core import caller_account

    if kind == "bedrock":
        acct = caller_account(ctx.region)
        where = f"arn:{acct.partition}:bedrock:{ctx.region}:{acct.account}"
        kinds = ("custom-model", "custom-model-deployment", "provisioned-model")
        package = ctx.artifact if _is_model_package(ctx.artifact) else None
        return {
            "s3_resource": s3,
            "bedrock_resource": [f"{where}:{k}/*" for k in kinds],
            "region": ctx.region,
            "model_package_resource": package,
        }
    return {
        "s3_resource": s3,
        "kms_resource": ctx.kms_key_id,
        "cloudwatch_loggroup_resource": log_groups or [_endpoint_log_group(ctx)],
        "region": ctx.region,
        "network_interfaces": False,
    }


def _execution_role(ctx: DeployContext, role_name: str, kind: str) -> str:
    """ARN of ``role_name``; created (scoped to the checkpoint bucket) when it does not exist.

    The role and its policy are recorded in ``ctx`` the moment each exists.
    """

    if ctx.role_arn is not None and ctx.role_name == role_name:
        return ctx.role_arn
    ctx.role_name, ctx.role_arn = role_name, _ensure_role_arn(ctx, role_name, kind)
    return ctx.role_arn


def _ensure_role_arn(ctx: DeployContext, role_name: str, kind: str) -> str:
    from botocore.exceptions import ClientError

    from amzn_nova_forge.iam import iam_role_creator as roles

    iam = aws.client("iam", ctx.region)
    create = roles.create_bedrock_execution_role if kind == "bedrock" else roles.create_sagemaker_execution_role
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise AWSServiceError.from_client_error(e, service="iam") from e
        # A model package's artifacts live where the registry put them (its own bucket, unknown
        # here): S3 read cannot be scoped; the package itself is named in the policy.
        s3_scope = ctx.artifact if is_s3(ctx.artifact) else "*"
        before = len(ctx.created)
        arn = create(iam, role_name, record=ctx.record, **_role_scope(ctx, kind, s3_scope))["Role"]["Arn"]
        ctx.role_created = len(ctx.created) > before
        return str(arn)
    if role_name not in (DEFAULT_BEDROCK_DEPLOY_ROLE, DEFAULT_SAGEMAKER_DEPLOY_ROLE):
        return str(role["Arn"])  # a role the caller named is used as is
    scoped = roles.managed_s3_resources(iam, role)
    if scoped is None:  # not created by this SDK: never changed
        return str(role["Arn"])
    s3: Any = list(scoped)
    widen = False
    if is_s3(ctx.artifact) and "*" not in scoped and not any(ctx.artifact.startswith(p) for p in scoped):
        s3, widen = [*scoped, ctx.artifact], True
    groups: list[str] | None = None
    if kind == "sagemaker":
        groups = roles.managed_log_groups(iam, role) or []
        if "*" not in groups and _endpoint_log_group(ctx) not in groups:
            groups, widen = [*groups, _endpoint_log_group(ctx)], True
    if widen:
        logger.info("Widening SDK-managed role %s to %s (endpoint %s)", role_name, ctx.artifact, ctx.endpoint_name)
        create(iam, role_name, record=ctx.record, **_role_scope(ctx, kind, s3 or "*", groups))
    return str(role["Arn"])


def make_context(
    model_artifact_path: str,
    *,
    model: Model | None = None,
    method: TrainingMethod | None = None,
    deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
    unit_count: int | None = None,
    endpoint_name: str | None = None,
    region: str | None = None,
    deployment_mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS,
    wait: bool = True,
    timeout: float | None = None,
    poll_interval: float | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    rollback: bool = False,
    kms_key_id: str | None = None,
) -> DeployContext:
    """The :class:`DeployContext` of one deploy call (region resolved, defaults filled in)."""
    platform = DeployPlatform(deploy_platform)
    name = endpoint_name or default_endpoint_name(model, method, platform)
    if platform is not DeployPlatform.LOCAL:
        region = aws.resolve_region(region)
    return DeployContext(
        platform=platform,
        region=region,
        endpoint_name=name,
        artifact=str(model_artifact_path),
        model=model,
        method=method,
        mode=DeploymentMode(deployment_mode),
        unit_count=unit_count,
        wait=wait,
        timeout=_deploy_common.DEFAULT_TIMEOUT_S if timeout is None else timeout,
        poll_interval=_deploy_common.DEFAULT_POLL_INTERVAL_S if poll_interval is None else poll_interval,
        sleep=sleep or time.sleep,
        clock=clock or time.monotonic,
        rollback=rollback,
        kms_key_id=kms_key_id,
    )


def run_guarded(ctx: DeployContext, step: Callable[[], DeploymentResult]) -> DeploymentResult:
    """Run a deploy step; any failure after something was created becomes a DeploymentError listing it.

    With ``ctx.rollback`` the resources this call created are deleted before the error is raised.
    """
    what = f"Deploying {ctx.endpoint_name!r} to {ctx.platform.name}"
    try:
        return step()
    except DeploymentError as e:
        if ctx.rollback and ctx.undo and not ctx.rolled_back:  # raised without rolling back (e.g. local server)
            raise ctx.error(str(e).split(" Resources created and left in place:")[0]) from e
        raise
    except AWSServiceError as e:
        raise ctx.error(f"{what} failed: {e}") from e
    except KeyboardInterrupt:
        if ctx.created:
            logger.warning("Deployment interrupted; resources left in place: %s", ", ".join(ctx.created))
        raise
    except Exception as e:
        if not ctx.created:
            raise
        raise ctx.error(f"{what} failed: {e}") from e


def deploy_model(
    model_artifact_path: str,
    *,
    model: Model | None = None,
    method: TrainingMethod | None = None,
    deploy_platform: DeployPlatform = DeployPlatform.BEDROCK_OD,
    unit_count: int | None = None,
    endpoint_name: str | None = None,
    execution_role_name: str | None = None,
    sagemaker_instance_type: str | None = "ml.p5.48xlarge",
    sagemaker_environment_variables: SageMakerEndpointEnvironment | Mapping[str, Any] | None = None,
    region: str | None = None,
    deployment_mode: DeploymentMode = DeploymentMode.FAIL_IF_EXISTS,
    infra: Any = None,
    wait: bool = True,
    timeout: float | None = None,
    poll_interval: float | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    skip_model_reuse: bool = False,
    rollback: bool = False,
    inference_component_configs: Sequence[InferenceComponentConfig] | None = None,
    kms_key_id: str | None = None,
    tags: Sequence[Mapping[str, str]] | None = None,
) -> DeploymentResult:
    """Deploy one checkpoint (no customizer needed; the CLI and ``ForgeDeployer`` use this).

    Raises:
        ConfigError: Invalid platform, name, unit count, instance type, environment or components.
        DeploymentError: The name exists (per ``deployment_mode``), an AWS call failed, the
            endpoint failed to come up, or the timeout passed; ``.created`` lists what exists.
    """
    from amzn_nova_forge.model._deploy_targets import DeployRequest, get_target, target_key

    ctx = make_context(
        model_artifact_path,
        model=model,
        method=method,
        deploy_platform=deploy_platform,
        unit_count=unit_count,
        endpoint_name=endpoint_name,
        region=region,
        deployment_mode=deployment_mode,
        wait=wait,
        timeout=timeout,
        poll_interval=poll_interval,
        sleep=sleep,
        clock=clock,
        rollback=rollback,
        kms_key_id=kms_key_id,
    )
    platform, name = ctx.platform, ctx.endpoint_name
    components = list(inference_component_configs or [])
    target = get_target(target_key(platform, components=bool(components)))
    if platform is DeployPlatform.LOCAL:
        return run_guarded(ctx, lambda: target.deploy(ctx, DeployRequest(infra=infra, local_timeout=timeout)))
    _validate(platform, ctx.artifact, name, unit_count)
    environment: dict[str, str] = {}
    instance_type = sagemaker_instance_type or "ml.p5.48xlarge"
    if platform is DeployPlatform.SAGEMAKER:
        from amzn_nova_forge.model import _deploy_sagemaker

        environment = _deploy_sagemaker.validate_environment(
            model, instance_type, environment_dict(sagemaker_environment_variables)
        )
        _deploy_sagemaker.image_uri(region or ctx.region or "")  # region check before anything is created
        for config in components:
            config.check_minimums(model)
    elif unit_count is not None and platform is DeployPlatform.BEDROCK_OD:
        logger.warning("unit_count=%s is ignored for Bedrock on-demand deployments.", unit_count)
    kind = "sagemaker" if platform is DeployPlatform.SAGEMAKER else "bedrock"
    default_role = DEFAULT_SAGEMAKER_DEPLOY_ROLE if kind == "sagemaker" else DEFAULT_BEDROCK_DEPLOY_ROLE
    role_name = execution_role_name or default_role
    request = DeployRequest(
        get_role=lambda: _execution_role(ctx, role_name, kind),
        instance_type=instance_type,
        environment=environment,
        skip_model_reuse=skip_model_reuse,
        tags=tags,
        components=components,
    )
    return run_guarded(ctx, lambda: target.deploy(ctx, request))


def endpoint_status(info: EndpointInfo, components: Sequence[str] = ()) -> tuple[str, str | None]:
    """Live ``(status, failure message)`` of a deployed endpoint, on any platform."""
    from amzn_nova_forge.model._deploy_targets import get_target, target_key

    return get_target(target_key(info.platform, components=bool(components))).status(info, components)
