"""Live status of a deployed endpoint, from its saved :class:`EndpointInfo` alone.

The one place that asks a platform how an endpoint is doing. It sits below both the
deploy modules (``_deploy_bedrock``, ``_deploy_sagemaker``, ``_deploy_components``,
``_deploy_targets``), which wait on these calls and re-export them, and
:class:`~amzn_nova_forge.model.result.DeploymentResult`, whose ``status`` calls
:func:`endpoint_status`; it imports neither, so a result loaded in a fresh process
answers without the deploy machinery and the import graph has no cycle.

=================  ==========================================================================
``bedrock_od``     Bedrock ``GetCustomModelDeployment``
``bedrock_pt``     Bedrock ``GetProvisionedModelThroughput``
``sagemaker``      SageMaker ``DescribeEndpoint``
``sagemaker_ic``   the endpoint, then each ``DescribeInferenceComponent`` until one is not ready
``local``          an HTTP probe of the local server's ``/v1/models`` (127.0.0.1)
=================  ==========================================================================

A new deploy target adds its status function to :data:`STATUS` under its key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from amzn_nova_forge.core import aws
from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.model.result._deployment import EndpointInfo

__all__ = [
    "STATUS",
    "bedrock_od_status",
    "bedrock_pt_status",
    "bedrock_status",
    "component_status",
    "components_status",
    "endpoint_status",
    "local_status",
    "sagemaker_endpoint_status",
    "sagemaker_status",
    "target_key",
]

#: ``(status word, failure message or None)`` as the platform reports it.
Status = tuple[str, str | None]

#: Seconds the local probe waits for the server to answer.
_LOCAL_PROBE_TIMEOUT = 5.0


def target_key(platform: DeployPlatform | str, *, components: bool = False) -> str:
    """The deploy-target key for a platform (``sagemaker_ic`` when inference components are asked for).

    Raises:
        ConfigError: Inference components asked for on a platform other than SageMaker.

    Example:
        >>> target_key(DeployPlatform.SAGEMAKER, components=True)
        'sagemaker_ic'
    """
    key = DeployPlatform(platform).value
    if components:
        if key != "sagemaker":
            raise ConfigError(f"Inference components exist only on SageMaker endpoints, not {key!r}.")
        return "sagemaker_ic"
    return key


def bedrock_od_status(region: str | None, arn: str) -> Status:
    """Live ``(status, failureMessage)`` of a Bedrock on-demand custom model deployment."""
    with aws.aws_errors("bedrock"):
        r = aws.client("bedrock", region).get_custom_model_deployment(customModelDeploymentIdentifier=arn)
    return str(r["status"]), r.get("failureMessage")


def bedrock_pt_status(region: str | None, arn: str) -> Status:
    """Live ``(status, failureMessage)`` of a Bedrock provisioned model throughput."""
    with aws.aws_errors("bedrock"):
        r = aws.client("bedrock", region).get_provisioned_model_throughput(provisionedModelId=arn)
    return str(r["status"]), r.get("failureMessage")


def bedrock_status(info: EndpointInfo, components: Sequence[str] = ()) -> Status:
    """Live ``(status, failure message)`` of a Bedrock deployment or provisioned model."""
    if DeployPlatform(info.platform) is DeployPlatform.BEDROCK_PT or ":provisioned-model/" in info.uri:
        return bedrock_pt_status(info.region, info.uri)
    return bedrock_od_status(info.region, info.uri)


def sagemaker_endpoint_status(region: str | None, name: str) -> Status:
    """Live ``(EndpointStatus, FailureReason)`` of the SageMaker endpoint ``name``."""
    with aws.aws_errors("sagemaker"):
        r = aws.client("sagemaker", region).describe_endpoint(EndpointName=name)
    return str(r["EndpointStatus"]), r.get("FailureReason")


def sagemaker_status(info: EndpointInfo, components: Sequence[str] = ()) -> Status:
    """Live ``(EndpointStatus, FailureReason)`` of a SageMaker endpoint."""
    return sagemaker_endpoint_status(info.region, info.endpoint_name)


def component_status(region: str | None, name: str) -> Status:
    """Live ``(InferenceComponentStatus, FailureReason)`` of an inference component."""
    with aws.aws_errors("sagemaker"):
        r = aws.client("sagemaker", region).describe_inference_component(InferenceComponentName=name)
    return str(r["InferenceComponentStatus"]), r.get("FailureReason")


def components_status(info: EndpointInfo, components: Sequence[str] = ()) -> Status:
    """The endpoint's status while it is not InService, then the first component not InService."""
    status = sagemaker_status(info)
    if status[0] != "InService":
        return status
    for name in components:
        comp = component_status(info.region, name)
        if comp[0] != "InService":
            return comp
    return status


def local_status(info: EndpointInfo, components: Sequence[str] = ()) -> Status:
    """``("InService", None)`` when the local server answers, else ``("NotRunning", reason)``."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(info.uri.rstrip("/") + "/v1/models", timeout=_LOCAL_PROBE_TIMEOUT):
            return "InService", None
    except urllib.error.HTTPError:
        return "InService", None  # the server answers
    except OSError as e:
        return "NotRunning", str(e)


#: Deploy-target key -> its live status function (same keys as ``_deploy_targets.TARGETS``).
STATUS: dict[str, Callable[[EndpointInfo, Sequence[str]], Status]] = {
    "bedrock_od": bedrock_status,
    "bedrock_pt": bedrock_status,
    "sagemaker": sagemaker_status,
    "sagemaker_ic": components_status,
    "local": local_status,
}


def endpoint_status(info: EndpointInfo, components: Sequence[str] = ()) -> Status:
    """Live ``(status, failure message)`` of a deployed endpoint, on any platform.

    Raises:
        ConfigError: The platform has no status lookup, or components on a non-SageMaker endpoint.
        AWSServiceError: The platform's describe call failed (operation and request id in the message).

    Example:
        >>> from amzn_nova_forge.model.result import EndpointInfo
        >>> info = EndpointInfo(DeployPlatform.SAGEMAKER, "ep", "arn:...:endpoint/ep", "s3://b/ckpt/", "us-east-1")
        >>> endpoint_status(info)  # doctest: +SKIP
        ('InService', None)
    """
    key = target_key(info.platform, components=bool(components))
    lookup = STATUS.get(key)
    if lookup is None:
        raise ConfigError(f"No status lookup for deploy target {key!r}; known: {', '.join(sorted(STATUS))}.")
    return lookup(info, components)
