"""Lambda handler: SageMaker training job state change -> email (Nova Forge SDK, SMTJ).

Triggered by the EventBridge rule ``NovaForgeSDK-SMTJ-Job-State-Change`` for jobs that
reach Completed, Failed or Stopped. Jobs without an entry in the DynamoDB table are
ignored (the rule sees every training job in the region). For Completed jobs the
handler checks that ``manifest.json`` is inside ``{output}/{job}/output/output.tar.gz``.

Environment: ``TABLE_NAME``, ``TOPIC_ARN``. Uploaded as ``index.py`` (handler
``index.handler``) together with ``_common.py``; boto3 and the standard library only.
"""

from __future__ import annotations

import json
import os
from typing import Any

try:  # inside the SDK package (tests)
    from . import _common as common
except ImportError:  # in Lambda, the files are top-level modules
    import _common as common  # type: ignore[no-redef]

TERMINAL = ("Completed", "Failed", "Stopped")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Handle one EventBridge ``SageMaker Training Job State Change`` event."""
    detail = event.get("detail") or {}
    job_id = detail.get("TrainingJobName")
    status = detail.get("TrainingJobStatus")
    if not job_id or status not in TERMINAL:
        common.logger.info(json.dumps({"ignored": job_id, "status": status}))
        return {"action": "ignored", "job_id": job_id, "reason": "not a terminal training-job event"}

    table = os.environ["TABLE_NAME"]
    ddb = common.client("dynamodb")
    item = ddb.get_item(TableName=table, Key={"job_id": {"S": job_id}}, ConsistentRead=True).get("Item")
    if not item:
        return {"action": "ignored", "job_id": job_id, "reason": "notifications not enabled for this job"}

    output = common.s(item, "output_s3_path") or (detail.get("OutputDataConfig") or {}).get("S3OutputPath")
    manifest = None
    label = status
    if status == "Completed" and common.validate_output(item):
        if output:
            manifest = common.check_manifest_in_tar(output, job_id)
        else:
            manifest = (False, "no output_s3_path recorded for this job.")
        if not manifest[0]:
            label = "Completed (output validation failed)"
    reason = detail.get("FailureReason") if status != "Completed" else None
    subject, body = common.build_message("SMTJ", job_id, label, reason=reason, manifest=manifest, output_s3_path=output)
    message_id = common.publish(os.environ["TOPIC_ARN"], subject, body, job_id=job_id, status=status)
    ddb.delete_item(TableName=table, Key={"job_id": {"S": job_id}})
    return {
        "action": "notified",
        "job_id": job_id,
        "status": status,
        "manifest_ok": None if manifest is None else manifest[0],
        "subject": subject,
        "message_id": message_id,
    }
