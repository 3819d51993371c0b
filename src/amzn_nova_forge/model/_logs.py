"""``NovaModelCustomizer.get_logs``: print the logs of the customizer's most recent job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.model._customizer import NovaModelCustomizer

__all__ = ["get_logs"]


def get_logs(
    customizer: NovaModelCustomizer,
    *,
    limit: int | None = None,
    start_from_head: bool = False,
    end_time: str | int | None = None,
) -> None:
    """Print the log messages of ``customizer.job_result`` (training, evaluation or batch inference).

    Args:
        limit: Maximum number of log lines.
        start_from_head: True: the first ``limit`` lines; False: the last ``limit`` lines.
        end_time: Only lines up to this time (ISO-8601 or epoch milliseconds).

    Raises:
        ConfigError: The customizer has started no job yet.

    Example:
        >>> customizer.get_logs(limit=100, start_from_head=True)  # doctest: +SKIP
    """
    from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor

    result = customizer.job_result
    if result is None:
        raise ConfigError(
            "This customizer has not started a job yet; call train(), evaluate() or batch_inference() first, "
            "or use CloudWatchLogMonitor.from_job_id(...) for an existing job."
        )
    monitor = CloudWatchLogMonitor.from_job_result(result)
    monitor.show_logs(limit=limit, start_from_head=start_from_head, end_time=end_time)
