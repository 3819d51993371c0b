"""The plain PyTorch training loop for SFT and CPT, and helpers shared with DPO and RFT.

Used when the fast engine (``_engine``) is not importable. Same signature as the engine:
``train_causal_lm(model, examples, cfg, on_step) -> dict``. One optimizer step consumes
``cfg.global_batch_size`` examples (gradient accumulation over ``cfg.micro`` chunks); the
loss is the mean over all unmasked tokens of the global batch.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from amzn_nova_forge.manager._local._hparams import TrainConfig, lr_at, param_groups

__all__ = ["batches", "make_optimizer", "pad_batch", "sequence_logps", "total_steps", "train_causal_lm"]

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


def make_optimizer(model: Any, cfg: TrainConfig) -> Any:
    import torch

    groups = param_groups(model, cfg)
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), eps=1e-8)


def set_lr(optimizer: Any, lr: float) -> None:
    for g in optimizer.param_groups:
        g["lr"] = lr * g.get("lr_scale", 1.0)


def optimizer_step(model: Any, optimizer: Any, cfg: TrainConfig) -> None:
    import torch

    if cfg.grad_clip and cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def train_causal_lm(
    model: Any, examples: Sequence[dict[str, list[int]]], cfg: TrainConfig, on_step: OnStep
) -> dict[str, Any]:
    """Train ``model`` on ``examples`` (next-token loss on labelled tokens). Returns a summary dict."""
    import torch.nn.functional as F

    device = next(model.parameters()).device
    examples = [e for e in examples if any(t != IGNORE for t in e["labels"][1:])]
    if not examples:
        from amzn_nova_forge.errors import DataPrepError

        raise DataPrepError("No trainable tokens: every example is empty or fully masked (check max_length).")
    steps = total_steps(len(examples), cfg)
    optimizer = make_optimizer(model, cfg)
    model.train()
    consumed = 0
    last_loss = float("nan")
    done = 0
    for step, (epoch, idx) in enumerate(batches(len(examples), cfg)):
        t0 = time.perf_counter()
        lr = lr_at(step, steps, cfg)
        set_lr(optimizer, lr)
        rows = [examples[i] for i in idx]
        n_tokens = sum(sum(1 for t in r["labels"][1:] if t != IGNORE) for r in rows)
        loss_sum = 0.0
        for start in range(0, len(rows), cfg.micro):
            batch = pad_batch(rows[start : start + cfg.micro], cfg.pad_token_id, device)
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            loss = F.cross_entropy(
                logits[:, :-1].float().reshape(-1, logits.size(-1)),
                batch["labels"][:, 1:].reshape(-1),
                ignore_index=IGNORE,
                reduction="sum",
            ) / max(n_tokens, 1)
            loss.backward()
            loss_sum += float(loss.detach())
        optimizer_step(model, optimizer, cfg)
        consumed += len(rows)
        last_loss = loss_sum
        done = step + 1
        stop = on_step(
            {
                "step": step,
                "epoch": epoch,
                "loss": loss_sum,
                "lr": lr,
                "consumed_samples": consumed,
                "step_time": time.perf_counter() - t0,
                "total_steps": steps,
            }
        )
        if stop:
            break
    model.eval()
    return {"steps": done, "final_loss": last_loss, "consumed_samples": consumed}
