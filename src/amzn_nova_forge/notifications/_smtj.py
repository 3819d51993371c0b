"""``SMTJNotificationManager``: notifications for SageMaker Training Jobs (one stack per region)."""

from __future__ import annotations

from typing import ClassVar

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.notifications._base import NotificationManager

__all__ = ["SMTJ_STACK_NAME", "SMTJNotificationManager"]

SMTJ_STACK_NAME = "NovaForgeSDK-SMTJ-JobNotifications"


class SMTJNotificationManager(NotificationManager):
    """Creates and uses the ``NovaForgeSDK-SMTJ-JobNotifications`` stack of a region.

    Resources: DynamoDB table ``NovaForgeSDK-SMTJ-JobNotifications`` (key ``job_id``, TTL
    ``ttl``), SNS topic ``NovaForgeSDK-SMTJ-Notifications`` (optional KMS key), Lambda
    ``NovaForgeSDK-SMTJ-NotificationHandler`` (Python 3.12, 180 s) and the EventBridge rule
    ``NovaForgeSDK-SMTJ-Job-State-Change`` (Completed, Failed, Stopped).

    Args:
        region: Region of the infrastructure (the jobs' region).
        kms_key_id: Customer KMS key id (not ARN) to encrypt the topic; used when the stack is created.

    Example:
        >>> mgr = SMTJNotificationManager(region="us-east-1")  # doctest: +SKIP
        >>> mgr.enable_notifications("my-job", ["me@example.com"], "s3://my-bucket/output/")  # doctest: +SKIP
    """

    default_platform: ClassVar[Platform] = Platform.SMTJ
    template_file: ClassVar[str] = "smtj_notifications.yaml"

    def __init__(self, region: str | None = "us-east-1", kms_key_id: str | None = None) -> None:
        super().__init__(Platform.SMTJ, region, kms_key_id)

    @property
    def stack_name(self) -> str:
        return SMTJ_STACK_NAME

    @property
    def table_name(self) -> str:
        return "NovaForgeSDK-SMTJ-JobNotifications"

    @property
    def topic_name(self) -> str:
        return "NovaForgeSDK-SMTJ-Notifications"

    @property
    def function_name(self) -> str:
        return "NovaForgeSDK-SMTJ-NotificationHandler"

    @property
    def rule_name(self) -> str:
        return "NovaForgeSDK-SMTJ-Job-State-Change"

    def _stack_parameters(self) -> dict[str, str]:
        return {"KmsKeyId": self.kms_key_id or ""}
