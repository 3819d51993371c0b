"""``CloudWatchLogMonitor``: read, print, follow and plot the logs of one job.

The log source depends on the platform (see :mod:`._sources`):

=================  ==========================================================================
SMTJ, Serverless   group ``/aws/sagemaker/TrainingJobs``, every stream ``<job name>/*``
SMHP               group ``/aws/sagemaker/Clusters/<cluster name>/<cluster id>``, streams
                   ``SagemakerHyperPodTrainingJob*``, events that mention the job
LOCAL              ``<job folder>/train.log``
BEDROCK            none (Bedrock customization jobs publish no logs)
=================  ==========================================================================

Events of all streams are merged in time order; every list call is paginated.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, NovaForgeError
from amzn_nova_forge.monitor._sources import CloudWatchFilter, CloudWatchStreams, LocalLogFile, LogSource

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import LogLocation
    from amzn_nova_forge.model.result._base import BaseJobResult

__all__ = ["SMTJ_LOG_GROUP", "CloudWatchLogMonitor", "to_epoch_ms"]

logger = logging.getLogger(__name__)

SMTJ_LOG_GROUP = "/aws/sagemaker/TrainingJobs"  # kept for importers; the runtime says where logs are
#: Logs may be stamped slightly before the start time the SDK recorded (clock skew).
_START_GRACE_MS = 60_000


def to_epoch_ms(value: int | float | str | datetime | None) -> int | None:
    """Epoch milliseconds from an int/float (ms), a digit string, an ISO-8601 string or a datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(dt.timestamp() * 1000)
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return to_epoch_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ConfigError(
            f"Cannot read time {value!r}: give epoch milliseconds or an ISO-8601 time such as '2026-01-15T12:00:00Z'."
        ) from None


def _container_line(message: str) -> str:
    """HyperPod ships container output as JSON records (``{"log": "...", "kubernetes": {...}}``); show the line."""
    if message.startswith("{") and '"log"' in message:
        try:
            record = json.loads(message)
        except ValueError:
            return message
        if isinstance(record, dict) and isinstance(record.get("log"), str):
            return str(record["log"]).rstrip("\n")
    return message


class CloudWatchLogMonitor:
    """Read and plot the logs of a training, evaluation or batch-inference job.

    Args:
        job_id: The job identifier (SMTJ job name, HyperPod job name, local job id).
        platform: Where the job runs.
        started_time: Job start (epoch ms or datetime); earlier events are skipped.
        cloudwatch_logs_client: A boto3 CloudWatch Logs client (created when absent).
        region: AWS region (default: the environment's).
        **kwargs: SMHP: ``cluster_name`` (required), ``namespace`` (default ``"kubeflow"``),
            optional ``cluster_id``/``log_group``/``sagemaker_client``. LOCAL: ``job_dir``.

    Example:
        >>> monitor = CloudWatchLogMonitor.from_job_id(job_id="my-training-job", platform=Platform.SMTJ)  # doctest: +SKIP
        >>> monitor.show_logs(limit=50, start_from_head=True)  # doctest: +SKIP
    """

    def __init__(
        self,
        job_id: str,
        platform: Platform | str,
        started_time: int | datetime | None = None,
        cloudwatch_logs_client: Any = None,
        region: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.job_id = job_id
        self.platform = Platform(platform)
        self.started_time = to_epoch_ms(started_time)
        self.region = region
        self.cluster_name: str | None = kwargs.pop("cluster_name", None)
        self.namespace: str = kwargs.pop("namespace", None) or "kubeflow"
        self._extras = dict(kwargs)
        self._client = cloudwatch_logs_client
        self._source: LogSource | None = None
        self._location_cache: tuple[LogLocation | None] | None = None
        self._events: list[dict[str, Any]] | None = None
        self._final = False
        self._result: BaseJobResult | None = None
        from amzn_nova_forge.manager._registry import capabilities_of

        if not self.cluster_name and capabilities_of(self.platform).log_needs_cluster:
            raise ConfigError(
                f"SMHP job {job_id!r}: pass cluster_name=... (the HyperPod cluster the job runs on) to read its logs."
            )

    # ---- construction ------------------------------------------------------------------------
    @classmethod
    def from_job_id(
        cls, job_id: str, platform: Platform, started_time: datetime | None = None, **kwargs: Any
    ) -> CloudWatchLogMonitor:
        """Create a monitor for the job ``job_id`` on ``platform``.

        Args:
            job_id: The job identifier.
            platform: ``Platform.SMTJ``, ``Platform.SMHP`` (needs ``cluster_name``), ``Platform.LOCAL`` …
            started_time: Optional job start; earlier events are skipped.
            **kwargs: ``cluster_name``, ``namespace`` (SMHP), ``region``, ``cloudwatch_logs_client``, ``job_dir``.

        Example:
            >>> CloudWatchLogMonitor.from_job_id(job_id="my-hyperpod-job", platform=Platform.SMHP,  # doctest: +SKIP
            ...     cluster_name="my-cluster", namespace="kubeflow")
        """
        return cls(job_id, platform, started_time, **kwargs)

    @classmethod
    def from_job_result(
        cls, job_result: BaseJobResult, cloudwatch_logs_client: Any = None, region: str | None = None
    ) -> CloudWatchLogMonitor:
        """Create a monitor for the job behind a training, evaluation or inference result.

        Args:
            job_result: The result whose job's logs are read.
            cloudwatch_logs_client: A ``logs`` client to use (default: one for the region).
            region: The job's region (default: the result's).

        Example:
            >>> monitor = CloudWatchLogMonitor.from_job_result(job_result=result, region="us-east-1")  # doctest: +SKIP
        """
        extras = dict(getattr(job_result, "extras", {}) or {})
        for attr in ("cluster_name", "namespace"):
            value = getattr(job_result, attr, None)
            if value:
                extras[attr] = value
        monitor = cls(
            job_result.job_id,
            job_result.platform,
            job_result.started_time,
            cloudwatch_logs_client=cloudwatch_logs_client,
            region=region or getattr(job_result, "region", None),
            **extras,
        )
        monitor._result = job_result
        return monitor

    # ---- source ------------------------------------------------------------------------------
    def _logs_client(self) -> Any:
        if self._client is None:
            from amzn_nova_forge.core.aws import client

            self._client = client("logs", self.region)
        return self._client

    def _location(self) -> LogLocation | None:
        """Where the job's logs are: the runtime's answer (``manager``), from the job's reference."""
        if self._location_cache is None:
            from amzn_nova_forge.manager._base import JobRef
            from amzn_nova_forge.manager._registry import get_runtime_class

            extras = dict(self._extras)
            if self.cluster_name:
                extras.update(cluster_name=self.cluster_name, namespace=self.namespace)
            ref = JobRef(platform=self.platform, job_id=self.job_id, region=self.region, extras=extras)
            self._location_cache = (get_runtime_class(self.platform).log_location(ref),)
        return self._location_cache[0]

    @property
    def source(self) -> LogSource | None:
        """Where this job's logs are read from (None when the platform publishes none, e.g. Bedrock)."""
        if self._source is None:
            loc = self._location()
            if loc is None:
                return None
            if loc.kind == "cloudwatch_streams":
                self._source = CloudWatchStreams(self._logs_client(), loc.where, loc.stream_prefix or "")
            elif loc.kind == "cloudwatch_filter":
                self._source = CloudWatchFilter(self._logs_client(), loc.where, loc.stream_prefix, loc.term)
            elif loc.kind == "local_file":
                self._source = LocalLogFile(loc.where)
            else:
                raise ConfigError(f"Unknown log location kind {loc.kind!r} from the {self.platform.value} runtime.")
        return self._source

    def _start_ms(self) -> int | None:
        loc = self._location()
        if self.started_time is None or loc is None or not loc.timestamped:
            return None
        return self.started_time - _START_GRACE_MS

    # ---- reading -----------------------------------------------------------------------------
    def get_logs(
        self, limit: int | None = None, start_from_head: bool = False, end_time: int | str | None = None
    ) -> list[dict[str, Any]]:
        """Return the job's log events (all streams, merged in time order).

        Args:
            limit: Maximum number of events (default: all).
            start_from_head: True: the first ``limit`` events; False: the last ``limit`` events.
            end_time: Only events up to this time (epoch milliseconds or ISO-8601).

        Returns:
            Event dicts with ``"timestamp"`` (ms), ``"message"`` and ``"logStreamName"``. Empty for Bedrock.

        Raises:
            AWSServiceError: CloudWatch Logs refused a call.

        Example:
            >>> logs = monitor.get_logs(limit=100)  # doctest: +SKIP
        """
        if limit is not None and limit <= 0:
            raise ConfigError(f"limit must be a positive number of log events, got {limit}.")
        source = self.source
        if source is None:
            logger.info("%s jobs publish no CloudWatch logs (job %s).", self.platform.value, self.job_id)
            return []
        return source.fetch(
            limit=limit, start_from_head=start_from_head, start_time=self._start_ms(), end_time=to_epoch_ms(end_time)
        )

    def show_logs(
        self, limit: int | None = None, start_from_head: bool = False, end_time: int | str | None = None
    ) -> None:
        """Print the job's log messages (see :meth:`get_logs` for the arguments).

        Example:
            >>> monitor.show_logs(limit=50, start_from_head=True)  # doctest: +SKIP
        """
        if self.source is None:
            print(f"{self.platform.value} job {self.job_id} publishes no CloudWatch logs. {self._status_line()}")
            return
        events = self.get_logs(limit=limit, start_from_head=start_from_head, end_time=end_time)
        if not events:
            print(f"No log events yet for job {self.job_id} in {self.source.description}.")
            return
        loc = self._location()
        unwrap = loc is not None and loc.json_records
        for event in events:
            print(_container_line(event["message"]) if unwrap else event["message"])

    def follow(
        self,
        *,
        poll_every: float = 10.0,
        is_done: Callable[[], bool] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_polls: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield events as they arrive until the job ends (one final read after it does).

        Args:
            poll_every: Seconds between polls.
            is_done: Returns True once the job is terminal (default: asks the job's runtime).
            sleep: Injected for tests.
            max_polls: Stop after this many polls (default: until the job ends).

        Example:
            >>> for event in monitor.follow():  # doctest: +SKIP
            ...     print(event["message"])
        """
        source = self.source
        if source is None:
            return
        done = is_done or self._job_is_terminal
        polls = 0
        while True:
            finished = done()
            yield from source.poll(start_time=self._start_ms())
            polls += 1
            if finished or (max_polls is not None and polls >= max_polls):
                return
            sleep(poll_every)

    def _info(self) -> Any:
        """The job's :class:`JobInfo` from its runtime (raises NovaForgeError/ImportError when unknown)."""
        if self._result is not None:
            return self._result.status()
        from amzn_nova_forge.manager._base import JobRef
        from amzn_nova_forge.manager._registry import get_runtime_class

        extras = dict(self._extras)
        if self.cluster_name:
            extras.update(cluster_name=self.cluster_name, namespace=self.namespace)
        ref = JobRef(platform=self.platform, job_id=self.job_id, region=self.region, extras=extras)
        return get_runtime_class(self.platform).job_info(ref)

    def _status_line(self) -> str:
        try:
            info = self._info()
        except (NovaForgeError, ImportError) as e:
            return f"Its status could not be read ({e})."
        return f"Status: {info.raw_status}" + (f" ({info.message})." if info.message else ".")

    def _job_is_terminal(self) -> bool:
        try:
            return bool(self._info().status.is_terminal)
        except (NovaForgeError, ImportError) as e:
            logger.debug("Status of job %s unknown (%s); treating it as running.", self.job_id, e)
            return False

    # ---- metrics -----------------------------------------------------------------------------
    def _events_for_metrics(self) -> list[dict[str, Any]]:
        if self._events is None or not self._final:
            self._final = self._job_is_terminal()
            self._events = self.get_logs(start_from_head=True)
        return self._events

    def get_metrics(
        self,
        training_method: TrainingMethod,
        starting_step: int | None = None,
        ending_step: int | None = None,
    ) -> list[dict[str, Any]]:
        """Per-step metrics parsed from the logs (see :func:`~amzn_nova_forge.monitor._metrics.parse_metrics`).

        Raises:
            ValueError: ``starting_step > ending_step``, or the job has no logs.
        """
        from amzn_nova_forge.monitor._metrics import parse_metrics

        if starting_step is not None and ending_step is not None and starting_step > ending_step:
            raise ConfigError(f"starting_step ({starting_step}) must not be greater than ending_step ({ending_step}).")
        events = self._events_for_metrics()
        if not events:
            where = self.source.description if self.source else "CloudWatch"
            raise ConfigError(f"No logs found for job {self.job_id!r} in {where}; is the job id right and started?")
        rows = parse_metrics(events, training_method)
        return [
            r
            for r in rows
            if (starting_step is None or r["step"] >= starting_step)
            and (ending_step is None or r["step"] <= ending_step)
        ]

    def plot_metrics(
        self,
        training_method: TrainingMethod | None = None,
        metrics: list[str] | None = None,
        starting_step: int | None = None,
        ending_step: int | None = None,
        *,
        output_path: str | os.PathLike[str] | None = None,
    ) -> Path | None:
        """Plot training metrics parsed from the logs (inline in Jupyter, else saved as a PNG).

        Args:
            training_method: The job's method; CPT/SFT/DPO plot ``"training_loss"``
                (also ``"validation_loss"``), RFT plots ``"reward_score"``. May be left out for a
                monitor made with :meth:`from_job_result` of a training result (its ``method`` is used).
            metrics: Metric names to plot (default: the method's main metric).
            starting_step: Only steps from this global step on.
            ending_step: Only steps up to this global step.
            output_path: PNG file to write (default ``./<job_id>_<metrics>.png`` outside notebooks).

        Returns:
            The PNG path when a file was written; None when the plot was shown inline.

        Raises:
            ValueError: ``starting_step > ending_step``, no logs, or no metric lines in range.
            NotImplementedError: A metric the method does not report.
            MissingDependencyError: matplotlib is not installed.

        Example:
            >>> monitor.plot_metrics(training_method=TrainingMethod.SFT_LORA, metrics=["training_loss"])  # doctest: +SKIP
        """
        from amzn_nova_forge.monitor._metrics import metric_names
        from amzn_nova_forge.monitor._plot import render

        if training_method is None:
            training_method = getattr(self._result, "method", None)
            if training_method is None:
                raise ConfigError(
                    f"plot_metrics() needs training_method=... for job {self.job_id!r} "
                    "(e.g. TrainingMethod.SFT_LORA); it is only inferred for a monitor made from a training result."
                )
        available = metric_names(training_method)
        wanted = list(metrics) if metrics else list(available[:1])
        unsupported = [m for m in wanted if m not in available]
        if unsupported or not wanted:
            raise NotImplementedError(
                f"Metric(s) {unsupported or wanted} are not reported by {TrainingMethod(training_method).name} jobs on "
                f"{self.platform.value}; available: {list(available) or 'none'}."
            )
        rows = self.get_metrics(training_method, starting_step, ending_step)
        series = {m: [(r["step"], r[m]) for r in rows if m in r] for m in wanted}
        if not any(series.values()):
            rng = "" if starting_step is None and ending_step is None else f" in steps {starting_step}..{ending_step}"
            raise ConfigError(
                f"No {', '.join(wanted)} values found in the logs of job {self.job_id!r}{rng}. "
                "The job may not have reached its first training step yet."
            )
        default = Path(f"{self.job_id.replace('/', '-').replace(':', '-')}_{'_'.join(wanted)}.png")
        return render(
            series,
            title=f"{self.job_id} ({TrainingMethod(training_method).name})",
            output_path=output_path,
            default_path=default,
        )
