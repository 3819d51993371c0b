"""Staging OpenAI ``image_url`` images in S3 for Converse (``transform(multimodal_data_s3_path=…)``).

Nova reads training images from S3 only. When a transform is given a staging prefix, each
``image_url`` that is not already an ``s3://`` URI is fetched and uploaded there:

* ``data:image/<fmt>;base64,<data>`` URIs are decoded (the ``base64`` token in any case);
* ``https://`` / ``http://`` URLs are downloaded (``timeout_s`` per request, at most
  ``max_bytes``; redirects followed by urllib).

The bytes must be a PNG, JPEG, GIF or WebP image (checked by their signature, which also gives
the Converse ``format``). Objects are content-addressed (``<prefix>/<sha256>.<ext>``), so the
same image is uploaded once however often it appears or however many passes run. The bucket
owner is ``multimodal_data_bucket_owner`` when given, else the caller's account (STS).

Example:
    >>> stager = ImageStager("s3://my-bucket/images/")  # doctest: +SKIP
    >>> stager.stage("data:image/png;base64,iVBORw0KGgo...", line=1, path="$.messages[0].content[1]")  # doctest: +SKIP
    ('s3://my-bucket/images/5f1c….png', 'png', '123456789012')
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from amzn_nova_forge.core import storage
from amzn_nova_forge.errors import AWSServiceError, ConfigError, DataPrepError

__all__ = ["ImageStager"]

#: Largest image staged (bytes). Nova's Converse image limit is 3.75 MB; a little slack for
#: callers who resize later is pointless, so the cap stays near it.
MAX_IMAGE_BYTES = 4 << 20

_DATA_URI = re.compile(r"^data:image/([A-Za-z0-9.+-]+);(?i:base64),(.*)$", re.DOTALL)
_ACCOUNT = re.compile(r"^\d{12}$")


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class ImageStager:
    """Uploads non-S3 images of OpenAI records to one S3 prefix (see the module docstring).

    Args:
        prefix: ``s3://bucket/prefix/`` where images go.
        bucket_owner: 12-digit account id of the bucket owner (default: the caller's, via STS).
        timeout_s: Per-download time limit for http(s) URLs.
        max_bytes: Largest image accepted.

    Raises:
        ConfigError: ``prefix`` is not an ``s3://bucket/…`` URI or ``bucket_owner`` is not 12 digits.
    """

    def __init__(
        self,
        prefix: str,
        bucket_owner: str | None = None,
        *,
        region: str | None = None,
        timeout_s: float = 30.0,
        max_bytes: int = MAX_IMAGE_BYTES,
    ) -> None:
        if not isinstance(prefix, str) or not storage.is_s3(prefix) or not prefix[5:].split("/", 1)[0]:
            raise ConfigError(f"multimodal_data_s3_path must be an s3://bucket/prefix/ URI; got {prefix!r}.")
        if bucket_owner is not None and not _ACCOUNT.match(str(bucket_owner)):
            raise ConfigError(f"multimodal_data_bucket_owner must be a 12-digit account id; got {bucket_owner!r}.")
        self.prefix = prefix.rstrip("/") + "/"
        self.bucket = prefix[5:].split("/", 1)[0]
        self.region = region
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._owner = bucket_owner
        self._done: dict[str, str] = {}

    @property
    def bucket_owner(self) -> str:
        """The bucket owner's account id (asks STS once when none was given)."""
        if self._owner is None:
            from amzn_nova_forge.core.aws import client

            try:
                self._owner = str(client("sts", self.region).get_caller_identity()["Account"])
            except Exception as e:  # botocore raises many types; all mean "cannot tell"
                raise ConfigError(
                    f"cannot find the bucket owner's account (STS GetCallerIdentity failed: {e}); "
                    "pass multimodal_data_bucket_owner='<12-digit account id>'"
                ) from e
        return self._owner

    def _fetch(self, url: str, line: int, path: str) -> bytes:
        m = _DATA_URI.match(url)
        if m is not None:
            if len(m.group(2)) > self.max_bytes * 4 // 3 + 4:
                raise DataPrepError(f"the data: image is over {self.max_bytes:,} bytes", line=line, field=path)
            try:
                return base64.b64decode(m.group(2), validate=True)
            except (binascii.Error, ValueError):
                raise DataPrepError("the data: image URI holds invalid base64", line=line, field=path) from None
        if url.lower().startswith(("https://", "http://")):
            return self._download(url, line, path)
        raise DataPrepError(
            f"image URL {url[:60]!r} is neither s3://, data:image/…;base64, nor http(s)://", line=line, field=path
        )

    def _download(self, url: str, line: int, path: str) -> bytes:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(url, headers={"User-Agent": "amzn-nova-forge"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                data = bytes(resp.read(self.max_bytes + 1))
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise DataPrepError(f"could not download the image {url!r}: {e}", line=line, field=path) from e
        if len(data) > self.max_bytes:
            raise DataPrepError(f"the image at {url!r} is over {self.max_bytes:,} bytes", line=line, field=path)
        return data

    def stage(self, url: str, *, line: int, path: str) -> tuple[str, str, str]:
        """Upload the image ``url`` names (once); returns ``(s3 uri, format, bucket owner)``.

        Raises:
            DataPrepError: The image cannot be fetched, is too large, is not PNG/JPEG/GIF/WebP,
                or the upload fails (names the line and JSON path).
        """
        data = self._fetch(url, line, path)
        fmt = _sniff(data)
        if fmt is None:
            raise DataPrepError(
                "the image is not a PNG, JPEG, GIF or WebP file (by its content)", line=line, field=path
            )
        digest = hashlib.sha256(data).hexdigest()
        uri = self._done.get(digest)
        if uri is None:
            uri = f"{self.prefix}{digest}.{fmt}"
            try:
                storage.write_bytes(uri, data)
            except (OSError, AWSServiceError) as e:
                raise DataPrepError(f"could not upload the image to {uri}: {e}", line=line, field=path) from e
            self._done[digest] = uri
        return uri, fmt, self.bucket_owner

    @property
    def uploaded(self) -> list[str]:
        """The S3 URIs uploaded so far."""
        return list(self._done.values())


def stage_block(stager: Any, url: str, line: int, path: str) -> dict[str, Any]:
    """A Converse image block for ``url`` staged by ``stager``."""
    uri, fmt, owner = stager.stage(url, line=line, path=path)
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": uri, "bucketOwner": owner}}}}
