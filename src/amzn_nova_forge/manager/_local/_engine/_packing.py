"""Sequence packing and token-budget batching (host side, numpy only).

The engine never pads examples to a common length. Each optimizer step's examples are split
into micro-batches of at most ``budget`` tokens, in one of two layouts:

* **varlen** (flash kernels): a micro-batch is one flat sequence of concatenated examples
  ``(1, T)`` with ``cu_seq_lens`` boundaries; the attention kernel keeps examples apart.
* **rows** (SDPA / eager): examples are packed first-fit-decreasing into rows of
  ``max_length`` tokens, ``(B, L)``. ``position_ids`` restart at 0 for every example, which
  transformers turns into a block-diagonal causal mask. Without packing each example is its own
  row and positions run on through the padding, so plain causal attention suffices.

Labels are shifted here, per example: ``targets[i] = labels[i + 1]`` and the last token of every
example has no target, so the loss never asks one example to predict the next one's first token.
Only positions with a target are handed to the LM head (``target_index``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from amzn_nova_forge.errors import ConfigError

__all__ = [
    "Example",
    "MicroBatch",
    "balanced_bins",
    "collate",
    "pack_rows",
    "plan_micro_batches",
    "prepare_examples",
]

IGNORE = -100


@dataclass(frozen=True)
class Example:
    """One tokenised example: ``input_ids`` and already-shifted ``targets`` (int64 arrays)."""

    input_ids: np.ndarray
    targets: np.ndarray

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[0])

    @property
    def n_targets(self) -> int:
        return int((self.targets != IGNORE).sum())


def prepare_examples(examples: Iterable[Mapping[str, Any]], max_length: int) -> list[Example]:
    """Truncate to ``max_length`` and shift labels within each example.

    Args:
        examples: Mappings with ``input_ids`` and optionally ``labels`` (``-100`` = masked;
            missing labels mean every token is a target, as in continued pre-training).
        max_length: Longest kept prefix of each example.

    Returns:
        The examples, empty ones dropped.

    Example:
        >>> [e.targets.tolist() for e in prepare_examples([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}], 8)]
        [[6, 7, -100]]
    """
    out: list[Example] = []
    for i, ex in enumerate(examples):
        ids = np.asarray(ex["input_ids"], dtype=np.int64)[:max_length]
        if ids.ndim != 1:
            raise ConfigError(f"example {i}: input_ids must be a flat list of token ids")
        labels_raw = ex.get("labels")
        labels = ids if labels_raw is None else np.asarray(labels_raw, dtype=np.int64)[:max_length]
        if labels.shape != ids.shape:
            raise ConfigError(
                f"example {i}: labels has {labels.shape[0]} tokens but input_ids has {ids.shape[0]}; they must align"
            )
        if ids.shape[0] == 0:
            continue
        targets = np.full_like(ids, IGNORE)
        targets[:-1] = labels[1:]
        out.append(Example(ids, targets))
    return out


def pack_rows(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """First-fit-decreasing bin packing of example indices into rows of ``capacity`` tokens.

    Example:
        >>> pack_rows([6, 3, 4, 2], 8)
        [[0, 3], [2, 1]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    rows: list[list[int]] = []
    free: list[int] = []
    for i in order:
        n = lengths[i]
        if n > capacity:
            raise ConfigError(f"example of {n} tokens does not fit a row of {capacity}; truncate it first")
        for r, room in enumerate(free):
            if n <= room:
                rows[r].append(i)
                free[r] -= n
                break
        else:
            rows.append([i])
            free.append(capacity - n)
    return rows


def balanced_bins(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Fewest bins of ``capacity`` tokens, filled evenly (longest item to the emptiest bin).

    Even bins keep every forward pass large: 36k tokens under a 28k budget become two passes
    of 18k rather than 28k + 8k.

    Example:
        >>> balanced_bins([5, 5, 4, 4, 2], 12)
        [[0, 2, 4], [1, 3]]
    """
    if not lengths:
        return []
    if max(lengths) > capacity:
        raise ConfigError(f"example of {max(lengths)} tokens does not fit a budget of {capacity}; truncate it first")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    n = max(1, -(-sum(lengths) // capacity))
    while True:
        bins: list[list[int]] = [[] for _ in range(n)]
        load = [0] * n
        for i in order:
            b = min(range(n), key=load.__getitem__)
            if load[b] + lengths[i] > capacity:
                break
            bins[b].append(i)
            load[b] += lengths[i]
        else:
            return [b for b in bins if b]
        n += 1


def plan_micro_batches(
    lengths: Sequence[int], budget: int, *, layout: str, max_length: int, packing: bool = True
) -> list[list[list[int]]]:
    """Split one step's examples into micro-batches of at most ``budget`` tokens.

    Returns a list of micro-batches; each is a list of rows; each row a list of example indices
    (in the ``varlen`` layout every micro-batch is a single row).

    Example:
        >>> plan_micro_batches([600, 500, 400, 300], 1024, layout="varlen", max_length=1024)
        [[[0, 3]], [[1, 2]]]
    """
    if layout == "varlen":
        return [[row] for row in balanced_bins(lengths, budget)]
    if packing:
        rows = pack_rows(lengths, max_length)
    else:
        rows = [[i] for i in sorted(range(len(lengths)), key=lambda i: -lengths[i])]
    # Rows are sorted longest first; a micro-batch is padded to its longest row.
    micro: list[list[list[int]]] = []
    for row in rows:
        row_len = sum(lengths[i] for i in row)
        if micro:
            cur = micro[-1]
            widest = max(sum(lengths[i] for i in r) for r in cur)
            if (len(cur) + 1) * max(widest, row_len) <= budget:
                cur.append(row)
                continue
        micro.append([row])
    return micro


@dataclass
class MicroBatch:
    """Host tensors of one forward pass (pinned when requested) and its counts.

    ``tensors`` holds ``input_ids``, ``position_ids`` and ``target_index``/``targets``
    (flat positions that have a target, and those targets); varlen batches add ``cu_seq_lens``.
    """

    tensors: dict[str, Any]
    max_seqlen: int
    tokens: int
    n_targets: int
    n_examples: int


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def collate(
    examples: Sequence[Example],
    rows: Sequence[Sequence[int]],
    *,
    layout: str,
    packing: bool = True,
    pad_multiple: int = 8,
    pad_to: int | None = None,
    pin: bool = False,
) -> MicroBatch:
    """Build the tensors of one micro-batch from its rows of example indices.

    Example:
        >>> ex = prepare_examples([{"input_ids": [1, 2, 3]}, {"input_ids": [4, 5]}], 8)
        >>> mb = collate(ex, [[0, 1]], layout="varlen", pad_multiple=1)
        >>> mb.tensors["position_ids"].tolist(), mb.tensors["cu_seq_lens"].tolist()
        ([[0, 1, 2, 0, 1]], [0, 3, 5])
    """
    import torch

    tokens = sum(examples[i].length for row in rows for i in row)
    if layout == "varlen":
        order = [i for row in rows for i in row]
        ids = np.concatenate([examples[i].input_ids for i in order])
        tgt = np.concatenate([examples[i].targets for i in order])
        seqlens = [examples[i].length for i in order]
        pos = np.concatenate([np.arange(n, dtype=np.int64) for n in seqlens])
        total = pad_to if pad_to is not None else _round_up(tokens, pad_multiple)
        if total < tokens:
            raise ValueError(f"pad_to={pad_to} is smaller than the micro-batch ({tokens} tokens)")
        if total > tokens:  # padding is its own segment: it attends only to itself
            pad = total - tokens
            ids = np.concatenate([ids, np.zeros(pad, dtype=np.int64)])
            tgt = np.concatenate([tgt, np.full(pad, IGNORE, dtype=np.int64)])
            pos = np.concatenate([pos, np.arange(pad, dtype=np.int64)])
            seqlens.append(pad)
        cu = np.zeros(len(seqlens) + 1, dtype=np.int32)
        cu[1:] = np.cumsum(seqlens)
        ids, pos, tgt = ids[None, :], pos[None, :], tgt[None, :]
        extra: dict[str, Any] = {"cu_seq_lens": torch.from_numpy(cu)}
        max_seqlen = max(seqlens)
    else:
        widths = [sum(examples[i].length for i in row) for row in rows]
        width = pad_to if pad_to is not None else _round_up(max(widths), pad_multiple)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        tgt = np.full((len(rows), width), IGNORE, dtype=np.int64)
        pos = np.zeros((len(rows), width), dtype=np.int64)
        for r, row in enumerate(rows):
            at = 0
            for i in row:
                ex = examples[i]
                ids[r, at : at + ex.length] = ex.input_ids
                tgt[r, at : at + ex.length] = ex.targets
                pos[r, at : at + ex.length] = np.arange(ex.length)
                at += ex.length
            if packing and len(row) > 1:
                pos[r, at:] = np.arange(width - at)  # padding restarts: a segment of its own
            else:
                pos[r, at:] = np.arange(at, width)  # one example: plain causal attention suffices
        extra = {}
        max_seqlen = width
    flat = tgt.reshape(-1)
    index = np.nonzero(flat != IGNORE)[0].astype(np.int64)
    tensors: dict[str, Any] = {
        "input_ids": torch.from_numpy(np.ascontiguousarray(ids)),
        "position_ids": torch.from_numpy(np.ascontiguousarray(pos)),
        "target_index": torch.from_numpy(index),
        "targets": torch.from_numpy(np.ascontiguousarray(flat[index])),
        **extra,
    }
    if pin:
        tensors = {k: v.pin_memory() for k, v in tensors.items()}
    return MicroBatch(
        tensors=tensors,
        max_seqlen=int(max_seqlen),
        tokens=int(tokens),
        n_targets=int(index.shape[0]),
        n_examples=sum(len(r) for r in rows),
    )
