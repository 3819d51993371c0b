"""``get_logs`` of the service classes and the customizer: print the logs of one job.

The job is ``job_result`` (any result) or ``job_id`` on the runtime's platform; the log
source per platform is the runtime's business (``monitor._sources``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor

__all__ = ["monitor_for", "show_logs"]


def monitor_for(
    infra: RuntimeManager,
    *,
    job_result: BaseJobResult | None = None,
    job_id: str | None = None,
    started_time: datetime | int | None = None,
) -> CloudWatchLogMonitor:
    """A log monitor for ``job_result``, else for ``job_id`` on ``infra``'s platform.

    Raises:
        ConfigError: Neither a result nor a job id.
    """
    from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor

    if job_result is not None:
        return CloudWatchLogMonitor.from_job_result(job_result, region=infra.region)
    if not job_id:
        raise ConfigError(
            "No job to read logs of: pass job_result=<the result of train()/evaluate()> or job_id='<job name>'."
        )
    ref = infra.job_ref(job_id)
    return CloudWatchLogMonitor(job_id, ref.platform, started_time, region=ref.region, **dict(ref.extras))


def show_logs(
    infra: RuntimeManager,
    *,
    job_result: BaseJobResult | None = None,
    job_id: str | None = None,
    started_time: datetime | int | None = None,
    limit: int | None = None,
    start_from_head: bool = False,
    end_time: int | str | None = None,
    follow: bool = False,
    poll: float = 30,
    timeout: float = 7200,
) -> None:
    """Print the log messages of one job.

    Args:
        infra: The runtime the job ran on (platform and region for ``job_id``).
        job_result: The job's result.
        job_id: The job's id, when there is no result.
        started_time: Skip events before this time.
        limit: Maximum number of log lines.
        start_from_head: True: the first ``limit`` lines; False: the last ``limit`` lines.
        end_time: Only lines up to this time (ISO-8601 or epoch milliseconds).
        follow: Keep printing new lines until the job ends (every ``poll`` s, at most ``timeout`` s).
        poll: Seconds between reads when following.
        timeout: Longest time to follow, in seconds.

    Raises:
        ConfigError: No job given, or a non-positive ``poll`` / ``timeout``.

    Example:
        >>> show_logs(infra, job_result=result, limit=100, start_from_head=True)  # doctest: +SKIP
    """
    for name, value in (("poll", poll), ("timeout", timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}.")
    monitor = monitor_for(infra, job_result=job_result, job_id=job_id, started_time=started_time)
    if not follow:
        monitor.show_logs(limit=limit, start_from_head=start_from_head, end_time=end_time)
        return
    import time

    deadline = time.monotonic() + timeout
    polls = max(1, int(timeout // poll) + 1)
    for event in monitor.follow(poll_every=poll, max_polls=polls):
        print(event["message"])
        if time.monotonic() > deadline:
            break
