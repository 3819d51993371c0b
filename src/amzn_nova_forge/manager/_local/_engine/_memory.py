"""Micro-batch token budget and gradient checkpointing from a device-memory estimate.

The estimate is deliberately coarse (it only has to pick an order of magnitude); the training
loop backs it with a retry: an out-of-memory error lowers the budget by a quarter and,
once the budget is a single row, turns gradient checkpointing on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["MemoryPlan", "activation_bytes_per_token", "plan_memory", "smaller_budget", "state_bytes"]

logger = logging.getLogger(__name__)

MAX_AUTO_TOKENS = 32768
"""Largest automatic micro-batch: past it bigger matmuls stop paying."""


@dataclass(frozen=True)
class MemoryPlan:
    """``budget`` tokens per forward pass, with or without gradient ``checkpointing``."""

    budget: int
    checkpointing: bool


def state_bytes(model: Any, *, autocast_copies: bool = True) -> int:
    """Weights, gradients, AdamW moments and (under bf16 autocast) the bf16 copies of fp32 weights."""
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel() * p.element_size()
        if p.requires_grad:
            total += p.numel() * 12  # fp32 grad + exp_avg + exp_avg_sq
            if autocast_copies and p.element_size() == 4:
                total += p.numel() * 2  # autocast's bf16 copy, kept for backward
    return total


def smaller_budget(budget: int, max_length: int) -> int:
    """The next budget to try after running out of memory: about 25 % less, whole rows.

    Example:
        >>> smaller_budget(32768, 2048), smaller_budget(4096, 2048), smaller_budget(2048, 2048)
        (24576, 2048, 2048)
    """
    lower = int(budget * 0.75) // max_length * max_length
    return max(max_length, min(lower, budget - max_length))


def activation_bytes_per_token(config: Any, *, checkpointing: bool, lora: bool) -> float:
    """Activation bytes kept for backward per token (bf16 autocast, fp32 residual stream)."""
    h = int(getattr(config, "hidden_size", 1024))
    layers = int(getattr(config, "num_hidden_layers", 24))
    ffn = int(getattr(config, "intermediate_size", 4 * h))
    heads = int(getattr(config, "num_attention_heads", 16))
    kv = int(getattr(config, "num_key_value_heads", heads) or heads)
    hd = int(getattr(config, "head_dim", None) or h // heads)
    q, k = heads * hd, kv * hd
    if checkpointing:
        per_layer = 4.0 * h  # each layer's input; one layer is recomputed at a time
        extra_layer = 20.0 * h + 12.0 * q + 8.0 * k + 12.0 * ffn
        return layers * per_layer + extra_layer
    per_layer = 20.0 * h + 12.0 * q + 8.0 * k + 12.0 * ffn
    if lora:
        per_layer *= 1.2
    return layers * per_layer


def plan_memory(
    model: Any,
    *,
    device: Any,
    max_length: int,
    requested_tokens: int | None,
    checkpointing: bool | str,
    lora: bool,
) -> MemoryPlan:
    """Choose the micro-batch token budget and whether to checkpoint.

    On CPU (or with an explicit budget) nothing is estimated: the budget is the request (or
    four rows) and checkpointing is what was asked ("auto" means off).
    """
    import torch

    explicit = checkpointing if isinstance(checkpointing, bool) else None
    dev = torch.device(device)
    if requested_tokens is not None or dev.type != "cuda":
        budget = requested_tokens or 4 * max_length
        return MemoryPlan(budget=max(budget, max_length), checkpointing=bool(explicit))
    free, _total = torch.cuda.mem_get_info(dev)
    usable = 0.88 * free - state_bytes(model) - 3 * 2**30  # loss chunk, workspace, fragmentation
    config = getattr(model, "config", None)
    options = [False, True] if explicit is None else [explicit]
    for ckpt in options:
        per_token = activation_bytes_per_token(config, checkpointing=ckpt, lora=lora)
        fit = int(usable // per_token) if usable > 0 else 0
        if fit >= max_length or ckpt is options[-1]:
            budget = max(max_length, min(MAX_AUTO_TOKENS, fit) // max_length * max_length)
            logger.info(
                "memory plan: %.1f GiB free, state %.1f GiB, %.0f KiB/token -> %d tokens per micro-batch%s",
                free / 2**30,
                state_bytes(model) / 2**30,
                per_token / 1024,
                budget,
                ", gradient checkpointing" if ckpt else "",
            )
            return MemoryPlan(budget=budget, checkpointing=ckpt)
    raise AssertionError("unreachable")
