"""Arrow sources: IPC file/stream and Feather files, and Hugging Face ``save_to_disk`` folders.

An Arrow file is tried as the IPC *file* format (Feather v2 is the same) and then as the IPC
*stream* format (what ``datasets.Dataset.save_to_disk`` writes); Feather v1 goes through
``pyarrow.feather``. Batches are streamed to the record store one at a time (see
:func:`._records.write_arrow_batches`), memory-mapped when the file is local.

A ``save_to_disk`` folder (it holds ``state.json``) is read in the order its ``_data_files``
list gives; a ``DatasetDict`` folder (``dataset_dict.json``) needs one split's sub-folder.

Example:
    >>> from amzn_nova_forge.dataset import ArrowDatasetLoader
    >>> ArrowDatasetLoader(question="q", answer="a").load("data/train.arrow")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from amzn_nova_forge.dataset._paths import local_copy
from amzn_nova_forge.dataset._records import write_arrow_batches
from amzn_nova_forge.dataset._store import StoreWriter
from amzn_nova_forge.errors import DataPrepError, MissingDependencyError

__all__ = ["ARROW_EXTENSIONS", "hf_folder_files", "read_arrow"]

ARROW_EXTENSIONS = (".arrow", ".feather", ".ipc")


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
    except ImportError as e:  # pragma: no cover - pyarrow is in the dev env
        raise MissingDependencyError(
            "Reading Arrow needs 'pyarrow'. Install it with: pip install 'amzn-nova-forge[parquet]'",
            extra="parquet",
        ) from e
    return pa


def _batches(local: str, path: str) -> Iterator[Any]:
    pa = _pyarrow()
    try:
        source = pa.memory_map(local, "r")
    except OSError as e:
        raise DataPrepError(f"cannot open the Arrow file: {e}", path=path) from e
    with source:
        try:
            reader: Any = pa.ipc.open_file(source)
        except pa.ArrowInvalid:
            source.seek(0)
            try:
                reader = pa.ipc.open_stream(source)
            except pa.ArrowInvalid:
                reader = None
        if reader is None:
            yield from _feather_v1(local, path)
            return
        try:
            if isinstance(reader, pa.ipc.RecordBatchFileReader):
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i)
            else:
                yield from reader
        except (pa.ArrowInvalid, OSError) as e:
            raise DataPrepError(f"the Arrow file is truncated or corrupt: {e}", path=path) from e


def _feather_v1(local: str, path: str) -> Iterator[Any]:
    pa = _pyarrow()
    import pyarrow.feather as feather

    try:
        table = feather.read_table(local, memory_map=True)
    except (pa.ArrowInvalid, OSError) as e:
        raise DataPrepError(
            "not an Arrow IPC (file or stream) or Feather file; for Parquet use ParquetDatasetLoader",
            path=path,
        ) from e
    yield from table.to_batches(max_chunksize=10000)


def read_arrow(path: str, writer: StoreWriter, max_bytes: int, progress: Any = None) -> None:
    """Stream one Arrow IPC/Feather file (local or ``s3://``) into ``writer``."""
    with local_copy(path) as local:
        rows = write_arrow_batches(writer, _batches(local, path), path)
    if progress is not None:
        progress(rows)


def hf_folder_files(folder: str) -> list[str] | None:
    """The Arrow files of a local ``save_to_disk`` folder in order, or ``None`` if it is not one.

    Raises:
        DataPrepError: A ``DatasetDict`` folder (pick a split), or a damaged ``state.json``.
    """
    if os.path.isfile(os.path.join(folder, "dataset_dict.json")):
        try:
            with open(os.path.join(folder, "dataset_dict.json"), encoding="utf-8") as f:
                splits = json.load(f).get("splits", [])
        except (OSError, ValueError, AttributeError):
            splits = []
        raise DataPrepError(
            f"this is a DatasetDict folder; load one split's sub-folder (splits: {', '.join(map(str, splits))})",
            path=folder,
        )
    state = os.path.join(folder, "state.json")
    if not os.path.isfile(state):
        return None
    try:
        with open(state, encoding="utf-8") as f:
            files = [d["filename"] for d in json.load(f)["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataPrepError(f"state.json of the save_to_disk folder is unreadable: {e}", path=state) from e
    out = []
    for name in files:
        full = os.path.normpath(os.path.join(folder, str(name)))
        if os.path.dirname(full) != os.path.normpath(folder):
            raise DataPrepError(f"state.json names a file outside the folder: {name!r}", path=state)
        if not os.path.isfile(full):
            raise DataPrepError(f"state.json names {name!r}, which is missing", path=state)
        out.append(full)
    if not out:
        raise DataPrepError("the save_to_disk folder holds no data files", path=folder)
    return out
