"""The demo's synthetic task: upper-case a random 4-letter word (no heavy imports).

A random-weight model cannot do it (it has never seen text); a tiny model learns it in about
150 optimizer steps on one CPU core, and the held-out words are words it never saw in training,
so a high held-out exact match means it learned the mapping, not the answers. All words have
the same length, which keeps each answer letter at a fixed distance from its question letter:
that is what lets a 2-layer model learn the task so fast.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

__all__ = ["PROMPT", "make_task", "write_task"]

#: The question of every row; ``{word}`` is a random lower-case 4-letter word.
PROMPT = "Uppercase the word: {word}"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORD_LENGTH = 4


def make_task(n_train: int, n_held_out: int, *, seed: int = 0) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Distinct random words split into training rows and held-out rows (no word in both).

    Returns:
        ``(train, held_out)``: training rows ``{"question", "answer"}`` (generic Q/A columns for
        the Dataset module) and held-out rows ``{"query", "response"}`` (the gen_qa BYOD format).

    Raises:
        ValueError: A count is below 1, or more words are asked for than exist.

    Example:
        >>> train, held_out = make_task(3, 2)
        >>> train[0]["answer"] == train[0]["question"].rsplit(" ", 1)[1].upper()
        True
        >>> {r["query"] for r in held_out} & {r["question"] for r in train}
        set()
    """
    if n_train < 1 or n_held_out < 1:
        raise ValueError(f"n_train and n_held_out must be >= 1, got {n_train} and {n_held_out}.")
    total = n_train + n_held_out
    if total > len(_LETTERS) ** _WORD_LENGTH // 2:
        raise ValueError(f"{total} words asked for; at most {len(_LETTERS) ** _WORD_LENGTH // 2} distinct ones.")
    rng = random.Random(seed)
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < total:
        word = "".join(rng.choice(_LETTERS) for _ in range(_WORD_LENGTH))
        if word not in seen:
            seen.add(word)
            words.append(word)
    train = [{"question": PROMPT.format(word=w), "answer": w.upper()} for w in words[:n_train]]
    held_out = [{"query": PROMPT.format(word=w), "response": w.upper()} for w in words[n_train:]]
    return train, held_out


def write_task(folder: Path, n_train: int, n_held_out: int, *, seed: int = 0) -> tuple[Path, Path]:
    """Write ``raw_train.jsonl`` (question/answer) and ``gen_qa.jsonl`` (query/response) into ``folder``.

    Example:
        >>> raw, held_out = write_task(Path("/tmp/demo-data"), 640, 64)  # doctest: +SKIP
    """
    train, held_out = make_task(n_train, n_held_out, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "raw_train.jsonl", folder / "gen_qa.jsonl")
    for path, rows in zip(paths, (train, held_out)):
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)
    return paths
