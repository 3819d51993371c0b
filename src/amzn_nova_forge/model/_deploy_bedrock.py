"""Bedrock deployment: import the checkpoint as a custom model, then deploy it.

Two steps, usable apart (``ForgeDeployer.create_custom_model`` / ``deploy_to_bedrock``):

1. :func:`create_custom_model`: reuse a model already imported from the same checkpoint
   (found by its escrow-URI tag, unless ``skip_model_reuse``), else ``CreateCustomModel``
   (tagged with the checkpoint) → wait ``Active``. Returns a :class:`ModelDeployResult`.
2. :func:`deploy_endpoint`: on-demand (``BEDROCK_OD``: ``CreateCustomModelDeployment`` →
   wait ``Active``) or provisioned throughput (``BEDROCK_PT``:
   ``CreateProvisionedModelThroughput(modelUnits=unit_count)`` → wait ``InService``; with
   ``UPDATE_IF_EXISTS`` an existing provisioned model of that name is pointed at the new
   model in place with ``UpdateProvisionedModelThroughput``).

Every create goes through :meth:`DeployContext.create` (recorded the moment it exists,
looked up by name when its response is lost). Running the same deploy again adopts the
deployment it made before (same name, same model) instead of failing or creating a copy.
Only this module knows the shape of these Bedrock requests.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from amzn_nova_forge.core import aws
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform
from amzn_nova_forge.errors import AWSServiceError
from amzn_nova_forge.model._deploy_common import DeployContext
from amzn_nova_forge.model._deploy_status import (
    bedrock_od_status as _od_status,
    bedrock_pt_status as _pt_status,
    bedrock_status as endpoint_status,
)
from amzn_nova_forge.model.result._deployment import ESCROW_TAG_KEY, DeploymentResult, EndpointInfo, ModelDeployResult

__all__ = [
    "create_custom_model",
    "delete_endpoint",
    "deploy_bedrock",
    "deploy_endpoint",
    "endpoint_status",
    "escrow_tag_value",
    "find_existing",
    "find_model_by_escrow",
    "find_models_by_escrow",
    "is_custom_model_arn",
]

logger = logging.getLogger(__name__)

_CUSTOM_MODEL_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:[a-z0-9-]+:\d{12}:custom-model/.+$")
MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[\w-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+$")
NAME_PATTERN = re.compile(r"^([0-9a-zA-Z][_-]?){1,63}$")
_MODEL_READY, _MODEL_FAILED = ("Active",), ("Failed",)
_OD_READY, _OD_FAILED = ("Active",), ("Failed",)
_PT_READY, _PT_FAILED = ("InService",), ("Failed",)


def is_custom_model_arn(path: str) -> bool:
    """True for ``arn:aws:bedrock:<region>:<account>:custom-model/...``."""
    return bool(_CUSTOM_MODEL_ARN.match(path))


def escrow_tag_value(escrow_uri: str) -> str:
    """The checkpoint URI as a tag value (at most 256 characters; longer ones end in a hash).

    Example:
        >>> escrow_tag_value("s3://bucket/ckpt/")
        's3://bucket/ckpt/'
        >>> len(escrow_tag_value("s3://b/" + "x" * 300))
        256
    """
    if len(escrow_uri) <= 256:
        return escrow_uri
    return escrow_uri[:224] + "-" + hashlib.sha256(escrow_uri.encode()).hexdigest()[:31]


def _client(region: str | None) -> Any:
    return aws.client("bedrock", region)


def find_models_by_escrow(
    region: str | None, escrow_uri: str, resource_type: str = "bedrock:custom-model"
) -> list[str]:
    """ARNs of the models tagged with ``escrow_uri`` (Resource Groups Tagging ``GetResources``).

    A failed lookup (e.g. no ``tag:GetResources`` permission) is logged and answers ``[]``.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pages = (
            aws.client("resourcegroupstaggingapi", region)
            .get_paginator("get_resources")
            .paginate(
                TagFilters=[{"Key": ESCROW_TAG_KEY, "Values": [escrow_tag_value(escrow_uri)]}],
                ResourceTypeFilters=[resource_type],
            )
        )
        arns = [m["ResourceARN"] for page in pages for m in page.get("ResourceTagMappingList", [])]
    except (ClientError, BotoCoreError) as e:
        logger.warning("Could not look up models by tag (tag:GetResources permission?): %s", e)
        return []
    return arns


def find_model_by_escrow(
    region: str | None, escrow_uri: str, resource_type: str = "bedrock:custom-model"
) -> str | None:
    """The first model :func:`find_models_by_escrow` finds, or None."""
    found = find_models_by_escrow(region, escrow_uri, resource_type)
    return found[0] if found else None


def find_existing(ctx: DeployContext) -> dict[str, Any] | None:
    """The existing deployment (OD) or provisioned model (PT) named ``ctx.endpoint_name``, if any."""
    from amzn_nova_forge.core.aws import aws_errors

    bedrock = _client(ctx.region)
    if ctx.platform is DeployPlatform.BEDROCK_OD:
        op, items, name_key, arn_key = (
            "list_custom_model_deployments",
            "modelDeploymentSummaries",
            "customModelDeploymentName",
            "customModelDeploymentArn",
        )
    else:
        op, items, name_key, arn_key = (
            "list_provisioned_model_throughputs",
            "provisionedModelSummaries",
            "provisionedModelName",
            "provisionedModelArn",
        )
    with aws_errors("bedrock", f"while looking for an existing {ctx.endpoint_name!r}"):
        for page in bedrock.get_paginator(op).paginate(nameContains=ctx.endpoint_name):
            for s in page.get(items, []):
                if s.get(name_key) == ctx.endpoint_name:
                    return {"arn": s[arn_key], "status": s.get("status"), "summary": s}
    return None


def _exists_error(ctx: DeployContext, existing: dict[str, Any]) -> Exception:
    kind = "on-demand deployment" if ctx.platform is DeployPlatform.BEDROCK_OD else "provisioned model"
    if ctx.mode is DeploymentMode.UPDATE_IF_EXISTS:  # only reachable for OD
        why = (
            "deployment_mode=UPDATE_IF_EXISTS updates in place only Bedrock provisioned throughput (BEDROCK_PT) "
            "deployments. Choose another endpoint_name, or delete the existing deployment first."
        )
    else:
        why = "deployment_mode is FAIL_IF_EXISTS. Choose another endpoint_name, delete the existing one, " + (
            "or use DeploymentMode.UPDATE_IF_EXISTS to point it at the new model."
            if ctx.platform is DeployPlatform.BEDROCK_PT
            else "or deploy with DeployPlatform.BEDROCK_PT and DeploymentMode.UPDATE_IF_EXISTS."
        )
    return ctx.error(f"A Bedrock {kind} named {ctx.endpoint_name!r} already exists ({existing['arn']}). {why}")


def _model_status(ctx: DeployContext, model_arn: str) -> tuple[str, str | None]:
    r = ctx.call(_client(ctx.region), "get_custom_model", modelIdentifier=model_arn)
    return r.get("modelStatus") or "Active", r.get("failureMessage")


def _wait_model(ctx: DeployContext, model_arn: str) -> None:
    ctx.wait_until(
        f"Bedrock custom model {model_arn.rsplit('/', 1)[-1]}",
        lambda: _model_status(ctx, model_arn),
        ready=_MODEL_READY,
        failed=_MODEL_FAILED,
    )


def _delete_model(region: str | None, model_arn: str) -> None:
    with aws.aws_errors("bedrock"):
        _client(region).delete_custom_model(modelIdentifier=model_arn)


def _probe_model(ctx: DeployContext, name: str) -> dict[str, Any] | None:
    try:
        r = ctx.call(_client(ctx.region), "get_custom_model", modelIdentifier=name)
    except AWSServiceError as e:
        if e.code in ("ResourceNotFoundException", "ValidationException"):
            return None
        raise
    return {"modelArn": r["modelArn"]}


def _kms_arn(ctx: DeployContext) -> str | None:
    key = ctx.kms_key_id
    if not key or key.startswith("arn:"):
        return key
    from amzn_nova_forge.iam._iam_core import caller_account

    acct = caller_account(ctx.region)
    kind = key if key.startswith("alias/") else f"key/{key}"
    return f"arn:{acct.partition}:kms:{ctx.region}:{acct.account}:{kind}"


def reuse_model(ctx: DeployContext, model_arn: str, escrow_uri: str) -> ModelDeployResult | None:
    """A :class:`ModelDeployResult` for an existing model, waiting while it is Creating; None if it Failed."""
    r = ctx.call(_client(ctx.region), "get_custom_model", modelIdentifier=model_arn)
    status = r.get("modelStatus") or "Active"
    if status in _MODEL_FAILED:
        logger.warning("Model %s from %s is Failed: not reusing it.", model_arn, escrow_uri)
        return None
    if status not in _MODEL_READY:
        _wait_model(ctx, model_arn)
    created = r.get("creationTime")
    return ModelDeployResult(
        model_arn,
        str(r.get("modelName") or model_arn.rsplit("/", 1)[-1]),
        escrow_uri,
        created if isinstance(created, datetime) else datetime.now(UTC),
        ctx.region,
    )


def create_custom_model(
    ctx: DeployContext,
    get_role: Callable[[], str | None],
    *,
    tags: Sequence[Mapping[str, str]] | None = None,
    skip_model_reuse: bool = False,
    name_prefix: str | None = None,
    known_model: str | None = None,
) -> ModelDeployResult:
    """Publish ``ctx.artifact`` as an Active Bedrock custom model (reusing one made from it before).

    ``known_model`` is a model already found by the escrow tag (saves a second lookup).
    """
    escrow = ctx.artifact
    if is_custom_model_arn(escrow):
        found = reuse_model(ctx, escrow, "")
        if found is None:
            raise ctx.error(f"Bedrock custom model {escrow} is Failed; it cannot be deployed.")
        return found
    if not skip_model_reuse:
        for arn in [known_model] if known_model else find_models_by_escrow(ctx.region, escrow):
            reused = reuse_model(ctx, arn, escrow)
            if reused is not None:  # the first one not Failed
                logger.info(
                    "Reusing Bedrock custom model %s created from %s (skip_model_reuse=True to import again).",
                    arn,
                    escrow,
                )
                return reused
    prefix = name_prefix or ctx.endpoint_name
    name = f"{prefix[:54].rstrip('-_')}-{uuid.uuid4().hex[:8]}"  # valid: no "--"
    user_tags = [{"key": str(t["key"]), "value": str(t["value"])} for t in (tags or [])]
    kwargs: dict[str, Any] = {
        "modelName": name,
        "modelTags": [*user_tags, {"key": ESCROW_TAG_KEY, "value": escrow_tag_value(escrow)}],
    }
    if MODEL_PACKAGE_ARN.match(escrow):  # SageMaker model registry output
        kwargs["customModelDataSource"] = {"modelPackageArnDataSource": {"modelPackageArn": escrow}}
    else:
        kwargs["modelSourceConfig"] = {"s3DataSource": {"s3Uri": escrow}}
    role_arn = get_role()
    if role_arn:
        kwargs["roleArn"] = role_arn
    kms = _kms_arn(ctx)
    if kms:
        kwargs["modelKmsKeyArn"] = kms
    region = ctx.region
    model_arn = ctx.create(
        _client(region),
        "create_custom_model",
        what=lambda r: f"Bedrock custom model {r['modelArn']}",
        probe=lambda: _probe_model(ctx, name),
        undo=lambda r: lambda: _delete_model(region, r["modelArn"]),
        hint="Check that the checkpoint path is a Nova checkpoint.",
        **kwargs,
    )["modelArn"]
    _wait_model(ctx, model_arn)
    return ModelDeployResult(model_arn, name, escrow, datetime.now(UTC), region)


def _probe_deployment(ctx: DeployContext, key: str) -> dict[str, Any] | None:
    found = find_existing(ctx)
    return {key: found["arn"]} if found else None


def _wait_endpoint(ctx: DeployContext, arn: str, what: str) -> None:
    if not ctx.wait:
        return
    if ctx.platform is DeployPlatform.BEDROCK_OD:
        ctx.wait_until(what, lambda: _od_status(ctx.region, arn), ready=_OD_READY, failed=_OD_FAILED)
    else:
        ctx.wait_until(what, lambda: _pt_status(ctx.region, arn), ready=_PT_READY, failed=_PT_FAILED)


def _result(ctx: DeployContext, arn: str, publish: ModelDeployResult) -> DeploymentResult:
    info = EndpointInfo(ctx.platform, ctx.endpoint_name, arn, ctx.artifact, ctx.region)
    return DeploymentResult(
        endpoint=info, model_arn=publish.model_arn, resources=list(ctx.created), model_publish=publish
    )


def deploy_endpoint(
    ctx: DeployContext, publish: ModelDeployResult, existing: dict[str, Any] | None = None
) -> DeploymentResult:
    """Deploy the published model to an on-demand deployment or a provisioned model named ``ctx.endpoint_name``."""
    bedrock = _client(ctx.region)
    model_arn = publish.model_arn
    region = ctx.region
    if ctx.platform is DeployPlatform.BEDROCK_OD:
        arn = ctx.create(
            bedrock,
            "create_custom_model_deployment",
            what=lambda r: f"Bedrock custom model deployment {r['customModelDeploymentArn']}",
            probe=lambda: _probe_deployment(ctx, "customModelDeploymentArn"),
            undo=lambda r: lambda: delete_endpoint(DeployPlatform.BEDROCK_OD, region, r["customModelDeploymentArn"]),
            modelDeploymentName=ctx.endpoint_name,
            modelArn=model_arn,
            description=f"Nova Forge deployment of {ctx.artifact}"[:200],
        )["customModelDeploymentArn"]
        _wait_endpoint(ctx, arn, f"Bedrock deployment {ctx.endpoint_name}")
    elif existing is not None:  # PT + UPDATE_IF_EXISTS
        arn = existing["arn"]
        summary = existing["summary"]
        units = summary.get("modelUnits")
        if ctx.unit_count is not None and units is not None and ctx.unit_count != units:
            logger.warning(
                "Provisioned model %s keeps its %s model units: Bedrock cannot change units in place "
                "(unit_count=%s ignored).",
                ctx.endpoint_name,
                units,
                ctx.unit_count,
            )
        previous = summary.get("desiredModelArn") or summary.get("modelArn")
        ctx.call(bedrock, "update_provisioned_model_throughput", provisionedModelId=arn, desiredModelId=model_arn)

        def revert() -> None:
            with aws.aws_errors("bedrock"):
                _client(region).update_provisioned_model_throughput(provisionedModelId=arn, desiredModelId=previous)

        ctx.record(f"Bedrock provisioned model {arn} (updated to {model_arn})", revert if previous else None)
        _wait_endpoint(ctx, arn, f"Bedrock provisioned model {ctx.endpoint_name} update")
    else:
        arn = ctx.create(
            bedrock,
            "create_provisioned_model_throughput",
            what=lambda r: f"Bedrock provisioned model {r['provisionedModelArn']}",
            probe=lambda: _probe_deployment(ctx, "provisionedModelArn"),
            undo=lambda r: lambda: delete_endpoint(DeployPlatform.BEDROCK_PT, region, r["provisionedModelArn"]),
            modelUnits=int(ctx.unit_count or 1),
            provisionedModelName=ctx.endpoint_name,
            modelId=model_arn,
            hint="Provisioned throughput for custom models may need a quota increase (Service Quotas).",
        )["provisionedModelArn"]
        _wait_endpoint(ctx, arn, f"Bedrock provisioned model {ctx.endpoint_name}")
    return _result(ctx, arn, publish)


def _same_model(existing: dict[str, Any], model_arn: str | None) -> bool:
    summary = existing["summary"]
    return bool(model_arn) and model_arn in (summary.get("modelArn"), summary.get("desiredModelArn"))


def adopt_or_check(ctx: DeployContext, existing: dict[str, Any] | None, model_arn: str | None) -> bool:
    """True when ``existing`` is this same deployment made before (same name and model): adopt it.

    Raises:
        DeploymentError: It exists for another model and ``deployment_mode`` does not allow an update.
    """
    if existing is None:
        return False
    if _same_model(existing, model_arn):
        logger.info("%s already serves %s: adopting it (same deploy run again).", existing["arn"], model_arn)
        return True
    if not (ctx.platform is DeployPlatform.BEDROCK_PT and ctx.mode is DeploymentMode.UPDATE_IF_EXISTS):
        raise _exists_error(ctx, existing)
    return False


def deploy_bedrock(
    ctx: DeployContext,
    get_role: Callable[[], str | None],
    *,
    skip_model_reuse: bool = False,
    tags: Sequence[Mapping[str, str]] | None = None,
) -> DeploymentResult:
    """Deploy ``ctx.artifact`` to Bedrock on-demand or provisioned throughput (both steps).

    ``get_role`` returns the execution role ARN (creating it if needed); it is called only
    after the name check passed, so a name conflict creates nothing.
    """
    existing = find_existing(ctx)
    known: str | None = None
    if is_custom_model_arn(ctx.artifact):
        known = ctx.artifact
    elif existing is not None and not skip_model_reuse:
        known = find_model_by_escrow(ctx.region, ctx.artifact)
    if adopt_or_check(ctx, existing, known):
        assert existing is not None and known is not None
        publish = reuse_model(ctx, known, "" if known == ctx.artifact else ctx.artifact)
        if publish is not None:
            _wait_endpoint(ctx, existing["arn"], f"Bedrock deployment {ctx.endpoint_name}")
            return _result(ctx, existing["arn"], publish)
    publish = create_custom_model(ctx, get_role, tags=tags, skip_model_reuse=skip_model_reuse, known_model=known)
    return deploy_endpoint(ctx, publish, existing)


def delete_endpoint(platform: DeployPlatform, region: str | None, arn: str) -> None:
    """Delete an on-demand deployment or a provisioned model."""
    with aws.aws_errors("bedrock"):
        if DeployPlatform(platform) is DeployPlatform.BEDROCK_PT or ":provisioned-model/" in arn:
            _client(region).delete_provisioned_model_throughput(provisionedModelId=arn)
        else:
            _client(region).delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
