"""Lambda handler: poll HyperPod PyTorchJobs and email when they end (Nova Forge SDK, SMHP).

Triggered every N minutes by the scheduled rule ``NovaForgeSDK-SMHP-Job-Check-{cluster}``.
For every entry in the DynamoDB table it runs ``kubectl get pytorchjob <job> -n <ns> -o json``
(kubectl comes from the kubectl Lambda layer) and reads the latest true condition:

* ``Succeeded``/``Completed`` -> Completed (``{output}/{job}/manifest.json`` is checked),
* ``Failed`` -> Failed, ``Suspended`` or the job no longer existing -> Stopped,
* running jobs whose master pod is in ``CrashLoopBackOff`` or restarted more than 5 times
  -> one "Degraded" email (the entry is kept so the final state is still reported).

Environment: ``TABLE_NAME``, ``TOPIC_ARN``, ``CLUSTER_NAME`` (HyperPod), ``EKS_CLUSTER_NAME``,
and optionally ``EKS_ENDPOINT`` / ``EKS_CA_DATA`` (the SDK fills them in, so the function
needs no EKS API access from inside the VPC). boto3 and the standard library only.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from typing import Any

try:  # inside the SDK package (tests)
    from . import _common as common
except ImportError:  # in Lambda
    import _common as common  # type: ignore[no-redef]

#: PyTorchJob condition type -> status reported in the email.
TERMINAL = {"Succeeded": "Completed", "Completed": "Completed", "Failed": "Failed", "Suspended": "Stopped"}
MAX_RESTARTS = 5
_KUBECONFIG = "/tmp/nova-forge-kubeconfig"


def _eks_token(cluster: str) -> str:
    """A bearer token for the EKS API (a presigned STS GetCallerIdentity URL)."""
    import boto3
    from botocore.signers import RequestSigner

    session = boto3.session.Session()
    region = common.region()
    sts = session.client("sts", region_name=region)
    signer = RequestSigner(
        sts.meta.service_model.service_id, region, "sts", "v4", session.get_credentials(), session.events
    )
    params = {
        "method": "GET",
        "url": f"https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        "body": {},
        "headers": {"x-k8s-aws-id": cluster},
        "context": {},
    }
    url = signer.generate_presigned_url(params, region_name=region, expires_in=60, operation_name="")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _write_kubeconfig() -> str:
    cluster = os.environ["EKS_CLUSTER_NAME"]
    endpoint = os.environ.get("EKS_ENDPOINT")
    ca = os.environ.get("EKS_CA_DATA")
    if not endpoint or not ca:
        info = common.client("eks").describe_cluster(name=cluster)["cluster"]
        endpoint, ca = info["endpoint"], info["certificateAuthority"]["data"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": ca}}],
        "users": [{"name": "lambda", "user": {"token": _eks_token(cluster)}}],
        "contexts": [{"name": "ctx", "context": {"cluster": cluster, "user": "lambda"}}],
        "current-context": "ctx",
    }
    with open(_KUBECONFIG, "w") as f:  # JSON is valid YAML for kubectl
        json.dump(config, f)
    return _KUBECONFIG


def run_kubectl(args: list[str]) -> tuple[int, str, str]:
    """Run kubectl with a fresh kubeconfig; returns ``(returncode, stdout, stderr)``."""
    exe = os.environ.get("KUBECTL_PATH") or shutil.which("kubectl") or "/opt/kubectl/kubectl"
    proc = subprocess.run(
        [exe, "--kubeconfig", _write_kubeconfig(), *args], capture_output=True, text=True, timeout=60, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def job_state(job_id: str, namespace: str) -> tuple[str, str | None]:
    """``(condition type, message)`` of the PyTorchJob; ``NotFound`` / ``Unknown`` on errors."""
    rc, out, err = run_kubectl(["get", "pytorchjob", job_id, "-n", namespace, "-o", "json"])
    if rc != 0:
        if "NotFound" in err or "not found" in err:
            return "NotFound", "The PyTorchJob no longer exists (it was cancelled or deleted)."
        return "Unknown", err.strip()[:500] or f"kubectl exited with {rc}"
    try:
        conditions = (json.loads(out).get("status") or {}).get("conditions") or []
    except json.JSONDecodeError:
        return "Unknown", "kubectl returned invalid JSON"
    true_conds = [c for c in conditions if str(c.get("status", "True")) == "True"] or conditions
    if not true_conds:
        return "Pending", None
    # Latest transition wins; ties (same second) keep list order, which kubeflow appends to.
    last = max(reversed(true_conds), key=lambda c: c.get("lastTransitionTime") or "")
    return str(last.get("type")), last.get("message") or last.get("reason")


def degraded_reason(job_id: str, namespace: str) -> str | None:
    """Why the master pod looks unhealthy (CrashLoopBackOff, many restarts), or None."""
    rc, out, _ = run_kubectl(["get", "pod", f"{job_id}-master-0", "-n", namespace, "-o", "json"])
    if rc != 0:
        return None
    try:
        statuses = (json.loads(out).get("status") or {}).get("containerStatuses") or []
    except json.JSONDecodeError:
        return None
    for cs in statuses:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            return f"Container {cs.get('name')} is in CrashLoopBackOff."
        if int(cs.get("restartCount") or 0) > MAX_RESTARTS:
            return f"Container {cs.get('name')} restarted {cs.get('restartCount')} times."
    return None


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check_job(ddb: Any, item: dict[str, Any]) -> dict[str, Any]:
    """Check one job entry; notify and delete it when it is terminal."""
    table, topic, cluster = os.environ["TABLE_NAME"], os.environ["TOPIC_ARN"], os.environ.get("CLUSTER_NAME")
    job_id = common.s(item, "job_id") or ""
    namespace = common.s(item, "namespace") or "kubeflow"
    output = common.s(item, "output_s3_path")
    state, message = job_state(job_id, namespace)
    status = TERMINAL.get(state) or ("Stopped" if state == "NotFound" else None)
    if status is None:
        if state in ("Running", "Restarting") and not item.get("degraded_notified"):
            reason = degraded_reason(job_id, namespace)
            if reason:
                subject, body = common.build_message(
                    "SMHP", job_id, "Degraded", reason=reason, cluster_name=cluster, namespace=namespace
                )
                common.publish(topic, subject, body, job_id=job_id, status="Degraded")
                ddb.update_item(
                    TableName=table,
                    Key={"job_id": {"S": job_id}},
                    UpdateExpression="SET degraded_notified = :t",
                    ExpressionAttributeValues={":t": {"BOOL": True}},
                )
                return {"job_id": job_id, "action": "notified", "status": "Degraded"}
        return {"job_id": job_id, "action": "waiting", "state": state}
    manifest = None
    label = status
    if status == "Completed" and common.validate_output(item):
        manifest = common.check_manifest_object(output, job_id) if output else (False, "no output_s3_path recorded.")
        if not manifest[0]:
            label = "Completed (output validation failed)"
    subject, body = common.build_message(
        "SMHP",
        job_id,
        label,
        reason=None if status == "Completed" else message,
        manifest=manifest,
        cluster_name=cluster,
        namespace=namespace,
        output_s3_path=output,
    )
    common.publish(topic, subject, body, job_id=job_id, status=status)
    ddb.delete_item(TableName=table, Key={"job_id": {"S": job_id}})
    return {
        "job_id": job_id,
        "action": "notified",
        "status": status,
        "manifest_ok": None if manifest is None else manifest[0],
        "subject": subject,
    }


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Scheduled run: check every registered job once."""
    ddb = common.client("dynamodb")
    results = []
    for item in _scan(ddb, os.environ["TABLE_NAME"]):
        try:
            results.append(check_job(ddb, item))
        except Exception as e:
            common.logger.exception("checking %s failed", common.s(item, "job_id"))
            results.append({"job_id": common.s(item, "job_id"), "action": "error", "error": str(e)})
    common.logger.info(json.dumps({"checked": len(results)}))
    return {"checked": len(results), "results": results}
