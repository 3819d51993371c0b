"""``CloudWatchLogMonitor`` at the official module path ``amzn_nova_forge.monitor.log_monitor``."""

from __future__ import annotations

from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor

__all__ = ["CloudWatchLogMonitor"]
