"""Batching helpers of the DPO and RFT loops (padding, step order, sequence log-probs).

SFT and CPT train on the engine (``_engine``); DPO and RFT take their optimizer
(:func:`~amzn_nova_forge.manager._local._engine._loop.make_optimizer`) and learning-rate
schedule (:func:`~amzn_nova_forge.manager._local._engine._loop.lr_at`) from it too, so every
method shares one AdamW setting and one schedule.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from amzn_nova_forge.manager._local._engine._config import TrainConfig

__all__ = ["IGNORE", "OnStep", "batches", "optimizer_step", "pad_batch", "sequence_logps", "total_steps"]

IGNORE = -100
OnStep = Callable[[dict[str, Any]], Any]


def total_steps(n_examples: int, cfg: TrainConfig) -> int:
    """Optimizer steps the job will run: ``max_steps`` or epochs × ceil(n / global batch)."""
    if cfg.max_steps and cfg.max_steps > 0:
        return int(cfg.max_steps)
    return max(1, math.ceil(n_examples / cfg.global_batch_size)) * cfg.max_epochs


def batches(n: int, cfg: TrainConfig) -> Iterator[tuple[int, list[int]]]:
    """Yield ``(epoch, indices)`` for each optimizer step; data is reshuffled every epoch."""
    rng = random.Random(cfg.seed)
    order: list[int] = []
    epoch = -1
    pos = 0
    steps = total_steps(n, cfg)
    for _ in range(steps):
        batch: list[int] = []
        while len(batch) < min(cfg.global_batch_size, n) or not batch:
            if pos >= len(order):
                order = list(range(n))
                if cfg.shuffle:
                    rng.shuffle(order)
                pos = 0
                epoch += 1
            take = min(cfg.global_batch_size - len(batch), len(order) - pos)
            batch.extend(order[pos : pos + take])
            pos += take
            if len(batch) >= cfg.global_batch_size:
                break
        yield max(epoch, 0), batch


def pad_batch(rows: Sequence[dict[str, list[int]]], pad_id: int, device: Any) -> dict[str, Any]:
    """Right-pad ``input_ids``/``labels`` into tensors with an attention mask."""
    import torch

    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[i, :n] = torch.tensor(r["input_ids"], dtype=torch.long)
        labels[i, :n] = torch.tensor(r["labels"], dtype=torch.long)
        mask[i, :n] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


def sequence_logps(model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
    """Per-row sum of log-probs of the labelled tokens and the count of those tokens."""
    import torch

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    keep = labels != IGNORE
    safe = labels.clamp(min=0)
    logp = torch.log_softmax(logits, dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return (logp * keep).sum(-1), keep.sum(-1)


def optimizer_step(model: Any, optimizer: Any, cfg: TrainConfig) -> None:
    """Clip the gradient norm to ``cfg.grad_clip`` (when set), step, and clear the gradients."""
    import torch

    if cfg.grad_clip and cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
