"""Deploy targets behind one small protocol, found through a table of strings (no imports until used).

Each target knows four verbs for its kind of endpoint: ``deploy`` (create what is
needed, recording each resource in the :class:`DeployContext`), ``status`` (a live
``(status, message)``), ``invoke`` (one request) and ``delete`` (remove the endpoint and
what the SDK created behind it). Like the runtimes' registry, adding a target is one
class and one line in :data:`TARGETS`.

=================  ==============================================================
``bedrock_od``     Bedrock custom model + on-demand deployment
``bedrock_pt``     Bedrock custom model + provisioned throughput
``sagemaker``      SageMaker model + endpoint config + real-time endpoint
``sagemaker_ic``   SageMaker model + inference-component endpoint + components
``local``          the local runtime's OpenAI-compatible server (127.0.0.1)
=================  ==============================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.model import _deploy_status
from amzn_nova_forge.model._deploy_common import DeployContext
from amzn_nova_forge.model._deploy_env import InferenceComponentConfig
from amzn_nova_forge.model._deploy_status import target_key
from amzn_nova_forge.model.result._deployment import DeploymentResult, EndpointInfo
from amzn_nova_forge.model.result._single import SingleInferenceResult

__all__ = ["TARGETS", "DeployRequest", "DeployTarget", "get_target", "target_key"]

TARGETS: dict[str, str] = {
    "bedrock_od": "amzn_nova_forge.model._deploy_targets:BedrockTarget",
    "bedrock_pt": "amzn_nova_forge.model._deploy_targets:BedrockTarget",
    "sagemaker": "amzn_nova_forge.model._deploy_targets:SageMakerEndpointTarget",
    "sagemaker_ic": "amzn_nova_forge.model._deploy_targets:InferenceComponentTarget",
    "local": "amzn_nova_forge.model._deploy_targets:LocalTarget",
}


@dataclass
class DeployRequest:
    """What a target needs beyond the :class:`DeployContext` (role, instance, environment …)."""

    get_role: Callable[[], str] = field(default=lambda: "")
    instance_type: str = "ml.p5.48xlarge"
    environment: Mapping[str, str] = field(default_factory=dict)
    skip_model_reuse: bool = False
    tags: Sequence[Mapping[str, str]] | None = None
    components: Sequence[InferenceComponentConfig] = ()
    infra: Any = None
    #: Seconds the local server may take to start (None: the runtime's default).
    local_timeout: float | None = None


class DeployTarget(Protocol):
    """One kind of endpoint: deploy, status, invoke, delete."""

    key: ClassVar[str]

    def deploy(self, ctx: DeployContext, request: DeployRequest) -> DeploymentResult: ...

    def status(self, info: EndpointInfo, components: Sequence[str] = ()) -> tuple[str, str | None]: ...

    def invoke(
        self, endpoint: str, request_body: Mapping[str, Any], inference_component_name: str | None = None
    ) -> SingleInferenceResult: ...

    def delete(self, info: EndpointInfo, components: Sequence[str] = ()) -> list[str]: ...


def get_target(key: str) -> DeployTarget:
    """The target registered under ``key`` (imported on first use).

    Raises:
        ConfigError: No target of that name (the message lists them).
    """
    spec = TARGETS.get(key)
    if spec is None:
        raise ConfigError(f"Unknown deploy target {key!r}; known: {', '.join(sorted(TARGETS))}.")
    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(key)  # type: ignore[no-any-return]


def _invoke(endpoint: str, body: Mapping[str, Any], component: str | None = None) -> SingleInferenceResult:
    from amzn_nova_forge.model import _invoke

    return _invoke.invoke(endpoint, body, inference_component_name=component)


class BedrockTarget:
    """Bedrock on-demand (``bedrock_od``) or provisioned throughput (``bedrock_pt``)."""

    key: ClassVar[str] = "bedrock"

    def __init__(self, key: str = "bedrock_od") -> None:
        self.key = key  # type: ignore[misc]

    def deploy(self, ctx: DeployContext, request: DeployRequest) -> DeploymentResult:
        from amzn_nova_forge.model import _deploy_bedrock

        return _deploy_bedrock.deploy_bedrock(
            ctx, request.get_role, skip_model_reuse=request.skip_model_reuse, tags=request.tags
        )

    def status(self, info: EndpointInfo, components: Sequence[str] = ()) -> tuple[str, str | None]:
        return _deploy_status.bedrock_status(info)

    def invoke(
        self, endpoint: str, request_body: Mapping[str, Any], inference_component_name: str | None = None
    ) -> SingleInferenceResult:
        return _invoke(endpoint, request_body)

    def delete(self, info: EndpointInfo, components: Sequence[str] = ()) -> list[str]:
        from amzn_nova_forge.model import _deploy_bedrock

        _deploy_bedrock.delete_endpoint(DeployPlatform(info.platform), info.region, info.uri)
        return [f"Bedrock endpoint {info.uri}"]


class SageMakerEndpointTarget:
    """A SageMaker real-time endpoint serving one model."""

    key: ClassVar[str] = "sagemaker"

    def __init__(self, key: str = "sagemaker") -> None:
        pass

    def deploy(self, ctx: DeployContext, request: DeployRequest) -> DeploymentResult:
        from amzn_nova_forge.model import _deploy_sagemaker

        return _deploy_sagemaker.deploy_sagemaker(
            ctx, request.get_role, request.instance_type, request.environment, skip_model_reuse=request.skip_model_reuse
        )

    def status(self, info: EndpointInfo, components: Sequence[str] = ()) -> tuple[str, str | None]:
        return _deploy_status.sagemaker_status(info)

    def invoke(
        self, endpoint: str, request_body: Mapping[str, Any], inference_component_name: str | None = None
    ) -> SingleInferenceResult:
        return _invoke(endpoint, request_body, inference_component_name)

    def delete(self, info: EndpointInfo, components: Sequence[str] = ()) -> list[str]:
        from amzn_nova_forge.model import _deploy_sagemaker

        return _deploy_sagemaker.delete_endpoint(info.region, info.endpoint_name)


class InferenceComponentTarget(SageMakerEndpointTarget):
    """A SageMaker endpoint whose models are placed by inference components."""

    key: ClassVar[str] = "sagemaker_ic"

    def deploy(self, ctx: DeployContext, request: DeployRequest) -> DeploymentResult:
        from amzn_nova_forge.model import _deploy_components

        return _deploy_components.deploy_components(
            ctx,
            request.get_role,
            request.instance_type,
            request.environment,
            request.components,
            skip_model_reuse=request.skip_model_reuse,
        )

    def status(self, info: EndpointInfo, components: Sequence[str] = ()) -> tuple[str, str | None]:
        """The endpoint's status while it is not InService, then the first component not InService."""
        return _deploy_status.components_status(info, components)

    def delete(self, info: EndpointInfo, components: Sequence[str] = ()) -> list[str]:
        from amzn_nova_forge.model import _deploy_components

        gone = []
        for name in components:
            _deploy_components.delete_inference_component(info.region, name)
            gone.append(f"SageMaker inference component {name}")
        return gone + super().delete(info)


class LocalTarget:
    """The local runtime's server (``manager/_local/_deploy.py``) on 127.0.0.1."""

    key: ClassVar[str] = "local"

    def __init__(self, key: str = "local") -> None:
        pass

    def deploy(self, ctx: DeployContext, request: DeployRequest) -> DeploymentResult:
        import inspect

        from amzn_nova_forge.manager import _local

        infra = request.infra
        manager = infra if isinstance(infra, _local.LocalRuntimeManager) else _local.LocalRuntimeManager
        fn = manager.deploy_model
        params = inspect.signature(fn).parameters
        kwargs: dict[str, Any] = {}
        if "endpoint_name" in params:
            kwargs["endpoint_name"] = ctx.endpoint_name
        if request.local_timeout is not None and "timeout" in params:
            kwargs["timeout"] = request.local_timeout
        url = str(fn(ctx.artifact, **kwargs))
        ctx.record(f"local endpoint {url}", lambda: self._stop(url))
        info = EndpointInfo(DeployPlatform.LOCAL, ctx.endpoint_name, url, ctx.artifact, None)
        return DeploymentResult(endpoint=info, model_arn=ctx.artifact, resources=list(ctx.created))

    @staticmethod
    def _stop(url: str) -> None:
        from amzn_nova_forge.manager._local._deploy import stop_deployment

        stop_deployment(url)

    def status(self, info: EndpointInfo, components: Sequence[str] = ()) -> tuple[str, str | None]:
        return _deploy_status.local_status(info)

    def invoke(
        self, endpoint: str, request_body: Mapping[str, Any], inference_component_name: str | None = None
    ) -> SingleInferenceResult:
        return _invoke(endpoint, request_body)

    def delete(self, info: EndpointInfo, components: Sequence[str] = ()) -> list[str]:
        from amzn_nova_forge.manager._local._deploy import stop_deployment

        return [f"local endpoint {info.uri}"] if stop_deployment(info.uri) else []
