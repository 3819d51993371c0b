"""``DeploymentResult`` and ``EndpointInfo``: what ``customizer.deploy`` returns.

Plain, JSON-serialisable data; ``DeploymentResult.status`` is a live call to the
platform (Bedrock ``GetCustomModelDeployment`` / ``GetProvisionedModelThroughput``,
SageMaker ``DescribeEndpoint``, or an HTTP probe of a local endpoint), answered from
the saved data alone so it works after ``DeploymentResult.load`` in a fresh process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.errors import ConfigError

__all__ = ["DeploymentResult", "EndpointInfo"]


@dataclass(frozen=True)
class EndpointInfo:
    """Where a deployed model can be called.

    Attributes:
        platform: The :class:`DeployPlatform` it runs on.
        endpoint_name: Endpoint (deployment / provisioned model) name.
        uri: The ARN to invoke (Bedrock deployment or provisioned-model ARN, SageMaker endpoint
            ARN) or the URL of a local endpoint. ``endpoint_arn`` is an alias.
        model_artifact_path: The checkpoint (S3 path, Bedrock model ARN or local folder) deployed.
        region: AWS region (None for local endpoints).

    Example:
        >>> info = EndpointInfo(DeployPlatform.SAGEMAKER, "ep", "arn:aws:sagemaker:us-east-1:1:endpoint/ep",
        ...                     "s3://b/ckpt/", "us-east-1")
        >>> info.endpoint_arn == info.uri
        True
    """

    platform: DeployPlatform
    endpoint_name: str
    uri: str
    model_artifact_path: str
    region: str | None = None

    @property
    def endpoint_arn(self) -> str:
        """Alias of :attr:`uri` (the name an older README used)."""
        return self.uri

    @property
    def api_key(self) -> str | None:
        """Bearer token of a local deployment (``OpenAI(base_url=uri + "/v1", api_key=...)``); None elsewhere.

        Read from the local runtime's deployment record, so it is never written by ``to_dict``/``dump``.
        """
        if DeployPlatform(self.platform) is not DeployPlatform.LOCAL:
            return None
        from amzn_nova_forge.manager._local._deploy import deployment_token

        return deployment_token(self.uri)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": DeployPlatform(self.platform).value,
            "endpoint_name": self.endpoint_name,
            "uri": self.uri,
            "model_artifact_path": self.model_artifact_path,
            "region": self.region,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointInfo:
        return cls(
            platform=DeployPlatform(data["platform"]),
            endpoint_name=data["endpoint_name"],
            uri=data["uri"],
            model_artifact_path=data["model_artifact_path"],
            region=data.get("region"),
        )


@dataclass
class DeploymentResult:
    """A deployment: its endpoint, when it was created, and the resources behind it.

    Attributes:
        endpoint: The :class:`EndpointInfo`.
        created_at: When the deployment was created (UTC).
        model_arn: The Bedrock custom model ARN or SageMaker model name behind the endpoint.
        resources: Every resource created for this deployment, ``"<kind> <id>"``.

    Example:
        >>> deployment = customizer.deploy(model_artifact_path="s3://bucket/ckpt/")  # doctest: +SKIP
        >>> print(deployment.endpoint.uri, deployment.status)  # doctest: +SKIP
    """

    endpoint: EndpointInfo
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    model_arn: str | None = None
    resources: list[str] = field(default_factory=list)

    # ---- convenience pass-throughs (the spec lists these next to ``endpoint``) -------------------
    @property
    def platform(self) -> DeployPlatform:
        return self.endpoint.platform

    @property
    def endpoint_name(self) -> str:
        return self.endpoint.endpoint_name

    @property
    def uri(self) -> str:
        return self.endpoint.uri

    @property
    def model_artifact_path(self) -> str:
        return self.endpoint.model_artifact_path

    # ---- live status ----------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """The platform's current status word, e.g. ``"Active"``, ``"InService"``, ``"Creating"``, ``"Failed"``.

        Each read is a live call (no caching).
        """
        return self.get_status()[0]

    def get_status(self) -> tuple[str, str | None]:
        """Return ``(status, failure message or None)`` from the platform."""
        from amzn_nova_forge.model import _deploy

        return _deploy.endpoint_status(self.endpoint)

    # ---- serialisation --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "__class_name__": type(self).__name__,
            "endpoint": self.endpoint.to_dict(),
            "created_at": self.created_at.isoformat(),
            "model_arn": self.model_arn,
            "resources": list(self.resources),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeploymentResult:
        if "endpoint" not in data:
            raise ConfigError("Not a saved DeploymentResult: the 'endpoint' key is missing.")
        return cls(
            endpoint=EndpointInfo.from_dict(data["endpoint"]),
            created_at=datetime.fromisoformat(data["created_at"]) if data.get("created_at") else datetime.now(UTC),
            model_arn=data.get("model_arn"),
            resources=list(data.get("resources") or []),
        )

    def dump(self, file_path: str | None = None, file_name: str | None = None) -> Path:
        """Save as JSON (default name ``<endpoint_name>_deployment.json``); returns the path."""
        from amzn_nova_forge.core.storage import write_text

        path = Path(file_path or ".") / (file_name or f"{self.endpoint.endpoint_name}_deployment.json")
        write_text(str(path), json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, file_path: str) -> DeploymentResult:
        """Load a result saved by :meth:`dump`."""
        from amzn_nova_forge.core.storage import read_text

        try:
            return cls.from_dict(json.loads(read_text(file_path)))
        except json.JSONDecodeError as e:
            raise ConfigError(f"{file_path} is not a saved deployment (invalid JSON at line {e.lineno}).") from e

    def __repr__(self) -> str:
        e = self.endpoint
        platform = DeployPlatform(e.platform).value
        return f"DeploymentResult(platform={platform!r}, endpoint_name={e.endpoint_name!r}, uri={e.uri!r})"

    def _repr_html_(self) -> str:
        from amzn_nova_forge.model.result._html import deployment_html

        return deployment_html(self)
