"""Records that are not JSON text (Python objects, DataFrames, Arrow batches) into a record store.

Every writer here applies the JSON rules of :mod:`._jsonrules` (NaN, infinities, integers
outside 64 bits, lone surrogates, deep nesting are refused with the record and JSON path),
so data reaches the store by the same contract whether it came from a file or from memory.

Example:
    >>> from amzn_nova_forge.dataset._store import StoreWriter
    >>> with StoreWriter("<records>") as w:
    ...     write_records(w, [{"q": "2+2?", "a": "4"}], "<records>")
    ...     w.count
    1
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from amzn_nova_forge.dataset._jsonrules import check_value
from amzn_nova_forge.dataset._store import CHUNK_BYTES, Store, StoreWriter, short_path
from amzn_nova_forge.errors import DataPrepError

__all__ = ["Renumber", "as_records", "json_default", "store_from", "write_arrow_batches", "write_records"]


def json_default(value: Any) -> Any:
    """Serialise the non-JSON scalars columnar sources hold: bytes (base64), dates (ISO), decimals (exact text)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if type(value).__name__ == "Decimal":
        return str(value)
    raise TypeError(f"a {type(value).__name__} is not a JSON value")


def _missing_cell(v: Any) -> bool:
    """pandas' missing markers: float NaN and ``NaT``."""
    return (type(v) is float and math.isnan(v)) or type(v).__name__ == "NaTType"


def _refuse(rec: Any, source: str, line: int, what: str = "record") -> DataPrepError:
    found = check_value(rec) or ("$", "value cannot be written as JSON")
    return DataPrepError(f"{what} {line}: {found[1]}", path=source, line=line, field=short_path(found[0]))


def write_records(
    writer: StoreWriter, records: Iterable[Any], source: str, *, missing_nan: bool = False, first_line: int = 1
) -> None:
    """Check and append mappings to ``writer`` (``line`` = position in ``records``, from ``first_line``).

    ``missing_nan=True`` (pandas frames only) turns float NaN into ``null``: pandas marks a
    missing cell with NaN, so there it means "no value", not a number.

    Raises:
        DataPrepError: A record is not a mapping or breaks a JSON rule (names record and path).
    """
    dumps = orjson.dumps
    buf, n, line = bytearray(), 0, first_line - 1
    for rec in records:
        line += 1
        if not isinstance(rec, Mapping):
            raise DataPrepError(f"record {line} is a {type(rec).__name__}, not a mapping", path=source, line=line)
        rec = rec if type(rec) is dict else dict(rec)
        if missing_nan:
            rec = {k: (None if _missing_cell(v) else v) for k, v in rec.items()}
        if check_value(rec) is not None:
            raise _refuse(rec, source, line)
        try:
            buf += dumps(rec, default=json_default)
        except TypeError:
            raise _refuse(rec, source, line) from None
        buf += b"\n"
        n += 1
        if len(buf) >= CHUNK_BYTES:
            writer.write_blob(buf, n)
            buf, n = bytearray(), 0
    writer.write_blob(buf, n)


def _has_nested_float(t: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_floating(t):
        return True
    if pa.types.is_struct(t):
        return any(_has_nested_float(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _has_nested_float(t.value_type)
    if pa.types.is_map(t):
        return _has_nested_float(t.item_type)
    return False


def write_arrow_batches(writer: StoreWriter, batches: Iterable[Any], source: str) -> int:
    """Append Arrow record batches (or tables) to ``writer``; returns the number of rows.

    Top-level float columns are checked column-wise for NaN/infinity (one vectorised pass);
    rows of tables with floats nested in lists or structs are checked one by one.

    Raises:
        DataPrepError: A NaN or infinite float (row and column named), or a value JSON cannot hold.
    """
    import pyarrow.compute as pc

    dumps = orjson.dumps
    row = 0
    for batch in batches:
        schema = batch.schema
        nested = False
        for i, field in enumerate(schema):
            t = field.type
            if t.__class__.__name__ == "DictionaryType":
                t = t.value_type
            if _is_float(t):
                col = batch.column(i)
                bad = pc.or_(pc.is_nan(col), pc.is_inf(col))
                if pc.any(bad).as_py():
                    k = pc.index(bad, True).as_py()
                    value = col[k].as_py()
                    raise DataPrepError(
                        f"row {row + k + 1}: {value} is not a JSON number; use null for a missing value",
                        path=source,
                        line=row + k + 1,
                        field=f"$.{field.name}",
                    )
            elif _has_nested_float(t):
                nested = True
        recs = batch.to_pylist()
        out = bytearray()
        for k, r in enumerate(recs):
            if nested and check_value(r) is not None:
                raise _refuse(r, source, row + k + 1, "row")
            try:
                out += dumps(r, default=json_default)
            except TypeError:
                raise _refuse(r, source, row + k + 1, "row") from None
            out += b"\n"
        writer.write_blob(out, len(recs), range(row + 1, row + len(recs) + 1))
        row += len(recs)
    return row


def _is_float(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_floating(t))


def as_records(data: Any) -> tuple[Iterator[Any] | None, Iterator[Any] | None, bool]:
    """Classify what ``from_records`` was given: ``(python records, arrow batches, pandas?)``.

    A pandas ``DataFrame`` gives its rows (NaN = missing), a Hugging Face ``datasets.Dataset``
    its Arrow batches, an ``IterableDataset`` or any other iterable its items. Neither pandas
    nor ``datasets`` is imported: the object is recognised by its type's module.
    """
    mod = type(data).__module__ or ""
    name = type(data).__name__
    if mod.startswith("pandas") and name == "DataFrame":
        return _frame_rows(data), None, True
    if mod.startswith("datasets") and name == "Dataset":
        return None, _hf_batches(data), False
    if mod.startswith("pyarrow") and name in ("Table", "RecordBatch"):
        return None, iter([data]), False
    return iter(data), None, False


def _frame_rows(frame: Any, step: int = 10000) -> Iterator[Any]:
    cols = [str(c) for c in frame.columns]
    if len(set(cols)) != len(cols):
        raise DataPrepError(
            f"the DataFrame has duplicate column names: {sorted({c for c in cols if cols.count(c) > 1})}"
        )
    for start in range(0, len(frame), step):
        yield from frame.iloc[start : start + step].to_dict("records")


def _hf_batches(ds: Any, step: int = 10000) -> Iterator[Any]:
    arrow = ds.with_format("arrow")
    for start in range(0, len(ds), step):
        yield arrow[start : start + step]


class Renumber:
    """A StoreWriter view that numbers records across several files (drops per-file line maps)."""

    def __init__(self, writer: StoreWriter) -> None:
        self._w = writer
        self.count = 0

    def write_blob(self, blob: bytes | bytearray, count: int, source_lines: object = None) -> None:
        self._w.write_blob(blob, count)
        self.count += count


def store_from(records: Any, source: str) -> Store:
    rows, batches, frame = as_records(records)
    with StoreWriter(source) as w:
        if batches is not None:
            write_arrow_batches(w, batches, source)
        else:
            write_records(w, rows or iter(()), source, missing_nan=frame)
        return w.finish()
