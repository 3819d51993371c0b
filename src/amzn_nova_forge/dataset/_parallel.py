"""The first pass over a large local JSONL file, spread over forked worker processes.

The parent only cuts the file into pieces of whole lines of about :data:`PIECE_BYTES`
(reading a small window at each cut to find the line end) and sends each worker the byte
range of its piece. A worker reads its piece (``pread``), runs the same per-chunk line
checks as :func:`._store.jsonl_batches` and the same per-record work as the serial pass
(:class:`._passes.Work`), and answers with its record count, line map, validator state
and output size. Taking the answers **in file order**, the parent tells each worker where
in the spill file its records go (every earlier piece's size is known by then), and the
worker writes them there (``pwrite``): the records never pass through the parent. The
line map and the validator states are merged in file order, so the spill file, its line
map and the validation report are exactly those of the serial pass
(tests/dataset/test_parallel_pass.py).

* **Errors are the serial pass's errors.** Anything unusual — a worker's exception (bad
  JSON, a record that cannot be transformed, a line over the size limit), a non-UTF-8
  head, a file with no records, a worker that dies — abandons the parallel pass
  (nothing written) and the caller runs the serial pass, which raises exactly what it
  always raises, with the same file, line and field.
* **Bounded memory.** Each worker holds one piece and its records at a time; the parent
  holds no records at all, whatever the row count. Forked workers first hand back the heap
  pages they inherited free (``malloc_trim``).
* **Only where it is safe and pays.** Linux ``fork`` only; at least two usable CPUs; a
  file of at least :data:`MIN_BYTES` (process start costs more than it saves below);
  pure transforms (no id counters, no image uploads) and a validator whose state can be
  merged (not ``check_media``, not RFT multiturn); on Python 3.12+ not in a
  multi-threaded process (``fork`` there may deadlock). Elsewhere the serial pass runs.
  ``NOVA_FORGE_DATAPREP_WORKERS`` sets the number of workers (``0`` or ``1``: serial).

Example:
    >>> store = parallel_pass(source_store, work, "Validating SFT")  # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import os
import pickle
import signal
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core._progress import progress
from amzn_nova_forge.dataset._jsonrules import deep_lines, scan_chunk
from amzn_nova_forge.dataset._store import CHUNK_BYTES, SourceStore, Store, StoreWriter, check_encoding, refuse
from amzn_nova_forge.errors import DataPrepError

if TYPE_CHECKING:
    from amzn_nova_forge.dataset._passes import Work

__all__ = ["MIN_BYTES", "PIECE_BYTES", "parallel_pass", "worker_count"]

#: Smallest file spread over workers. Measured on a 2-core machine (spec SFT pipeline):
#: at 10 MB (50k records) serial and two workers both take 0.18-0.21 s; from ~20 MB the
#: workers win (at 200 MB: 1.3 s against 3.2 s serial).
MIN_BYTES = 16 << 20
#: Size of the piece handed to a worker: small enough that a worker's buffers stay a few
#: MB (the tree's RSS is measured as a sum), large enough that the per-piece cost (two
#: small pipe messages, a few window reads) is negligible.
PIECE_BYTES = 1 << 19
#: Most workers started, whatever the CPU count.
MAX_WORKERS = 8
WORKERS_ENV = "NOVA_FORGE_DATAPREP_WORKERS"
_HEADER = struct.Struct("<Q")


class _Abandon(Exception):
    """The parallel pass stops; the serial pass takes over (and raises any error)."""


def worker_count(size: int) -> int:
    """How many workers a pass over a ``size``-byte file gets (``0``: run it serially).

    Cheap for small files: ``multiprocessing`` is imported only once the size qualifies.
    """
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env:
        try:
            wanted = int(env)
        except ValueError:
            raise DataPrepError(f"{WORKERS_ENV} must be a whole number of worker processes; got {env!r}") from None
    else:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        wanted = cpus if size >= MIN_BYTES else 0
    if wanted < 2 or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return 0
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if sys.version_info >= (3, 12) and threading.active_count() > 1:
        return 0  # pragma: no cover - fork in a threaded process may deadlock (and warns)
    return min(wanted, MAX_WORKERS)


def _piece(work: Work, data: bytes, crlf: bool, max_bytes: int) -> tuple[bytes | bytearray, tuple[Any, ...]]:
    """Do a piece of whole lines: ``(serialised records, (count, kept lines or None, line count, validator state))``.

    The per-chunk part of :func:`._store.jsonl_batches` — CR removal, length limit, blank
    lines, the JSON-rule scan — then :meth:`._passes.Work.batch`, with line numbers counted
    from the piece's first line. The JSON-rule scan is skipped when every record turned
    out flat (two string columns: nothing it could refuse). Raises where the serial pass
    would raise (the parent then abandons the parallel pass).
    """
    raw = data.split(b"\n")
    n = len(raw)
    parts = [p[:-1] if p.endswith(b"\r") else p for p in raw] if crlf else raw
    if len(data) > max_bytes and max(map(len, parts)) > max_bytes:
        raise _Abandon("a line over the record size limit")
    kept: list[int] | None = None
    smallest = min(parts)
    if not smallest or smallest[0] <= 0x20:
        keep = [k for k, p in enumerate(parts) if p and not p.isspace()]
        if len(keep) != n:
            parts = [parts[k] for k in keep]
            kept = [k + 1 for k in keep]
    validator = work.validator
    if validator is not None:
        validator.clear()
    work.flat = 0
    out = work.batch(parts, kept, 0) if parts else b""
    if work.flat < len(parts):
        for k in scan_chunk(data, len(data)):
            refuse(raw[k], "", k + 1)
        for k in deep_lines(raw):
            refuse(raw[k], "", k + 1)
    return out, (len(parts), kept, n, validator.state() if validator is not None else None)


def _trim() -> None:
    """Hand the heap pages the parent had freed (but kept) back to the system: a forked
    worker starts with the parent's resident pages, and the freed ones are of no use here."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (ImportError, OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _worker(work: Work, src_fd: int, out_fd: int, tasks: int, results: int, setup: tuple[Any, ...]) -> None:
    """Serve pieces until the task pipe closes (see :func:`_run` for the messages).

    A message ``(offset, task)`` first places the previous piece's records: they are
    written at ``offset`` of the spill file (``-1``: not at all); then ``task``, a
    ``(start, length)`` of the source, is read, done, and answered with
    ``(count, kept, lines, state, size)``, or ``None`` when it failed. ``inherited``
    (in ``setup``) are the parent's ends of the earlier workers' pipes, copied by
    ``fork``: closed here, so that closing a task pipe in the parent reaches its worker
    as EOF.
    """
    crlf, max_bytes, inherited = setup
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it stops the workers)
    for fd in inherited:
        os.close(fd)
    _trim()
    out: bytes | bytearray = b""
    while True:
        try:
            offset, task = pickle.loads(_recv(tasks))
        except EOFError:
            break
        if offset >= 0:
            try:
                _pwrite(out_fd, out, offset)
            except OSError:  # a full disk: the parent sees the exit status, the serial pass the error
                os._exit(1)
        out = b""
        if task is None:
            continue
        try:
            data = os.pread(src_fd, task[1], task[0])
            if len(data) != task[1]:
                raise _Abandon("the file changed during the pass")
            out, meta = _piece(work, data, crlf, max_bytes)
            reply: Any = (*meta, len(out))
        except Exception:  # the serial pass reports it
            reply = None
        _send(results, pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))


def _pwrite(fd: int, data: bytes | bytearray, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _send(fd: int, data: bytes | bytearray) -> None:
    """Write one message: its length (8 bytes) then the data, without copying the data."""
    bufs: list[Any] = [_HEADER.pack(len(data)), memoryview(data)]
    while bufs:
        sent = os.writev(fd, bufs)
        while bufs and sent >= len(bufs[0]):
            sent -= len(bufs[0])
            bufs.pop(0)
        if bufs and sent:
            bufs[0] = bufs[0][sent:]


def _recv(fd: int) -> bytearray:
    """Read one message written by :func:`_send` straight into its buffer; ``EOFError`` at end of pipe."""
    return _read(fd, _HEADER.unpack(_read(fd, _HEADER.size))[0])


def _read(fd: int, size: int) -> bytearray:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = os.readv(fd, [view[got:]])
        if n == 0:
            raise EOFError
        got += n
    return buf


class _Pool:
    """Forked workers, each with a task pipe and a result pipe (raw file descriptors)."""

    def __init__(self, count: int, work: Work, src_fd: int, out_fd: int, crlf: bool, max_bytes: int) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.procs: list[Any] = []
        self.tasks: list[int] = []
        self.results: list[int] = []
        try:
            for _ in range(count):
                task_r, task_w = os.pipe()
                res_r, res_w = os.pipe()
                inherited = [*self.tasks, *self.results, task_w, res_r]
                self.tasks.append(task_w)
                self.results.append(res_r)
                setup = (crlf, max_bytes, inherited)
                proc = ctx.Process(target=_worker, args=(work, src_fd, out_fd, task_r, res_w, setup), daemon=True)
                try:
                    proc.start()
                finally:
                    os.close(task_r)
                    os.close(res_w)
                self.procs.append(proc)
        except BaseException:
            self.close(kill=True)
            raise

    def close(self, kill: bool = False) -> bool:
        """Stop the workers; True when every one exited cleanly (all its writes done)."""
        for fd in self.tasks:  # a closed task pipe stops its worker
            os.close(fd)
        self.tasks = []
        clean = True
        for proc in self.procs:
            if kill:
                proc.kill()
            proc.join(timeout=30)
            if proc.is_alive():  # pragma: no cover - a worker stuck after its last piece
                proc.kill()
                proc.join()
            clean = clean and proc.exitcode == 0
        for fd in self.results:
            os.close(fd)
        self.results = []
        return clean


def _spans(store: SourceStore, fd: int, update: Callable[[int], None]) -> Iterator[tuple[int, int]]:
    """``(start, length)`` of pieces of whole lines (without their last newline), in file order.

    Only a small window at each piece's end is read (to find the line end); the workers
    read the pieces themselves.
    """
    st = os.fstat(fd)
    if (st.st_size, st.st_mtime_ns) != store._stamp:
        raise _Abandon("the file changed after load()")
    size = st.st_size
    head = os.pread(fd, 4, 0)
    try:
        check_encoding(head, store.path)
    except DataPrepError:
        raise _Abandon("not UTF-8") from None
    pos = 3 if head.startswith(codecs.BOM_UTF8) else 0
    end_nl = size > 0 and os.pread(fd, 1, size - 1) == b"\n"
    while pos < size:
        end = pos + PIECE_BYTES
        if end >= size:  # the rest of the file (its final newline ends the last line)
            cut = size - 1 if end_nl else size
        else:
            cut = _last_newline(fd, pos, end)
            if cut < 0:  # a line longer than a piece: up to its end
                cut = _next_newline(fd, end, size, pos + store.max_bytes + 1)
        if cut - pos > store.max_bytes and _longest_line(fd, pos, cut) > store.max_bytes:
            raise _Abandon("a line over the record size limit")
        yield pos, cut - pos
        update(cut + 1 - pos)
        pos = cut + 1


_WINDOW = 1 << 16


def _last_newline(fd: int, start: int, end: int) -> int:
    """Offset of the last ``\\n`` in ``[start, end)``, or -1."""
    while end > start:
        lo = max(start, end - _WINDOW)
        k = os.pread(fd, end - lo, lo).rfind(b"\n")
        if k >= 0:
            return lo + k
        end = lo
    return -1


def _next_newline(fd: int, start: int, size: int, limit: int) -> int:
    """Offset of the first ``\\n`` at or after ``start`` (``size`` when none); past ``limit``: abandon."""
    while start < size:
        if start > limit:
            raise _Abandon("a line over the record size limit")
        block = os.pread(fd, min(_WINDOW, size - start), start)
        k = block.find(b"\n")
        if k >= 0:
            return start + k
        start += len(block)
    return size


def _longest_line(fd: int, start: int, end: int) -> int:
    """Length of the longest line in ``[start, end)`` (read in windows; only for huge pieces)."""
    longest, run = 0, 0
    while start < end:
        block = os.pread(fd, min(_WINDOW, end - start), start)
        lines = block.split(b"\n")
        if len(lines) == 1:
            run += len(block)
        else:
            longest = max(longest, run + len(lines[0]), *map(len, lines[1:-1]))
            run = len(lines[-1])
        start += len(block)
    return max(longest, run)


def _crlf(path: str) -> bool:
    """The CR flag :func:`._store.jsonl_batches` takes from its first read (without holding that read)."""
    with open(path, "rb") as f:
        left = CHUNK_BYTES
        while left > 0:
            block = f.read(min(left, 1 << 16))
            if not block:
                return False
            if b"\r" in block:
                return True
            left -= len(block)
    return False


def parallel_pass(store: SourceStore, work: Work, desc: str) -> Store | None:
    """Run ``work`` over ``store`` in worker processes; ``None`` when the serial pass must run instead.

    On ``None`` the validator may have been fed part of the records: the caller clears it.
    """
    if not all(getattr(fn, "pure", False) for fn in work.fns):
        return None
    if work.validator is not None and not work.validator.mergeable:
        return None
    count = worker_count(os.path.getsize(store.path))
    if count < 2:
        return None
    crlf = _crlf(store.path)
    _trim()  # smaller parent, and fewer pages for each worker to inherit
    writer = StoreWriter(store.source)
    src_fd = os.open(store.path, os.O_RDONLY)
    try:
        pool = _Pool(count, work, src_fd, writer.fileno(), crlf, store.max_bytes)
    except (OSError, AssertionError):  # no processes here (limits; a daemonic process)
        os.close(src_fd)
        writer.abort()
        return None
    ok = False
    try:
        with progress(os.path.getsize(store.path), desc, unit="B") as update:
            ok = _run(pool, _spans(store, src_fd, update), writer, work.validator)
    except _Abandon:
        ok = False
    except BaseException:
        pool.close(kill=True)
        writer.abort()
        raise
    finally:
        os.close(src_fd)
    ok = pool.close(kill=not ok) and ok
    if not ok or writer.count == 0:
        writer.abort()
        return None
    return writer.finish()


def _run(pool: _Pool, spans: Iterator[tuple[int, int]], writer: StoreWriter, validator: Any) -> bool:
    """Hand out pieces, account for the results in file order; ``False`` when a worker failed.

    The parent never touches the records: it tells each worker where in the spill file
    its last piece's records go (the sizes of all earlier pieces are known by then, since
    results are taken in file order) together with its next piece. The spill's line map
    is kept with ``write_blob(b"", count, lines)``.
    """
    try:
        return _hand_out(pool, spans, writer, validator)
    except (EOFError, OSError):  # a worker died (its pipe closed)
        return False


def _hand_out(pool: _Pool, spans: Iterator[tuple[int, int]], writer: StoreWriter, validator: Any) -> bool:
    busy: deque[int] = deque()
    for w in range(len(pool.procs)):
        task = next(spans, None)
        if task is None:
            break
        _send(pool.tasks[w], pickle.dumps((-1, task)))
        busy.append(w)
    lineno = 0  # source lines before the oldest piece in flight
    offset = 0  # spill bytes before it
    identity = True
    while busy:
        w = busy.popleft()
        meta = pickle.loads(_recv(pool.results[w]))
        if meta is None:
            return False
        count, kept, n, state, size = meta
        task = next(spans, None)
        _send(pool.tasks[w], pickle.dumps((offset, task)))
        if task is not None:
            busy.append(w)
        offset += size
        src: Sequence[int] | None
        if kept is not None:
            identity = False
            src = [lineno + k for k in kept]
        else:
            src = None if identity else range(lineno + 1, lineno + count + 1)
        writer.write_blob(b"", count, src)
        if validator is not None:
            validator.merge(state, lineno)
        lineno += n
    return True
