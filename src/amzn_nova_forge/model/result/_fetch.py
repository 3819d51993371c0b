"""Bring a job's output (an archive, an S3 prefix or a local folder) into a local folder, safely.

* ``*.tar.gz`` / ``*.tgz`` (S3 or local): downloaded, then extracted member by member.
  Only regular files and folders are written; absolute paths, ``..`` components, links
  and device files are refused (a crafted archive cannot write outside the folder).
* An S3 prefix: every object under it is downloaded, keeping relative paths.
* A local folder: used in place (nothing is copied).
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from amzn_nova_forge.core import storage
from amzn_nova_forge.errors import JobError

__all__ = ["fetch_output", "find_files", "is_archive", "safe_extract"]

logger = logging.getLogger(__name__)

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def is_archive(uri: str) -> bool:
    """True when ``uri`` names a tar archive (by its suffix)."""
    return str(uri).lower().endswith(_ARCHIVE_SUFFIXES)


def _safe_relpath(name: str) -> PurePosixPath | None:
    p = PurePosixPath(name.replace("\\", "/"))
    parts = [x for x in p.parts if x not in ("", ".")]
    if p.is_absolute() or not parts or any(x == ".." for x in parts):
        return None
    return PurePosixPath(*parts)


def safe_extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str], *, job_id: str | None = None) -> int:
    """Extract the regular files of a tar archive under ``dest``; return how many were written.

    Raises:
        JobError: A member would land outside ``dest`` (absolute path or ``..``).
    """
    root = Path(dest).resolve()
    written = 0
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            rel = _safe_relpath(member.name)
            if rel is None:
                raise JobError(
                    f"Refusing to extract {archive}: member {member.name!r} would be written outside {root}.",
                    job_id=job_id,
                )
            target = root.joinpath(*rel.parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                logger.warning("Skipping %s in %s: not a regular file (%s).", member.name, archive, member.type)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            if src is None:  # pragma: no cover - isfile() members always have data
                continue
            with src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            written += 1
    return written


def fetch_output(uri: str, cache_dir: str | os.PathLike[str], *, job_id: str | None = None) -> Path:
    """Make the job output at ``uri`` available locally; return the folder to search.

    Args:
        uri: ``s3://…/output.tar.gz``, an S3 prefix, a local archive or a local folder.
        cache_dir: Folder (created when missing) where downloads and extractions go.
        job_id: For error messages.

    Raises:
        FileNotFoundError: Nothing exists at ``uri``.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    if not storage.is_s3(uri) and os.path.isdir(uri):
        return Path(uri)
    if is_archive(uri):
        extracted = cache / "extracted"
        if extracted.is_dir():
            return extracted
        if storage.is_s3(uri):
            fd, tmp = tempfile.mkstemp(prefix=".archive-", suffix=".tar.gz", dir=cache)
            os.close(fd)
            try:
                storage.download(uri, tmp)
                staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=cache))
                safe_extract(tmp, staging, job_id=job_id)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            if not os.path.exists(uri):
                raise FileNotFoundError(f"Job output {uri} does not exist (yet).")
            staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=cache))
            safe_extract(uri, staging, job_id=job_id)
        os.replace(staging, extracted)
        return extracted
    if not storage.is_s3(uri):
        raise FileNotFoundError(f"Job output {uri} does not exist (yet).")
    prefixed = cache / "prefix"
    if prefixed.is_dir():
        return prefixed
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=cache))
    base = uri if uri.endswith("/") else uri + "/"
    count = 0
    for obj in storage.list_uris(base):
        rel = _safe_relpath(obj[len(base) :])
        if rel is None:
            continue
        storage.download(obj, staging.joinpath(*rel.parts))
        count += 1
    if count == 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise FileNotFoundError(f"No objects under {base}; the job has not written its output (yet).")
    os.replace(staging, prefixed)
    return prefixed


def find_files(root: str | os.PathLike[str], pattern: str) -> list[Path]:
    """Files under ``root`` matching the glob ``pattern`` (recursively), sorted by path."""
    return sorted(p for p in Path(root).rglob(pattern) if p.is_file())
