"""``SMTJRuntimeManager``: Nova jobs on SageMaker Training Jobs (``CreateTrainingJob``).

The request is built here and only here:

* ``AlgorithmSpecification.TrainingImage``: the recipe's Nova image (``JobConfig.image_uri``).
* The recipe is delivered the way SageMaker delivers recipes: uploaded as ``recipe.yaml`` to
  ``<output>/<job>/input/recipe/`` and attached as the ``recipe`` channel, with the
  hyperparameter ``sagemaker_recipe_local_path=/opt/ml/input/data/recipe/recipe.yaml``; the
  base model goes in ``base_model`` (or ``base_model_location`` for an S3 checkpoint) and the
  reward Lambda in ``reward_lambda_arn``.
* Channels ``train`` (and ``validation``) with ``S3DataType`` ``Converse`` for SFT/DPO/CPT
  training, ``S3Prefix`` for RFT, evaluation and batch inference.
* ``OutputDataConfig`` (+ KMS), ``ResourceConfig`` (+ volume KMS), ``VpcConfig``,
  ``EnableInterContainerTrafficEncryption``, ``TensorBoardOutputConfig``, tags.
* ``RoleArn``: ``execution_role``, else the caller's own role (STS, then IAM).

The job name is ``JobConfig.job_name`` — the name created is the id returned, never found by
listing. Idempotency: the request carries a submission token tag; if ``CreateTrainingJob``
times out after SageMaker accepted it, or a retry meets ``ResourceInUse``, the job of that
name is described and adopted when its token matches, so no second job is created.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.aws import resolve_region
from amzn_nova_forge.core.enums import JobStatus, Platform
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._base import (
    Capabilities,
    InstanceCountMixin,
    JobConfig,
    JobInfo,
    JobOutputs,
    JobRef,
    LogLocation,
    RuntimeManager,
)
from amzn_nova_forge.manager._checks_aws import AWSChecksMixin
from amzn_nova_forge.manager._dataprep import DataPrepModeMixin, dataprep_kwargs
from amzn_nova_forge.manager._lambda import RFTLambdaMixin
from amzn_nova_forge.manager._training_job import (
    TOKEN_TAG,
    create_training_job_once,
    describe_training_job,
    stop_training_job,
)

__all__ = [
    "TOKEN_TAG",
    "SMTJRuntimeManager",
    "create_training_job_once",
    "describe_training_job",
    "stop_training_job",
]

logger = logging.getLogger(__name__)

RECIPE_LOCAL_PATH = "/opt/ml/input/data/recipe/recipe.yaml"
#: CloudWatch log group of SageMaker training jobs (SMTJ and serverless).
TRAINING_JOB_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
DEFAULT_MAX_RUNTIME_S = 86400


def _vpc(subnets: list[str] | None, security_group_ids: list[str] | None) -> dict[str, Any] | None:
    if not subnets and not security_group_ids:
        return None
    if not subnets or not security_group_ids:
        raise ConfigError("A VPC needs both subnets and security_group_ids; pass both or neither.")
    return {"Subnets": list(subnets), "SecurityGroupIds": list(security_group_ids)}


def _load_recipe(path: str) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(storage.read_text(path))
    if not isinstance(data, dict):
        raise ConfigError(f"Recipe {path} is not a YAML mapping.")
    return data


def recipe_hyperparameters(recipe: Mapping[str, Any], job_config: JobConfig) -> dict[str, str]:
    """The HyperParameters SageMaker sets for a Nova recipe (all values strings)."""
    run = recipe.get("run") or {}
    hp: dict[str, str] = {"sagemaker_recipe_local_path": RECIPE_LOCAL_PATH}
    base = job_config.model_name_or_path or run.get("model_name_or_path")
    if base:
        hp["base_model_location" if str(base).startswith("s3://") else "base_model"] = str(base)
    reward = job_config.rft_lambda_arn or run.get("reward_lambda_arn")
    if reward:
        hp["reward_lambda_arn"] = str(reward)
    processor = (recipe.get("evaluation") and recipe.get("processor")) or {}
    if isinstance(processor, Mapping) and processor.get("lambda_arn"):
        hp["eval_lambda_arn"] = str(processor["lambda_arn"])
    for key, value in (job_config.extra.get("hyperparameters") or {}).items():
        hp[str(key)] = str(value)
    return hp


def data_channels(job_config: JobConfig) -> list[dict[str, Any]]:
    """``train`` and ``validation`` channels for the job's data (none when it has no data)."""
    data_type = job_config.input_s3_data_type or "S3Prefix"
    channels = []
    for name, uri in (("train", job_config.data_s3_path), ("validation", job_config.validation_data_s3_path)):
        if not uri:
            continue
        if not storage.is_s3(uri):
            raise ConfigError(f"The {name} data must be an S3 URI for SageMaker jobs, got {uri!r}.")
        channels.append(
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {"S3DataType": data_type, "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
                },
                "InputMode": "File",
            }
        )
    return channels


def sagemaker_job_info(ref: JobRef) -> JobInfo:
    """Status snapshot of a SageMaker training job (shared by SMTJ and serverless)."""
    job = describe_training_job(ref.job_id, ref.region)
    raw = str(job.get("TrainingJobStatus") or "")
    status = JobStatus.from_raw(raw)
    message = job.get("FailureReason") if status is JobStatus.FAILED else job.get("SecondaryStatus")
    return JobInfo(
        status=status,
        raw_status=raw,
        message=message,
        started_at=job.get("TrainingStartTime") or job.get("CreationTime"),
        ended_at=job.get("TrainingEndTime"),
    )


def sagemaker_job_outputs(ref: JobRef) -> JobOutputs:
    """Output path, ``output.tar.gz`` and the checkpoint (from ``manifest.json``) of a job."""
    from amzn_nova_forge.manager._artifacts import checkpoint_from_manifest, read_manifest

    job = describe_training_job(ref.job_id, ref.region)
    output = (job.get("OutputDataConfig") or {}).get("S3OutputPath")
    archive = storage.join(output, ref.job_id, "output", "output.tar.gz") if output else None
    checkpoint = (job.get("CheckpointConfig") or {}).get("S3Uri")
    if not checkpoint and archive and JobStatus.from_raw(job.get("TrainingJobStatus")) is JobStatus.COMPLETED:
        checkpoint = checkpoint_from_manifest(read_manifest(archive))
    return JobOutputs(output_s3_path=output, checkpoint_s3_path=checkpoint, output_archive=archive)


class SageMakerTrainingJobMixin:
    """The verbs every runtime built on SageMaker training jobs shares (SMTJ, serverless)."""

    region: str | None

    def cleanup(self, job_name: str) -> None:
        """Stop the training job (a job that already ended is left as is)."""
        stop_training_job(job_name, self.region)

    @classmethod
    def job_info(cls, ref: JobRef) -> JobInfo:
        return sagemaker_job_info(ref)

    @classmethod
    def log_location(cls, ref: JobRef) -> LogLocation:
        """Every stream ``<job>/...`` of the training-job log group."""
        return LogLocation("cloudwatch_streams", TRAINING_JOB_LOG_GROUP, stream_prefix=f"{ref.job_id}/")


class SMTJRuntimeManager(
    DataPrepModeMixin, SageMakerTrainingJobMixin, InstanceCountMixin, RFTLambdaMixin, AWSChecksMixin, RuntimeManager
):
    """Runs Nova jobs on SageMaker Training Jobs.

    Args:
        instance_type: e.g. ``"ml.p5.48xlarge"``.
        instance_count: Number of instances.
        execution_role: Role SageMaker assumes (default: the caller's role).
        kms_key_id: KMS key for the output, the training volume and the uploaded recipe.
        encrypt_inter_container_traffic: Encrypt traffic between training instances.
        subnets: VPC subnets (with ``security_group_ids``).
        security_group_ids: VPC security groups (with ``subnets``).
        rft_lambda: Reward Lambda ARN or local ``.py`` file (RFT).
        region: AWS region (default: the environment's).
        max_job_runtime: ``StoppingCondition.MaxRuntimeInSeconds`` (default one day; 3600 for data prep).
        image_uri, poll_interval, max_wait_time, s3_artifact_bucket, s3_artifact_prefix,
            keep_alive_seconds, job_submit_poll_timeout: Used after
            ``set_mode(SMTJRuntimeMode.DATA_PREP)`` (see :class:`SMTJDataPrepRuntimeManager`).

    Example:
        >>> infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
        >>> infra.instance_count
        2
    """

    platform: ClassVar[Platform] = Platform.SMTJ
    capabilities: ClassVar[Capabilities] = Capabilities(
        batch_inference=True,
        mlflow=True,
        reads_checkpoints_of=frozenset({Platform.SMTJ, Platform.SMTJServerless}),
        foreign_checkpoint_markers={"-hp-": "HyperPod"},
    )
    trusted_service: ClassVar[str | None] = "sagemaker.amazonaws.com"

    def __init__(
        self,
        instance_type: str,
        instance_count: int,
        execution_role: str | None = None,
        kms_key_id: str | None = None,
        encrypt_inter_container_traffic: bool = False,
        subnets: list[str] | None = None,
        security_group_ids: list[str] | None = None,
        rft_lambda: str | None = None,
        *,
        region: str | None = None,
        max_job_runtime: int = DEFAULT_MAX_RUNTIME_S,
        volume_size_gb: int | None = None,
        image_uri: str = "",
        poll_interval: int = 30,
        max_wait_time: int = 3600,
        s3_artifact_bucket: str | None = None,
        s3_artifact_prefix: str | None = None,
        keep_alive_seconds: int = 0,
        job_submit_poll_timeout: int = 600,
    ) -> None:
        if not isinstance(instance_type, str) or not instance_type.startswith("ml."):
            raise ConfigError(f"instance_type must look like 'ml.p5.48xlarge', got {instance_type!r}.")
        self.instance_type = instance_type
        self.instance_count = instance_count
        self.execution_role = execution_role
        self.kms_key_id = kms_key_id
        self.encrypt_inter_container_traffic = bool(encrypt_inter_container_traffic)
        self.subnets = list(subnets) if subnets else None
        self.security_group_ids = list(security_group_ids) if security_group_ids else None
        _vpc(self.subnets, self.security_group_ids)
        if not isinstance(max_job_runtime, int) or max_job_runtime <= 0:
            raise ConfigError(f"max_job_runtime must be a positive number of seconds, got {max_job_runtime!r}.")
        self.max_job_runtime = max_job_runtime
        self.volume_size_gb = volume_size_gb
        self.region = resolve_region(region)
        self.rft_lambda = rft_lambda
        self._dataprep_kwargs = dataprep_kwargs(
            image_uri=image_uri,
            poll_interval=poll_interval,
            max_wait_time=max_wait_time,
            s3_artifact_bucket=s3_artifact_bucket,
            s3_artifact_prefix=s3_artifact_prefix,
            keep_alive_seconds=keep_alive_seconds,
            job_submit_poll_timeout=job_submit_poll_timeout,
            max_job_runtime=max_job_runtime if max_job_runtime != DEFAULT_MAX_RUNTIME_S else None,
            volume_size_gb=volume_size_gb,
        )

    def resolve_execution_role(self) -> str:
        """``execution_role``, else the caller's own role (resolved once via STS/IAM)."""
        if not self.execution_role:
            from amzn_nova_forge.manager._checks_aws import caller_role_arn

            self.execution_role = caller_role_arn(self.region)
            logger.info("Using the caller's role %s as the execution role.", self.execution_role)
        return self.execution_role

    def iam_requirements(self, job_config: JobConfig, account: str) -> list[tuple[str, str]]:
        job_arn = f"arn:aws:sagemaker:{self.region}:{account}:training-job/{job_config.job_name}"
        return super().iam_requirements(job_config, account) + [
            ("sagemaker:CreateTrainingJob", job_arn),
            ("sagemaker:DescribeTrainingJob", job_arn),
            ("sagemaker:AddTags", job_arn),
        ]

    # ---- request ------------------------------------------------------------------------------
    def _upload_recipe(self, job_config: JobConfig) -> str:
        if not job_config.output_s3_path:
            raise ConfigError("SageMaker jobs need an output_s3_path (s3://bucket/prefix).")
        prefix = storage.join(job_config.output_s3_path, job_config.job_name, "input", "recipe") + "/"
        storage.write_bytes(
            prefix + "recipe.yaml", storage.read_bytes(job_config.recipe_path), kms_key_id=self.kms_key_id
        )
        return prefix

    def build_request(self, job_config: JobConfig, recipe_prefix: str) -> dict[str, Any]:
        """The ``CreateTrainingJob`` request for ``job_config`` (no call made)."""
        if not job_config.image_uri:
            raise ConfigError(f"No container image for job {job_config.job_name!r}; the recipe has no image.")
        recipe = job_config.recipe if job_config.recipe is not None else _load_recipe(job_config.recipe_path)
        recipe_channel = {
            "ChannelName": "recipe",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": recipe_prefix,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "InputMode": "File",
        }
        output: dict[str, Any] = {"S3OutputPath": job_config.output_s3_path}
        resources: dict[str, Any] = {"InstanceType": self.instance_type, "InstanceCount": self.instance_count}
        if self.volume_size_gb:
            resources["VolumeSizeInGB"] = self.volume_size_gb
        if self.kms_key_id:
            output["KmsKeyId"] = self.kms_key_id
            resources["VolumeKmsKeyId"] = self.kms_key_id
        tags = [
            {"Key": TOKEN_TAG, "Value": uuid.uuid4().hex},
            {"Key": "nova-forge:job-kind", "Value": job_config.job_kind},
        ]
        tags += [{"Key": k, "Value": v} for k, v in job_config.tags.items()]
        request: dict[str, Any] = {
            "TrainingJobName": job_config.job_name,
            "RoleArn": self.resolve_execution_role(),
            "AlgorithmSpecification": {"TrainingImage": job_config.image_uri, "TrainingInputMode": "File"},
            "HyperParameters": recipe_hyperparameters(recipe, job_config),
            "InputDataConfig": [recipe_channel, *data_channels(job_config)],
            "OutputDataConfig": output,
            "ResourceConfig": resources,
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_job_runtime},
            "EnableInterContainerTrafficEncryption": self.encrypt_inter_container_traffic,
            "TensorBoardOutputConfig": {"S3OutputPath": job_config.output_s3_path},
            "Tags": tags,
        }
        vpc = _vpc(self.subnets, self.security_group_ids)
        if vpc:
            request["VpcConfig"] = vpc
        if job_config.environment:
            request["Environment"] = dict(job_config.environment)
        return request

    def execute(self, job_config: JobConfig) -> str:
        """Start a SageMaker training job; returns its name (the job id).

        Example:
            >>> job_id = infra.execute(job_config)  # doctest: +SKIP
        """
        dataprep = self.data_prep_manager()
        if dataprep is not None:
            return dataprep.execute(job_config)
        prefix = self._upload_recipe(job_config)
        request = self.build_request(job_config, prefix)
        return create_training_job_once(request, self.region)

    @classmethod
    def job_outputs(cls, ref: JobRef) -> JobOutputs:
        return sagemaker_job_outputs(ref)

    def __repr__(self) -> str:
        return (
            f"SMTJRuntimeManager(instance_type={self.instance_type!r}, instance_count={self.instance_count}, "
            f"region={self.region!r})"
        )
