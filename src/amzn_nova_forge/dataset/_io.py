"""Readers: JSONL, JSON, CSV and Parquet sources (local or ``s3://``) into a record store.

Each reader parses every record once, rejects malformed input with a
:class:`~amzn_nova_forge.errors.DataPrepError` naming the file and line, and streams
compact JSON lines into a :class:`~amzn_nova_forge.dataset._store.StoreWriter`. Nothing
is held in memory beyond one read chunk (JSONL, CSV, Parquet batch) or one JSON element.

Local JSONL files are not copied at load: :func:`open_local_jsonl` checks their head and
the loader's first pass parses them in place (see :class:`._store.SourceStore`).

Local paths never create an AWS client; S3 objects are streamed (JSONL) or downloaded
to a temporary file first (CSV, JSON, Parquet) through :mod:`amzn_nova_forge.core.storage`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import os
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from amzn_nova_forge.core import storage
from amzn_nova_forge.dataset._jsonrules import MAX_DEPTH, check_value, problem, strict_decoder
from amzn_nova_forge.dataset._paths import local_copy  # defined in ._paths (below ._arrow); importable here as before
from amzn_nova_forge.dataset._store import (
    CHUNK_BYTES,
    SourceStore,
    Store,
    StoreWriter,
    check_encoding,
    jsonl_batches,
    short_path,
    too_long,
)
from amzn_nova_forge.errors import AWSServiceError, DataPrepError, MissingDependencyError

__all__ = ["DEFAULT_MAX_RECORD_BYTES", "read_csv", "read_json", "read_jsonl", "read_parquet"]

#: Default cap on one record (one JSONL line, CSV row or JSON element): 32 MiB. A longer
#: line is almost always a file without line breaks or a wrong format, and Nova's own
#: limits (32k-token context, media by S3 reference) stay far below it.
DEFAULT_MAX_RECORD_BYTES = 32 << 20

Progress = Callable[[int], None]


@contextlib.contextmanager
def _open_source(path: str) -> Iterator[IO[bytes]]:
    """Open a local file or S3 object for streaming; errors become DataPrepError."""
    try:
        if not storage.is_s3(path) and os.path.isdir(path):
            raise DataPrepError("is a directory; pass the path of one data file", path=path)
        f = storage.open_read(path)
    except FileNotFoundError as e:
        raise DataPrepError(f"file not found ({e.strerror or e})", path=path) from e
    except PermissionError as e:
        raise DataPrepError("permission denied reading the file", path=path) from e
    except AWSServiceError as e:
        raise DataPrepError(f"could not read from S3: {e}", path=path) from e
    try:
        yield f
    finally:
        f.close()


def bad_json(e: Exception, raw: bytes, path: str, line: int) -> DataPrepError:
    """The DataPrepError for a JSONL line that orjson could not parse (JSON path when known)."""
    found = problem(raw)
    if found is not None:
        return DataPrepError(found[1], path=path, line=line, field=short_path(found[0]))
    msg = str(e)
    if "UTF-8" in msg or "utf-8" in msg:
        return DataPrepError(
            "line is not valid UTF-8 text; datasets must be UTF-8 encoded (re-save the file as UTF-8)",
            path=path,
            line=line,
        )
    snippet = raw[:80].decode("utf-8", "replace")
    return DataPrepError(
        f"line is not valid JSON ({msg}): {snippet!r}{'…' if len(raw) > 80 else ''}", path=path, line=line
    )


def not_object(value: Any, path: str, line: int) -> DataPrepError:
    return DataPrepError(f"expected a JSON object per line, got {type(value).__name__}", path=path, line=line)


def read_jsonl(path: str, writer: StoreWriter, max_bytes: int, progress: Progress | None = None) -> None:
    """Stream a JSONL file (used for S3; local files are read in place, see SourceStore)."""
    loads = orjson.loads
    with _open_source(path) as f:
        for parts, src, base in jsonl_batches(f, path, max_bytes, progress):
            for k, raw in enumerate(parts):
                try:
                    obj = loads(raw)
                except orjson.JSONDecodeError as e:
                    raise bad_json(e, raw, path, src[k] if src is not None else base + k + 1) from None
                if type(obj) is not dict:
                    raise not_object(obj, path, src[k] if src is not None else base + k + 1)
            writer.write_blob(b"\n".join(parts) + b"\n", len(parts), src)


def read_json(path: str, writer: StoreWriter, max_bytes: int, progress: Progress | None = None) -> None:
    """Stream a JSON file: a top-level array of objects (one record each) or one object.

    Elements are decoded one at a time (``json.JSONDecoder.raw_decode`` over a sliding
    text buffer), so a large array never sits in memory as a whole.
    """
    dumps = orjson.dumps
    with local_copy(path) as local, open(local, "rb") as f:
        head = f.read(4)
        check_encoding(head, path)
        f.seek(0)
        reader = _JSONElements(f, path, max_bytes, progress)
        buf, lines = bytearray(), []
        for elem, line in reader:
            if type(elem) is not dict:
                found = check_value(elem)
                if found is not None:
                    raise DataPrepError(found[1], path=path, line=line, field=short_path(found[0]))
                raise DataPrepError(
                    f"expected JSON objects, got {type(elem).__name__} "
                    "(a JSON file holds one object or an array of objects)",
                    path=path,
                    line=line,
                )
            try:
                buf += dumps(elem)
            except TypeError:
                found = check_value(elem) or ("$", "value cannot be written as JSON")
                raise DataPrepError(found[1], path=path, line=line, field=short_path(found[0])) from None
            buf += b"\n"
            lines.append(line)
            if len(buf) >= CHUNK_BYTES:
                writer.write_blob(buf, len(lines), lines)
                buf, lines = bytearray(), []
        writer.write_blob(buf, len(lines), lines)
    if writer.count == 0:
        raise DataPrepError("the JSON file holds no records", path=path)


class _JSONElements:
    """Iterate ``(element, line)`` over a JSON array (or a single top-level object)."""

    def __init__(self, f: IO[bytes], path: str, max_bytes: int, progress: Progress | None) -> None:
        self.f = f
        self.path = path
        self.max_bytes = max_bytes
        self.progress = progress
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.dec = strict_decoder()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line number at self.pos
        self.read_size = 1 << 20

    def _more(self, size: int | None = None) -> bool:
        if self.eof:
            return False
        data = self.f.read(size or self.read_size)
        if self.progress is not None and data:
            self.progress(len(data))
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as e:
            raise DataPrepError(
                f"is not valid UTF-8 text near line {self.line + self.buf.count(chr(10), self.pos)} ({e.reason}); "
                "datasets must be UTF-8 encoded",
                path=self.path,
                line=self.line,
            ) from None
        if not data:
            self.eof = True
        # drop consumed text, keeping line accounting in self.line
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return True

    def _skip_ws(self) -> str:
        while True:
            buf, pos = self.buf, self.pos
            n = len(buf)
            while pos < n and buf[pos] in " \t\r\n":
                if buf[pos] == "\n":
                    self.line += 1
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self._more():
                return ""

    def _decode_value(self) -> Any:
        while True:
            try:
                value, end = self.dec.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise DataPrepError(
                    f"nesting is deeper than {MAX_DEPTH} levels", path=self.path, line=self.line, field="$"
                ) from None
            except json.JSONDecodeError as e:
                pending = len(self.buf) - self.pos
                if not self.eof and pending <= self.max_bytes:
                    # the element continues past the buffer: read at least as much again, so a
                    # large element is re-scanned O(log size) times, not once per chunk
                    self._more(max(self.read_size, pending))
                    continue
                if len(self.buf) - self.pos > self.max_bytes:
                    raise too_long(self.path, self.line, len(self.buf) - self.pos, self.max_bytes) from None
                line = self.line + self.buf.count("\n", self.pos, e.pos)
                raise DataPrepError(f"is not valid JSON: {e.msg}", path=self.path, line=line) from None
            if end >= len(self.buf) and not self.eof:
                # a number may continue in the next chunk: make sure we saw its end
                self._more()
                continue
            size = end - self.pos
            if size * 4 > self.max_bytes:
                size = len(self.buf[self.pos : end].encode("utf-8", "surrogatepass"))
                if size > self.max_bytes:
                    raise too_long(self.path, self.line, size, self.max_bytes)
            if self.buf.count("{", self.pos, end) + self.buf.count("[", self.pos, end) > MAX_DEPTH:
                found = check_value(value)
                if found is not None:
                    raise DataPrepError(found[1], path=self.path, line=self.line, field=short_path(found[0]))
            self.line += self.buf.count("\n", self.pos, end)
            self.pos = end
            return value

    def __iter__(self) -> Iterator[tuple[Any, int]]:
        c = self._skip_ws()
        if c == "":
            raise DataPrepError("the file is empty", path=self.path)
        if c == "{":
            line = self.line
            yield self._decode_value(), line
            if self._skip_ws() != "":
                raise DataPrepError("unexpected data after the top-level JSON object", path=self.path, line=self.line)
            return
        if c != "[":
            raise DataPrepError(
                "a JSON dataset must be an array of objects or one object; for one object per line use "
                "JSONLDatasetLoader",
                path=self.path,
                line=self.line,
            )
        self.pos += 1
        if self._skip_ws() == "]":
            self.pos += 1
            return
        while True:
            line = self.line
            yield self._decode_value(), line
            c = self._skip_ws()
            if c == ",":
                self.pos += 1
                self._skip_ws()
                continue
            if c == "]":
                self.pos += 1
                break
            raise DataPrepError("expected ',' or ']' between array elements", path=self.path, line=self.line)
        if self._skip_ws() != "":
            raise DataPrepError("unexpected data after the top-level JSON array", path=self.path, line=self.line)


def read_csv(path: str, writer: StoreWriter, max_bytes: int, progress: Progress | None = None) -> None:
    """Stream a CSV file with a header row; every value is a string."""
    dumps = orjson.dumps
    csv.field_size_limit(max(max_bytes, 131072))
    with local_copy(path) as local, open(local, "rb") as f:
        check_encoding(f.read(4), path)
        f.seek(0)
        state = {"line": 0}

        def text_lines() -> Iterator[str]:
            for raw in f:
                state["line"] += 1
                if progress is not None:
                    progress(len(raw))
                if len(raw) > max_bytes:
                    raise too_long(path, state["line"], len(raw), max_bytes)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataPrepError(
                        f"is not valid UTF-8 text ({e.reason} at byte {e.start}); datasets must be UTF-8 encoded",
                        path=path,
                        line=state["line"],
                    ) from None
                if state["line"] == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                yield text

        reader = csv.reader(text_lines())
        try:
            header = next(reader, None)
            while header is not None and not header:
                header = next(reader, None)
            if header is None:
                raise DataPrepError("the file is empty (no header row)", path=path)
            header = [h.strip() for h in header]
            dupes = sorted({h for h in header if header.count(h) > 1})
            if dupes:
                raise DataPrepError(f"duplicate column names in the header: {dupes}", path=path, line=1)
            ncol = len(header)
            buf = bytearray()
            lines: list[int] = []
            for row in reader:
                if not row:
                    continue
                if len(row) != ncol:
                    raise DataPrepError(
                        f"row has {len(row)} fields but the header has {ncol} ({', '.join(header)}); "
                        "check for unquoted commas or missing fields",
                        path=path,
                        line=reader.line_num,
                    )
                buf += dumps(dict(zip(header, row, strict=True)))
                buf += b"\n"
                lines.append(reader.line_num)
                if len(buf) >= CHUNK_BYTES:
                    writer.write_blob(buf, len(lines), lines)
                    buf, lines = bytearray(), []
            writer.write_blob(buf, len(lines), lines)
        except csv.Error as e:
            raise DataPrepError(f"malformed CSV: {e}", path=path, line=state["line"]) from None


def read_parquet(path: str, writer: StoreWriter, max_bytes: int, progress: Progress | None = None) -> None:
    """Stream a Parquet file batch by batch (needs ``pyarrow``: ``pip install 'amzn-nova-forge[parquet]'``).

    NaN and infinite floats are refused like in JSON (see :mod:`._jsonrules`).
    """
    try:
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover - pyarrow is in the dev env
        raise MissingDependencyError(
            "Reading Parquet needs 'pyarrow'. Install it with: pip install 'amzn-nova-forge[parquet]'",
            extra="parquet",
        ) from e
    from amzn_nova_forge.dataset._records import write_arrow_batches

    with local_copy(path) as local:
        try:
            pf = pq.ParquetFile(local)
        except Exception as e:  # pyarrow raises ArrowInvalid/OSError subclasses
            raise DataPrepError(f"not a readable Parquet file: {e}", path=path) from e
        rows = write_arrow_batches(writer, pf.iter_batches(batch_size=10000), path)
    if progress is not None:
        progress(rows)


def read_arrow(path: str, writer: StoreWriter, max_bytes: int, progress: Progress | None = None) -> None:
    """Stream an Arrow IPC/Feather file (see :mod:`._arrow`)."""
    from amzn_nova_forge.dataset._arrow import read_arrow as read

    read(path, writer, max_bytes, progress)


READERS: dict[str, Callable[[str, StoreWriter, int, Progress | None], None]] = {
    "jsonl": read_jsonl,
    "json": read_json,
    "csv": read_csv,
    "parquet": read_parquet,
    "arrow": read_arrow,
}


def open_local_jsonl(path: str, max_bytes: int) -> SourceStore:
    """Check a local JSONL file's head (exists, UTF-8, first record is a JSON object) and wrap it.

    The rest of the file is parsed during the loader's first pass.
    """
    if not os.path.exists(path):
        raise DataPrepError("file not found", path=path)
    if os.path.isdir(path):
        raise DataPrepError("is a directory; pass the path of one data file", path=path)
    try:
        store = SourceStore(path, max_bytes)
        for parts, src, base in store.batches(check=False):  # the first pass checks every line
            line = src[0] if src is not None else base + 1
            try:
                first = orjson.loads(parts[0])
            except orjson.JSONDecodeError as e:
                raise bad_json(e, parts[0], path, line) from None
            if type(first) is not dict:
                raise not_object(first, path, line)
            return store
    except PermissionError as e:
        raise DataPrepError("permission denied reading the file", path=path) from e
    raise DataPrepError("the file holds no records (it is empty or only blank lines)", path=path)


def load_store(kind: str, path: str, max_bytes: int, progress: Progress | None = None) -> Store:
    """Read ``path`` with the ``kind`` reader into a new :class:`Store`."""
    with StoreWriter(path) as w:
        READERS[kind](path, w, max_bytes, progress)
        store = w.finish()
    if store.count == 0:
        raise DataPrepError("the file holds no records (it is empty or only blank lines)", path=path)
    return store
