"""The runtime protocol every backend implements, and the JSON-safe job reference.

A runtime manager is configured by the user (instance type, role, cluster …) and
does two things for the customizer: ``execute(JobConfig) -> job id`` and
``cleanup(job id)``. Everything a *result* needs later (status, logs, outputs) is
answered from a :class:`JobRef` alone, through classmethods, so a result loaded
from disk in a fresh process works without the original manager object.

Contract for a backend (see ``ADDING_A_RUNTIME.md``):

* ``platform``: the :class:`~amzn_nova_forge.core.enums.Platform` it serves.
* ``execute(job_config)``: start the job; return the id it created (never found by listing).
* ``cleanup(job_name)``: stop the job (idempotent).
* ``job_ref(job_id)``: the JSON-safe reference of a job this manager started.
* classmethod ``job_info(ref) -> JobInfo``: one status snapshot.
* classmethod ``job_outputs(ref) -> JobOutputs`` (optional): where artifacts are.
* classmethod ``log_location(ref)`` (optional): where logs are, as a :class:`LogLocation`
  (the monitor turns it into a reader).

Only the backend module knows the shape of its service's requests.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from amzn_nova_forge.core.enums import JobStatus, Platform

__all__ = [
    "Capabilities",
    "InstanceCountMixin",
    "JobConfig",
    "JobInfo",
    "JobOutputs",
    "JobRef",
    "LogLocation",
    "RuntimeManager",
]


@dataclass
class JobConfig:
    """Everything a runtime needs to start one job (training, evaluation or batch inference).

    The first nine fields are the published ``JobConfig``; the rest are filled by the
    customizer and are optional for runtimes that don't use them.
    """

    job_name: str
    image_uri: str
    recipe_path: str
    output_s3_path: str | None = None
    data_s3_path: str | None = None
    input_s3_data_type: str | None = None
    mlflow_tracking_uri: str | None = None
    mlflow_experiment_name: str | None = None
    mlflow_run_name: str | None = None
    validation_data_s3_path: str | None = None
    method: Any = None  # TrainingMethod
    model: Any = None  # Model
    job_kind: str = "training"  # "training" | "evaluation" | "batch_inference"
    rft_lambda_arn: str | None = None
    model_name_or_path: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    data_mixing_config: dict[str, Any] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    #: The built recipe (the same mapping written to ``recipe_path``): runtimes read it instead of
    #: re-reading the YAML. None when a caller only gives ``recipe_path``.
    recipe: dict[str, Any] | None = None
    #: True when ``output_s3_path`` is the SDK's default bucket, created right before the job starts.
    default_output_path: bool = False


@dataclass(frozen=True)
class JobRef:
    """Everything needed to find a job again; JSON-safe.

    Attributes:
        platform: Where the job runs.
        job_id: The id the platform gave (SMTJ job name, Bedrock ARN, HyperPod job name, local job id).
        region: AWS region (None for local).
        extras: Platform extras, e.g. ``{"cluster_name": ..., "namespace": ...}`` or ``{"job_dir": ...}``.
    """

    platform: Platform
    job_id: str
    region: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["platform"] = self.platform.value
        d["extras"] = dict(self.extras)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRef:
        return cls(
            platform=Platform(data["platform"]),
            job_id=data["job_id"],
            region=data.get("region"),
            extras=dict(data.get("extras") or {}),
        )


@dataclass(frozen=True)
class JobInfo:
    """One status snapshot of a job."""

    status: JobStatus
    raw_status: str
    message: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class JobOutputs:
    """Where a job's outputs are (any may be None while unknown)."""

    output_s3_path: str | None = None
    checkpoint_s3_path: str | None = None
    output_archive: str | None = None  # e.g. <output>/<job>/output/output.tar.gz
    output_model_arn: str | None = None


@dataclass(frozen=True)
class LogLocation:
    """Where a job's log events are.

    Attributes:
        kind: ``"cloudwatch_streams"`` (every stream of ``where`` starting with ``stream_prefix``),
            ``"cloudwatch_filter"`` (events of ``where`` whose streams start with ``stream_prefix``
            and that mention ``term``) or ``"local_file"`` (the file ``where``).
        where: The log group, or the file path.
        stream_prefix: Stream name prefix (CloudWatch).
        term: Text every event of the job contains (filtered groups shared by jobs).
        json_records: Messages are JSON records whose ``log`` field is the container's line.
        timestamped: Events carry their own times (a start-time filter applies).
    """

    kind: str
    where: str
    stream_prefix: str | None = None
    term: str | None = None
    json_records: bool = False
    timestamped: bool = True


@dataclass(frozen=True)
class Capabilities:
    """What a runtime can do: one table per runtime, read by :meth:`RuntimeManager.require`.

    Attributes:
        batch_inference: Runs batch-inference jobs.
        mlflow: Reports to MLflow.
        data_mixing: Mixes Nova data into training.
        rft_multiturn: Runs multi-turn RFT with self-hosted environments.
        aws: Jobs read and write S3 (an output location is needed; the default bucket is made).
        local_paths: Data, outputs and checkpoints may be local paths (else S3 URIs).
        reads_checkpoints_of: Platforms whose checkpoints its jobs can evaluate or continue.
        foreign_checkpoint_markers: ``{marker: platform}``: a checkpoint path containing the
            marker comes from that platform and cannot be continued here.
        poll_seconds: How often ``result.wait()`` asks for the job's status by default.
        billed: Jobs run on paid AWS capacity (the MCP server's plans say so).
        live_status: A job's status and progress are read on this machine without an AWS call
            (notebook reprs show them live; the runtime has ``job_status_data``).
        reads_recipe_after_execute: The job reads its recipe folder while it runs, so the
            folder is kept after ``execute`` returns.
        deploys_model_arn: A finished training job's output model ARN is deployed in preference
            to its checkpoint path (Bedrock custom models).
        serves_local_checkpoints: A local checkpoint deployed to the default target
            (``DeployPlatform.BEDROCK_OD``) is served on this machine instead (``DeployPlatform.LOCAL``).
        agentcore_mtrl: Multi-turn RFT (training and ``RFT_MULTITURN_EVAL``) runs as AgentRFT jobs
            with the agent in Amazon Bedrock AgentCore or a Lambda, without a recipe.
        training_metrics_csv: ``generate_training_metrics_csv`` reads SFT steps from its logs.
        batch_sample_tracing: Its training container writes the batch hash logs of
            ``enable_batch_sample_tracing``.
        log_needs_cluster: Reading a job's logs needs the cluster's name (``cluster_name``).
    """

    batch_inference: bool = False
    mlflow: bool = False
    data_mixing: bool = False
    rft_multiturn: bool = False
    aws: bool = True
    local_paths: bool = False
    reads_checkpoints_of: frozenset[Platform] = frozenset()
    foreign_checkpoint_markers: Mapping[str, str] = field(default_factory=dict)
    poll_seconds: float = 30.0
    billed: bool = True
    live_status: bool = False
    reads_recipe_after_execute: bool = False
    deploys_model_arn: bool = False
    serves_local_checkpoints: bool = False
    agentcore_mtrl: bool = False
    training_metrics_csv: bool = False
    batch_sample_tracing: bool = False
    log_needs_cluster: bool = False


class RuntimeManager(abc.ABC):
    """Base class of every runtime manager (SMTJ, SMTJ Serverless, SMHP, Bedrock, Local).

    Subclasses set ``platform`` and implement :meth:`execute`, :meth:`cleanup`,
    :meth:`job_ref` and :meth:`job_info`. The shared RFT-lambda properties and
    ``deploy_lambda`` / ``validate_lambda`` live in ``_lambda.RFTLambdaMixin``.
    """

    platform: ClassVar[Platform]
    #: What this runtime can do (the one table :meth:`require` reads).
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: feature name -> why this runtime cannot do it (the message of :meth:`require`).
    unsupported: ClassVar[Mapping[str, str]] = {}

    #: AWS region (None for the local runtime).
    region: str | None = None
    #: Instance type of the job (None where the platform picks it: serverless, Bedrock, local).
    instance_type: str | None = None
    #: KMS key for outputs (None: the bucket's default encryption).
    kms_key_id: str | None = None
    #: The RFT reward function as given: a Lambda ARN or a local ``.py`` file (None when not set).
    rft_lambda: str | None = None

    @property
    def instance_count(self) -> int | None:
        """Number of instances (None where the platform picks it)."""
        return None

    @property
    def rft_lambda_arn(self) -> str | None:
        """The reward Lambda ARN for RFT jobs (None when not set)."""
        return None

    def check_iam(self, job_config: JobConfig) -> list[str]:
        """Problems with the permissions ``job_config`` needs (one line each); none by default."""
        return []

    def check_infra(self, job_config: JobConfig) -> list[str]:
        """Problems with the resources ``job_config`` uses (one line each); none by default."""
        return []

    @abc.abstractmethod
    def execute(self, job_config: JobConfig) -> str:
        """Start a job; return the job id the platform gave it."""

    @abc.abstractmethod
    def cleanup(self, job_name: str) -> None:
        """Stop (cancel) a job. Idempotent."""

    def job_ref(self, job_id: str) -> JobRef:
        """The JSON-safe reference of a job this manager started."""
        return JobRef(platform=self.platform, job_id=job_id, region=self.region)

    @classmethod
    @abc.abstractmethod
    def job_info(cls, ref: JobRef) -> JobInfo:
        """One status snapshot of the job ``ref`` (works in a fresh process)."""

    @classmethod
    def job_outputs(cls, ref: JobRef) -> JobOutputs:
        """Where the job's outputs are. Default: nothing known."""
        return JobOutputs()

    @classmethod
    def log_location(cls, ref: JobRef) -> LogLocation | None:
        """Where the job's logs are (None: the platform publishes none, e.g. Bedrock)."""
        return None

    @classmethod
    def eval_output_location(cls, output_s3_path: str | None, job_id: str, extras: Mapping[str, Any]) -> str:
        """Where an evaluation or batch-inference job's results are. Default: ``<output>/<job>/output/output.tar.gz``."""
        base = (output_s3_path or "").rstrip("/")
        return f"{base}/{job_id}/output/output.tar.gz" if base else ""

    @classmethod
    def require(cls, *features: str) -> None:
        """Raise unless this runtime can do every one of ``features`` (names of :class:`Capabilities` flags).

        Raises:
            UnsupportedFeatureError: One line per feature it cannot do, with the reason.

        Example:
            >>> from amzn_nova_forge.manager import BedrockRuntimeManager
            >>> BedrockRuntimeManager.require("batch_inference")
            Traceback (most recent call last):
            ...
            amzn_nova_forge.errors.UnsupportedFeatureError: BEDROCK cannot do: batch_inference ...
        """
        from amzn_nova_forge.errors import UnsupportedFeatureError

        missing = [f for f in features if not getattr(cls.capabilities, f)]
        if missing:
            reasons = "; ".join(f"{f} ({cls.unsupported[f]})" if f in cls.unsupported else f for f in missing)
            raise UnsupportedFeatureError(
                f"{cls.platform.value} cannot do: {reasons}.", runtime=cls.platform.value, features=missing
            )


class InstanceCountMixin:
    """A validated, settable ``instance_count`` (shared by the instance-based runtimes)."""

    _instance_count: int

    @property
    def instance_count(self) -> int:
        """Number of instances."""
        return self._instance_count

    @instance_count.setter
    def instance_count(self, value: int) -> None:
        from amzn_nova_forge.errors import ConfigError

        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"instance_count must be a positive integer, got {value!r}.")
        self._instance_count = value
