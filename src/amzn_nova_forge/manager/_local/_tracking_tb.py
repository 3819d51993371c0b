"""A dependency-free writer of TensorBoard scalar event files (``events.out.tfevents.*``).

TensorBoard reads TFRecord files of ``Event`` protocol buffers. Scalars need only three
messages, encoded here by hand (field numbers from ``tensorboard/compat/proto/event.proto``
and ``summary.proto``)::

    Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
    Summary { repeated Value value = 1; }
    Value   { string tag = 1; float simple_value = 2; }

Each record is ``uint64 length, uint32 masked_crc32c(length), data, uint32 masked_crc32c(data)``,
little-endian. Writing them this way avoids installing ``tensorboard`` (and its protobuf and
grpc stack) into training environments; ``tensorboard --logdir <job folder>`` reads them.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

__all__ = ["EventWriter", "crc32c", "read_records"]


def _table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``.

    Example:
        >>> hex(crc32c(b"123456789"))
        '0xe3069283'
    """
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 two's complement, as protobuf encodes negative numbers
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint((number << 3) | wire)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _field(number, 2) + _varint(len(payload)) + payload


def _event(step: int, *, file_version: str | None = None, scalars: Mapping[str, float] | None = None) -> bytes:
    out = _field(1, 1) + struct.pack("<d", time.time()) + _field(2, 0) + _varint(step)
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if scalars:
        values = b"".join(
            _bytes_field(1, _bytes_field(1, tag.encode()) + _field(2, 5) + struct.pack("<f", value))
            for tag, value in scalars.items()
        )
        out += _bytes_field(5, values)
    return out


class EventWriter:
    """Appends scalar events to one ``events.out.tfevents.<time>.<host>`` file in ``folder``.

    Example:
        >>> w = EventWriter("/tmp/job/tensorboard")  # doctest: +SKIP
        >>> w.scalars({"train/loss": 2.5}, step=0); w.close()  # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        self._file: BinaryIO | None = None

    def _open(self) -> BinaryIO:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - kept open across steps, closed in close()
            self._write(_event(0, file_version="brain.Event:2"))
        return self._file

    def _write(self, data: bytes) -> None:
        assert self._file is not None
        header = struct.pack("<Q", len(data))
        self._file.write(header + struct.pack("<I", _masked(header)) + data + struct.pack("<I", _masked(data)))

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Write one event holding ``values`` (tag -> value) at ``step`` and flush it."""
        if not values:
            return
        self._open()
        self._write(_event(step, scalars=values))
        assert self._file is not None
        self._file.flush()

    def close(self) -> None:
        """Close the file (a later :meth:`scalars` reopens it)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read_records(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The records of a TFRecord file, CRCs checked (for tests and tooling).

    Raises:
        ValueError: A record is truncated or fails its CRC.
    """
    with open(path, "rb") as f:
        while header := f.read(8):
            if len(header) != 8 or struct.unpack("<I", f.read(4))[0] != _masked(header):
                raise ValueError(f"{path}: corrupt record header")
            data = f.read(struct.unpack("<Q", header)[0])
            if struct.unpack("<I", f.read(4))[0] != _masked(data):
                raise ValueError(f"{path}: record fails its CRC")
            yield data
