"""Writing a record store to its destination: ``.jsonl`` or ``.json``, local or ``s3://``.

A ``.jsonl`` copy goes through the kernel (``os.sendfile``) where the platform has it and
falls back to a buffered copy where it does not (Windows) or where the kernel refuses
(some file systems); an S3 ``.jsonl`` is uploaded from the spill file as it is. Writes are
atomic: :func:`amzn_nova_forge.core.storage.open_write` renames a complete temp file.

Example:
    >>> write_store(store, "out/train.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import orjson

from amzn_nova_forge.core import storage
from amzn_nova_forge.dataset._store import CHUNK_BYTES, Store

__all__ = ["copy_file", "write_store"]


def write_store(store: Store, save_path: str, *, copy: Callable[[Any, Any], None] | None = None) -> None:
    """Write ``store`` to ``save_path`` (its extension, ``.jsonl`` or ``.json``, picks the layout).

    ``copy`` replaces :func:`copy_file` for the local ``.jsonl`` byte copy.
    """
    jsonl = save_path.lower().endswith(".jsonl")
    if jsonl and storage.is_s3(save_path):
        storage.upload(store.path, save_path)
        return
    with storage.open_write(save_path) as dst, open(store.path, "rb") as src:
        if jsonl:
            (copy or copy_file)(src, dst)
        elif store.count == 1:
            for parts, _src, _base in store.batches():
                dst.write(orjson.dumps(orjson.loads(parts[0]), option=orjson.OPT_INDENT_2) + b"\n")
        else:
            _write_json_array(store, dst)


def copy_file(src: Any, dst: Any) -> None:
    """Copy file to file: in the kernel when both are OS files and ``os.sendfile`` exists."""
    sendfile = getattr(os, "sendfile", None)
    try:
        dst.flush()
        out_fd, in_fd = dst.fileno(), src.fileno()
    except (AttributeError, OSError, ValueError):
        sendfile = None
    if sendfile is None:
        shutil.copyfileobj(src, dst, CHUNK_BYTES)
        return
    size = os.fstat(in_fd).st_size
    offset = 0
    try:
        while offset < size:
            sent = sendfile(out_fd, in_fd, offset, min(size - offset, 1 << 30))
            if sent == 0:
                break
            offset += sent
    except OSError:
        if offset:
            raise
        shutil.copyfileobj(src, dst, CHUNK_BYTES)


def _write_json_array(store: Store, dst: Any) -> None:
    dst.write(b"[")
    first = True
    for parts, _src, _base in store.batches():
        dst.write((b"\n" if first else b",\n") + b",\n".join(parts))
        first = False
    dst.write(b"\n]\n")
