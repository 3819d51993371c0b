"""Helpers shared by the notification Lambda handlers (boto3 + standard library only).

This file is zipped next to the handler as ``_common.py``; it must not import the SDK.
"""

from __future__ import annotations

import json
import logging
import os
import tarfile
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger()
logger.setLevel(logging.INFO)

#: SNS subjects are limited to 100 characters.
MAX_SUBJECT = 100


def client(service: str) -> Any:
    """A boto3 client in the function's region."""
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client(service, region_name=region)


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")`` (no trailing slash on the key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key.strip("/")


def join_key(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


#: platform -> console page of a job (SMTJ: the job; SMHP: its cluster).
CONSOLE_PAGES = {"SMTJ": "#/jobs/{job_id}", "SMHP": "#/cluster-management/{cluster_name}"}


def console_url(platform: str, job_id: str, *, cluster_name: str | None = None) -> str:
    """Link to the job (SMTJ) or the cluster (SMHP) in the SageMaker console."""
    r = region()
    page = CONSOLE_PAGES.get(platform, CONSOLE_PAGES["SMTJ"]).format(job_id=job_id, cluster_name=cluster_name or "")
    return f"https://{r}.console.aws.amazon.com/sagemaker/home?region={r}{page}"


def check_manifest_in_tar(output_s3_path: str, job_id: str) -> tuple[bool, str]:
    """SMTJ: is ``manifest.json`` inside ``{output}/{job}/output/output.tar.gz``?"""
    bucket, prefix = split_s3(output_s3_path)
    key = join_key(prefix, job_id, "output", "output.tar.gz")
    s3 = client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as e:
        return False, f"s3://{bucket}/{key} could not be read ({_code(e)})."
    try:
        with tarfile.open(fileobj=body, mode="r|gz") as tar:
            for member in tar:
                if os.path.basename(member.name) == "manifest.json":
                    return True, f"manifest.json found in s3://{bucket}/{key}."
    except (tarfile.TarError, OSError, EOFError) as e:
        return False, f"s3://{bucket}/{key} is not a readable tar.gz ({e})."
    return False, f"manifest.json is missing from s3://{bucket}/{key}."


def check_manifest_object(output_s3_path: str, job_id: str) -> tuple[bool, str]:
    """SMHP: does ``{output}/{job}/manifest.json`` exist?"""
    bucket, prefix = split_s3(output_s3_path)
    key = join_key(prefix, job_id, "manifest.json")
    try:
        client("s3").head_object(Bucket=bucket, Key=key)
    except Exception as e:
        return False, f"manifest.json is missing: s3://{bucket}/{key} ({_code(e)})."
    return True, f"manifest.json found at s3://{bucket}/{key}."


def _code(e: Exception) -> str:
    resp = getattr(e, "response", None) or {}
    return str((resp.get("Error") or {}).get("Code") or type(e).__name__)


def build_message(
    platform: str,
    job_id: str,
    status: str,
    *,
    reason: str | None = None,
    manifest: tuple[bool, str] | None = None,
    cluster_name: str | None = None,
    namespace: str | None = None,
    output_s3_path: str | None = None,
) -> tuple[str, str]:
    """Return ``(subject, body)`` of the notification email."""
    subject = f"[{platform}] Job {status}: {job_id}"
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 3] + "..."
    lines = [
        f"Job ID: {job_id}",
        f"Platform: {platform}",
        f"Status: {status}",
        f"Time: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"Region: {region()}",
    ]
    if cluster_name:
        lines.append(f"Cluster: {cluster_name}")
    if namespace:
        lines.append(f"Namespace: {namespace}")
    if output_s3_path:
        lines.append(f"Output: {output_s3_path}")
    if manifest is not None:
        ok, detail = manifest
        lines.append(f"Output validation: {'PASSED' if ok else 'FAILED'} - {detail}")
    if reason:
        lines.append(f"Reason: {reason}")
    lines.append(f"Console: {console_url(platform, job_id, cluster_name=cluster_name)}")
    lines.append("")
    lines.append("Sent by the Amazon Nova Forge SDK job notifications.")
    return subject, "\n".join(lines)


def publish(topic_arn: str, subject: str, body: str, *, job_id: str, status: str) -> str:
    """Publish to the topic; returns the message id."""
    resp = client("sns").publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message=body,
        MessageAttributes={
            "job_id": {"DataType": "String", "StringValue": job_id},
            "status": {"DataType": "String", "StringValue": status},
        },
    )
    logger.info(json.dumps({"published": job_id, "status": status, "message_id": resp.get("MessageId")}))
    return str(resp.get("MessageId"))


def emails_of(item: dict[str, Any]) -> list[str]:
    """Emails stored on a DynamoDB item (low-level ``SS`` attribute)."""
    return sorted((item.get("emails") or {}).get("SS", []))


def validate_output(item: dict[str, Any]) -> bool:
    """Whether the job's output manifest should be checked (training jobs; the default)."""
    v = item.get("validate_output")
    return bool(v.get("BOOL", True)) if isinstance(v, dict) else True


def s(item: dict[str, Any], name: str) -> str | None:
    """A string attribute of a low-level DynamoDB item, or None."""
    v = item.get(name)
    return v.get("S") if isinstance(v, dict) else None
