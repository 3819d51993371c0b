"""Data-prep jobs on SageMaker Training Jobs: the curation pipeline submitted to AWS.

``SMTJRuntimeManager(...).set_mode(SMTJRuntimeMode.DATA_PREP)`` (done for you when the
manager is passed to ``loader.filter(runtime_manager=...)``) delegates to
:class:`SMTJDataPrepRuntimeManager`, which you can also use directly (the official name).

A run (:meth:`DataPrepRunner.run_curation`) uploads the records to
``<first step output>/_input/part-00000.jsonl``, starts one job running
:mod:`amzn_nova_forge.dataset._curation._job` — the same code as the local executor — and
waits for it; the kept records (``<last step output>/part-00000.jsonl``) become the loader's
records and ``_curation.json`` gives the counts. The SDK's own code goes to the job as a zip
on the ``code`` channel (``PYTHONPATH`` points at it), so the job runs exactly this version.

``CreateTrainingJob`` request (built in :meth:`SMTJDataPrepRuntimeManager.build_request`):
``AlgorithmSpecification`` = ``image_uri`` (default: the AWS PyTorch CPU training DLC) with
``ContainerEntrypoint`` ``bash -c "pip install <deps> && python -m …_job"``;
``HyperParameters`` = the job arguments (:func:`~amzn_nova_forge.dataset._curation._job.job_arguments`);
channel ``code`` (S3Prefix); ``ResourceConfig`` (+ ``KeepAlivePeriodInSeconds``, volume KMS);
``StoppingCondition.MaxRuntimeInSeconds``; ``VpcConfig``; ``OutputDataConfig`` (+ KMS).
"""

from __future__ import annotations

import io
import logging
import os
import time
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import ConfigError, JobFailedError, JobTimeoutError
from amzn_nova_forge.manager._base import JobConfig

__all__ = [
    "DEFAULT_DATAPREP_IMAGE",
    "DataPrepJobConfig",
    "DataPrepModeMixin",
    "DataPrepRunner",
    "SMTJDataPrepRuntimeManager",
    "default_dataprep_bucket",
]

logger = logging.getLogger(__name__)

#: AWS Deep Learning Container used when ``image_uri`` is empty (``{region}`` filled in).
DEFAULT_DATAPREP_IMAGE = (
    "763104351884.dkr.ecr.{region}.amazonaws.com/pytorch-training:2.5.1-cpu-py311-ubuntu22.04-sagemaker"
)
#: What the job installs before running (the SDK's own dependencies for curation).
JOB_PACKAGES = (
    "numpy>=1.24",
    "numba>=0.60",  # the curation kernels run compiled (plain Python without it)
    "orjson>=3.9",
    "langid>=1.1.6",
    "boto3>=1.34",
    "PyYAML>=6.0",
    "tqdm>=4.66",
)
SMTJ_DATAPREP_ARTIFACT_PREFIX = "nova-forge/smtj-dataprep-artifacts"
DEFAULT_DATAPREP_ROLE = "SmtjDataPrepExecutionRole"
_CODE_DIR = "/opt/ml/input/data/code"
_TERMINAL = {"Completed", "Failed", "Stopped"}


@dataclass
class DataPrepJobConfig(JobConfig):
    """A data-prep job (official name): input and output on S3 plus the pipeline arguments.

    ``data_s3_path`` is the input JSONL, ``output_s3_path`` the output root;
    ``extra_args`` carries ``pipeline_id`` and the job arguments.
    """

    image_uri: str = ""
    recipe_path: str = ""
    input_format: str = "jsonl"
    output_format: str = "jsonl"
    text_field: str = "text"
    extra_args: dict[str, Any] = field(default_factory=dict)
    extra_pip_packages: list[str] = field(default_factory=list)


def default_dataprep_bucket(region: str) -> str:
    """``sagemaker-forge-dataprep-{account}-{region}`` (the official default bucket)."""
    with aws_errors("sts"):
        account = client("sts", region).get_caller_identity()["Account"]
    return f"sagemaker-forge-dataprep-{account}-{region}"


def package_zip() -> bytes:
    """This SDK's ``amzn_nova_forge`` package as a zip (importable from ``PYTHONPATH``)."""
    import amzn_nova_forge

    root = os.path.dirname(os.path.abspath(amzn_nova_forge.__file__))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(folder, name)
                zf.write(path, os.path.join("amzn_nova_forge", os.path.relpath(path, root)))
    return buf.getvalue()


class DataPrepRunner:
    """What every data-prep runtime shares: turning queued filter steps into one remote job."""

    runtime_label: ClassVar[str] = "remote"
    kms_key_id: str | None = None

    def execute(self, job_config: JobConfig) -> str:  # pragma: no cover - each runtime implements it
        raise NotImplementedError

    def run_curation(self, steps: Sequence[Any], store: Any, out_dirs: Sequence[str]) -> tuple[Any, Any]:
        """Run ``steps`` as one job over ``store``; returns the kept records and the counts."""
        from amzn_nova_forge.dataset import _io
        from amzn_nova_forge.dataset._curation._job import CURATION_FILE, job_arguments
        from amzn_nova_forge.dataset._curation._result import CurationResult, FilterOperationResult

        bad = [d for d in out_dirs if not storage.is_s3(d)]
        if bad:
            raise ConfigError(
                f"Filters on {type(self).__name__} write to S3: give each filter an output_path "
                f"'s3://bucket/prefix/' (or load the data from S3); got {bad[0]!r}."
            )
        t0 = time.perf_counter()
        input_uri = storage.join(out_dirs[0], "_input", "part-00000.jsonl")
        storage.upload(store.path, input_uri, kms_key_id=self.kms_key_id)
        root = out_dirs[-1]
        args = job_arguments(input_uri, steps, out_dirs, root)
        name = steps[0].job_name or f"nova-forge-dataprep-{int(time.time())}-{uuid.uuid4().hex[:6]}"
        config = DataPrepJobConfig(
            job_name=name,
            data_s3_path=input_uri,
            output_s3_path=root,
            text_field=steps[0].text_field,
            extra_args=args,
        )
        self.execute(config)
        import json

        summary = json.loads(storage.read_text(storage.join(root, CURATION_FILE)))
        if summary["output_count"]:
            new = _io.load_store("jsonl", storage.join(root, "part-00000.jsonl"), _io.DEFAULT_MAX_RECORD_BYTES, None)
        else:
            from amzn_nova_forge.dataset._store import StoreWriter

            with StoreWriter(root) as w:
                new = w.finish()
        fields = FilterOperationResult.__dataclass_fields__
        results = [FilterOperationResult(**{k: v for k, v in s.items() if k in fields}) for s in summary["steps"]]
        res = CurationResult(
            results, summary["input_count"], summary["output_count"], time.perf_counter() - t0, self.runtime_label
        )
        return new, res


class SMTJDataPrepRuntimeManager(DataPrepRunner):
    """Runs data-prep pipelines as SageMaker training jobs (official name).

    Args:
        instance_type: e.g. ``"ml.m5.2xlarge"``.
        instance_count: Instances (the pipeline uses one; more are paid for, not used).
        image_uri: Container image (default :data:`DEFAULT_DATAPREP_IMAGE` in ``region``).
        execution_role_name: Role name or ARN SageMaker assumes (default ``SmtjDataPrepExecutionRole``).
        kms_key_id: KMS key for the output, the volume and the uploaded input.
        subnets / security_group_ids: VPC placement.
        max_job_runtime: ``MaxRuntimeInSeconds`` (default 3600).
        poll_interval: Seconds between status polls (default 30).
        max_wait_time: Seconds to wait for the job before :class:`JobTimeoutError` (default 3600).
        s3_artifact_bucket: Bucket for the code zip (default ``sagemaker-forge-dataprep-{account}-{region}``).
        s3_artifact_prefix: Key prefix for artifacts (default ``nova-forge/smtj-dataprep-artifacts``).
        volume_size_gb: EBS volume size (default 30).
        keep_alive_seconds: Warm-pool keep-alive (default 0: none).
        job_submit_poll_timeout: Accepted for the official signature (submission is idempotent here).
        region: AWS region (default: the environment's).
        sleep: Injectable sleep (tests).

    Example:
        >>> m = SMTJDataPrepRuntimeManager(instance_type="ml.m5.2xlarge", region="us-east-1")
        >>> m.poll_interval
        30
    """

    runtime_label = "smtj"

    def __init__(
        self,
        instance_type: str,
        instance_count: int = 1,
        image_uri: str = "",
        execution_role_name: str | None = None,
        kms_key_id: str | None = None,
        subnets: list[str] | None = None,
        security_group_ids: list[str] | None = None,
        max_job_runtime: int = 3600,
        poll_interval: int = 30,
        max_wait_time: int = 3600,
        s3_artifact_bucket: str | None = None,
        s3_artifact_prefix: str | None = None,
        volume_size_gb: int = 30,
        keep_alive_seconds: int = 0,
        region: str | None = None,
        *,
        job_submit_poll_timeout: int = 600,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(instance_type, str) or not instance_type.startswith("ml."):
            raise ConfigError(f"instance_type must look like 'ml.m5.2xlarge', got {instance_type!r}.")
        for key, value, lo in (
            ("instance_count", instance_count, 1),
            ("max_job_runtime", max_job_runtime, 1),
            ("poll_interval", poll_interval, 1),
            ("max_wait_time", max_wait_time, 1),
            ("volume_size_gb", volume_size_gb, 1),
            ("keep_alive_seconds", keep_alive_seconds, 0),
            ("job_submit_poll_timeout", job_submit_poll_timeout, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < lo:
                raise ConfigError(f"{key} must be an integer >= {lo}; got {value!r}.")
        if keep_alive_seconds > 3600:
            raise ConfigError(f"keep_alive_seconds must be at most 3600 (SageMaker's limit); got {keep_alive_seconds}.")
        self.instance_type = instance_type
        self.instance_count = instance_count
        self.region = resolve_region(region)
        self.image_uri = image_uri or DEFAULT_DATAPREP_IMAGE.format(region=self.region)
        self.execution_role_name = execution_role_name or DEFAULT_DATAPREP_ROLE
        self.kms_key_id = kms_key_id
        self.subnets = list(subnets) if subnets else None
        self.security_group_ids = list(security_group_ids) if security_group_ids else None
        if bool(self.subnets) != bool(self.security_group_ids):
            raise ConfigError("Give both subnets and security_group_ids for a VPC, or neither.")
        self.max_job_runtime = max_job_runtime
        self.poll_interval = poll_interval
        self.max_wait_time = max_wait_time
        self.s3_artifact_bucket = s3_artifact_bucket
        self.s3_artifact_prefix = (s3_artifact_prefix or SMTJ_DATAPREP_ARTIFACT_PREFIX).strip("/")
        self.volume_size_gb = volume_size_gb
        self.keep_alive_seconds = keep_alive_seconds
        self.job_submit_poll_timeout = job_submit_poll_timeout
        self._sleep = sleep

    @property
    def runtime_name(self) -> str:
        return "SageMaker Training Job"

    @property
    def runtime_config(self) -> str:
        return f"region={self.region}, instance_type={self.instance_type}, instance_count={self.instance_count}"

    def role_arn(self) -> str:
        """The execution role ARN (a bare name is completed with the caller's account)."""
        if self.execution_role_name.startswith("arn:"):
            return self.execution_role_name
        with aws_errors("sts"):
            account = client("sts", self.region).get_caller_identity()["Account"]
        return f"arn:aws:iam::{account}:role/{self.execution_role_name}"

    def upload_code(self, job_name: str) -> str:
        """Upload the SDK zip; returns the ``code`` channel prefix."""
        bucket = self.s3_artifact_bucket or default_dataprep_bucket(self.region)
        prefix = f"s3://{bucket}/{self.s3_artifact_prefix}/{job_name}/code/"
        storage.write_bytes(prefix + "amzn_nova_forge.zip", package_zip(), kms_key_id=self.kms_key_id)
        return prefix

    def build_request(self, job_config: JobConfig, code_prefix: str) -> dict[str, Any]:
        """The ``CreateTrainingJob`` request (no call made)."""
        if not isinstance(job_config, DataPrepJobConfig):
            raise ConfigError(
                f"SMTJDataPrepRuntimeManager runs DataPrepJobConfig jobs, got {type(job_config).__name__}."
            )
        if not job_config.data_s3_path or not job_config.output_s3_path:
            raise ConfigError("A data-prep job needs data_s3_path (input) and output_s3_path (s3:// prefixes).")
        packages = " ".join(f"'{p}'" for p in (*JOB_PACKAGES, *job_config.extra_pip_packages))
        command = f"pip install -q {packages} && python -m amzn_nova_forge.dataset._curation._job"
        resources: dict[str, Any] = {
            "InstanceType": self.instance_type,
            "InstanceCount": self.instance_count,
            "VolumeSizeInGB": self.volume_size_gb,
        }
        if self.keep_alive_seconds:
            resources["KeepAlivePeriodInSeconds"] = self.keep_alive_seconds
        output: dict[str, Any] = {"S3OutputPath": storage.join(job_config.output_s3_path, "_job")}
        if self.kms_key_id:
            output["KmsKeyId"] = self.kms_key_id
            resources["VolumeKmsKeyId"] = self.kms_key_id
        request: dict[str, Any] = {
            "TrainingJobName": job_config.job_name,
            "RoleArn": self.role_arn(),
            "AlgorithmSpecification": {
                "TrainingImage": job_config.image_uri or self.image_uri,
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["bash", "-c", command],
            },
            "HyperParameters": {k: str(v) for k, v in job_config.extra_args.items()},
            "InputDataConfig": [
                {
                    "ChannelName": "code",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": code_prefix,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                    "InputMode": "File",
                }
            ],
            "OutputDataConfig": output,
            "ResourceConfig": resources,
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_job_runtime},
            "Environment": {"PYTHONPATH": f"{_CODE_DIR}/amzn_nova_forge.zip", "PYTHONUNBUFFERED": "1"},
            "Tags": [
                {"Key": "nova-forge:submission-token", "Value": uuid.uuid4().hex},
                {"Key": "nova-forge:job-kind", "Value": "data_prep"},
            ],
        }
        if self.subnets:
            request["VpcConfig"] = {"Subnets": self.subnets, "SecurityGroupIds": self.security_group_ids}
        return request

    def execute(self, job_config: JobConfig) -> str:
        """Start the job and wait for it; returns the job name.

        Raises:
            JobFailedError: The job ended Failed or Stopped (with SageMaker's reason).
            JobTimeoutError: Still running after ``max_wait_time`` seconds.
            AWSServiceError: SageMaker or S3 refused a call.
        """
        from amzn_nova_forge.manager._training_job import create_training_job_once

        request = self.build_request(job_config, self.upload_code(job_config.job_name))
        name = create_training_job_once(request, self.region)
        logger.info("Started data-prep job %s (%s)", name, self.runtime_config)
        self._wait(name)
        return name

    def _wait(self, name: str) -> None:
        sm = client("sagemaker", self.region)
        waited = 0.0
        while True:
            with aws_errors("sagemaker"):
                desc = sm.describe_training_job(TrainingJobName=name)
            status = desc["TrainingJobStatus"]
            if status == "Completed":
                return
            if status in _TERMINAL:
                reason = desc.get("FailureReason") or status
                raise JobFailedError(f"Data-prep job {name!r} ended {status}: {reason}", job_id=name, reason=reason)
            if waited >= self.max_wait_time:
                raise JobTimeoutError(
                    f"Data-prep job {name!r} is still {status} after {self.max_wait_time} s; raise max_wait_time "
                    f"or follow it in the SageMaker console.",
                    job_id=name,
                )
            self._sleep(self.poll_interval)
            waited += self.poll_interval

    def cleanup(self, job_name: str) -> None:
        """Stop the job (one that already ended is left as is)."""
        from amzn_nova_forge.manager._training_job import stop_training_job

        stop_training_job(job_name, self.region)

    def __repr__(self) -> str:
        return f"SMTJDataPrepRuntimeManager(instance_type={self.instance_type!r}, region={self.region!r})"


class DataPrepModeMixin:
    """``set_mode(SMTJRuntimeMode.DATA_PREP)`` for ``SMTJRuntimeManager`` (official behaviour).

    The data-prep constructor arguments are kept in ``_dataprep_kwargs``; switching builds an
    :class:`SMTJDataPrepRuntimeManager` from them and the manager's instance type, count, role,
    KMS key, VPC and region, and ``execute``/``cleanup``/``run_curation`` go to it. The switch is
    one way (DATA_PREP → TRAINING raises), as in the official SDK.
    """

    instance_type: str | None
    instance_count: int
    execution_role: str | None
    kms_key_id: str | None
    subnets: list[str] | None
    security_group_ids: list[str] | None
    region: str | None
    _dataprep_kwargs: dict[str, Any]

    @property
    def mode(self) -> Any:
        """The current :class:`~amzn_nova_forge.core.enums.SMTJRuntimeMode`."""
        from amzn_nova_forge.core.enums import SMTJRuntimeMode

        return SMTJRuntimeMode.DATA_PREP if self.__dict__.get("_dataprep") is not None else SMTJRuntimeMode.TRAINING

    def set_mode(self, mode: Any) -> None:
        """Switch to ``SMTJRuntimeMode.DATA_PREP`` (idempotent).

        Raises:
            ConfigError: ``mode`` is not an SMTJRuntimeMode, or DATA_PREP → TRAINING is asked.
        """
        from amzn_nova_forge.core.enums import SMTJRuntimeMode

        if not isinstance(mode, SMTJRuntimeMode):
            raise ConfigError(f"set_mode() takes an SMTJRuntimeMode, got {mode!r}.")
        if mode is self.mode:
            return
        if mode is SMTJRuntimeMode.TRAINING:
            raise ConfigError(
                "Cannot switch an SMTJRuntimeManager from DATA_PREP back to TRAINING; create a new manager."
            )
        kw = dict(self._dataprep_kwargs)
        if not self.instance_type:
            raise ConfigError("DATA_PREP mode needs the manager's instance_type (e.g. 'ml.m5.2xlarge').")
        self.__dict__["_dataprep"] = SMTJDataPrepRuntimeManager(
            instance_type=self.instance_type,
            instance_count=self.instance_count,
            execution_role_name=self.execution_role,
            kms_key_id=self.kms_key_id,
            subnets=self.subnets,
            security_group_ids=self.security_group_ids,
            region=self.region,
            **kw,
        )

    def data_prep_manager(self) -> SMTJDataPrepRuntimeManager | None:
        """The delegate in DATA_PREP mode, else ``None``."""
        d: SMTJDataPrepRuntimeManager | None = self.__dict__.get("_dataprep")
        return d

    def run_curation(self, steps: Sequence[Any], store: Any, out_dirs: Sequence[str]) -> tuple[Any, Any]:
        """Run filter steps as a SageMaker data-prep job (switches to DATA_PREP first)."""
        from amzn_nova_forge.core.enums import SMTJRuntimeMode

        self.set_mode(SMTJRuntimeMode.DATA_PREP)
        delegate = self.data_prep_manager()
        assert delegate is not None
        return delegate.run_curation(steps, store, out_dirs)


def dataprep_kwargs(
    *,
    image_uri: str = "",
    poll_interval: int = 30,
    max_wait_time: int = 3600,
    s3_artifact_bucket: str | None = None,
    s3_artifact_prefix: str | None = None,
    keep_alive_seconds: int = 0,
    job_submit_poll_timeout: int = 600,
    max_job_runtime: int | None = None,
    volume_size_gb: int | None = None,
) -> dict[str, Any]:
    """The data-prep arguments ``SMTJRuntimeManager`` keeps for ``set_mode(DATA_PREP)``."""
    kw: dict[str, Any] = {
        "image_uri": image_uri,
        "poll_interval": poll_interval,
        "max_wait_time": max_wait_time,
        "s3_artifact_bucket": s3_artifact_bucket,
        "s3_artifact_prefix": s3_artifact_prefix,
        "keep_alive_seconds": keep_alive_seconds,
        "job_submit_poll_timeout": job_submit_poll_timeout,
        "max_job_runtime": max_job_runtime or 3600,
    }
    if volume_size_gb:
        kw["volume_size_gb"] = volume_size_gb
    return kw
