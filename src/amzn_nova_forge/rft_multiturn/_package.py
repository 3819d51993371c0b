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
from amzn_nova_forge.errors import ConfigError

#: The file a starter kit must contain: the worker every platform runs.
KIT_WORKER = Path("amzn_nova_forge") / "rft_multiturn" / "_worker.py"

__all__ = ["check_starter_kit", "default_bucket", "download_cmd", "sdk_archive", "upload_sdk"]


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


def check_starter_kit(starter_kit_path: str) -> str:
    """Check a starter kit; returns the expanded local folder or the ``s3://`` URI.

    A starter kit is the worker code the platforms run instead of the installed SDK: a local
    folder holding an ``amzn_nova_forge`` package (with ``rft_multiturn/_worker.py``), or the
    S3 URI of such a folder packed as ``.tar.gz`` (what :func:`upload_sdk` writes).

    Raises:
        ConfigError: A missing folder, a folder without the worker, or an S3 URI that is not a ``.tar.gz`` object.
    """
    if not isinstance(starter_kit_path, str) or not starter_kit_path:
        raise ConfigError(f"starter_kit_path must be a folder or an s3:// URI, got {starter_kit_path!r}.")
    if starter_kit_path.startswith("s3://"):
        bucket, _, key = starter_kit_path[5:].partition("/")
        if not bucket or not key.endswith(".tar.gz"):
            raise ConfigError(f"starter_kit_path {starter_kit_path!r} must be s3://<bucket>/<key>.tar.gz.")
        return starter_kit_path
    folder = Path(starter_kit_path).expanduser().resolve()
    if not (folder / KIT_WORKER).is_file():
        raise ConfigError(
            f"starter_kit_path {starter_kit_path!r} has no {KIT_WORKER}: a starter kit is a folder holding the "
            "amzn_nova_forge package the workers run."
        )
    return str(folder)


def sdk_archive(root: Path | None = None) -> bytes:
    """Deterministic ``.tar.gz`` of an ``amzn_nova_forge`` package folder (default: the installed one)."""
    root = root or Path(__file__).resolve().parents[1]
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


def upload_sdk(region: str, bucket: str | None = None, starter_kit_path: str | None = None) -> str:
    """Upload the worker code (skipped when that exact content is there); returns its S3 URI.

    Args:
        region: Region of the default bucket.
        bucket: Bucket to use (default ``sagemaker-<region>-<account>``).
        starter_kit_path: A checked starter kit (:func:`check_starter_kit`): an ``s3://`` URI is
            returned as is, a folder's ``amzn_nova_forge`` package is uploaded instead of the SDK's.
    """
    from botocore.exceptions import ClientError

    if starter_kit_path and starter_kit_path.startswith("s3://"):
        return starter_kit_path
    data = sdk_archive(Path(starter_kit_path) / "amzn_nova_forge" if starter_kit_path else None)
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
