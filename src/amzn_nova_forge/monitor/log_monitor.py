"""``CloudWatchLogMonitor`` and ``MTRLLogMonitor`` at the official module path ``amzn_nova_forge.monitor.log_monitor``."""

from __future__ import annotations

from amzn_nova_forge.monitor._logs import CloudWatchLogMonitor
from amzn_nova_forge.monitor._mtrl import MTRLLogMonitor

__all__ = ["CloudWatchLogMonitor", "MTRLLogMonitor"]
