"""Training results: where the trained model is, for every platform, even after a restart.

``model_artifacts.checkpoint_s3_path`` is unknown while the job runs. Reading
``result.model_artifacts`` after the job is COMPLETED asks the runtime where the checkpoint
is (for SageMaker: ``manifest.json`` inside ``output.tar.gz``, read in memory) and keeps the
answer, so ``dump()`` after completion saves it and ``load()`` in a fresh process needs no
further call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, NovaForgeError
from amzn_nova_forge.model.result._base import BaseJobResult

__all__ = [
    "BedrockTrainingResult",
    "LocalTrainingResult",
    "ModelArtifacts",
    "SMHPTrainingResult",
    "SMTJServerlessTrainingResult",
    "SMTJTrainingResult",
    "TrainingResult",
]

logger = logging.getLogger(__name__)


@dataclass
class ModelArtifacts:
    """Where a training job's outputs are.

    Attributes:
        checkpoint_s3_path: The trained model checkpoint (None until the job has completed).
        output_s3_path: The job's output location (metrics and ``output.tar.gz``).
        output_model_arn: Bedrock only: the custom model ARN the job produced.
    """

    checkpoint_s3_path: str | None = None
    output_s3_path: str | None = None
    output_model_arn: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ModelArtifacts:
        data = data or {}
        return cls(
            checkpoint_s3_path=data.get("checkpoint_s3_path"),
            output_s3_path=data.get("output_s3_path"),
            output_model_arn=data.get("output_model_arn"),
        )


def _order(first: Any, second: Any) -> tuple[datetime | None, TrainingMethod]:
    """``(started_time, method)`` from the official order, or from the older ``(method, started_time)``.

    Raises:
        ConfigError: No method, or a value that is neither a time nor a method.
    """
    if isinstance(first, (TrainingMethod, str)) and not isinstance(second, (TrainingMethod, str)):
        first, second = second, first  # older positional order: (job_id, method, started_time, ...)
    if second is None:
        raise ConfigError("A training result needs its method, e.g. TrainingMethod.SFT_LORA.")
    if first is not None and not isinstance(first, datetime):
        raise ConfigError(f"started_time must be a datetime, got {first!r}.")
    try:
        method = second if isinstance(second, TrainingMethod) else TrainingMethod(second)
    except ValueError:
        raise ConfigError(
            f"method must be a TrainingMethod, got {second!r}; choose from {', '.join(m.value for m in TrainingMethod)}."
        ) from None
    return first, method


class TrainingResult(BaseJobResult):
    """The result of ``ForgeTrainer.train`` / ``NovaModelCustomizer.train``.

    The constructor takes the official positional order ``(job_id, started_time, method,
    model_artifacts, model_type)``; the older ``(job_id, method, started_time, ...)`` still works.

    Attributes:
        job_id: The training job id (SageMaker job name, Bedrock job ARN, HyperPod job name).
        method: The :class:`TrainingMethod` used.
        started_time: When the job was started.
        model_artifacts: :class:`ModelArtifacts` (checkpoint filled in once the job completed).
        model_type: The :class:`Model` trained.

    Example:
        >>> result = customizer.train(job_name="my-training-job")  # doctest: +SKIP
        >>> status, raw = result.get_job_status()  # doctest: +SKIP
        >>> result.model_artifacts.checkpoint_s3_path  # doctest: +SKIP
    """

    def __init__(
        self,
        job_id: str,
        started_time: datetime | TrainingMethod | str | None = None,
        method: TrainingMethod | str | datetime | None = None,
        model_artifacts: ModelArtifacts | None = None,
        model_type: Model | str | None = None,
        *,
        platform: Platform | str | None = None,
        region: str | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        started, method = _order(started_time, method)
        super().__init__(job_id, started, platform=platform, region=region, extras=extras)
        self.method = method
        self._artifacts = model_artifacts or ModelArtifacts()
        if isinstance(model_type, str):
            model_type = Model.from_model_name(model_type)
        self.model_type: Model | None = model_type

    @property
    def model_artifacts(self) -> ModelArtifacts:
        """Paths to the checkpoint and outputs; the checkpoint is looked up once the job completed."""
        if self._artifacts.checkpoint_s3_path is None and self._artifacts.output_model_arn is None:
            self.resolve_artifacts()
        return self._artifacts

    @model_artifacts.setter
    def model_artifacts(self, value: ModelArtifacts) -> None:
        self._artifacts = value

    def resolve_artifacts(self) -> ModelArtifacts:
        """Ask the runtime where the checkpoint is (only when the job has COMPLETED).

        Returns the (possibly updated) artifacts; lookup errors are logged, not raised.
        """
        try:
            if self.status().status is not JobStatus.COMPLETED:
                return self._artifacts
            outputs = self._runtime_class().job_outputs(self.ref)
        except (NovaForgeError, OSError, ValueError) as e:
            logger.warning("Could not resolve the checkpoint of job %s: %s", self.job_id, e)
            return self._artifacts
        a = self._artifacts
        self._artifacts = ModelArtifacts(
            checkpoint_s3_path=a.checkpoint_s3_path or outputs.checkpoint_s3_path,
            output_s3_path=a.output_s3_path or outputs.output_s3_path,
            output_model_arn=a.output_model_arn or outputs.output_model_arn,
        )
        return self._artifacts

    def get(self) -> dict[str, Any]:
        """This result as plain data (resolving the checkpoint when the job has completed)."""
        self.model_artifacts  # noqa: B018 - resolves the checkpoint when possible
        return self.to_dict()

    def show(self) -> None:
        """Print the job, its status and where the trained model is.

        Example:
            >>> result.show()  # doctest: +SKIP
            Training job my-job-1a2b3c4d (SFT_LORA, NOVA_LITE_2 on SMTJ): Completed
              checkpoint: s3://customer-escrow-.../my-job-1a2b3c4d/step-100
        """
        status, raw = self.get_job_status()
        artifacts = self.model_artifacts
        model = self.model_type.name if self.model_type else "unknown model"
        print(f"Training job {self.job_id} ({self.method.name}, {model} on {self.platform.value}): {raw}")
        for label, value in (
            ("checkpoint", artifacts.checkpoint_s3_path),
            ("output", artifacts.output_s3_path),
            ("model ARN", artifacts.output_model_arn),
        ):
            if value:
                print(f"  {label}: {value}")
        if status is JobStatus.IN_PROGRESS:
            print("  (the checkpoint is known once the job has completed)")

    def get_training_metrics(self) -> list[dict[str, float]]:
        """Per-step metrics of a multi-turn RFT job on SMTJServerless (``AgentRFT``), from its MLflow run.

        Raises:
            UnsupportedFeatureError: This is not a multi-turn RFT job on SMTJServerless.
            MissingDependencyError: ``mlflow`` is not installed (the ``[mlflow]`` extra).

        Example:
            >>> rows = result.get_training_metrics()  # doctest: +SKIP
            >>> rows[0]["rollout/reward/mean"]  # doctest: +SKIP
        """
        from amzn_nova_forge.errors import UnsupportedFeatureError
        from amzn_nova_forge.monitor._mtrl import mtrl_training_metrics

        if self.extras.get("job_category") != "AgentRFT":
            raise UnsupportedFeatureError(
                f"get_training_metrics() reads multi-turn RFT jobs on SMTJServerless; job {self.job_id!r} is not one "
                "(use CloudWatchLogMonitor.get_metrics() for other jobs).",
                runtime=self.platform.value,
                features=["get_training_metrics"],
            )
        return mtrl_training_metrics(self.job_id, self.region)

    def _fields(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "model_artifacts": self._artifacts.to_dict(),
            "model_type": self.model_type.name if self.model_type else None,
        }

    @classmethod
    def _from_fields(cls, base: dict[str, Any], data: Mapping[str, Any]) -> BaseJobResult:
        return cls(
            base.pop("job_id"),
            base.pop("started_time"),
            data["method"],
            ModelArtifacts.from_dict(data.get("model_artifacts")),
            data.get("model_type"),
            **base,
        )


class SMTJTrainingResult(TrainingResult):
    """A training job on SageMaker Training Jobs."""

    platform_default: ClassVar[Platform | None] = Platform.SMTJ


class SMTJServerlessTrainingResult(TrainingResult):
    """A serverless SageMaker training job."""

    platform_default: ClassVar[Platform | None] = Platform.SMTJServerless


class BedrockTrainingResult(TrainingResult):
    """A Bedrock model customization job (``job_id`` is the job ARN)."""

    platform_default: ClassVar[Platform | None] = Platform.BEDROCK


class LocalTrainingResult(TrainingResult):
    """A training job run on this machine by ``LocalRuntimeManager``."""

    platform_default: ClassVar[Platform | None] = Platform.LOCAL


class SMHPTrainingResult(TrainingResult):
    """A training job on a SageMaker HyperPod cluster.

    Attributes:
        cluster_name: The HyperPod cluster.
        namespace: The Kubernetes namespace of the job.
    """

    platform_default: ClassVar[Platform | None] = Platform.SMHP

    def __init__(
        self,
        job_id: str,
        started_time: datetime | TrainingMethod | str | None = None,
        method: TrainingMethod | str | datetime | None = None,
        model_artifacts: ModelArtifacts | None = None,
        model_type: Model | str | None = None,
        cluster_name: str | None = None,
        namespace: str | None = None,
        *,
        platform: Platform | str | None = None,
        region: str | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        merged = dict(extras or {})
        if cluster_name is not None:
            merged["cluster_name"] = cluster_name
        if namespace is not None:
            merged["namespace"] = namespace
        merged.setdefault("namespace", "kubeflow")
        super().__init__(
            job_id, started_time, method, model_artifacts, model_type, platform=platform, region=region, extras=merged
        )

    @property
    def cluster_name(self) -> str | None:
        value = self.extras.get("cluster_name")
        return str(value) if value is not None else None

    @property
    def namespace(self) -> str:
        return str(self.extras.get("namespace") or "kubeflow")

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "cluster_name": self.cluster_name, "namespace": self.namespace}

    @classmethod
    def _from_fields(cls, base: dict[str, Any], data: Mapping[str, Any]) -> BaseJobResult:
        return cls(
            base.pop("job_id"),
            base.pop("started_time"),
            data["method"],
            ModelArtifacts.from_dict(data.get("model_artifacts")),
            data.get("model_type"),
            data.get("cluster_name"),
            data.get("namespace"),
            **base,
        )


#: Result class per platform (used by ``_train``).
TRAINING_RESULT_CLASSES: dict[Platform, type[TrainingResult]] = {
    Platform.SMTJ: SMTJTrainingResult,
    Platform.SMTJServerless: SMTJServerlessTrainingResult,
    Platform.SMHP: SMHPTrainingResult,
    Platform.BEDROCK: BedrockTrainingResult,
    Platform.LOCAL: LocalTrainingResult,
}
