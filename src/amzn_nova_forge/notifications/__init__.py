"""Job notifications: email when a job ends (CloudFormation-managed infrastructure)."""

from __future__ import annotations

from typing import Any

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, _all = _lazy.attach(
    __name__, {**_exports.NOTIFICATIONS, "NotificationManagerInfraError": "amzn_nova_forge.errors"}
)
__all__ = [*_all, "enable_job_notifications"]


def enable_job_notifications(result: Any, emails: list[str], **kwargs: Any) -> None:
    """Set up notifications for ``result``'s job (dispatches on its platform)."""
    from amzn_nova_forge.notifications._dispatch import enable_for_result

    enable_for_result(result, emails, **kwargs)
