"""The file-format loaders: JSONL, JSON, CSV, Parquet and Arrow (each a :class:`DatasetLoader`).

Example:
    >>> from amzn_nova_forge.dataset import JSONLDatasetLoader
    >>> JSONLDatasetLoader(question="q", answer="a").column_mappings
    {'question': 'q', 'answer': 'a'}
"""

from __future__ import annotations

import os

from amzn_nova_forge.core import storage
from amzn_nova_forge.dataset._loader_base import DatasetLoader

__all__ = ["ArrowDatasetLoader", "CSVDatasetLoader", "JSONDatasetLoader", "JSONLDatasetLoader", "ParquetDatasetLoader"]


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
    _extensions = (".json",)


class CSVDatasetLoader(DatasetLoader):
    """Loads CSV files with a header row (every value is a string), local or ``s3://``.

    Example:
        >>> loader = CSVDatasetLoader(question="user_query", answer="bot_response")
        >>> loader.load("data/conversations.csv")  # doctest: +SKIP
    """

    _format = "csv"
    _extensions = (".csv",)


class ParquetDatasetLoader(DatasetLoader):
    """Loads Parquet files batch by batch (needs ``pip install 'amzn-nova-forge[parquet]'``).

    A directory or ``s3://`` prefix of shards (``part-00000.snappy.parquet`` …, with
    ``_SUCCESS`` and ``.crc`` files skipped) loads as one dataset, shards in sorted order.
    NaN and infinite floats are refused as in JSON.

    Example:
        >>> loader = ParquetDatasetLoader(question="q", answer="a")
        >>> loader.load("data/train.parquet")  # doctest: +SKIP
        >>> loader.load("s3://my-bucket/shards/")  # doctest: +SKIP
    """

    _format = "parquet"
    _extensions = (".parquet", ".pq")


class ArrowDatasetLoader(DatasetLoader):
    """Loads Apache Arrow IPC (file or stream) and Feather files (needs the ``[parquet]`` extra).

    Accepts ``.arrow``, ``.feather`` and ``.ipc`` files, directories, globs and ``s3://``
    prefixes of them, and a Hugging Face ``Dataset.save_to_disk`` folder (read in the order
    its ``state.json`` lists). See :mod:`._arrow`.

    Example:
        >>> loader = ArrowDatasetLoader(question="prompt", answer="response")
        >>> loader.load("s3://my-bucket/arrow_shards/")  # doctest: +SKIP
        >>> loader.load("~/hf_saved/train")  # doctest: +SKIP
    """

    _format = "arrow"
    _extensions = (".arrow", ".feather", ".ipc")

    def _resolve(self, path: str) -> list[str]:
        if not storage.is_s3(path) and os.path.isdir(path):
            from amzn_nova_forge.dataset._arrow import hf_folder_files

            files = hf_folder_files(path)
            if files is not None:
                return files
        return super()._resolve(path)
