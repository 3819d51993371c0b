"""Optimizer parameter groups: weight decay split and LoRA+ learning-rate ratios.

LoRA+ (Hayou et al., 2024) trains each adapter's ``B`` matrix with a learning rate
``ratio`` times that of its ``A`` matrix. Groups carry an ``lr_scale`` that the engine's
schedule multiplies into the base learning rate, so warm-up and decay apply to every group.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_param_groups", "is_lora_b"]


def is_lora_b(name: str) -> bool:
    """Whether parameter ``name`` is a LoRA ``B`` matrix (peft naming).

    Example:
        >>> is_lora_b("base_model.model.layers.0.self_attn.q_proj.lora_B.default.weight")
        True
        >>> is_lora_b("base_model.model.layers.0.self_attn.q_proj.lora_A.default.weight")
        False
    """
    return ".lora_B." in name or ".lora_embedding_B." in name or name.endswith(".lora_embedding_B")


def _no_decay(name: str, param: Any) -> bool:
    return param.ndim < 2 or "norm" in name.lower() or name.endswith(".bias")


def build_param_groups(
    model: Any, *, weight_decay: float, loraplus_lr_ratio: float | None = None
) -> list[dict[str, Any]]:
    """Trainable parameters of ``model`` split into AdamW groups.

    Args:
        model: A torch module (peft-wrapped or not).
        weight_decay: Decay for matrices; biases and norm weights get none.
        loraplus_lr_ratio: LoRA+ ratio for ``lora_B`` matrices (None: every group at ``lr_scale`` 1).

    Returns:
        Non-empty groups, each ``{"params", "weight_decay", "lr_scale", "name"}``.

    Example:
        >>> import torch
        >>> groups = build_param_groups(torch.nn.Linear(2, 2), weight_decay=0.1)
        >>> [(g["name"], g["weight_decay"]) for g in groups]
        [('decay', 0.1), ('no_decay', 0.0)]
    """
    buckets: dict[tuple[str, bool], list[Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        kind = "lora_B" if loraplus_lr_ratio is not None and is_lora_b(name) else "base"
        buckets.setdefault((kind, _no_decay(name, param)), []).append(param)
    groups = []
    for kind in ("base", "lora_B"):
        for no_decay in (False, True):
            params = buckets.get((kind, no_decay))
            if not params:
                continue
            label = ("decay", "no_decay")[no_decay] if kind == "base" else f"lora_B_{('decay', 'no_decay')[no_decay]}"
            groups.append(
                {
                    "params": params,
                    "weight_decay": 0.0 if no_decay else weight_decay,
                    "lr_scale": float(loraplus_lr_ratio or 1.0) if kind == "lora_B" else 1.0,
                    "name": label,
                }
            )
    return groups
