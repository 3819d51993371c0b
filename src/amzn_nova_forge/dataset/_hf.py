"""``HuggingFaceDatasetLoader``: Hugging Face datasets from the Hub, a local folder, or an object.

``load()`` only records what to read; the data is fetched on first use (``show``,
``transform``, ``validate``, ``save``…), as in the official SDK. What ``path`` may be:

* a Hub id (``"namespace/name"``, a legacy bare name, ``"hf://datasets/…"``): read with
  ``datasets.load_dataset(path, name=, split=, revision=, data_files=, data_dir=)`` when the
  Hub is reachable (authentication through ``HF_TOKEN`` or ``huggingface-cli login``);
* a local folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``
  (``datasets.load_from_disk``; offline), or any other local folder ``load_dataset`` reads
  (JSON/CSV/Parquet files, a dataset repository clone);
* a ``datasets.Dataset``, ``DatasetDict``, ``IterableDataset`` or ``IterableDatasetDict``.

``split=None`` takes the only split there is and refuses to guess among several (the error
lists them). Needs ``pip install 'amzn-nova-forge[huggingface]'`` (alias ``[hf]``).

Example:
    >>> from amzn_nova_forge.dataset import HuggingFaceDatasetLoader
    >>> loader = HuggingFaceDatasetLoader().load("foo/bar", split="train")  # doctest: +SKIP
    >>> loader.save("s3://my-bucket/data/foo_train.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from amzn_nova_forge.dataset._loader_base import DatasetLoader
from amzn_nova_forge.dataset._records import write_arrow_batches, write_records
from amzn_nova_forge.dataset._store import StoreWriter
from amzn_nova_forge.errors import DataPrepError, MissingDependencyError

__all__ = ["HuggingFaceDatasetLoader"]

DataFiles = str | Sequence[str] | Mapping[str, str | Sequence[str]]


def _datasets() -> Any:
    try:
        import datasets
    except ImportError as e:
        raise MissingDependencyError(
            "HuggingFaceDatasetLoader needs the 'datasets' package. Install it with: "
            "pip install 'amzn-nova-forge[huggingface]'",
            extra="huggingface",
        ) from e
    return datasets


def _is_dict(obj: Any) -> bool:
    return type(obj).__name__ in ("DatasetDict", "IterableDatasetDict")


def _pick_split(obj: Any, split: str | None, where: str) -> Any:
    names = sorted(obj.keys())
    if split is None:
        if len(names) == 1:
            return obj[names[0]]
        raise DataPrepError(f"the dataset has several splits ({', '.join(names)}); pass split=", path=where)
    if split not in obj:
        raise DataPrepError(f"no split {split!r}; the dataset has {', '.join(names)}", path=where)
    return obj[split]


def _open(path: str, kwargs: dict[str, Any]) -> Any:
    datasets = _datasets()
    if os.path.isdir(path) and (
        os.path.isfile(os.path.join(path, "state.json")) or os.path.isfile(os.path.join(path, "dataset_dict.json"))
    ):
        extra = {k: v for k, v in kwargs.items() if k != "split" and v is not None}
        if extra:
            raise DataPrepError(
                f"{', '.join(sorted(extra))} cannot be used with a save_to_disk folder (only split=)", path=path
            )
        obj = datasets.load_from_disk(path)
        if _is_dict(obj):
            return _pick_split(obj, kwargs.get("split"), path)
        if kwargs.get("split") is not None:
            raise DataPrepError("this save_to_disk folder holds one Dataset, not splits; drop split=", path=path)
        return obj
    args = {k: v for k, v in kwargs.items() if v is not None}
    return datasets.load_dataset(path, **args)


def _error(e: Exception, where: str) -> DataPrepError:
    text = str(e)
    if any(s in text for s in ("401", "403", "gated", "Unauthorized", "authentication")):
        return DataPrepError(
            f"access denied by the Hugging Face Hub ({text}); set HF_TOKEN or run `huggingface-cli login`, "
            "and accept the dataset's terms on its page if it is gated",
            path=where,
        )
    return DataPrepError(f"could not load the Hugging Face dataset: {type(e).__name__}: {text}", path=where)


class HuggingFaceDatasetLoader(DatasetLoader):
    """Loads a Hugging Face dataset (Hub id, local folder or ``datasets`` object); see :mod:`._hf`.

    Example:
        >>> loader = HuggingFaceDatasetLoader()
        >>> loader.load("~/saved/my_dataset")  # doctest: +SKIP
        >>> loader.transform(
        ...     method=TransformMethod.SCHEMA,
        ...     training_method=TrainingMethod.SFT_LORA,
        ...     model=Model.NOVA_LITE_2,
        ...     column_mappings={"question": "prompt", "answer": "completion"},
        ... )  # doctest: +SKIP
    """

    _format = "hf"
    _extensions = ()

    def load(
        self,
        path: str | Any,
        split: str | None = None,
        name: str | None = None,
        revision: str | None = None,
        data_files: DataFiles | None = None,
        data_dir: str | None = None,
    ) -> HuggingFaceDatasetLoader:
        """Record what to read; nothing is fetched until the data is first used.

        Raises:
            DataPrepError: (on first use) the dataset cannot be found or read, access is
                denied (with what to do), or ``split`` is missing or ambiguous.
            MissingDependencyError: (on first use) ``datasets`` is not installed.

        Example:
            >>> HuggingFaceDatasetLoader().load("org/dataset", split="train[:100]")  # doctest: +SKIP
        """
        kwargs: dict[str, Any] = {
            "split": split,
            "name": name,
            "revision": revision,
            "data_files": data_files,
            "data_dir": data_dir,
        }
        if isinstance(path, str | os.PathLike):
            where = os.fspath(path)
            local = os.path.expanduser(where)
            if os.path.exists(local):
                where = local
            target: Any = where
        else:
            mod = type(path).__module__ or ""
            if not mod.startswith("datasets"):
                raise DataPrepError(
                    f"HuggingFaceDatasetLoader.load() takes a Hub id, a local folder or a datasets object; "
                    f"got a {type(path).__name__}"
                )
            where, target = f"<{type(path).__name__}>", path

        def source(writer: StoreWriter) -> None:
            try:
                obj = _open(target, kwargs) if isinstance(target, str) else target
                if _is_dict(obj):
                    obj = _pick_split(obj, split, where)
                if type(obj).__name__ == "Dataset":
                    arrow = obj.with_format("arrow")
                    batches = (arrow[i : i + 10000] for i in range(0, len(obj), 10000))
                    write_arrow_batches(writer, batches, where)
                else:
                    write_records(writer, iter(obj), where)
            except (DataPrepError, MissingDependencyError):
                raise
            except Exception as e:  # datasets/huggingface_hub raise many unrelated types
                raise _error(e, where) from e

        self._set_source(where, source)
        return self
