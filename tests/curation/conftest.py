"""Fixtures of the curation tests: small corpora written as JSONL files."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def random_docs(n: int, seed: int = 0, words: int = 30) -> list[str]:
    rng = random.Random(seed)
    vocab = ["".join(rng.choice("abcdefghijklmnop") for _ in range(6)) for _ in range(4000)]
    return [" ".join(rng.choice(vocab) for _ in range(words)) for _ in range(n)]


@pytest.fixture
def jsonl(tmp_path: Path) -> Callable[[list[Any], str], Path]:
    def make(records: list[Any], name: str = "corpus.jsonl") -> Path:
        return write_jsonl(tmp_path / name, records)

    return make
