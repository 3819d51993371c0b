"""Parameter counts, training FLOPs per token and model FLOPs utilisation (MFU).

Convention (attention score FLOPs left out, as in the usual ``6·N`` rule):

* forward: ``2·N`` FLOPs per token, N = all parameters (adapters included);
* backward, gradients of activations: ``2·N`` (they flow through frozen layers too);
* backward, gradients of weights: ``2·N_trainable``.

So full fine-tuning costs ``6·N`` per token and LoRA ``4·N + 2·N_lora``. The headline MFU of
the benchmark uses ``6·N`` for both (the issue's definition); :func:`train_flops_per_token`
gives the FLOPs LoRA really needs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["H100_BF16_DENSE_PEAK", "count_params", "mfu", "train_flops_per_token"]

H100_BF16_DENSE_PEAK = 989e12
"""NVIDIA H100 SXM dense bf16 tensor-core peak, FLOP/s."""


def count_params(model: Any) -> tuple[int, int]:
    """``(all parameters, trainable parameters)``, each shared tensor counted once."""
    seen: set[int] = set()
    total = trainable = 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return total, trainable


def train_flops_per_token(n_params: int, n_trainable: int) -> float:
    """Training FLOPs per token: ``4·N + 2·N_trainable`` (``6·N`` when everything trains).

    Example:
        >>> train_flops_per_token(100, 100), train_flops_per_token(100, 1)
        (600.0, 402.0)
    """
    return 4.0 * n_params + 2.0 * n_trainable


def mfu(
    tokens_per_s: float, n_params: int, *, peak: float = H100_BF16_DENSE_PEAK, flops_per_token: float | None = None
) -> float:
    """Model FLOPs utilisation: ``flops_per_token · tokens/s ÷ peak`` (``flops_per_token`` defaults to ``6·N``).

    Example:
        >>> round(mfu(50_000, 1_543_714_304), 3)
        0.468
    """
    per_token = 6.0 * n_params if flops_per_token is None else flops_per_token
    return per_token * tokens_per_s / peak
