"""Dataset loaders: load, show, split, transform, validate and save Nova datasets.

A loader streams. ``load`` parses each record once into a spill file (see
:mod:`._store`); ``transform`` is queued and applied record by record during the next pass
(``validate``, ``save_data``, ``split_data``, ``show``), which also writes the
transformed records back, so ``load → transform → validate → save_data`` reads the data
twice and never holds it in memory. Errors name the file, the line and the JSON path.

Local files never touch AWS; ``s3://`` paths go through :mod:`amzn_nova_forge.core.storage`.

Example:
    >>> from amzn_nova_forge.dataset import JSONLDatasetLoader
    >>> from amzn_nova_forge.model import Model, TrainingMethod
    >>> loader = JSONLDatasetLoader(question="input", answer="output")  # doctest: +SKIP
    >>> loader.load("data.jsonl").transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)  # doctest: +SKIP
    >>> loader.validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)  # doctest: +SKIP
    >>> loader.save_data("prepared.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
from abc import ABC
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import orjson

from amzn_nova_forge.core import storage
from amzn_nova_forge.core._progress import progress
from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.dataset import _io
from amzn_nova_forge.dataset._curation._mixin import CurationMixin
from amzn_nova_forge.dataset._store import CHUNK_BYTES, SourceStore, Store, StoreWriter
from amzn_nova_forge.dataset._transforms import Transform, build_transform, check_mapped_columns
from amzn_nova_forge.dataset._validate import ValidationReport, Validator, resolve
from amzn_nova_forge.errors import AWSServiceError, ConfigError, DataPrepError, DatasetValidationError

__all__ = ["CSVDatasetLoader", "DatasetLoader", "JSONDatasetLoader", "JSONLDatasetLoader", "ParquetDatasetLoader"]

logger = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"^[\w\-/.]+$", re.ASCII)


class DatasetLoader(CurationMixin, ABC):
    """Base class of every dataset loader.

    Args:
        **column_mappings: Standard field name → your column name, e.g.
            ``question="input", answer="output"``. Standard names: SFT ``question``,
            ``answer`` (+ ``system``, ``image_format``/``video_format``, ``s3_uri``,
            ``bucket_owner``, Nova 2 ``reasoning_text``); RFT ``question``,
            ``reference_answer`` (+ ``system``, ``id``; any other name is copied as a
            top-level field); evaluation ``query``, ``response`` (+ ``system``, ``images``,
            ``metadata``); CPT ``text``. A standard field with no mapping is read from
            the column of the same name.

    Attributes:
        column_mappings: The mappings given.
        path: The path or URI last loaded.
        max_record_bytes: Longest accepted record (line); longer ones raise DataPrepError.

    Example:
        >>> from amzn_nova_forge.dataset import JSONDatasetLoader
        >>> loader = JSONDatasetLoader(question="input", answer="output")
        >>> loader.column_mappings
        {'question': 'input', 'answer': 'output'}
    """

    _format: ClassVar[str] = "jsonl"
    max_record_bytes: int = _io.DEFAULT_MAX_RECORD_BYTES

    def __init__(self, **column_mappings: str) -> None:
        if type(self) is DatasetLoader:
            raise TypeError(
                "DatasetLoader is abstract: use JSONLDatasetLoader, JSONDatasetLoader, CSVDatasetLoader "
                "or ParquetDatasetLoader."
            )
        bad = {k: v for k, v in column_mappings.items() if not isinstance(v, str)}
        if bad:
            raise ConfigError(f"Column mappings map a standard name to your column name (a string); got {bad}.")
        self.column_mappings: dict[str, str] = dict(column_mappings)
        self.path: str | None = None
        self._store: Store | SourceStore | None = None
        self._pending: list[tuple[str, Transform]] = []

    # ------------------------------------------------------------------ loading
    def load(self, path: str) -> DatasetLoader:
        """Load a dataset file (local path or ``s3://`` URI); returns ``self`` for chaining.

        Raises:
            DataPrepError: The file is missing, empty, not UTF-8, or a record is malformed
                (the message names the file and line).

        Example:
            >>> loader = JSONLDatasetLoader().load("data/training.jsonl")  # doctest: +SKIP
        """
        path = os.fspath(path)
        store: Store | SourceStore
        if self._format == "jsonl" and not storage.is_s3(path):
            store = _io.open_local_jsonl(path, self.max_record_bytes)
        else:
            size = None if storage.is_s3(path) or not os.path.isfile(path) else os.path.getsize(path)
            with progress(size, f"Loading {os.path.basename(path)}", unit="B") as update:
                store = _io.load_store(self._format, path, self.max_record_bytes, update)
            logger.info("Loaded %d records from %s", store.count, path)
        self._store, self.path, self._pending = store, path, []
        self.__dict__.pop("_curation_queue", None)
        return self

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], **column_mappings: str) -> DatasetLoader:
        """Build a loader from in-memory records (streamed straight to the spill file).

        Example:
            >>> loader = JSONLDatasetLoader.from_records([{"question": "2+2?", "answer": "4"}])
            >>> len(loader)
            1
        """
        loader = cls(**column_mappings)
        dumps = orjson.dumps
        w: StoreWriter
        with StoreWriter("<records>") as w:
            buf, k = bytearray(), 0
            for rec in records:
                if not isinstance(rec, Mapping):
                    raise DataPrepError(f"record {w.count + k + 1} is a {type(rec).__name__}, not a mapping")
                buf += dumps(rec if type(rec) is dict else dict(rec))
                buf += b"\n"
                k += 1
                if len(buf) >= CHUNK_BYTES:
                    w.write_blob(buf, k)
                    buf, k = bytearray(), 0
            w.write_blob(buf, k)
            loader._store = w.finish()
        loader.path = None
        return loader

    @classmethod
    def _from_store(cls, store: Store, mappings: Mapping[str, str], path: str | None) -> DatasetLoader:
        loader = cls(**mappings)
        loader._store, loader.path = store, path
        return loader

    def _require(self) -> Store | SourceStore:
        self._flush_filters()  # queued filter() steps run before any pass reads the records
        if self._store is None:
            raise DataPrepError(f"No data loaded: call {type(self).__name__}(...).load(path) first.")
        return self._store

    def __len__(self) -> int:
        """Number of records (the first call after ``load`` of a local JSONL file reads it)."""
        return self._materialize("Reading").count or 0

    def __repr__(self) -> str:
        count = self._store.count if self._store is not None else 0
        n = "?" if count is None else str(count)  # "?": a local JSONL file not read yet
        pend = f", pending={[d for d, _ in self._pending]}" if self._pending else ""
        return f"{type(self).__name__}(path={self.path!r}, records={n}{pend})"

    # ------------------------------------------------------------------ streaming passes
    def _records(self, limit: int | None = None) -> Iterator[tuple[dict[str, Any], int]]:
        """Yield ``(record, source line)`` with pending transforms applied (nothing written)."""
        store = self._require()
        fns = [fn for _, fn in self._pending]
        loads = orjson.loads
        for parts, src, base in store.batches():
            for k, raw in enumerate(parts):
                if limit is not None and base + k >= limit:
                    return
                line = src[k] if src is not None else base + k + 1
                try:
                    rec = loads(raw)
                except orjson.JSONDecodeError as e:
                    raise _io.bad_json(e, raw, store.source, line) from None
                if type(rec) is not dict:
                    raise _io.not_object(rec, store.source, line)
                for fn in fns:
                    rec = self._apply(fn, rec, line, store)
                yield rec, line

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Iterate the records (as dicts, transforms applied), streaming from disk."""
        for rec, _ in self._records():
            yield rec

    @staticmethod
    def _apply(fn: Transform, rec: dict[str, Any], line: int, store: Store | SourceStore) -> dict[str, Any]:
        try:
            return fn(rec, line)
        except DataPrepError as e:
            if e.path is None:
                raise DataPrepError(str(e), path=store.source, line=e.line, field=e.field) from None
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise DataPrepError(f"transform failed: {type(e).__name__}: {e}", path=store.source, line=line) from e

    def _pass(self, validator: Validator | None, desc: str) -> Store:
        """One pass: parse (if read in place), transform (writing a new store), feed the validator.

        The per-record loop is the hot path of the SDK (see docs/performance.md): no
        per-record function call beyond parse, transforms, serialise and validate.
        """
        store = self._require()
        fns = [fn for _, fn in self._pending]
        if store.spill and not fns and validator is None:
            return store  # type: ignore[return-value]
        loads, dumps, nl = orjson.loads, orjson.dumps, orjson.OPT_APPEND_NEWLINE
        feed = validator.feed if validator is not None else None
        # the generic SFT transform can write its bytes straight from the column values
        fast = getattr(fns[0], "fast", None) if len(fns) == 1 else None
        if fast is not None and validator is not None and not validator.accepts_fields:
            fast = None
        feed_fields = validator.feed_fields if validator is not None else None
        source = store.source
        writer = StoreWriter(source) if (fns or not store.spill) else None
        line, raw = 0, b""
        try:
            in_place = not store.spill  # a local JSONL file: progress in bytes read
            total = os.path.getsize(store.path) if in_place else store.count
            with progress(total, desc, unit="B" if in_place else "rec") as update:
                batches = store.batches(update) if in_place else store.batches()  # type: ignore[call-arg]
                for parts, src, base in batches:
                    out = bytearray()
                    k = -1
                    for raw in parts:
                        k += 1
                        line = src[k] if src is not None else base + k + 1
                        rec = loads(raw)
                        if type(rec) is not dict:
                            raise _io.not_object(rec, source, line)
                        if fast is not None:
                            res = fast(rec, line)
                            if res is not None:
                                out += res[0]
                                if feed_fields is not None:
                                    feed_fields(res[1], line)
                                continue
                        if fns:
                            for fn in fns:
                                rec = fn(rec, line)
                            out += dumps(rec, None, nl)
                        if feed is not None:
                            feed(rec, line)
                    if writer is not None:
                        if fns:
                            writer.write_blob(out, len(parts), src)
                        else:
                            writer.write_blob(b"\n".join(parts) + b"\n", len(parts), src)
                    if not in_place:
                        update(len(parts))
        except BaseException as e:
            if writer is not None:
                writer.abort()
            if isinstance(e, orjson.JSONDecodeError):
                raise _io.bad_json(e, raw, source, line) from None
            if isinstance(e, DataPrepError):
                if e.path is None:
                    raise DataPrepError(str(e), path=source, line=e.line, field=e.field) from None
                raise
            if isinstance(e, KeyError | TypeError | AttributeError | ValueError):
                raise DataPrepError(f"cannot process record: {type(e).__name__}: {e}", path=source, line=line) from e
            raise
        if writer is None:
            return store  # type: ignore[return-value]
        new = writer.finish()
        if not store.spill and new.count == 0:
            raise DataPrepError("the file holds no records (only blank lines)", path=source)
        self._store, self._pending = new, []
        return new

    def _materialize(self, desc: str = "Transforming") -> Store:
        return self._pass(None, desc)

    # ------------------------------------------------------------------ public verbs
    def show(self, n: int = 10) -> None:
        """Print the first ``n`` records (transforms applied), one JSON object per line.

        Example:
            >>> loader.show(5)  # doctest: +SKIP
        """
        store = self._require()
        total = f" of {store.count:,}" if store.count is not None else ""
        print(f"{type(self).__name__}: first {n} records{total} from {self.path or store.source}")
        shown = 0
        for rec, line in self._records(limit=max(0, int(n))):
            print(f"[{line}] {orjson.dumps(rec).decode()}")
            shown += 1
        if store.count is not None and shown < store.count:
            print(f"... ({store.count - shown:,} more)")

    def split_data(
        self,
        train_ratio: float = 0.8,
        val_ratio: float = 0.1,
        test_ratio: float = 0.1,
        seed: int = 42,
    ) -> tuple[DatasetLoader, DatasetLoader, DatasetLoader]:
        """Split into train, validation and test loaders (random membership, file order kept).

        Exactly ``floor(n * train_ratio)`` records go to train, ``floor(n * val_ratio)`` to
        validation and the rest to test; the same seed gives the same split.

        Raises:
            DataPrepError: The ratios are negative or don't sum to 1.0, or the dataset is empty.

        Example:
            >>> train, val, test = loader.split_data(train_ratio=0.7, val_ratio=0.2, test_ratio=0.1)  # doctest: +SKIP
        """
        ratios = (train_ratio, val_ratio, test_ratio)
        if any(not isinstance(r, int | float) or r < 0 or r > 1 for r in ratios):
            raise DataPrepError(f"Split ratios must be numbers between 0 and 1; got {ratios}.")
        if abs(sum(ratios) - 1.0) > 1e-6:
            raise DataPrepError(
                f"Split ratios must sum to 1.0; got {train_ratio} + {val_ratio} + {test_ratio} = {sum(ratios):g}."
            )
        if self._store is None or self._store.count == 0:
            raise DataPrepError("Cannot split an empty dataset: load data first.")
        store = self._materialize()
        n = store.count or 0
        n_train, n_val = int(n * train_ratio + 1e-9), int(n * val_ratio + 1e-9)
        labels = bytearray(n_train) + b"\x01" * n_val + b"\x02" * (n - n_train - n_val)
        random.Random(seed).shuffle(labels)
        writers = [StoreWriter(store.source) for _ in range(3)]
        try:
            with progress(n, "Splitting") as update:
                for parts, src, base in store.batches():
                    outs: list[list[bytes]] = [[], [], []]
                    lines: list[list[int]] = [[], [], []]
                    for k, raw in enumerate(parts):
                        dest = labels[base + k]
                        outs[dest].append(raw)
                        lines[dest].append(src[k] if src is not None else base + k + 1)
                    for dest in range(3):
                        if outs[dest]:
                            writers[dest].write_blob(b"\n".join(outs[dest]) + b"\n", len(outs[dest]), lines[dest])
                    update(len(parts))
            stores = [w.finish() for w in writers]
        except BaseException:
            for w in writers:
                w.abort()
            raise
        logger.info("Split %d records into %d train / %d validation / %d test", n, *(s.count for s in stores))
        cls = type(self)
        return (
            cls._from_store(stores[0], self.column_mappings, self.path),
            cls._from_store(stores[1], self.column_mappings, self.path),
            cls._from_store(stores[2], self.column_mappings, self.path),
        )

    def transform(
        self, method: TrainingMethod, model: Model, *, eval_task: EvaluationTask | None = None
    ) -> DatasetLoader:
        """Queue the transform to the format ``method`` needs on ``model``; returns ``self``.

        Supported: generic Q/A columns (CSV/JSON/JSONL) → SFT Converse 1.0/2.0 (system,
        Nova 2 reasoning, image/video by S3 reference), RFT (OpenAI format), evaluation BYOD
        (``EVALUATION``; ``eval_task`` picks LLM-judge layouts) and CPT; OpenAI ``messages``
        → SFT Converse 1.0 and 2.0 (with tools on 2.0). Records already in the target format
        are kept as they are. The first record is transformed now, so a missing column
        mapping fails here; the rest are transformed during the next pass.

        Raises:
            ValueError: The method/model combination is not supported (a ConfigError).
            DataPrepError: A record cannot be transformed (names the line and column).

        Example:
            >>> loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_MICRO)  # doctest: +SKIP
        """
        spec = resolve(method, model, eval_task)  # validates arguments, raises ConfigError
        fn = build_transform(_as_method(method), _as_model(model), self.column_mappings, _as_task(eval_task))
        store = self._store
        if store is not None and store.count != 0:
            for first, line in self._records(limit=1):
                try:
                    check_mapped_columns(first, fn.target, self.column_mappings, line)  # type: ignore[attr-defined]
                except DataPrepError as e:
                    raise DataPrepError(str(e), path=store.source, line=e.line, field=e.field) from None
                self._apply(fn, first, line, store)
        self._pending.append((spec.label, fn))
        return self

    def _validate_report(
        self,
        method: TrainingMethod,
        model: Model,
        eval_task: EvaluationTask | None = None,
        *,
        platform: Platform | None = None,
        max_problems: int = 1000,
        global_batch_size: int | None = None,
        check_media: bool = False,
    ) -> ValidationReport:
        spec = resolve(method, model, eval_task, platform)
        validator = Validator(
            spec, max_problems=max_problems, global_batch_size=global_batch_size, check_media=check_media
        )
        store = self._pass(validator, f"Validating {spec.kind}")
        report = validator.finish(source=self.path or store.source)
        if report.problems and store.count and _looks_generic(store):
            report.hint = (
                f"the records look like generic columns, not {spec.kind} records: call "
                "transform(method, model) with column mappings before validate()"
            )
        return report

    def validate(
        self,
        method: TrainingMethod,
        model: Model,
        eval_task: EvaluationTask | None = None,
        *,
        platform: Platform | None = None,
        max_problems: int = 1000,
        check_media: bool = False,
    ) -> None:
        """Check every record against the rules for ``method`` on ``model`` (and ``eval_task``).

        Reports **every** problem (the first ``max_problems`` in the exception's
        ``problems``, each with its line and JSON path; ``total`` counts all) plus the
        dataset-level rules (consistent optional fields, one media type, row counts when
        ``platform`` is given). ``check_media=True`` also reads each referenced S3 media
        object's size and header (existence, size limits, format, image dimensions; see
        :mod:`._media`) — the only option that calls AWS. On success prints the spec's line, e.g.
        ``Validation succeeded for 22 samples on an Evaluation BYOD dataset``.

        Raises:
            ValueError: The combination is unsupported (ConfigError), or the data is invalid
                (:class:`DatasetValidationError`, a ValueError).

        Example:
            >>> loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_MICRO)  # doctest: +SKIP
        """
        report = self._validate_report(
            method, model, eval_task, platform=platform, max_problems=max_problems, check_media=check_media
        )
        for w in report.warnings:
            logger.warning("%s: %s", report.source, w)
        if not report.ok:
            raise DatasetValidationError(
                report.summary(), problems=report.problems, total=report.total, path=report.source
            )
        print(report.summary())

    def save_data(self, save_path: str) -> str:
        """Save the records (transforms applied) to a ``.jsonl`` or ``.json`` file, local or S3.

        The file appears only when complete (temp file + rename; S3 upload at the end).

        Raises:
            DataPrepError: The extension is not ``.json``/``.jsonl`` or the write fails.

        Example:
            >>> loader.save_data("output/training_data.jsonl")  # doctest: +SKIP
            'output/training_data.jsonl'
        """
        save_path = os.fspath(save_path)
        ext = os.path.splitext(save_path)[1].lower()
        if ext not in (".jsonl", ".json"):
            raise DataPrepError(
                f"Cannot save as {ext or 'a file without extension'!r}: the path must end in "
                ".jsonl (one record per line) or .json (an array).",
                path=save_path,
            )
        store = self._materialize()
        name = save_path.rsplit("/", 1)[-1]
        if not _SAFE_NAME.match(name):
            logger.warning(
                "File name %r has characters other than letters, digits, '_', '-' and '.'; Nova "
                "training jobs reject such names.",
                name,
            )
        try:
            if ext == ".jsonl" and storage.is_s3(save_path):
                storage.upload(store.path, save_path)
            else:
                with storage.open_write(save_path) as dst, open(store.path, "rb") as src:
                    if ext == ".jsonl":
                        _copy(src, dst)
                    else:
                        _write_json_array(store, dst)
        except (OSError, AWSServiceError) as e:
            raise DataPrepError(f"could not save the dataset: {e}", path=save_path) from e
        logger.info("Saved %d records to %s", store.count, save_path)
        return save_path


def _copy(src: Any, dst: Any) -> None:
    """Copy file to file, in the kernel when both are OS files (``os.sendfile``)."""
    try:
        dst.flush()
        out_fd, in_fd = dst.fileno(), src.fileno()
    except (AttributeError, OSError, ValueError):
        shutil.copyfileobj(src, dst, CHUNK_BYTES)
        return
    size = os.fstat(in_fd).st_size
    offset = 0
    try:
        while offset < size:
            sent = os.sendfile(out_fd, in_fd, offset, min(size - offset, 1 << 30))
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


def _as_method(m: Any) -> TrainingMethod:
    return m if isinstance(m, TrainingMethod) else TrainingMethod(str(m).lower())


def _as_model(m: Any) -> Model:
    return m if isinstance(m, Model) else Model.from_model_name(str(m))


def _as_task(t: Any) -> EvaluationTask | None:
    return t if t is None or isinstance(t, EvaluationTask) else EvaluationTask(str(t).lower())


def _looks_generic(store: Store) -> bool:
    for parts, _src, _base in store.batches():
        rec = orjson.loads(parts[0])
        return "messages" not in rec and not ({"query", "text", "prompt"} & rec.keys())
    return False


class JSONLDatasetLoader(DatasetLoader):
    """Loads JSON Lines files (one JSON object per line), local or ``s3://``.

    Column mappings (keyword arguments) name your columns for the standard fields; see
    :class:`DatasetLoader`. The usual flow is load → transform → validate → save_data.

    Example:
        >>> loader = JSONLDatasetLoader()
        >>> loader.load("s3://my-bucket/data/training.jsonl")  # doctest: +SKIP

        A whole preparation, on the bundled sample (columns ``question``/``answer``):

        >>> from amzn_nova_forge.dataset import sample_path
        >>> loader = JSONLDatasetLoader(question="question", answer="answer")
        >>> loader.load(sample_path("qa"))  # doctest: +SKIP
        >>> loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)  # doctest: +SKIP
        >>> loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)  # doctest: +SKIP
        >>> loader.save_data("prepared-data.jsonl")  # doctest: +SKIP
    """

    _format = "jsonl"


class JSONDatasetLoader(DatasetLoader):
    """Loads JSON files holding an array of objects (or one object), local or ``s3://``.

    Example:
        >>> loader = JSONDatasetLoader()
        >>> loader.load("data/training.json")  # doctest: +SKIP
    """

    _format = "json"


class CSVDatasetLoader(DatasetLoader):
    """Loads CSV files with a header row (every value is a string), local or ``s3://``.

    Example:
        >>> loader = CSVDatasetLoader(question="user_query", answer="bot_response")
        >>> loader.load("data/conversations.csv")  # doctest: +SKIP
    """

    _format = "csv"


class ParquetDatasetLoader(DatasetLoader):
    """Loads Parquet files batch by batch (needs ``pip install 'amzn-nova-forge[parquet]'``).

    Example:
        >>> loader = ParquetDatasetLoader(question="q", answer="a")
        >>> loader.load("data/train.parquet")  # doctest: +SKIP
    """

    _format = "parquet"
