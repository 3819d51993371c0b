"""One storage layer for local paths and ``s3://`` URIs.

* Reads stream: :func:`iter_lines` yields one line at a time (bytes, newline
  stripped) without holding the file in memory, locally or from S3.
* Writes are atomic: :func:`open_write` writes to a temporary file and, only when
  the block exits without error, renames it into place (local) or uploads it with
  boto3's transfer manager (S3, multipart for large files) so the object becomes
  visible only when complete. On error nothing is left at the destination.
* Local paths never touch AWS: no client is created unless a URI starts with ``s3://``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from amzn_nova_forge.errors import AWSServiceError, ConfigError

__all__ = [
    "delete",
    "download",
    "exists",
    "is_s3",
    "iter_lines",
    "join",
    "list_uris",
    "open_write",
    "parse_s3",
    "read_bytes",
    "read_text",
    "upload",
    "write_bytes",
    "write_text",
]

_CHUNK = 1 << 20


def is_s3(uri: str | os.PathLike[str]) -> bool:
    """True when ``uri`` is an ``s3://`` URI."""
    return str(uri).startswith("s3://")


def parse_s3(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``.

    Raises:
        ConfigError: ``uri`` is not a well-formed S3 URI.
    """
    if not is_s3(uri):
        raise ConfigError(f"Not an S3 URI: {uri!r}. Expected 's3://bucket/key'.")
    rest = uri[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ConfigError(f"S3 URI {uri!r} has no bucket name. Expected 's3://bucket/key'.")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join path parts with ``/`` for S3 URIs and ``os.path.join`` for local paths."""
    if is_s3(base):
        out = base.rstrip("/")
        for p in parts:
            out += "/" + p.strip("/")
        return out
    return os.path.join(base, *parts)


def _s3(region: str | None = None) -> Any:
    from amzn_nova_forge.core.aws import client

    return client("s3", region)


@contextlib.contextmanager
def _s3_errors(op: str, uri: str) -> Iterator[None]:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as e:
        raise _from_client_error(e, op, uri) from e
    except S3UploadFailedError as e:  # upload_file wraps the ClientError of the failed part
        cause = e.__context__
        if isinstance(cause, ClientError):
            raise _from_client_error(cause, op, uri) from e
        raise AWSServiceError(f"S3 {op} of {uri} failed: {e}", service="s3", operation=op) from e
    except BotoCoreError as e:
        raise AWSServiceError(f"S3 {op} of {uri} failed: {e}", service="s3", operation=op) from e


def _from_client_error(e: Any, op: str, uri: str) -> Exception:
    code = (e.response.get("Error") or {}).get("Code")
    if code in ("NoSuchKey", "404", "NotFound"):
        return FileNotFoundError(f"{uri} does not exist (S3 {op}: {code}).")
    if code in ("NoSuchBucket",):
        return FileNotFoundError(f"Bucket of {uri} does not exist (S3 {op}: {code}).")
    return AWSServiceError.from_client_error(e, service="s3", hint=f"while accessing {uri}")


def iter_lines(uri: str | os.PathLike[str], *, max_line_bytes: int | None = None) -> Iterator[bytes]:
    """Yield the lines of a local file or S3 object as bytes, without the line ending.

    Args:
        uri: Local path or ``s3://`` URI.
        max_line_bytes: When set, a longer line raises ``ValueError`` naming its number.

    Raises:
        FileNotFoundError: The file or object does not exist.
    """
    uri = str(uri)
    if is_s3(uri):
        yield from _iter_s3_lines(uri, max_line_bytes)
        return
    with open(uri, "rb") as f:
        for n, line in enumerate(f, 1):
            if max_line_bytes is not None and len(line) > max_line_bytes:
                raise ValueError(f"line {n} is {len(line)} bytes, over the {max_line_bytes}-byte limit")
            yield line.rstrip(b"\r\n") if line.endswith((b"\n", b"\r")) else line


def _iter_s3_lines(uri: str, max_line_bytes: int | None) -> Iterator[bytes]:
    bucket, key = parse_s3(uri)
    with _s3_errors("GetObject", uri):
        body = _s3().get_object(Bucket=bucket, Key=key)["Body"]
    pending = b""
    n = 0
    with _s3_errors("GetObject", uri):
        for chunk in iter(lambda: body.read(_CHUNK), b""):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                n += 1
                if max_line_bytes is not None and len(line) > max_line_bytes:
                    raise ValueError(f"line {n} is {len(line)} bytes, over the {max_line_bytes}-byte limit")
                yield line.rstrip(b"\r")
    if pending:
        yield pending.rstrip(b"\r")


def read_bytes(uri: str | os.PathLike[str]) -> bytes:
    """Read a whole local file or S3 object."""
    uri = str(uri)
    if is_s3(uri):
        bucket, key = parse_s3(uri)
        with _s3_errors("GetObject", uri):
            return bytes(_s3().get_object(Bucket=bucket, Key=key)["Body"].read())
    return Path(uri).read_bytes()


def read_text(uri: str | os.PathLike[str], encoding: str = "utf-8") -> str:
    """Read a whole local file or S3 object as text."""
    return read_bytes(uri).decode(encoding)


def exists(uri: str | os.PathLike[str]) -> bool:
    """True if the local path or S3 object (or S3 prefix with at least one object) exists."""
    uri = str(uri)
    if not is_s3(uri):
        return os.path.exists(uri)
    bucket, key = parse_s3(uri)
    from botocore.exceptions import ClientError

    s3 = _s3()
    if key and not key.endswith("/"):
        try:
            s3.head_object(Bucket=bucket, Key=key)
            return True
        except ClientError as e:
            code = (e.response.get("Error") or {}).get("Code")
            if code not in ("404", "NoSuchKey", "NotFound"):
                if code == "NoSuchBucket":
                    return False
                raise AWSServiceError.from_client_error(e, service="s3", hint=f"while checking {uri}") from e
    prefix = key if (not key or key.endswith("/")) else key + "/"
    with _s3_errors("ListObjectsV2", uri):
        try:
            resp = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        except ClientError as e:
            if (e.response.get("Error") or {}).get("Code") == "NoSuchBucket":
                return False
            raise
    return bool(resp.get("KeyCount") or resp.get("Contents"))


def list_uris(prefix: str | os.PathLike[str], *, recursive: bool = True) -> Iterator[str]:
    """List the files under a local directory or S3 prefix (paginated, sorted for local)."""
    prefix = str(prefix)
    if is_s3(prefix):
        bucket, key = parse_s3(prefix)
        paginator = _s3().get_paginator("list_objects_v2")
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": key}
        if not recursive:
            kwargs["Delimiter"] = "/"
        with _s3_errors("ListObjectsV2", prefix):
            for page in paginator.paginate(**kwargs):
                for obj in page.get("Contents", []):
                    yield f"s3://{bucket}/{obj['Key']}"
        return
    p = Path(prefix)
    if p.is_file():
        yield str(p)
        return
    it = p.rglob("*") if recursive else p.glob("*")
    for f in sorted(it):
        if f.is_file():
            yield str(f)


@contextlib.contextmanager
def open_write(uri: str | os.PathLike[str], mode: str = "wb", *, kms_key_id: str | None = None) -> Iterator[IO[Any]]:
    """Open ``uri`` for writing; the content appears at ``uri`` only if the block succeeds.

    Local files are written to a temporary file in the same directory and renamed
    into place. S3 objects are written to a local temporary file and uploaded with
    the transfer manager when the block exits.

    Example:
        >>> with open_write("out/data.jsonl") as f:  # doctest: +SKIP
        ...     f.write(b"{}\\n")
    """
    uri = str(uri)
    if is_s3(uri):
        parse_s3(uri)
        fd, tmp = tempfile.mkstemp(prefix=".nova-forge-", suffix=".part")
        try:
            with os.fdopen(fd, mode) as f:
                yield f
            upload(tmp, uri, kms_key_id=kms_key_id)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return
    dest = Path(uri)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(uri: str | os.PathLike[str], data: bytes, *, kms_key_id: str | None = None) -> str:
    """Atomically write ``data`` to ``uri``; returns ``uri``."""
    with open_write(uri, "wb", kms_key_id=kms_key_id) as f:
        f.write(data)
    return str(uri)


def write_text(uri: str | os.PathLike[str], text: str, *, kms_key_id: str | None = None) -> str:
    """Atomically write UTF-8 ``text`` to ``uri``; returns ``uri``."""
    return write_bytes(uri, text.encode("utf-8"), kms_key_id=kms_key_id)


def upload(local_path: str | os.PathLike[str], uri: str, *, kms_key_id: str | None = None) -> str:
    """Upload a local file to ``uri`` (S3, via the transfer manager) or copy it (local)."""
    if not is_s3(uri):
        with open(local_path, "rb") as src, open_write(uri) as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
        return uri
    bucket, key = parse_s3(uri)
    extra: dict[str, Any] = {}
    if kms_key_id:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    with _s3_errors("PutObject", uri):
        _s3().upload_file(str(local_path), bucket, key, ExtraArgs=extra or None)
    return uri


def download(uri: str, local_path: str | os.PathLike[str]) -> Path:
    """Download ``uri`` to ``local_path`` (atomically); returns the local path."""
    dest = Path(local_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not is_s3(uri):
        upload(uri, str(dest))  # a local copy goes through open_write: atomic too
        return dest
    bucket, key = parse_s3(uri)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        with _s3_errors("GetObject", uri):
            _s3().download_file(bucket, key, tmp)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dest


def delete(uri: str | os.PathLike[str]) -> None:
    """Delete one local file or S3 object (a missing one is not an error).

    Raises:
        AWSServiceError: S3 refused the deletion.
    """
    uri = str(uri)
    if is_s3(uri):
        bucket, key = parse_s3(uri)
        with _s3_errors("DeleteObject", uri):
            _s3().delete_object(Bucket=bucket, Key=key)
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(uri)


def open_read(uri: str | os.PathLike[str]) -> IO[bytes]:
    """Open a local file or S3 object for binary reading (S3: a streaming body)."""
    uri = str(uri)
    if is_s3(uri):
        bucket, key = parse_s3(uri)
        with _s3_errors("GetObject", uri):
            body = _s3().get_object(Bucket=bucket, Key=key)["Body"]
        return body  # type: ignore[no-any-return]
    return open(uri, "rb")
