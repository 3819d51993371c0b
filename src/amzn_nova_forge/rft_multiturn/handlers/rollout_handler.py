"""Rollout Lambda (``<stack>-NovaForgeSDK-SageMaker-rollout``): queue rollouts for the workers.

The training job invokes it with one rollout or a batch::

    {"rollouts": [{"rollout_id": "r-1", "sample": {...}, "env_type": "train"}, ...]}

Each rollout is sent to the rollout request queue and recorded as ``queued`` in the tasks
table; workers consume the queue, talk to the policy through the generate queues and post
the result to the rollout-finished queue. Environment: ``ROLLOUT_QUEUE_URL``, ``TASKS_TABLE``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

TTL_SECONDS = 7 * 86400


def _client(name: str) -> Any:
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(name, region_name=region)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    rollouts = event.get("rollouts")
    if rollouts is None:
        rollouts = [event]
    if not isinstance(rollouts, list) or not all(isinstance(r, dict) for r in rollouts):
        raise ValueError("event must be a rollout object or {'rollouts': [ ... ]}")
    queue, table = os.environ["ROLLOUT_QUEUE_URL"], os.environ["TASKS_TABLE"]
    sqs, ddb = _client("sqs"), _client("dynamodb")
    now = int(time.time())
    ids: list[str] = []
    entries: list[dict[str, Any]] = []
    for r in rollouts:
        rid = str(r.get("rollout_id") or uuid.uuid4())
        body = {"rollout_id": rid, "sample": r.get("sample", {}), "env_type": r.get("env_type", "train")}
        entries.append({"Id": str(len(entries)), "MessageBody": json.dumps(body)})
        ddb.put_item(
            TableName=table,
            Item={
                "rollout_id": {"S": rid},
                "status": {"S": "queued"},
                "created_at": {"N": str(now)},
                "ttl": {"N": str(now + TTL_SECONDS)},
            },
        )
        ids.append(rid)
    for i in range(0, len(entries), 10):
        batch = [dict(e, Id=str(j)) for j, e in enumerate(entries[i : i + 10])]
        resp = sqs.send_message_batch(QueueUrl=queue, Entries=batch)
        if resp.get("Failed"):
            raise RuntimeError(f"could not queue {len(resp['Failed'])} rollout(s): {resp['Failed'][0]}")
    return {"queued": len(ids), "rollout_ids": ids}
