"""Optional S3 checks of the media a Converse dataset references (``validate(check_media=True)``).

Off by default: it makes one ``HeadObject`` and one ranged ``GetObject`` (first 64 KiB)
per distinct media object, so it needs credentials and time. Rules
(``reference/nova-data-formats.md`` §1.4–1.5, ``official-sdk-facts.md`` §4.3 #20–#27):

* the object exists and is readable;
* size: image ≤ 10 MB, video ≤ 50 MB, document ≤ 10 MB;
* the bytes match the declared ``format`` (magic numbers: PNG, JPEG, GIF, WebP, MP4/MOV,
  MKV/WebM, PDF);
* images are at least 25×25 pixels (read from the header; PNG, GIF, WebP, JPEG);
* media in a different bucket than the dataset gets a warning (docs: same bucket).

Video duration (≤ 90 s on Nova 1, ≤ 15 min on Nova 2) needs the whole file parsed and
is **not** checked here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from amzn_nova_forge.core import storage

__all__ = ["MediaRef", "check_media", "sniff"]

MB = 1_000_000
LIMITS = {"image": 10 * MB, "video": 50 * MB, "document": 10 * MB}
MIN_SIDE = 25
HEAD_BYTES = 65536

#: (kind, declared format, uri, line, json path)
MediaRef = tuple[str, str, str, int, str]


def sniff(head: bytes) -> str | None:
    """The media format ``head`` (the file's first bytes) starts with, or ``None``."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm" if b"webm" in head[:64] else "mkv"
    if head[4:8] == b"ftyp":
        return "mov" if head[8:10] == b"qt" else "mp4"
    return None


def image_size(head: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) from an image header, or ``None`` when it cannot be read from ``head``."""
    try:
        if fmt == "png" and len(head) >= 24:
            w, h = struct.unpack(">II", head[16:24])
            return w, h
        if fmt == "gif" and len(head) >= 10:
            w, h = struct.unpack("<HH", head[6:10])
            return w, h
        if fmt == "webp" and len(head) >= 30:
            chunk = head[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(head[24:27], "little") + 1
                h = int.from_bytes(head[27:30], "little") + 1
                return w, h
            if chunk == b"VP8 ":
                w, h = struct.unpack("<HH", head[26:30])
                return w & 0x3FFF, h & 0x3FFF
            if chunk == b"VP8L":
                b = int.from_bytes(head[21:25], "little")
                return (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1
        if fmt == "jpeg":
            i = 2
            while i + 9 < len(head):
                if head[i] != 0xFF:
                    return None
                marker = head[i + 1]
                length = struct.unpack(">H", head[i + 2 : i + 4])[0]
                if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                    h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                    return w, h
                i += 2 + length
    except struct.error:
        return None
    return None


def check_media(refs: Iterable[MediaRef], dataset_uri: str | None = None) -> tuple[list[Any], list[str]]:
    """Check each distinct media object once; return ``(problems, warnings)``.

    Problems are ``(line, path, message)`` for the first record referencing the object.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from amzn_nova_forge.core.aws import client
    from amzn_nova_forge.errors import AWSServiceError

    s3 = client("s3")
    home = storage.parse_s3(dataset_uri)[0] if dataset_uri and storage.is_s3(dataset_uri) else None
    problems: list[Any] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for kind, fmt, uri, line, path in refs:
        if uri in seen or not storage.is_s3(uri):
            continue
        seen.add(uri)
        bucket, key = storage.parse_s3(uri)
        if home and bucket != home:
            warnings.append(
                f"line {line} {path}: {uri} is not in the dataset's bucket {home!r}; Nova reads media "
                "from the dataset's bucket"
            )
        try:
            size = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
            head = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{HEAD_BYTES - 1}")["Body"].read()
        except (ClientError, BotoCoreError) as e:
            code = (getattr(e, "response", {}) or {}).get("Error", {}).get("Code")
            if code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
                problems.append((line, path, f"{uri} does not exist"))
                continue
            if code in ("403", "AccessDenied"):
                problems.append((line, path, f"{uri} cannot be read (access denied)"))
                continue
            raise AWSServiceError(f"S3 check of {uri} failed: {e}", service="s3") from e
        limit = LIMITS[kind]
        if size > limit:
            problems.append((line, path, f"{uri} is {size / MB:.1f} MB; {kind}s may be at most {limit // MB} MB"))
        found = sniff(head)
        if found is None or (found != fmt and {found, fmt} != {"mp4", "mov"}):
            what = "not a recognised media file" if found is None else repr(found)
            problems.append((line, path + ".format", f"{uri} is {what} but the record declares {fmt!r}"))
        elif kind == "image":
            dims = image_size(head, found)
            if dims is not None and min(dims) < MIN_SIDE:
                problems.append(
                    (line, path, f"{uri} is {dims[0]}x{dims[1]} px; images must be at least {MIN_SIDE}x{MIN_SIDE}")
                )
    return problems, warnings
