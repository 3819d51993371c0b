"""Reading a job's ``output.tar.gz`` safely: the manifest (checkpoint path) and metrics.

SageMaker Nova jobs write ``<output>/<job>/output/output.tar.gz`` holding ``manifest.json``
(key ``checkpoint_s3_bucket``: the full S3 URI of the trained checkpoint) and
``step_wise_training_metrics.csv``. The local runtime writes the same layout.

Safety: members are read in memory (``read_member``) — nothing is written to disk, so a
crafted member name such as ``../../etc/passwd`` cannot escape. :func:`safe_extract`
(for callers that need files on disk) refuses absolute paths, ``..`` components, links
and device files before extracting anything.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from amzn_nova_forge.core import storage
from amzn_nova_forge.errors import ConfigError

__all__ = ["CHECKPOINT_KEYS", "checkpoint_from_manifest", "read_manifest", "read_member", "safe_extract"]

logger = logging.getLogger(__name__)

#: Manifest keys that hold the checkpoint location, in order of preference.
CHECKPOINT_KEYS = ("checkpoint_s3_bucket", "checkpoint_s3_path", "checkpoint_path", "checkpoint")
_MAX_MEMBER_BYTES = 64 << 20


def _member_name_ok(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return not p.is_absolute() and ".." not in p.parts and not name.startswith("/")


def read_member(archive: bytes, basename: str) -> bytes | None:
    """Return the bytes of the first regular member whose file name is ``basename``, else None."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tf:
        for m in tf:
            if not m.isreg() or not _member_name_ok(m.name):
                continue
            if PurePosixPath(m.name).name != basename:
                continue
            if m.size > _MAX_MEMBER_BYTES:
                raise ConfigError(f"{basename} in the job output is {m.size} bytes; refusing to read it.")
            f = tf.extractfile(m)
            return f.read() if f is not None else None
    return None


def read_manifest(archive_uri: str) -> dict[str, Any] | None:
    """``manifest.json`` from ``output.tar.gz`` at ``archive_uri`` (None when absent)."""
    try:
        data = storage.read_bytes(archive_uri)
    except FileNotFoundError:
        return None
    try:
        raw = read_member(data, "manifest.json")
    except tarfile.TarError as e:
        raise ConfigError(f"{archive_uri} is not a valid tar.gz archive: {e}") from e
    if raw is None:
        return None
    try:
        manifest = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ConfigError(f"manifest.json in {archive_uri} is not valid JSON: {e.msg}") from e
    return manifest if isinstance(manifest, dict) else None


def checkpoint_from_manifest(manifest: dict[str, Any] | None) -> str | None:
    """The checkpoint location recorded in a manifest, if any."""
    if not manifest:
        return None
    for key in CHECKPOINT_KEYS:
        value = manifest.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def safe_extract(archive_path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[Path]:
    """Extract a tar archive into ``dest``; refuse unsafe members before writing anything.

    Raises:
        ConfigError: A member is absolute, contains ``..``, or is a link or special file.
    """
    dest_dir = Path(dest).resolve()
    with tarfile.open(archive_path, "r:*") as tf:
        members = tf.getmembers()
        for m in members:
            if not _member_name_ok(m.name):
                raise ConfigError(f"Refusing to extract {archive_path}: unsafe member path {m.name!r}.")
            if not (m.isreg() or m.isdir()):
                raise ConfigError(f"Refusing to extract {archive_path}: {m.name!r} is a link or special file.")
            target = (dest_dir / m.name).resolve()
            if dest_dir != target and dest_dir not in target.parents:
                raise ConfigError(f"Refusing to extract {archive_path}: {m.name!r} escapes {dest_dir}.")
        dest_dir.mkdir(parents=True, exist_ok=True)
        out: list[Path] = []
        for m in members:
            tf.extract(m, dest_dir, filter="data")
            if m.isreg():
                out.append(dest_dir / m.name)
    return out
