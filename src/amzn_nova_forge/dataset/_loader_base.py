"""The base of the dataset loaders: load, show, split, transform, validate and save Nova datasets.

:class:`DatasetLoader` lives here, below the file-format loaders of :mod:`._formats` that
subclass it; :mod:`._loaders` re-exports both, as before.

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
from abc import ABC
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, cast

import orjson

from amzn_nova_forge.core import storage
from amzn_nova_forge.core._progress import progress
from amzn_nova_forge.core.enums import (
    EvaluationTask,
    Model,
    Platform,
    TrainingMethod,
    TransformMethod,
    ValidateMethod,
)
from amzn_nova_forge.dataset import _io
from amzn_nova_forge.dataset._callforms import schema_args
from amzn_nova_forge.dataset._curation._mixin import CurationMixin
from amzn_nova_forge.dataset._passes import apply_fn, iter_records, run_pass
from amzn_nova_forge.dataset._paths import normalize, resolve_inputs
from amzn_nova_forge.dataset._records import Renumber, store_from
from amzn_nova_forge.dataset._save import copy_file, write_store
from amzn_nova_forge.dataset._store import SourceStore, Store, StoreWriter
from amzn_nova_forge.dataset._transforms import Transform, build_transform, check_mapped_columns
from amzn_nova_forge.dataset._validate import ValidationReport, Validator, resolve
from amzn_nova_forge.errors import AWSServiceError, ConfigError, DataPrepError, DatasetValidationError

__all__ = ["DatasetLoader"]

logger = logging.getLogger("amzn_nova_forge.dataset._loaders")  # the name it logged under before the split

_SAFE_NAME = re.compile(r"^[\w\-/.]+$", re.ASCII)


class DatasetLoader(CurationMixin, ABC):
    """Base class of every dataset loader.

    Args:
        region: AWS region of the clients this loader creates (CloudWatch Logs, S3 listing
            and reads use the session's region when ``None``). Never a column mapping.
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
        region: The region given (or ``None``).
        path: The path or URI last loaded.
        files: The files the last ``load`` read, in order (several for a directory, glob or prefix).
        max_record_bytes: Longest accepted record (line); longer ones raise DataPrepError.

    Example:
        >>> from amzn_nova_forge.dataset import JSONDatasetLoader
        >>> loader = JSONDatasetLoader(question="input", answer="output")
        >>> loader.column_mappings
        {'question': 'input', 'answer': 'output'}
    """

    _format: ClassVar[str] = "jsonl"
    _extensions: ClassVar[tuple[str, ...]] = (".jsonl",)
    max_record_bytes: int = _io.DEFAULT_MAX_RECORD_BYTES

    def __init__(self, region: str | None = None, **column_mappings: str) -> None:
        if type(self) is DatasetLoader:
            raise TypeError(
                "DatasetLoader is abstract: use JSONLDatasetLoader, JSONDatasetLoader, CSVDatasetLoader, "
                "ParquetDatasetLoader, ArrowDatasetLoader, HuggingFaceDatasetLoader or CloudWatchDatasetLoader."
            )
        if region is not None and not isinstance(region, str):
            raise ConfigError(f"region must be an AWS region name such as 'us-east-1'; got {region!r}.")
        _check_mappings(column_mappings)
        self.column_mappings: dict[str, str] = dict(column_mappings)
        self.region = region
        self.path: str | None = None
        self.files: list[str] = []
        self._store: Store | SourceStore | None = None
        self._source: Callable[[StoreWriter], None] | None = None
        self._pending: list[tuple[str, Transform]] = []
        self._media_bucket: str | None = None

    # ------------------------------------------------------------------ loading
    def load(self, path: str) -> DatasetLoader:
        """Load a file, a directory, a glob or an ``s3://`` prefix; returns ``self`` for chaining.

        ``~`` and ``..`` are resolved. A directory or prefix means every file of this
        loader's format directly inside it, and a glob its matches, read in sorted order
        as one dataset (see :mod:`._paths`); a Parquet shard folder is such a directory.

        Raises:
            DataPrepError: Nothing at the path, a file of another format, a file that is
                empty, not UTF-8, or holds a malformed record (the message names the file
                and line).

        Example:
            >>> loader = JSONLDatasetLoader().load("data/training.jsonl")  # doctest: +SKIP
            >>> loader = ParquetDatasetLoader().load("~/shards/")  # doctest: +SKIP
        """
        path = normalize(path)
        files = self._resolve(path)
        store: Store | SourceStore
        if len(files) == 1 and self._format == "jsonl" and not storage.is_s3(files[0]):
            store = _io.open_local_jsonl(files[0], self.max_record_bytes)
        elif len(files) == 1:
            one = files[0]
            size = None if storage.is_s3(one) or not os.path.isfile(one) else os.path.getsize(one)
            with progress(size, f"Loading {os.path.basename(one)}", unit="B") as update:
                store = _io.load_store(self._format, one, self.max_record_bytes, update)
            logger.info("Loaded %d records from %s", store.count, one)
        else:
            store = self._load_many(path, files)
        self._store, self.path, self.files, self._pending, self._source = store, path, files, [], None
        self.__dict__.pop("_curation_queue", None)
        return self

    def _resolve(self, path: str) -> list[str]:
        return resolve_inputs(path, self._extensions)

    def _load_many(self, where: str, files: list[str]) -> Store:
        """Read several files into one store; records are numbered across the files in order."""
        reader = _io.READERS[self._format]
        with StoreWriter(where) as w, progress(len(files), f"Loading {len(files)} files", unit="file") as update:
            for f in files:
                reader(f, cast(StoreWriter, Renumber(w)), self.max_record_bytes, None)
                update(1)
            store = w.finish()
        if store.count == 0:
            raise DataPrepError(f"the {len(files)} files hold no records", path=where)
        logger.info("Loaded %d records from %d files under %s", store.count, len(files), where)
        return store

    def _set_source(self, path: str, source: Callable[[StoreWriter], None]) -> None:
        """Make ``source`` (which writes the records) the data, read on first use (lazy loaders)."""
        self._store, self.path, self.files, self._pending, self._source = None, path, [], [], source

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]] | Any, region: str | None = None, **column_mappings: str
    ) -> DatasetLoader:
        """Build a loader from in-memory records (streamed straight to the spill file).

        ``records`` is an iterable of mappings, a pandas ``DataFrame`` (a NaN cell is a
        missing value and becomes ``null``), a Hugging Face ``datasets.Dataset`` or
        ``IterableDataset``, or a pyarrow ``Table``. Neither pandas nor ``datasets`` is
        imported unless you pass one. The JSON rules of :mod:`._jsonrules` apply: NaN,
        infinities and integers outside 64 bits in plain records are refused.

        Raises:
            DataPrepError: A record is not a mapping or holds a value JSON cannot carry
                (names the record number and JSON path).

        Example:
            >>> loader = JSONLDatasetLoader.from_records([{"question": "2+2?", "answer": "4"}])
            >>> len(loader)
            1
        """
        loader = cls(region, **column_mappings)
        loader._store = store_from(records, "<records>")
        loader.path = None
        return loader

    # ------------------------------------------------------------------ lazy record access
    @property
    def dataset(self) -> Callable[[], Iterator[dict[str, Any]]]:
        """A zero-argument callable returning a fresh iterator of the records (lazy).

        Nothing is read until the iterator is consumed; pending transforms are applied
        record by record. Assigning a callable (or an iterable) replaces the data.

        Example:
            >>> loader = JSONLDatasetLoader.from_records([{"a": 1}, {"a": 2}])
            >>> [r["a"] for r in loader.dataset()]
            [1, 2]
        """
        return self.__iter__

    @dataset.setter
    def dataset(self, value: Callable[[], Iterable[Mapping[str, Any]]] | Iterable[Mapping[str, Any]]) -> None:
        records = value() if callable(value) else value
        self._store, self._pending, self._source, self.files = store_from(records, "<dataset>"), [], None, []

    @classmethod
    def _from_store(cls, store: Store, mappings: Mapping[str, str], path: str | None) -> DatasetLoader:
        loader = cls(**mappings)
        loader._store, loader.path = store, path
        return loader

    def _require(self) -> Store | SourceStore:
        if self._store is None and self._source is not None:
            source = self._source
            with StoreWriter(self.path or "<source>") as w:
                source(w)
                store = w.finish()
            if store.count == 0:
                raise DataPrepError("the source returned no records", path=self.path)
            self._store, self._source = store, None
        self._flush_filters()  # queued filter() steps run before any pass reads the records
        if self._store is None:
            raise DataPrepError(f"No data loaded: call {type(self).__name__}(...).load(path) first.")
        return self._store

    def __len__(self) -> int:
        """Number of records (the first call after ``load`` of a local JSONL file reads it)."""
        return self._materialize("Reading").count or 0

    def __repr__(self) -> str:
        if self._store is None and self._source is not None:
            return f"{type(self).__name__}(path={self.path!r}, records=? (not read yet))"
        count = self._store.count if self._store is not None else 0
        n = "?" if count is None else str(count)  # "?": a local JSONL file not read yet
        pend = f", pending={[d for d, _ in self._pending]}" if self._pending else ""
        return f"{type(self).__name__}(path={self.path!r}, records={n}{pend})"

    def _repr_html_(self) -> str:
        from amzn_nova_forge.core._html import dataset_preview

        return dataset_preview(self)

    # ------------------------------------------------------------------ streaming passes
    def _records(self, limit: int | None = None) -> Iterator[tuple[dict[str, Any], int]]:
        """Yield ``(record, source line)`` with pending transforms applied (nothing written)."""
        return iter_records(self, limit)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Iterate the records (as dicts, transforms applied), streaming from disk."""
        for rec, _ in self._records():
            yield rec

    @staticmethod
    def _apply(fn: Transform, rec: dict[str, Any], line: int, store: Store | SourceStore) -> dict[str, Any]:
        return apply_fn(fn, rec, line, store)

    def _pass(self, validator: Validator | None, desc: str) -> Store:
        """One streaming pass (see :func:`._passes.run_pass`)."""
        return run_pass(self, validator, desc)

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
        out = [cls._from_store(s, self.column_mappings, self.path) for s in stores]
        for part in out:
            part.region, part._media_bucket = self.region, self._media_bucket
        return out[0], out[1], out[2]

    def split(
        self,
        train_ratio: float = 0.8,
        val_ratio: float = 0.1,
        test_ratio: float = 0.1,
        seed: int = 42,
    ) -> tuple[DatasetLoader, DatasetLoader, DatasetLoader]:
        """Split into train, validation and test loaders: the official current name of :meth:`split_data`.

        Example:
            >>> train, val, test = loader.split(train_ratio=0.8, val_ratio=0.1, test_ratio=0.1)  # doctest: +SKIP
        """
        return self.split_data(train_ratio, val_ratio, test_ratio, seed)

    def transform(
        self,
        method: TransformMethod | TrainingMethod = TransformMethod.SCHEMA,
        model: Model | None = None,
        eval_task: EvaluationTask | None = None,
        *,
        training_method: TrainingMethod | None = None,
        column_mappings: Mapping[str, str] | None = None,
        multimodal_data_s3_path: str | None = None,
        multimodal_data_bucket_owner: str | None = None,
    ) -> DatasetLoader:
        """Queue the transform to the format a training method needs on ``model``; returns ``self``.

        Two call forms, both current (no warning): the official
        ``transform(method=TransformMethod.SCHEMA, training_method=…, model=…, column_mappings={…})``
        and the seed form ``transform(TrainingMethod.…, Model.…)``. ``column_mappings``,
        when given, replaces the constructor's mappings for this transform (as in the
        official SDK); otherwise the constructor's apply. ``multimodal_data_s3_path``
        (``s3://bucket/prefix/``) makes OpenAI ``image_url`` images given as ``data:`` URIs or
        http(s) URLs upload there (content-addressed, once each; see :mod:`._images`), owned by
        ``multimodal_data_bucket_owner`` or the caller's account; the dataset must then be saved
        in the same bucket when saved to S3.

        Supported: generic Q/A columns (CSV/JSON/JSONL) → SFT Converse 1.0/2.0 (system,
        Nova 2 reasoning, image/video by S3 reference), RFT (OpenAI format), evaluation BYOD
        (``EVALUATION``; ``eval_task`` picks LLM-judge layouts) and CPT; OpenAI ``messages``
        → SFT Converse 1.0 and 2.0 (with tools on 2.0). Records already in the target format
        are kept as they are. The first record is transformed now, so a missing column
        mapping fails here; the rest are transformed during the next pass.

        Raises:
            ValueError: The method/model combination is not supported, or the arguments
                are incomplete (a ConfigError).
            DataPrepError: A record cannot be transformed (names the line and column).

        Example:
            >>> loader.transform(
            ...     method=TransformMethod.SCHEMA,
            ...     training_method=TrainingMethod.SFT_LORA,
            ...     model=Model.NOVA_MICRO,
            ...     column_mappings={"question": "q", "answer": "a"},
            ... )  # doctest: +SKIP
            >>> loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_MICRO)  # doctest: +SKIP
        """
        args = schema_args("transform", method, model, eval_task, training_method)
        stager = None
        if multimodal_data_s3_path is not None:
            from amzn_nova_forge.dataset._images import ImageStager

            stager = ImageStager(multimodal_data_s3_path, multimodal_data_bucket_owner, region=self.region)
        elif multimodal_data_bucket_owner is not None:
            raise ConfigError("multimodal_data_bucket_owner needs multimodal_data_s3_path (where images go).")
        mappings = self.column_mappings
        if column_mappings is not None:
            if not isinstance(column_mappings, Mapping):
                raise ConfigError(
                    f"column_mappings must be a dict of standard name → your column; got {column_mappings!r}."
                )
            _check_mappings(column_mappings)
            mappings = dict(column_mappings)
        spec = resolve(args.training_method, args.model, args.eval_task)  # raises ConfigError
        fn = build_transform(args.training_method, args.model, mappings, args.eval_task, stager)
        store = self._require() if self._source is not None else self._store
        if store is not None and store.count != 0:
            probe = build_transform(args.training_method, args.model, mappings, args.eval_task, stager)
            for first, line in self._records(limit=1):
                try:
                    check_mapped_columns(first, fn.target, mappings, line)  # type: ignore[attr-defined]
                except DataPrepError as e:
                    raise DataPrepError(str(e), path=store.source, line=e.line, field=e.field) from None
                self._apply(probe, first, line, store)
        self._pending.append((spec.label, fn))
        if stager is not None:
            self._media_bucket = stager.bucket
        return self

    def _validate_report(
        self,
        method: TrainingMethod | ValidateMethod,
        model: Model | None,
        eval_task: EvaluationTask | None = None,
        *,
        training_method: TrainingMethod | None = None,
        platform: Platform | None = None,
        max_problems: int = 1000,
        global_batch_size: int | None = None,
        check_media: bool = False,
    ) -> ValidationReport:
        args = schema_args("validate", method, model, eval_task, training_method)
        spec = resolve(args.training_method, args.model, args.eval_task, platform)
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
        method: ValidateMethod | TrainingMethod = ValidateMethod.INVALID_RECORDS,
        model: Model | None = None,
        eval_task: EvaluationTask | None = None,
        *,
        training_method: TrainingMethod | None = None,
        platform: Platform | None = None,
        max_problems: int = 1000,
        check_media: bool = False,
    ) -> DatasetLoader:
        """Check every record against the rules for a training method on ``model``; returns ``self``.

        Two call forms, both current (no warning): the official
        ``validate(method=ValidateMethod.INVALID_RECORDS, training_method=…, model=…)``
        (``ValidateMethod.SCHEMA`` runs the same checks) and the seed form
        ``validate(TrainingMethod.…, Model.…, eval_task)``.

        Reports **every** problem (the first ``max_problems`` in the exception's
        ``problems``, each with its line and JSON path; ``total`` counts all) plus the
        dataset-level rules (consistent optional fields, one media type, row counts when
        ``platform`` is given). ``check_media=True`` also reads each referenced S3 media
        object's size and header (existence, size limits, format, image dimensions; see
        :mod:`._media`) — the only option that calls AWS. On success prints the spec's line, e.g.
        ``Validation succeeded for 22 samples on an Evaluation BYOD dataset``.

        Raises:
            ValueError: The combination is unsupported or the arguments are incomplete
                (ConfigError), or the data is invalid (:class:`DatasetValidationError`, a ValueError).

        Example:
            >>> loader.validate(
            ...     method=ValidateMethod.INVALID_RECORDS, training_method=TrainingMethod.SFT_LORA, model=Model.NOVA_MICRO
            ... )  # doctest: +SKIP
            >>> loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_MICRO)  # doctest: +SKIP
        """
        report = self._validate_report(
            method,
            model,
            eval_task,
            training_method=training_method,
            platform=platform,
            max_problems=max_problems,
            check_media=check_media,
        )
        for w in report.warnings:
            logger.warning("%s: %s", report.source, w)
        if not report.ok:
            raise DatasetValidationError(
                report.summary(), problems=report.problems, total=report.total, path=report.source
            )
        print(report.summary())
        return self

    def save(self, save_path: str) -> str:
        """Save the records: the official current name of :meth:`save_data` (same behaviour).

        Example:
            >>> loader.save("s3://my-bucket/prepared.jsonl")  # doctest: +SKIP
            's3://my-bucket/prepared.jsonl'
        """
        return self.save_data(save_path)

    def save_data(self, save_path: str) -> str:
        """Save the records (transforms applied) to a ``.jsonl`` or ``.json`` file, local or S3.

        The file appears only when complete (temp file + rename; S3 upload at the end).
        ``.jsonl`` holds one record per line. ``.json`` holds the one record as an object
        when there is exactly one (as the official SDK writes it) and a JSON array otherwise
        (the official refuses several records; :class:`JSONDatasetLoader` reads both back).

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
                ".jsonl (one record per line) or .json (one object, or an array of several).",
                path=save_path,
            )
        media = getattr(self, "_media_bucket", None)
        if media is not None and storage.is_s3(save_path) and save_path[5:].split("/", 1)[0] != media:
            raise DataPrepError(
                f"the images were uploaded to bucket {media!r}; save the dataset in the same bucket (Nova reads "
                "training media only from the dataset's bucket)",
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
            write_store(store, save_path, copy=_copy)
        except (OSError, AWSServiceError) as e:
            raise DataPrepError(f"could not save the dataset: {e}", path=save_path) from e
        logger.info("Saved %d records to %s", store.count, save_path)
        return save_path


_copy = copy_file  # the .jsonl byte copy (a module global so tests can inject a failing disk)


def _check_mappings(mappings: Mapping[str, Any]) -> None:
    bad = {k: v for k, v in mappings.items() if not isinstance(v, str)}
    if bad:
        raise ConfigError(f"Column mappings map a standard name to your column name (a string); got {bad}.")


def _looks_generic(store: Store) -> bool:
    for parts, _src, _base in store.batches():
        rec = orjson.loads(parts[0])
        return not ({"messages", "metadata", "query", "text", "prompt"} & rec.keys())
    return False
