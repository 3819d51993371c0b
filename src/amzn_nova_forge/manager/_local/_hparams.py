"""Training settings of a local job, resolved from the recipe and its flat hyperparameters (no torch).

The recipe builder hands the runtime ``JobConfig.hyperparameters`` (flat override keys
with their effective values); keys it did not list are looked up by leaf name in the
recipe YAML (``training_config.model.optim.lr`` → ``lr``). Several spellings exist
across recipe families (``lr`` / ``learning_rate``, ``max_length`` /
``max_context_length`` …); :data:`ALIASES` maps them to one field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["ALIASES", "TrainConfig", "find_in_recipe", "lr_at", "param_groups", "resolve_config"]

#: TrainConfig field -> accepted hyperparameter / recipe leaf names, in priority order.
ALIASES: dict[str, tuple[str, ...]] = {
    "lr": ("lr", "learning_rate"),
    "min_lr": ("min_lr",),
    "warmup_steps": ("warmup_steps",),
    "weight_decay": ("weight_decay",),
    "max_epochs": ("max_epochs", "epochs", "epoch_count"),
    "max_steps": ("max_steps",),
    "global_batch_size": ("global_batch_size", "batch_size"),
    "max_length": ("max_length", "max_context_length", "max_seq_length"),
    "lora_alpha": ("alpha", "lora_alpha"),
    "lora_dropout": ("adapter_dropout", "lora_dropout"),
    "loraplus_lr_ratio": ("loraplus_lr_ratio", "lora_plus_lr_ratio", "learning_rate_ratio"),
    "lora_rank": ("lora_rank", "rank", "lora_r"),
    "beta": ("beta", "adam_beta", "dpo_beta"),
    "kl_loss_coef": ("kl_loss_coef",),
    "number_generation": ("number_generation", "num_generations"),
    "max_new_tokens": ("max_new_tokens",),
    "temperature": ("temperature",),
    "top_k": ("top_k",),
    "top_p": ("top_p",),
}


@dataclass
class TrainConfig:
    """Everything a local training loop needs (the ``cfg`` of the engine seam).

    Attributes:
        lr: Peak learning rate. ``min_lr``: floor of the cosine decay.
        max_steps: Optimizer steps; 0 means ``max_epochs`` passes over the data.
        global_batch_size: Samples per optimizer step (gradient accumulation over
            ``micro_batch_size`` chunks).
        max_length: Token budget per sample (longer samples are truncated).
        lora_rank / lora_alpha / lora_dropout / loraplus_lr_ratio: LoRA settings (``peft``).
        beta: DPO temperature. kl_loss_coef, number_generation, max_new_tokens, temperature,
            top_k, top_p: RFT rollout settings.
    """

    lr: float = 1e-4
    min_lr: float = 0.0
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_epochs: int = 1
    max_steps: int = 0
    global_batch_size: int = 8
    micro_batch_size: int = 0  # 0 = min(global_batch_size, 8)
    max_length: int = 1024
    lora: bool = True
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.0
    loraplus_lr_ratio: float = 1.0
    beta: float = 0.1
    kl_loss_coef: float = 0.0
    number_generation: int = 4
    max_new_tokens: int = 32
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    grad_clip: float = 1.0
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    pad_token_id: int = 0
    packing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def micro(self) -> int:
        """Effective micro batch size."""
        return max(1, min(self.global_batch_size, self.micro_batch_size or 8))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def find_in_recipe(recipe: Any, names: Iterable[str]) -> Any:
    """First value found for any of ``names`` as a leaf key anywhere in ``recipe`` (depth-first)."""
    wanted = tuple(names)
    for name in wanted:
        found = _find(recipe, name)
        if found is not _MISSING:
            return found
    return None


_MISSING = object()


def _find(node: Any, key: str) -> Any:
    if isinstance(node, Mapping):
        if key in node and not isinstance(node[key], Mapping):
            return node[key]
        for value in node.values():
            got = _find(value, key)
            if got is not _MISSING:
                return got
    elif isinstance(node, list):
        for value in node:
            got = _find(value, key)
            if got is not _MISSING:
                return got
    return _MISSING


def _coerce(name: str, value: Any, default: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return default
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if isinstance(default, int) and not isinstance(default, bool):
        return int(float(value))
    if isinstance(default, float):
        return float(value)
    return value


def resolve_config(
    hyperparameters: Mapping[str, Any] | None,
    recipe: Mapping[str, Any] | None,
    *,
    method_is_lora: bool,
    overrides: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Build a :class:`TrainConfig`: ``overrides`` > ``hyperparameters`` > recipe leaves > defaults.

    Args:
        hyperparameters: ``JobConfig.hyperparameters`` (flat).
        recipe: The parsed recipe YAML.
        method_is_lora: Whether the method is a LoRA variant (a recipe ``peft_scheme`` of
            ``null`` also turns LoRA off).
        overrides: Local-runtime settings (``LocalRuntimeManager`` knobs), e.g. ``micro_batch_size``.
    """
    cfg = TrainConfig(lora=method_is_lora)
    hp = dict(hyperparameters or {})
    rec = recipe or {}
    for name, keys in ALIASES.items():
        value: Any = None
        for k in keys:
            if k in hp and hp[k] is not None:
                value = hp[k]
                break
        if value is None:
            value = find_in_recipe(rec, keys)
        setattr(cfg, name, _coerce(name, value, getattr(cfg, name)))
    scheme = find_in_recipe(rec, ("peft_scheme",))
    if scheme is not None and method_is_lora and str(scheme).lower() in ("null", "none", ""):
        cfg.lora = False
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if hasattr(cfg, key) and key != "extra":
            setattr(cfg, key, _coerce(key, value, getattr(cfg, key)))
        else:
            cfg.extra[key] = value
    cfg.max_epochs = max(1, cfg.max_epochs)
    cfg.global_batch_size = max(1, cfg.global_batch_size)
    cfg.max_length = max(16, cfg.max_length)
    cfg.loraplus_lr_ratio = max(cfg.loraplus_lr_ratio, 1.0) if cfg.loraplus_lr_ratio else 1.0
    return cfg


def lr_at(step: int, total_steps: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``cfg.lr`` then cosine decay to ``cfg.min_lr`` (0-based ``step``)."""
    warm = min(cfg.warmup_steps, max(total_steps - 1, 0))
    if warm and step < warm:
        return cfg.lr * (step + 1) / (warm + 1)
    span = max(total_steps - warm, 1)
    progress = min(max(step - warm, 0) / span, 1.0)
    floor = min(cfg.min_lr, cfg.lr)
    return floor + (cfg.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def param_groups(model: Any, cfg: TrainConfig) -> list[dict[str, Any]]:
    """AdamW parameter groups; with LoRA+ (``loraplus_lr_ratio`` > 1) ``lora_B`` weights train at lr × ratio.

    Each group carries ``lr_scale`` so a scheduler can set ``group["lr"] = lr × lr_scale``.
    """
    base: list[Any] = []
    fast: list[Any] = []
    no_decay: list[Any] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if cfg.lora and cfg.loraplus_lr_ratio > 1.0 and "lora_B" in name:
            fast.append(p)
        elif p.ndim < 2:
            no_decay.append(p)
        else:
            base.append(p)
    groups = [
        {"params": base, "weight_decay": cfg.weight_decay, "lr_scale": 1.0},
        {"params": no_decay, "weight_decay": 0.0, "lr_scale": 1.0},
        {"params": fast, "weight_decay": cfg.weight_decay, "lr_scale": cfg.loraplus_lr_ratio},
    ]
    return [g for g in groups if g["params"]]
