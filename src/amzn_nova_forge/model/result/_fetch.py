"""Bring a job's output (an archive, an S3 prefix or a local folder) into a local folder, safely.

* ``*.tar.gz`` / ``*.tgz`` (S3 or local): downloaded, then extracted member by member.
  Only regular files and folders are written; absolute paths, ``..`` components, links
  and device files are refused (a crafted archive cannot write outside the folder).
* An S3 prefix: every object under it is downloaded, keeping relative paths.
* A local folder: used in place (nothing is copied).

Work is bounded: ``include`` (glob patterns on member base names) extracts only the files a
reader needs, and ``max_bytes`` caps what is written; an archive that would pass the cap, or
that is not a tar archive at all (empty, truncated, HTML error page), is a
:class:`~amzn_nova_forge.errors.JobError` naming it. :func:`read_json_file` and
:func:`iter_json_lines` read the job's JSON outputs with size, encoding and nesting checks.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from amzn_nova_forge.core import storage
from amzn_nova_forge.errors import JobError

__all__ = [
    "MAX_EXTRACT_BYTES",
    "MAX_JSON_BYTES",
    "fetch_output",
    "find_files",
    "is_archive",
    "iter_json_lines",
    "read_json_file",
    "safe_extract",
]

logger = logging.getLogger(__name__)

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
#: Most bytes one extraction may write (a whole job output; readers pass far smaller caps).
MAX_EXTRACT_BYTES = 4 << 30
#: Most members one archive may hold.
MAX_MEMBERS = 100_000
#: Largest results JSON file (or JSON Lines line) read into memory.
MAX_JSON_BYTES = 256 << 20


def is_archive(uri: str) -> bool:
    """True when ``uri`` names a tar archive (by its suffix)."""
    return str(uri).lower().endswith(_ARCHIVE_SUFFIXES)


def _safe_relpath(name: str) -> PurePosixPath | None:
    p = PurePosixPath(name.replace("\\", "/"))
    parts = [x for x in p.parts if x not in ("", ".")]
    if p.is_absolute() or not parts or any(x == ".." for x in parts):
        return None
    return PurePosixPath(*parts)


def _wanted(name: str, include: Sequence[str] | None) -> bool:
    if include is None:
        return True
    base = PurePosixPath(name).name
    return any(fnmatch.fnmatch(base, pattern) for pattern in include)


def safe_extract(
    archive: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    job_id: str | None = None,
    include: Sequence[str] | None = None,
    max_bytes: int = MAX_EXTRACT_BYTES,
) -> int:
    """Extract the regular files of a tar archive under ``dest``; return how many were written.

    Args:
        archive: The tar file (any compression tarfile reads).
        dest: Folder to write into.
        job_id: For error messages.
        include: Glob patterns on member base names (``results_*.json``); None extracts every file.
        max_bytes: Most bytes written in all; the member that would pass it stops the extraction.

    Raises:
        JobError: A member would land outside ``dest`` (absolute path or ``..``), the archive is
            not a readable tar archive, or it holds more than ``max_bytes`` (or too many members).

    Example:
        >>> safe_extract("output.tar.gz", "out", include=["results_*.json"], max_bytes=1 << 20)  # doctest: +SKIP
        1
    """
    import zlib

    root = Path(dest).resolve()
    written = 0
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for count, member in enumerate(tar, 1):
                if count > MAX_MEMBERS:
                    raise JobError(
                        f"{archive} holds more than {MAX_MEMBERS} members; that is not a job output.", job_id=job_id
                    )
                rel = _safe_relpath(member.name)
                if rel is None:
                    raise JobError(
                        f"Refusing to extract {archive}: member {member.name!r} would be written outside {root}.",
                        job_id=job_id,
                    )
                target = root.joinpath(*rel.parts)
                if member.isdir():
                    if include is None:
                        target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    logger.warning("Skipping %s in %s: not a regular file (%s).", member.name, archive, member.type)
                    continue
                if not _wanted(member.name, include):
                    continue
                if total + member.size > max_bytes:
                    raise JobError(
                        f"Extracting {archive} stopped at the {max_bytes}-byte cap: member {member.name!r} "
                        f"({member.size} bytes) would bring the total to {total + member.size} bytes. "
                        "The output is larger than a reader of it needs; download it yourself to inspect it.",
                        job_id=job_id,
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                if src is None:  # pragma: no cover - isfile() members always have data
                    continue
                with src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                total += member.size
                written += 1
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        if isinstance(e, (FileNotFoundError, PermissionError)) and not os.path.exists(archive):
            raise
        raise JobError(
            f"{archive} is not a readable tar archive ({type(e).__name__}: {e}). The job output is empty, "
            "truncated or not an archive; check the job's status and logs, or download it to inspect it.",
            job_id=job_id,
        ) from e
    return written


def fetch_output(
    uri: str,
    cache_dir: str | os.PathLike[str],
    *,
    job_id: str | None = None,
    include: Sequence[str] | None = None,
    max_bytes: int = MAX_EXTRACT_BYTES,
) -> Path:
    """Make the job output at ``uri`` available locally; return the folder to search.

    Args:
        uri: ``s3://…/output.tar.gz``, an S3 prefix, a local archive or a local folder.
        cache_dir: Folder (created when missing) where downloads and extractions go.
        job_id: For error messages.
        include: From an archive, extract only members whose base name matches one of these globs.
        max_bytes: Most bytes extracted from an archive.

    Raises:
        FileNotFoundError: Nothing exists at ``uri``.
        JobError: The archive is not readable, or it passes ``max_bytes``.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    if not storage.is_s3(uri) and os.path.isdir(uri):
        return Path(uri)
    if is_archive(uri):
        name = "extracted"
        if include is not None:
            name += "-" + hashlib.sha256("\0".join(sorted(include)).encode()).hexdigest()[:12]
        extracted = cache / name
        if extracted.is_dir():
            return extracted
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=cache))
        try:
            if storage.is_s3(uri):
                fd, tmp = tempfile.mkstemp(prefix=".archive-", suffix=".tar.gz", dir=cache)
                os.close(fd)
                try:
                    storage.download(uri, tmp)
                    safe_extract(tmp, staging, job_id=job_id, include=include, max_bytes=max_bytes)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
            else:
                if not os.path.exists(uri):
                    raise FileNotFoundError(f"Job output {uri} does not exist (yet).")
                safe_extract(uri, staging, job_id=job_id, include=include, max_bytes=max_bytes)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
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


def _parse_json(text: str) -> Any:
    # NaN / Infinity are kept as written: evaluation harnesses write them for undefined stderr.
    return json.loads(text)


def read_json_file(path: str | os.PathLike[str], *, job_id: str | None = None, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read a JSON object written by a job (``results_*.json`` …), with every failure typed.

    Raises:
        JobError: Over ``max_bytes``, not UTF-8, not JSON (NaN/Infinity included), nested too
            deeply, or not a JSON object. The message names the file and the job.

    Example:
        >>> read_json_file("results_2025.json", job_id="my-eval")  # doctest: +SKIP
        {'results': {...}}
    """
    p = Path(path)
    where = f"{p.name} of job {job_id}" if job_id else str(p)
    hint = "The job wrote an unexpected file; check its logs, or open the file to inspect it."
    size = p.stat().st_size
    if size > max_bytes:
        raise JobError(f"{where} is {size} bytes, over the {max_bytes}-byte limit. {hint}", job_id=job_id)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise JobError(f"{where} is not UTF-8 text (invalid byte at offset {e.start}). {hint}", job_id=job_id) from None
    try:
        data = _parse_json(text)
    except json.JSONDecodeError as e:
        raise JobError(f"{where} is not valid JSON: {e}. {hint}", job_id=job_id) from e
    except RecursionError:
        raise JobError(f"{where} is nested too deeply to read. {hint}", job_id=job_id) from None
    if not isinstance(data, dict):
        raise JobError(f"{where} holds a JSON {type(data).__name__}, expected an object. {hint}", job_id=job_id)
    return data


def iter_json_lines(
    path: str | os.PathLike[str], *, job_id: str | None = None, max_line_bytes: int = MAX_JSON_BYTES
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line of a JSON Lines file a job wrote.

    Raises:
        JobError: A line is over ``max_line_bytes``, not UTF-8, not JSON, nested too deeply, or
            not an object; the message names the file, the line and the job.
    """
    p = Path(path)
    who = f" of job {job_id}" if job_id else ""
    with open(p, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            where = f"{p.name} line {n}{who}"
            if len(raw) > max_line_bytes:
                raise JobError(f"{where} is over the {max_line_bytes}-byte line limit.", job_id=job_id)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise JobError(
                    f"{where} is not UTF-8 text (invalid byte at column {e.start + 1}).", job_id=job_id
                ) from None
            if not line.strip():
                continue
            try:
                entry = _parse_json(line)
            except json.JSONDecodeError as e:
                raise JobError(f"{where} is not valid JSON ({e.msg} at column {e.colno}).", job_id=job_id) from e
            except RecursionError:
                raise JobError(f"{where} is nested too deeply to read.", job_id=job_id) from None
            if not isinstance(entry, dict):
                raise JobError(f"{where} is not a JSON object.", job_id=job_id)
            yield n, entry
