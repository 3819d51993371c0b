"""Where a loader's records live: a spill file of compact JSON lines, or the source file itself.

A loader never holds its records as Python objects. Every pass (transform, validate,
split, save) streams records in large chunks, as ``(lines, source_lines, base)``
batches: the raw JSON lines, their 1-based source line numbers (``None`` when record
``base + k`` came from line ``base + k + 1``) and the index of the batch's first record.

* :class:`SourceStore` — a local JSONL file read in place: ``load`` only checks its head,
  and the first pass parses every line (raising :class:`DataPrepError` with the line for a
  bad one) and writes a spill file. This saves a whole read-parse-write pass on the common
  ``load → transform → validate → save`` path. If the file changes after ``load`` the next
  pass refuses to read it.
* :class:`Store` — a spill file: one compact JSON object per line, ``\\n`` endings, no blank
  lines, deleted when the store is garbage collected. ``lines`` maps record index to source
  line (``None`` = identity); it costs 4 bytes per record and exists only for split subsets
  and sources with blank lines.

Memory therefore stays flat however many rows there are; what grows is disk.
"""

from __future__ import annotations

import codecs
import os
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from amzn_nova_forge.dataset._jsonrules import deep_lines, problem, scan_chunk
from amzn_nova_forge.errors import DataPrepError

__all__ = ["CHUNK_BYTES", "Batch", "SourceStore", "Store", "StoreWriter", "jsonl_batches"]

#: Read size of every streaming pass. Large enough that per-chunk overhead is negligible.
CHUNK_BYTES = 1 << 22

#: ``(raw lines, their source lines or None for identity, index of the first record)``
Batch = tuple[list[bytes], Sequence[int] | None, int]

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def check_encoding(head: bytes, path: str) -> None:
    """Reject UTF-16/32 files up front (their BOM or NUL bytes); datasets are UTF-8."""
    if head.startswith(_UTF16_BOMS) or (len(head) >= 2 and b"\x00" in head[:4]):
        raise DataPrepError(
            "the file is UTF-16/UTF-32 encoded; datasets must be UTF-8. Re-save it as UTF-8 "
            "(e.g. `iconv -f UTF-16 -t UTF-8 in > out`).",
            path=path,
            line=1,
        )


def too_long(path: str, line: int, size: int, max_bytes: int) -> DataPrepError:
    return DataPrepError(
        f"record is at least {size:,} bytes, over the {max_bytes:,}-byte limit. Check that the file has one "
        "JSON object per line, or raise the loader's max_record_bytes.",
        path=path,
        line=line,
    )


def short_path(jpath: str) -> str:
    """A JSON path short enough for a message (deep paths keep their head and tail)."""
    return jpath if len(jpath) <= 120 else f"{jpath[:60]}…{jpath[-50:]}"


def refuse(raw: bytes, path: str, line: int) -> None:
    """Raise the DataPrepError for a line that breaks the JSON rules (see :mod:`._jsonrules`)."""
    found = problem(raw)
    if found is not None:
        raise DataPrepError(found[1], path=path, line=line, field=short_path(found[0]))


def jsonl_batches(
    f: IO[bytes], path: str, max_bytes: int, progress: Callable[[int], None] | None = None, check: bool = True
) -> Iterator[Batch]:
    """Split a JSONL stream into batches of non-blank lines (CR, BOM and blank lines removed).

    Raises:
        DataPrepError: UTF-16/32 encoding, a line longer than ``max_bytes``, or a line that
            breaks the JSON rules orjson does not enforce (out-of-range integers, nesting
            deeper than :data:`._jsonrules.MAX_DEPTH`).
    """
    pending = b""
    lineno = 0  # lines consumed before this chunk
    base = 0  # records emitted before this chunk
    identity = True
    first = True
    crlf = False
    while True:
        data = f.read(CHUNK_BYTES)
        if not data:
            if pending:
                data, pending = pending, b""
                parts = [data]
            else:
                break
        else:
            if progress is not None:
                progress(len(data))
            if first:
                first = False
                check_encoding(data, path)
                if data.startswith(codecs.BOM_UTF8):
                    data = data[3:]
                crlf = b"\r" in data
            if pending:
                data = pending + data
            parts = data.split(b"\n")
            pending = parts.pop()
            if len(pending) > max_bytes:
                raise too_long(path, lineno + len(parts) + 1, len(pending), max_bytes)
        if not parts:
            continue
        if check:
            for k in scan_chunk(data, len(data) - len(pending)):
                refuse(parts[k], path, lineno + k + 1)
            for k in deep_lines(parts):
                refuse(parts[k], path, lineno + k + 1)
        if crlf:
            parts = [p[:-1] if p.endswith(b"\r") else p for p in parts]
        if len(data) > max_bytes:
            for k, p in enumerate(parts):
                if len(p) > max_bytes:
                    raise too_long(path, lineno + k + 1, len(p), max_bytes)
        n = len(parts)
        # whitespace sorts below every printable byte: if the smallest line starts with a
        # printable byte, no line is empty or starts with whitespace (one C-level pass)
        smallest = min(parts)
        if not smallest or smallest[0] <= 0x20:
            keep = [k for k, p in enumerate(parts) if p and not p.isspace()]
            if len(keep) != n:
                identity = False
                parts = [parts[k] for k in keep]
                src: Sequence[int] | None = [lineno + k + 1 for k in keep]
            else:
                src = None if identity else range(lineno + 1, lineno + n + 1)
        else:
            src = None if identity else range(lineno + 1, lineno + n + 1)
        if parts:
            yield parts, src, base
            base += len(parts)
        lineno += n


class Store:
    """An immutable spill file of records (see the module docstring).

    Attributes:
        path: Local path of the spill file.
        count: Number of records.
        source: Where the records came from (path or URI), for error messages.
        lines: Record index → source line map, or ``None`` for the identity map.
    """

    spill = True

    def __init__(self, path: str, count: int, source: str, lines: array[int] | None) -> None:
        self.path = path
        self.count: int | None = count
        self.source = source
        self.lines = lines
        self._finalizer = weakref.finalize(self, _unlink, path)

    def batches(self) -> Iterator[Batch]:
        """Yield the stored record lines in batches (one batch per read chunk)."""
        base = 0
        lines = self.lines
        with open(self.path, "rb") as f:
            pending = b""
            while True:
                data = f.read(CHUNK_BYTES)
                if not data:
                    break
                if pending:
                    data = pending + data
                parts = data.split(b"\n")
                pending = parts.pop()
                if parts:
                    yield parts, (lines[base : base + len(parts)] if lines is not None else None), base
                    base += len(parts)
            if pending:
                yield [pending], (lines[base : base + 1] if lines is not None else None), base


class SourceStore:
    """A local JSONL file used in place until the first pass (see the module docstring)."""

    spill = False
    lines = None
    count: int | None = None

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path = self.source = path
        self.max_bytes = max_bytes
        st = os.stat(path)
        self._stamp = (st.st_size, st.st_mtime_ns)

    def batches(self, progress: Callable[[int], None] | None = None, check: bool = True) -> Iterator[Batch]:
        """Batches of the file's lines; ``check=False`` skips the JSON-rule scan (head peeks only)."""
        st = os.stat(self.path)
        if (st.st_size, st.st_mtime_ns) != self._stamp:
            raise DataPrepError("the file changed after load(); call load() again", path=self.path)
        with open(self.path, "rb") as f:
            yield from jsonl_batches(f, self.path, self.max_bytes, progress, check)


class StoreWriter:
    """Append records to a new spill file, then :meth:`finish` into a :class:`Store`.

    Use as a context manager: on error the partial file is removed. Serialisers append
    ``orjson.dumps(rec) + b"\\n"`` to a ``bytearray`` and hand it over with
    :meth:`write_blob`, rather than keep bytes objects in a list: orjson over-allocates each
    result (about 4 KiB), so a list of 20k of them costs ~80 MB where the bytearray costs
    the data size.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        fd, self.path = tempfile.mkstemp(prefix="nova-forge-", suffix=".jsonl")
        self._f: IO[bytes] = os.fdopen(fd, "wb", buffering=CHUNK_BYTES)
        self.count = 0
        self._lines: array[int] | None = None
        self.store: Store | None = None

    def write_blob(self, blob: bytes | bytearray, count: int, source_lines: Sequence[int] | None = None) -> None:
        """Append ``count`` newline-terminated records held in ``blob``.

        ``source_lines`` gives each record's source line; ``None`` means the identity map
        (record ``i`` from line ``i + 1``), which the caller must only use while it holds.
        """
        if not count:
            return
        if source_lines is not None:
            if self._lines is None:
                first = self.count + 1
                if source_lines[0] != first or source_lines[-1] != first + count - 1:
                    self._lines = array("I", range(1, first))
            if self._lines is not None:
                self._lines.extend(source_lines)
        elif self._lines is not None:
            last = self._lines[-1] if self._lines else 0
            self._lines.extend(range(last + 1, last + 1 + count))
        self._f.write(blob)
        self.count += count

    def fileno(self) -> int:
        """The spill file's descriptor, for workers that place records themselves (``os.pwrite``);
        their records are then accounted with ``write_blob(b"", count, source_lines)``."""
        return self._f.fileno()

    def finish(self) -> Store:
        self._f.close()
        self.store = Store(self.path, self.count, self.source, self._lines)
        return self.store

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()
        _unlink(self.path)

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            if self.store is None:
                self.finish()
        else:
            self.abort()
