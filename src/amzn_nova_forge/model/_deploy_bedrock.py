"""Bedrock deployment: import the checkpoint as a custom model, then deploy it.

* On-demand (``BEDROCK_OD``): ``CreateCustomModel`` → wait ``Active`` →
  ``CreateCustomModelDeployment`` → wait ``Active``.
* Provisioned throughput (``BEDROCK_PT``): ``CreateCustomModel`` → wait ``Active`` →
  ``CreateProvisionedModelThroughput(modelUnits=unit_count)`` → wait ``InService``; with
  ``UPDATE_IF_EXISTS`` an existing provisioned model of that name is pointed at the new
  model in place (``UpdateProvisionedModelThroughput``) → wait ``InService``.

A checkpoint that is already a Bedrock custom model ARN (Bedrock training output) is
deployed as is. Only this module knows the shape of these Bedrock requests.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from amzn_nova_forge.core import aws
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform
from amzn_nova_forge.model._deploy_common import DeployContext
from amzn_nova_forge.model.result._deployment import DeploymentResult, EndpointInfo

__all__ = ["deploy_bedrock", "endpoint_status", "find_existing", "is_custom_model_arn"]

logger = logging.getLogger(__name__)

_CUSTOM_MODEL_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:[a-z0-9-]+:\d{12}:custom-model/.+$")
MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[\w-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+$")
NAME_PATTERN = re.compile(r"^([0-9a-zA-Z][_-]?){1,63}$")
_MODEL_READY, _MODEL_FAILED = ("Active",), ("Failed",)
_OD_READY, _OD_FAILED = ("Active",), ("Failed",)
_PT_READY, _PT_FAILED = ("InService",), ("Failed",)
_TAG_KEY = "amzn-nova-forge:artifact"


def is_custom_model_arn(path: str) -> bool:
    """True for ``arn:aws:bedrock:<region>:<account>:custom-model/...``."""
    return bool(_CUSTOM_MODEL_ARN.match(path))


def _client(region: str | None) -> Any:
    return aws.client("bedrock", region)


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


def _ensure_model(ctx: DeployContext, role_arn: str | None) -> str:
    """Return an Active custom model ARN: the given one, or a new import of the S3 checkpoint."""
    bedrock = _client(ctx.region)
    if is_custom_model_arn(ctx.artifact):
        model_arn = ctx.artifact
    else:
        name = f"{ctx.endpoint_name[:54].rstrip('-_')}-{uuid.uuid4().hex[:8]}"  # valid: no "--"
        kwargs: dict[str, Any] = {"modelName": name, "modelTags": [{"key": _TAG_KEY, "value": ctx.artifact[:256]}]}
        if MODEL_PACKAGE_ARN.match(ctx.artifact):  # SageMaker model registry output
            kwargs["customModelDataSource"] = {"modelPackageArnDataSource": {"modelPackageArn": ctx.artifact}}
        else:
            kwargs["modelSourceConfig"] = {"s3DataSource": {"s3Uri": ctx.artifact}}
        if role_arn:
            kwargs["roleArn"] = role_arn
        model_arn = ctx.call(
            bedrock, "create_custom_model", hint="Check that the checkpoint path is a Nova checkpoint.", **kwargs
        )["modelArn"]
        ctx.record(f"Bedrock custom model {model_arn}")
    ctx.wait_until(
        f"Bedrock custom model {model_arn.rsplit('/', 1)[-1]}",
        lambda: _model_status(ctx, model_arn),
        ready=_MODEL_READY,
        failed=_MODEL_FAILED,
    )
    return model_arn


def deploy_bedrock(ctx: DeployContext, get_role: Callable[[], str | None]) -> DeploymentResult:
    """Deploy ``ctx.artifact`` to Bedrock on-demand or provisioned throughput.

    ``get_role`` returns the execution role ARN (creating it if needed); it is called only
    after the name check passed, so a name conflict creates nothing.
    """
    existing = find_existing(ctx)
    if existing is not None and not (
        ctx.platform is DeployPlatform.BEDROCK_PT and ctx.mode is DeploymentMode.UPDATE_IF_EXISTS
    ):
        raise _exists_error(ctx, existing)
    model_arn = _ensure_model(ctx, None if is_custom_model_arn(ctx.artifact) else get_role())
    bedrock = _client(ctx.region)
    if ctx.platform is DeployPlatform.BEDROCK_OD:
        arn = ctx.call(
            bedrock,
            "create_custom_model_deployment",
            modelDeploymentName=ctx.endpoint_name,
            modelArn=model_arn,
            description=f"Nova Forge deployment of {ctx.artifact}"[:200],
        )["customModelDeploymentArn"]
        ctx.record(f"Bedrock custom model deployment {arn}")
        if ctx.wait:
            ctx.wait_until(
                f"Bedrock deployment {ctx.endpoint_name}",
                lambda: _od_status(ctx.region, arn),
                ready=_OD_READY,
                failed=_OD_FAILED,
            )
    elif existing is not None:  # PT + UPDATE_IF_EXISTS
        arn = existing["arn"]
        units = existing["summary"].get("modelUnits")
        if ctx.unit_count is not None and units is not None and ctx.unit_count != units:
            logger.warning(
                "Provisioned model %s keeps its %s model units: Bedrock cannot change units in place "
                "(unit_count=%s ignored).",
                ctx.endpoint_name,
                units,
                ctx.unit_count,
            )
        ctx.call(bedrock, "update_provisioned_model_throughput", provisionedModelId=arn, desiredModelId=model_arn)
        ctx.record(f"Bedrock provisioned model {arn} (updated to {model_arn})")
        if ctx.wait:
            ctx.wait_until(
                f"Bedrock provisioned model {ctx.endpoint_name} update",
                lambda: _pt_status(ctx.region, arn),
                ready=_PT_READY,
                failed=_PT_FAILED,
            )
    else:
        arn = ctx.call(
            bedrock,
            "create_provisioned_model_throughput",
            modelUnits=int(ctx.unit_count or 1),
            provisionedModelName=ctx.endpoint_name,
            modelId=model_arn,
            hint="Provisioned throughput for custom models may need a quota increase (Service Quotas).",
        )["provisionedModelArn"]
        ctx.record(f"Bedrock provisioned model {arn}")
        if ctx.wait:
            ctx.wait_until(
                f"Bedrock provisioned model {ctx.endpoint_name}",
                lambda: _pt_status(ctx.region, arn),
                ready=_PT_READY,
                failed=_PT_FAILED,
            )
    info = EndpointInfo(ctx.platform, ctx.endpoint_name, arn, ctx.artifact, ctx.region)
    return DeploymentResult(endpoint=info, model_arn=model_arn, resources=list(ctx.created))


def _od_status(region: str | None, arn: str) -> tuple[str, str | None]:
    from amzn_nova_forge.core.aws import aws_errors

    with aws_errors("bedrock"):
        r = _client(region).get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    return r["status"], r.get("failureMessage")


def _pt_status(region: str | None, arn: str) -> tuple[str, str | None]:
    from amzn_nova_forge.core.aws import aws_errors

    with aws_errors("bedrock"):
        r = _client(region).get_provisioned_model_throughput(provisionedModelId=arn)
    return r["status"], r.get("failureMessage")


def endpoint_status(info: EndpointInfo) -> tuple[str, str | None]:
    """Live ``(status, failure message)`` of a Bedrock deployment or provisioned model."""
    if DeployPlatform(info.platform) is DeployPlatform.BEDROCK_PT or ":provisioned-model/" in info.uri:
        return _pt_status(info.region, info.uri)
    return _od_status(info.region, info.uri)
