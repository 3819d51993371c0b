"""Where a loader's input lives: one file, a directory, a glob, or an S3 prefix.

:func:`resolve_inputs` turns what the user passed to ``load()`` into the sorted list of
files to read, by the same rules for every file-based loader:

* ``~`` is expanded and ``..`` segments are resolved (``~/data/train.jsonl``).
* A local directory or an ``s3://…/`` prefix (a URI ending in ``/``, or one with no object
  of its own but objects under it) means every file directly inside it whose extension the
  loader reads, in lexicographic order; names starting with ``.`` or ``_`` (``_SUCCESS``,
  ``.crc``) are skipped, and any other file is refused, so a stray file is never silently left
  out. Parquet shard folders (``part-00000.snappy.parquet`` …) are directories like any other.
* A glob (``data/*.jsonl``, ``s3://bucket/shards/part-*.parquet``) means its matches, sorted.
* A single file must have one of the loader's extensions (a ``.csv`` given to the JSONL loader
  is refused, as in the official SDK).

:func:`local_copy` gives a reader a local path for one file (an ``s3://`` object is
downloaded to a temporary file, removed afterwards).

Example:
    >>> resolve_inputs("~/nope.jsonl", (".jsonl",))  # doctest: +SKIP
    Traceback (most recent call last):
    amzn_nova_forge.errors.DataPrepError: /home/me/nope.jsonl: file not found
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
from collections.abc import Iterator, Sequence

from amzn_nova_forge.core import storage
from amzn_nova_forge.errors import AWSServiceError, DataPrepError

__all__ = ["is_glob", "local_copy", "normalize", "resolve_inputs"]

_GLOB_CHARS = frozenset("*?[")


def is_glob(path: str) -> bool:
    """True when ``path`` holds a glob wildcard (``*``, ``?`` or ``[``)."""
    return not _GLOB_CHARS.isdisjoint(path)


def normalize(path: str | os.PathLike[str]) -> str:
    """Expand ``~`` and resolve ``..`` in a local path; S3 URIs pass through unchanged."""
    path = os.fspath(path)
    if storage.is_s3(path):
        return path
    expanded = os.path.expanduser(path)
    if ".." in expanded.replace("\\", "/").split("/"):
        return os.path.abspath(expanded)
    return expanded


def _skipped(name: str) -> bool:
    return not name or name.startswith((".", "_"))


def _has_ext(name: str, exts: Sequence[str]) -> bool:
    return name.lower().endswith(tuple(exts))


def _ext_error(path: str, exts: Sequence[str]) -> DataPrepError:
    ext = os.path.splitext(path.rstrip("/"))[1] or "no extension"
    return DataPrepError(
        f"the file has {ext!r}, but this loader reads {', '.join(exts)} files; use the loader for its format",
        path=path,
    )


def _pick(listing: list[str], where: str, exts: Sequence[str], what: str) -> list[str]:
    files: list[str] = []
    other: list[str] = []
    for uri in listing:
        name = uri.rsplit("/", 1)[-1]
        if _skipped(name):
            continue
        (files if _has_ext(name, exts) else other).append(uri)
    if other:
        shown = ", ".join(sorted(u.rsplit("/", 1)[-1] for u in other)[:5])
        raise DataPrepError(
            f"the {what} holds files this loader does not read ({shown}{', …' if len(other) > 5 else ''}); "
            f"expected only {', '.join(exts)} files (names starting with '.' or '_' are skipped)",
            path=where,
        )
    if not files:
        raise DataPrepError(f"no {', '.join(exts)} files found in the {what}", path=where)
    return sorted(files)


def _local_dir(path: str, exts: Sequence[str]) -> list[str]:
    try:
        entries = [os.path.join(path, n) for n in os.listdir(path)]
    except OSError as e:
        raise DataPrepError(f"cannot read the directory: {e.strerror or e}", path=path) from e
    return _pick([e for e in entries if os.path.isfile(e)], path, exts, "directory")


def _s3_listing(prefix: str) -> list[str]:
    try:
        return list(storage.list_uris(prefix, recursive=False))
    except AWSServiceError as e:
        raise DataPrepError(f"could not list the S3 prefix: {e}", path=prefix) from e


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex over URIs: ``*`` and ``?`` stay within one path segment, ``**`` crosses them."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def _s3_glob(pattern: str, exts: Sequence[str]) -> list[str]:
    cut = min(pattern.find(c) for c in _GLOB_CHARS if c in pattern)
    base = pattern[: pattern.rfind("/", 0, cut) + 1]
    try:
        listing = list(storage.list_uris(base, recursive=True))
    except AWSServiceError as e:
        raise DataPrepError(f"could not list the S3 prefix: {e}", path=base) from e
    rx = _glob_regex(pattern)
    hits = sorted(u for u in listing if rx.fullmatch(u) and not _skipped(u.rsplit("/", 1)[-1]))
    return _check_matches(hits, pattern, exts)


def _check_matches(hits: list[str], pattern: str, exts: Sequence[str]) -> list[str]:
    if not hits:
        raise DataPrepError("the pattern matches no files", path=pattern)
    wrong = [h for h in hits if not _has_ext(h, exts)]
    if wrong:
        raise _ext_error(wrong[0], exts)
    return hits


def resolve_inputs(path: str, exts: Sequence[str]) -> list[str]:
    """The files ``path`` names, sorted (see the module docstring).

    Raises:
        DataPrepError: Nothing there, no matching file, a file of another format, or the
            directory or prefix cannot be listed.
    """
    if storage.is_s3(path):
        if is_glob(path):
            return _s3_glob(path, exts)
        if path.endswith("/"):
            return _pick(_s3_listing(path), path, exts, "S3 prefix")
        if _has_ext(path, exts):
            return [path]
        # no known extension: a prefix written without its trailing "/"?
        listing = _s3_listing(path + "/")
        if listing:
            return _pick(listing, path + "/", exts, "S3 prefix")
        raise _ext_error(path, exts)
    if is_glob(path) and not os.path.exists(path):
        hits = sorted(h for h in glob.glob(path) if os.path.isfile(h) and not _skipped(os.path.basename(h)))
        return _check_matches(hits, path, exts)
    if os.path.isdir(path):
        return _local_dir(path, exts)
    if not os.path.exists(path):
        raise DataPrepError("file not found", path=path)
    if not _has_ext(path, exts):
        raise _ext_error(path, exts)
    return [path]


@contextlib.contextmanager
def local_copy(path: str) -> Iterator[str]:
    """A local path for ``path``: itself if local, else a temporary download."""
    if not storage.is_s3(path):
        if not os.path.exists(path):
            raise DataPrepError("file not found", path=path)
        if os.path.isdir(path):
            raise DataPrepError("is a directory; pass the path of one data file", path=path)
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="nova-forge-dl-")
    os.close(fd)
    try:
        try:
            storage.download(path, tmp)
        except FileNotFoundError as e:
            raise DataPrepError("S3 object not found", path=path) from e
        except AWSServiceError as e:
            raise DataPrepError(f"could not read from S3: {e}", path=path) from e
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
