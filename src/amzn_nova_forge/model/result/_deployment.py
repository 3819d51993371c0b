"""``DeploymentResult``, ``EndpointInfo`` and ``ModelDeployResult``: what deploys return.

Plain, JSON-serialisable data; ``DeploymentResult.status`` is a live call to the
platform (Bedrock ``GetCustomModelDeployment`` / ``GetProvisionedModelThroughput``,
SageMaker ``DescribeEndpoint`` / ``DescribeInferenceComponent``, or an HTTP probe of a
local endpoint), answered from the saved data alone so it works after
``DeploymentResult.load`` in a fresh process. ``ModelDeployResult`` is the first step of
a two-step deploy (``create_custom_model``): the published model, found again by
``from_arn`` or ``load`` to retry the endpoint without importing the model again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.enums import DeployPlatform, ModelStatus
from amzn_nova_forge.errors import ConfigError

__all__ = ["DeploymentResult", "EndpointInfo", "ModelDeployResult"]

_BEDROCK_MODEL = re.compile(r"^arn:aws[\w-]*:bedrock:([a-z0-9-]+):(\d{12}):custom-model/.+$")
_SAGEMAKER_MODEL = re.compile(r"^arn:aws[\w-]*:sagemaker:([a-z0-9-]+):(\d{12}):model/(.+)$")
#: Tag key naming the checkpoint a model was created from (shared with the official SDK).
ESCROW_TAG_KEY = "sagemaker.amazonaws.com/forge/escrow-uri"
_BEDROCK_STATUS = {"Creating": ModelStatus.CREATING, "Active": ModelStatus.ACTIVE, "Failed": ModelStatus.FAILED}


@dataclass
class ModelDeployResult:
    """A published model (Bedrock custom model or SageMaker model), ready to be deployed.

    Attributes:
        model_arn: The Bedrock custom model ARN or SageMaker model ARN.
        model_name: The model's name.
        escrow_uri: The S3 checkpoint the model was created from.
        created_at: When the model was created (UTC).
        region: Region of the model (taken from the ARN when not given).

    Example:
        >>> r = ModelDeployResult("arn:aws:bedrock:us-east-1:123456789012:custom-model/imported/abc",
        ...                       "my-model", "s3://bucket/ckpt/")
        >>> r.platform, r.region
        ('bedrock', 'us-east-1')
    """

    model_arn: str
    model_name: str
    escrow_uri: str
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    region: str | None = None

    def __post_init__(self) -> None:
        if self.region is None:
            m = _BEDROCK_MODEL.match(self.model_arn) or _SAGEMAKER_MODEL.match(self.model_arn)
            self.region = m.group(1) if m else None

    @property
    def platform(self) -> str | None:
        """``"bedrock"`` or ``"sagemaker"`` from the ARN's format; ``None`` for anything else."""
        if _BEDROCK_MODEL.match(self.model_arn):
            return "bedrock"
        if _SAGEMAKER_MODEL.match(self.model_arn):
            return "sagemaker"
        return None

    @property
    def status(self) -> ModelStatus:
        """The model's live status (``GetCustomModel`` / ``DescribeModel``); ``UNKNOWN`` if it cannot be read."""
        import logging

        from amzn_nova_forge.core import aws
        from amzn_nova_forge.errors import AWSServiceError

        try:
            if self.platform == "bedrock":
                with aws.aws_errors("bedrock"):
                    r = aws.client("bedrock", self.region).get_custom_model(modelIdentifier=self.model_arn)
                return _BEDROCK_STATUS.get(str(r.get("modelStatus") or "Active"), ModelStatus.UNKNOWN)
            if self.platform == "sagemaker":
                with aws.aws_errors("sagemaker"):
                    aws.client("sagemaker", self.region).describe_model(ModelName=self.model_name)
                return ModelStatus.ACTIVE  # a SageMaker model exists as soon as CreateModel returns
        except AWSServiceError as e:
            logging.getLogger(__name__).warning("Could not read the status of %s: %s", self.model_arn, e)
        return ModelStatus.UNKNOWN

    @classmethod
    def from_arn(cls, model_arn: str, bedrock_client: Any = None, sagemaker_client: Any = None) -> ModelDeployResult:
        """Rebuild from a model ARN: name and creation time from the platform, ``escrow_uri`` from its tag.

        Raises:
            ConfigError: The ARN is neither a Bedrock custom model nor a SageMaker model.
            AWSServiceError: The describe call failed (e.g. the model does not exist).

        Example:
            >>> ModelDeployResult.from_arn("arn:aws:bedrock:us-east-1:123456789012:custom-model/m")  # doctest: +SKIP
        """
        from amzn_nova_forge.core import aws

        bedrock = _BEDROCK_MODEL.match(model_arn)
        sagemaker = _SAGEMAKER_MODEL.match(model_arn)
        if bedrock:
            client = bedrock_client or aws.client("bedrock", bedrock.group(1))
            with aws.aws_errors("bedrock"):
                model = client.get_custom_model(modelIdentifier=model_arn)
                tags = client.list_tags_for_resource(resourceARN=model_arn).get("tags", [])
            escrow = next((t["value"] for t in tags if t.get("key") == ESCROW_TAG_KEY), "")
            return cls(model_arn, str(model.get("modelName") or ""), escrow, _utc(model.get("creationTime")))
        if sagemaker:
            client = sagemaker_client or aws.client("sagemaker", sagemaker.group(1))
            with aws.aws_errors("sagemaker"):
                model = client.describe_model(ModelName=sagemaker.group(3))
                tags = client.list_tags(ResourceArn=model_arn).get("Tags", [])
            escrow = next((t["Value"] for t in tags if t.get("Key") == ESCROW_TAG_KEY), "")
            return cls(model_arn, str(model["ModelName"]), escrow, _utc(model.get("CreationTime")))
        raise ConfigError(
            f"{model_arn!r} is not a model ARN: expected arn:aws:bedrock:<region>:<account>:custom-model/... "
            "or arn:aws:sagemaker:<region>:<account>:model/<name>."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "__class_name__": type(self).__name__,
            "model_arn": self.model_arn,
            "model_name": self.model_name,
            "escrow_uri": self.escrow_uri,
            "created_at": self.created_at.isoformat(),
            "region": self.region,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelDeployResult:
        """Rebuild from :meth:`to_dict` data.

        Raises:
            ConfigError: A required key is missing.
        """
        missing = [k for k in ("model_arn", "model_name", "escrow_uri") if k not in data]
        if missing:
            raise ConfigError(f"Not a saved ModelDeployResult: missing {', '.join(missing)}.")
        return cls(
            model_arn=str(data["model_arn"]),
            model_name=str(data["model_name"]),
            escrow_uri=str(data["escrow_uri"]),
            created_at=_utc(data.get("created_at")),
            region=data.get("region"),
        )

    def dump(self, file_path: str | None = None, file_name: str | None = None) -> Path:
        """Save as JSON (default name ``<model_name>_deploy_result.json``); returns the path."""
        from amzn_nova_forge.core.storage import write_text

        path = Path(file_path or ".") / (file_name or f"{self.model_name}_deploy_result.json")
        write_text(str(path), json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, file_path: str) -> ModelDeployResult:
        """Load a result saved by :meth:`dump`.

        Raises:
            ConfigError: The file is not valid JSON or not a saved ModelDeployResult.
        """
        from amzn_nova_forge.core.storage import read_text

        try:
            data = json.loads(read_text(file_path))
        except json.JSONDecodeError as e:
            raise ConfigError(f"{file_path} is not a saved model (invalid JSON at line {e.lineno}).") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{file_path} is not a saved ModelDeployResult (expected a JSON object).")
        return cls.from_dict(data)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return datetime.now(UTC)


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
        model_publish: The :class:`ModelDeployResult` of the model behind the endpoint, if known.
        inference_components: Names of the inference components on a SageMaker endpoint.

    Example:
        >>> deployment = customizer.deploy(model_artifact_path="s3://bucket/ckpt/")  # doctest: +SKIP
        >>> print(deployment.endpoint.uri, deployment.status)  # doctest: +SKIP
    """

    endpoint: EndpointInfo
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    model_arn: str | None = None
    resources: list[str] = field(default_factory=list)
    model_publish: ModelDeployResult | None = None
    inference_components: list[str] = field(default_factory=list)

    @property
    def escrow_uri(self) -> str | None:
        """The checkpoint the model was created from (``model_publish.escrow_uri``)."""
        return self.model_publish.escrow_uri if self.model_publish else None

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
        from amzn_nova_forge.model._deploy_status import endpoint_status

        return endpoint_status(self.endpoint, self.inference_components)

    # ---- serialisation --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "__class_name__": type(self).__name__,
            "endpoint": self.endpoint.to_dict(),
            "created_at": self.created_at.isoformat(),
            "model_arn": self.model_arn,
            "resources": list(self.resources),
            "model_publish": self.model_publish.to_dict() if self.model_publish else None,
            "inference_components": list(self.inference_components),
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
            model_publish=ModelDeployResult.from_dict(data["model_publish"]) if data.get("model_publish") else None,
            inference_components=list(data.get("inference_components") or []),
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
