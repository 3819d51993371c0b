"""``MTRLLogMonitor``: logs, progress and metrics of multi-turn RFT jobs on SMTJServerless.

Training jobs (category ``AgentRFT``) log to ``/aws/sagemaker/Job/AgentRFT``, evaluation jobs
(``AgentRFTEvaluation``) to ``/aws/sagemaker/Job/AgentRFTEvaluation``; each job's streams start
with its name. Progress (``ProgressInfo``), token usage (``BillableTokenUsage``) and the MLflow run
(``MlflowDetails``) are in the ``ServiceOutput`` section SageMaker writes into the job's
``JobConfigDocument``; per-step metrics are in that MLflow run (read only when ``mlflow`` is
installed: ``pip install 'amzn-nova-forge[mlflow]'``).

Example:
    >>> monitor = MTRLLogMonitor.from_job_id("mtrl-run-1a2b3c4d", region="us-east-1")  # doctest: +SKIP
    >>> monitor.show_logs(poll=30, timeout=7200)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.errors import ConfigError, JobTimeoutError, MissingDependencyError
from amzn_nova_forge.manager import _mtrl_jobs
from amzn_nova_forge.manager._mtrl import EVAL_CATEGORY, MTRL_EVAL_LOG_GROUP, MTRL_TRAIN_LOG_GROUP, TRAIN_CATEGORY

__all__ = ["MTRL_METRIC_KEYS", "MTRLLogMonitor", "mtrl_progress", "mtrl_training_metrics", "show_mtrl_logs"]

logger = logging.getLogger(__name__)

#: The per-step metrics an AgentRFT job logs to MLflow.
MTRL_METRIC_KEYS = (
    "rollout/reward/mean",
    "rollout/turns/mean",
    "training/total_tokens",
    "training/num_trajectories",
)
_GROUPS = {TRAIN_CATEGORY: MTRL_TRAIN_LOG_GROUP, EVAL_CATEGORY: MTRL_EVAL_LOG_GROUP}
_MAX_LINES = 10_000


def _document(job: Mapping[str, Any]) -> dict[str, Any]:
    try:
        doc = json.loads(job.get("JobConfigDocument") or "{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def mtrl_progress(job: Mapping[str, Any]) -> dict[str, Any]:
    """Status, progress and token usage of a ``DescribeJob`` answer, as one flat summary.

    Example:
        >>> mtrl_progress({"JobStatus": "InProgress", "JobConfigDocument": json.dumps(
        ...     {"ServiceOutput": {"ProgressInfo": {"MaxSteps": 10, "CurrentStep": 4}}})})
        {'status': 'InProgress', 'current_step': 4, 'max_steps': 10}
    """
    out = _mtrl_jobs.service_output(job)
    summary: dict[str, Any] = {"status": job.get("JobStatus")}
    progress = out.get("ProgressInfo") or {}
    if progress.get("MaxEpoch") and progress.get("StepsPerEpoch"):
        summary.update(
            current_epoch=progress.get("CurrentEpoch"),
            max_epoch=progress["MaxEpoch"],
            current_step=progress.get("CurrentStep"),
            max_steps=int(progress["MaxEpoch"]) * int(progress["StepsPerEpoch"]),
        )
    elif progress.get("MaxSteps"):
        summary.update(current_step=progress.get("CurrentStep"), max_steps=progress["MaxSteps"])
    usage = out.get("BillableTokenUsage") or {}
    for key, name in (
        ("TrainTokenCount", "train_tokens"),
        ("PrefillTokenCount", "prefill_tokens"),
        ("SampleTokenCount", "sample_tokens"),
    ):
        if usage.get(key) is not None:
            summary[name] = usage[key]
    if out.get("OutputModelPackageArn"):
        summary["output_model_package_arn"] = out["OutputModelPackageArn"]
    return summary


def mtrl_training_metrics(
    job_name: str, region: str | None = None, *, tracking_uri: str | None = None
) -> list[dict[str, float]]:
    """Per-step metrics of an ``AgentRFT`` job from its MLflow run (one dict per step, by step).

    Args:
        job_name: The training job.
        region: AWS region.
        tracking_uri: MLflow tracking URI to read instead of the job's ``MlflowResourceArn``.

    Returns:
        ``[{"step": 1.0, "rollout/reward/mean": ..., ...}, ...]``; ``[]`` when the job has no MLflow run yet.

    Raises:
        MissingDependencyError: ``mlflow`` is not installed (the ``[mlflow]`` extra).
        AWSServiceError: ``DescribeJob`` failed.
    """
    job = _mtrl_jobs.describe_job(job_name, TRAIN_CATEGORY, region)
    doc = _document(job)
    configured = (doc.get("TrainingConfig") or {}).get("MlflowConfig") or {}
    details = (doc.get("ServiceOutput") or {}).get("MlflowDetails") or {}
    uri = tracking_uri or configured.get("MlflowResourceArn")
    run_id = details.get("RunId")
    if not uri or not run_id:
        logger.warning("Job %s has no MLflow run yet (no MlflowResourceArn or RunId); no metrics.", job_name)
        return []
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as e:
        raise MissingDependencyError(
            "Reading multi-turn RFT metrics needs mlflow: pip install 'amzn-nova-forge[mlflow]'.", extra="mlflow"
        ) from e
    mlflow_client = MlflowClient(tracking_uri=uri)
    rows: dict[int, dict[str, float]] = {}
    for key in MTRL_METRIC_KEYS:
        for m in mlflow_client.get_metric_history(run_id, key):
            rows.setdefault(int(m.step), {"step": float(m.step)})[key] = float(m.value)
    return [rows[s] for s in sorted(rows)]


class MTRLLogMonitor:
    """Logs and progress of a multi-turn RFT job (training or evaluation).

    Args:
        job_id: The job name.
        region: AWS region (default: the environment's).
        job_category: ``"AgentRFT"`` or ``"AgentRFTEvaluation"`` (None: found from the log groups).
        sleep: Sleep function between polls (tests pass a fake).

    Example:
        >>> monitor = MTRLLogMonitor.from_job_id("mtrl-run-1a2b3c4d", job_category="AgentRFT")
        >>> monitor.log_group
        '/aws/sagemaker/Job/AgentRFT'
    """

    def __init__(
        self,
        job_id: str,
        region: str | None = None,
        job_category: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not job_id:
            raise ConfigError("MTRLLogMonitor needs a job_id (the job name).")
        if job_category is not None and job_category not in _GROUPS:
            raise ConfigError(f"job_category must be one of {', '.join(_GROUPS)}, got {job_category!r}.")
        self.job_id = job_id
        self.region = resolve_region(region)
        self._job_category = job_category
        self._sleep = sleep

    @classmethod
    def from_job_id(
        cls, job_id: str, region: str | None = None, job_category: str | None = None, **kwargs: Any
    ) -> MTRLLogMonitor:
        """The monitor of job ``job_id`` (extra keywords of other monitors are ignored)."""
        return cls(job_id=job_id, region=region, job_category=job_category)

    @property
    def job_category(self) -> str:
        """``AgentRFT`` or ``AgentRFTEvaluation``: given, else the log group holding the job's streams."""
        if self._job_category is None:
            self._job_category = self._detect()
        return self._job_category

    @property
    def log_group(self) -> str:
        """The CloudWatch log group of the job."""
        return _GROUPS[self.job_category]

    def _detect(self) -> str:
        logs = client("logs", self.region)
        for category, group in _GROUPS.items():
            with aws_errors("logs", f"while looking for {self.job_id} in {group}"):
                try:
                    resp = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=self.job_id, limit=1)
                except logs.exceptions.ResourceNotFoundException:
                    continue
            if resp.get("logStreams"):
                return category
        return TRAIN_CATEGORY

    def _streams(self) -> Any:
        from amzn_nova_forge.monitor._sources import CloudWatchStreams

        return CloudWatchStreams(client("logs", self.region), self.log_group, self.job_id)

    def get_logs(self, limit: int | None = None, start_from_head: bool = False) -> list[str]:
        """The job's log lines (the last ``limit``, or the first with ``start_from_head``)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ConfigError(f"limit must be a positive integer, got {limit!r}.")
        events = self._streams().fetch(
            limit=limit or _MAX_LINES, start_from_head=start_from_head, start_time=None, end_time=None
        )
        return [str(e["message"]).rstrip("\n") for e in events]

    def status(self) -> dict[str, Any]:
        """Status, progress and token usage now (see :func:`mtrl_progress`)."""
        return mtrl_progress(_mtrl_jobs.describe_job(self.job_id, self.job_category, self.region))

    def show_logs(self, poll: int = 30, timeout: int = 7200, limit: int | None = None, **kwargs: Any) -> None:
        """Print the job's logs; while a training job runs, follow them with its progress until it ends.

        Args:
            poll: Seconds between polls (1-300).
            timeout: Stop following after this many seconds.
            limit: For an ended job or an evaluation job: print only the last ``limit`` lines.

        Raises:
            JobTimeoutError: The job was still running after ``timeout`` seconds.
        """
        if isinstance(poll, bool) or not isinstance(poll, int | float) or not 1 <= poll <= 300:
            raise ConfigError(f"poll must be 1-300 seconds, got {poll!r}.")
        if self.job_category == EVAL_CATEGORY:
            lines = self.get_logs(limit=limit)
            print("\n".join(lines) if lines else f"No logs available yet for job '{self.job_id}'.")
            return
        summary = self.status()
        if summary["status"] in ("Completed", "Failed", "Stopped"):
            for line in self.get_logs(limit=limit):
                print(line)
            print(f"Job '{self.job_id}' status: {summary['status']}")
            return
        self._follow(poll, timeout)

    def _follow(self, poll: float, timeout: float) -> None:
        source = self._streams()
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while True:
            for event in source.poll(start_time=None):
                print(str(event["message"]).rstrip("\n"))
            summary = self.status()
            if summary != last:
                print(_progress_line(self.job_id, summary))
                last = summary
            if summary["status"] in ("Completed", "Failed", "Stopped"):
                return
            if time.monotonic() >= deadline:
                raise JobTimeoutError(
                    f"MTRL job {self.job_id!r} still {summary['status']} after {timeout:.0f}s.", job_id=self.job_id
                )
            self._sleep(poll)


def show_mtrl_logs(job_result: Any, *, poll: float = 30, timeout: float = 7200, limit: int | None = None) -> bool:
    """Show the logs of ``job_result`` when it is a multi-turn RFT job; False (nothing shown) otherwise."""
    extras = getattr(job_result, "extras", None) or {}
    category = extras.get("job_category")
    if not category:
        return False
    monitor = MTRLLogMonitor(job_result.job_id, job_result.region, str(category))
    monitor.show_logs(poll=int(poll), timeout=int(timeout), limit=limit)
    return True


def _progress_line(job_id: str, summary: Mapping[str, Any]) -> str:
    parts = [f"[{job_id}] {summary.get('status')}"]
    if summary.get("max_steps"):
        parts.append(f"step {summary.get('current_step') or 0}/{summary['max_steps']}")
    tokens = [f"{k}={summary[k]}" for k in ("train_tokens", "prefill_tokens", "sample_tokens") if k in summary]
    if tokens:
        parts.append(" ".join(tokens))
    return " · ".join(parts)
