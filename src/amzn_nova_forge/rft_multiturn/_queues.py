"""The four SQS queues of an RFT stack: message counts (:class:`QueueMessageCounts`) and flushing."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client

__all__ = ["QueueMessageCounts", "count_messages", "flush_queues"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueMessageCounts(Mapping[str, int]):
    """Message counts of one SQS queue (approximate, as SQS reports them).

    Also a read-only mapping, so ``counts["visible"]`` keeps working for code written against
    the plain dicts earlier versions returned.

    Attributes:
        visible: Messages waiting to be received.
        in_flight: Messages received but not yet deleted.
        last_receive_timestamp: ``LastModifiedTimestamp`` of the queue (epoch seconds).
        delayed: Messages not yet visible because of a delivery delay.

    Example:
        >>> c = QueueMessageCounts(visible=3, in_flight=1, last_receive_timestamp=1700000000)
        >>> (c.visible, c["in_flight"], c.empty)
        (3, 1, False)
    """

    visible: int
    in_flight: int
    last_receive_timestamp: int
    delayed: int = 0

    def __post_init__(self) -> None:
        for name in ("visible", "in_flight", "last_receive_timestamp", "delayed"):
            value = getattr(self, name)
            try:
                number = int(float(value))
            except (TypeError, ValueError) as e:
                raise ValueError(f"QueueMessageCounts.{name} must be an integer, got {value!r}") from e
            if number < 0:
                raise ValueError(f"QueueMessageCounts.{name} must be >= 0, got {value!r}")
            object.__setattr__(self, name, number)

    @property
    def empty(self) -> bool:
        """No message visible, in flight or delayed."""
        return self.visible + self.in_flight + self.delayed == 0

    def to_dict(self) -> dict[str, int]:
        """The counts as a plain dict."""
        return asdict(self)

    def __getitem__(self, key: str) -> int:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return int(getattr(self, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)


def count_messages(region: str, urls: Mapping[str, str]) -> dict[str, QueueMessageCounts]:
    """``{name: QueueMessageCounts}`` for each queue URL in ``urls``."""
    sqs = client("sqs", region)
    counts: dict[str, QueueMessageCounts] = {}
    with aws_errors("sqs"):
        for name, url in urls.items():
            a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            counts[name] = QueueMessageCounts(
                visible=int(a.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(a.get("ApproximateNumberOfMessagesNotVisible", 0)),
                last_receive_timestamp=int(float(a.get("LastModifiedTimestamp", 0))),
                delayed=int(a.get("ApproximateNumberOfMessagesDelayed", 0)),
            )
    return counts


def flush_queues(region: str, urls: Mapping[str, str]) -> None:
    """Purge each queue; one purged in the last 60 s (``PurgeQueueInProgress``) is drained message by message."""
    from botocore.exceptions import ClientError

    sqs = client("sqs", region)
    for name, url in urls.items():
        with aws_errors("sqs"):
            try:
                sqs.purge_queue(QueueUrl=url)
            except ClientError as e:
                if "PurgeQueueInProgress" not in str(e):
                    raise
                _drain(sqs, url)
        logger.info("Flushed %s", name)


def _drain(sqs: Any, url: str) -> None:
    while msgs := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=30
    ).get("Messages", []):
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
        )
