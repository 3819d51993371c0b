"""``GlueRuntimeManager``: data-prep pipelines as AWS Glue for Ray jobs (legacy runtime).

AWS Glue for Ray is **closed to new customers since 2026-04-30**; accounts that already use
it keep it. New pipelines should use ``SMTJRuntimeManager`` (data-prep mode). This manager
builds and submits the Glue requests for the accounts that still have it; the job runs the
same pipeline module as every other executor
(:mod:`amzn_nova_forge.dataset._curation._job`), shipped as a zip in ``--s3-py-modules``.

Requests: ``CreateJob`` (once: job ``nova-forge-dataprep``; ``Command.Name = "glueray"``, ``Runtime =
"Ray2.4"``, ``WorkerType`` ``Z.2X``, ``NumberOfWorkers``, ``GlueVersion`` ``4.0``,
``DefaultArguments`` with ``--pip-install`` and ``--s3-py-modules``), then ``StartJobRun`` with
``--config-json`` = the pipeline arguments (and this manager's worker type and count), then ``GetJobRun`` until a terminal state.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import ConfigError, JobFailedError, JobTimeoutError
from amzn_nova_forge.manager._base import JobConfig
from amzn_nova_forge.manager._dataprep import (
    JOB_PACKAGES,
    DataPrepJobConfig,
    DataPrepRunner,
    default_dataprep_bucket,
    package_zip,
)

__all__ = ["GLUE_SCRIPT", "GlueRuntimeManager"]

logger = logging.getLogger(__name__)

GLUE_ARTIFACT_PREFIX = "nova-forge/glue-artifacts"
#: The Glue job script: run the SDK's pipeline entry point with the job's arguments.
GLUE_SCRIPT = """import sys
from amzn_nova_forge.dataset._curation._job import main
sys.exit(main(sys.argv[1:]))
"""
_FAILED = {"FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"}


class GlueRuntimeManager(DataPrepRunner):
    """Runs data-prep pipelines on AWS Glue for Ray (closed to new customers since 2026-04-30).

    Args:
        glue_role_name: Role Glue assumes (name or ARN; default ``GlueDataPrepExecutionRole``).
        s3_artifact_bucket: Bucket for the script and the code zip (default
            ``sagemaker-forge-dataprep-{account}-{region}``).
        s3_artifact_prefix: Key prefix (default ``nova-forge/glue-artifacts``).
        worker_type: ``Z.2X`` (the only Ray worker type).
        num_workers: Glue workers (default 2).
        region: AWS region.
        poll_interval: Seconds between ``GetJobRun`` polls (default 30).
        max_wait_time: Seconds to wait before :class:`JobTimeoutError` (default 3600).
        kms_key_id: KMS key for the uploaded artifacts and input.
        sleep: Injectable sleep (tests).

    Example:
        >>> m = GlueRuntimeManager(num_workers=4, region="us-east-1")
        >>> m.worker_type
        'Z.2X'
    """

    runtime_label = "glue"

    def __init__(
        self,
        glue_role_name: str = "GlueDataPrepExecutionRole",
        s3_artifact_bucket: str | None = None,
        s3_artifact_prefix: str | None = None,
        worker_type: str = "Z.2X",
        num_workers: int = 2,
        region: str | None = None,
        poll_interval: int = 30,
        max_wait_time: int = 3600,
        kms_key_id: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if worker_type != "Z.2X":
            raise ConfigError(f"worker_type must be 'Z.2X' (the only Glue for Ray worker type); got {worker_type!r}.")
        for key, value in (
            ("num_workers", num_workers),
            ("poll_interval", poll_interval),
            ("max_wait_time", max_wait_time),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{key} must be a positive integer; got {value!r}.")
        self.glue_role_name = glue_role_name
        self.s3_artifact_bucket = s3_artifact_bucket
        self.s3_artifact_prefix = (s3_artifact_prefix or GLUE_ARTIFACT_PREFIX).strip("/")
        self.worker_type = worker_type
        self.num_workers = num_workers
        self.region = resolve_region(region)
        self.poll_interval = poll_interval
        self.max_wait_time = max_wait_time
        self.kms_key_id = kms_key_id
        self._sleep = sleep

    @property
    def runtime_name(self) -> str:
        return "AWS Glue for Ray"

    @property
    def runtime_config(self) -> str:
        return f"region={self.region}, worker_type={self.worker_type}, num_workers={self.num_workers}"

    def _role_arn(self) -> str:
        if self.glue_role_name.startswith("arn:"):
            return self.glue_role_name
        with aws_errors("sts"):
            account = client("sts", self.region).get_caller_identity()["Account"]
        return f"arn:aws:iam::{account}:role/{self.glue_role_name}"

    def upload_artifacts(self) -> tuple[str, str]:
        """Upload the script and the SDK zip; returns their URIs."""
        bucket = self.s3_artifact_bucket or default_dataprep_bucket(self.region)
        base = f"s3://{bucket}/{self.s3_artifact_prefix}"
        script, code = f"{base}/nova_forge_curation.py", f"{base}/amzn_nova_forge.zip"
        storage.write_bytes(script, GLUE_SCRIPT.encode(), kms_key_id=self.kms_key_id)
        storage.write_bytes(code, package_zip(), kms_key_id=self.kms_key_id)
        return script, code

    def build_job_request(self, job_name: str, script_uri: str, code_uri: str) -> dict[str, Any]:
        """The ``CreateJob`` request (no call made)."""
        return {
            "Name": job_name,
            "Role": self._role_arn(),
            "Command": {"Name": "glueray", "ScriptLocation": script_uri, "PythonVersion": "3.9", "Runtime": "Ray2.4"},
            "GlueVersion": "4.0",
            "WorkerType": self.worker_type,
            "NumberOfWorkers": self.num_workers,
            "Timeout": max(1, self.max_wait_time // 60),
            "DefaultArguments": {
                "--pip-install": ",".join(
                    p.replace(">=", "==") if p.startswith("langid") else p.split(">=")[0] for p in JOB_PACKAGES
                ),
                "--s3-py-modules": code_uri,
            },
            "Tags": {"nova-forge:job-kind": "data_prep"},
        }

    def execute(self, job_config: JobConfig) -> str:
        """Create the Glue job if needed, start a run and wait for it; returns the run id.

        Raises:
            JobFailedError: The run ended FAILED, STOPPED, TIMEOUT or ERROR (with Glue's message).
            JobTimeoutError: Still running after ``max_wait_time`` seconds.
        """
        if not isinstance(job_config, DataPrepJobConfig):
            raise ConfigError(f"GlueRuntimeManager runs DataPrepJobConfig jobs, got {type(job_config).__name__}.")
        glue = client("glue", self.region)
        job = "nova-forge-dataprep"
        script, code = self.upload_artifacts()
        request = self.build_job_request(job, script, code)
        with aws_errors("glue"):
            try:
                glue.get_job(JobName=job)  # created by an earlier run: its script and zip were just refreshed
            except glue.exceptions.EntityNotFoundException:
                glue.create_job(**request)
            run_id: str = glue.start_job_run(
                JobName=job,
                Arguments={"--config-json": json.dumps(job_config.extra_args)},
                WorkerType=self.worker_type,
                NumberOfWorkers=self.num_workers,
            )["JobRunId"]
        logger.info("Started Glue data-prep run %s of job %s (%s)", run_id, job, self.runtime_config)
        waited = 0.0
        while True:
            with aws_errors("glue"):
                run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
            state = run["JobRunState"]
            if state == "SUCCEEDED":
                return run_id
            if state in _FAILED:
                reason = run.get("ErrorMessage") or state
                raise JobFailedError(
                    f"Glue data-prep run {run_id!r} ended {state}: {reason}", job_id=run_id, reason=reason
                )
            if waited >= self.max_wait_time:
                raise JobTimeoutError(
                    f"Glue data-prep run {run_id!r} is still {state} after {self.max_wait_time} s.", job_id=run_id
                )
            self._sleep(self.poll_interval)
            waited += self.poll_interval

    def cleanup(self, job_name: str) -> None:
        """Stop a run (``job_name`` is the run id ``execute`` returned)."""
        with aws_errors("glue"):
            client("glue", self.region).batch_stop_job_run(JobName="nova-forge-dataprep", JobRunIds=[job_name])
