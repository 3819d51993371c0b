"""Ship this SDK (the worker's code) and custom environments to remote workers through S3.

Remote workers (EC2, ECS) run the same ``amzn_nova_forge`` code as this machine: the package
folder is archived (pure Python, ~2 MB), uploaded once per content hash to
``s3://<bucket>/nova-rft-sdk/<hash>/amzn_nova_forge.tar.gz`` and put on ``PYTHONPATH`` there;
the only package a worker installs is boto3.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shlex
import tarfile
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client

__all__ = ["default_bucket", "download_cmd", "sdk_archive", "upload_sdk"]


def default_bucket(region: str) -> str:
    """``sagemaker-<region>-<account>``, created when missing."""
    from botocore.exceptions import ClientError

    with aws_errors("sts"):
        account = client("sts", region).get_caller_identity()["Account"]
    bucket = f"sagemaker-{region}-{account}"
    s3 = client("s3", region)
    with aws_errors("s3", hint=f"Pass bucket= to use another bucket than {bucket}."):
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            kwargs: dict[str, Any] = {"Bucket": bucket}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)
    return bucket


def sdk_archive() -> bytes:
    """Deterministic ``.tar.gz`` of the installed ``amzn_nova_forge`` package."""
    root = Path(__file__).resolve().parents[1]
    buf = io.BytesIO()
    # gzip with mtime=0 so the same files always give the same bytes (and the same S3 key).
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        for f in sorted(root.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                info = tar.gettarinfo(str(f), arcname=str(Path("amzn_nova_forge") / f.relative_to(root)))
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                with open(f, "rb") as fh:
                    tar.addfile(info, fh)
    return buf.getvalue()


def upload_sdk(region: str, bucket: str | None = None) -> str:
    """Upload the SDK archive (skipped when that exact content is there); returns its S3 URI."""
    from botocore.exceptions import ClientError

    data = sdk_archive()
    digest = hashlib.sha256(data).hexdigest()[:16]
    bucket = bucket or default_bucket(region)
    key = f"nova-rft-sdk/{digest}/amzn_nova_forge.tar.gz"
    s3 = client("s3", region)
    with aws_errors("s3"):
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            s3.put_object(Bucket=bucket, Key=key, Body=data)
    return f"s3://{bucket}/{key}"


def download_cmd(python: str, s3_uri: str, dest: str, region: str) -> str:
    """Shell command that downloads ``s3_uri`` to ``dest`` with boto3 (no AWS CLI needed)."""
    code = (
        "import boto3,sys; b,k=sys.argv[1][5:].split('/',1); "
        "boto3.client('s3',region_name=sys.argv[3]).download_file(b,k,sys.argv[2])"
    )
    return f"{python} -c {shlex.quote(code)} {shlex.quote(s3_uri)} {shlex.quote(dest)} {shlex.quote(region)}"
