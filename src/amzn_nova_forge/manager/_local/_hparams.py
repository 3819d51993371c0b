"""Training settings of a local job, resolved from the recipe and its flat hyperparameters (no torch).

The recipe builder hands the runtime ``JobConfig.hyperparameters`` (flat override keys
with their effective values); keys it did not list are looked up by leaf name in the
recipe YAML (``training_config.model.optim.lr`` → ``lr``). Several spellings exist
across recipe families (``lr`` / ``learning_rate``, ``max_length`` /
``max_context_length`` …); :data:`ALIASES` maps them to one field of the one
:class:`~amzn_nova_forge.manager._local._engine.TrainConfig`.

Every hyperparameter the runtime receives is accounted for: applied (:data:`ALIASES`),
accepted only at the value the local loops implement (:data:`FIXED`, anything else raises
:class:`~amzn_nova_forge.errors.ConfigError`), or listed in :data:`SERVICE_ONLY` (settings of
the service's infrastructure — concurrency, validation cadence, retries — with no local
counterpart; the job log names them). An unknown key raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._engine._config import TrainConfig

__all__ = ["ALIASES", "FIXED", "SERVICE_ONLY", "TrainConfig", "find_in_recipe", "resolve_config", "unused_keys"]

#: TrainConfig field -> accepted hyperparameter / recipe leaf names, in priority order.
ALIASES: dict[str, tuple[str, ...]] = {
    "lr": ("lr", "learning_rate"),
    "min_lr": ("min_lr",),
    "warmup_steps": ("warmup_steps",),
    "constant_steps": ("constant_steps",),
    "weight_decay": ("weight_decay",),
    "adam_beta1": ("adam_beta1",),
    "adam_beta2": ("adam_beta2",),
    "adam_eps": ("adam_eps", "eps"),
    "grad_clip": ("grad_clip_norm", "grad_clip"),
    "max_epochs": ("max_epochs", "epochs", "epoch_count"),
    "max_steps": ("max_steps",),
    "save_steps": ("save_steps", "save_every"),
    "global_batch_size": ("global_batch_size", "batch_size"),
    "max_length": ("max_length", "max_context_length", "max_seq_length", "max_sequence_length"),
    "lora_alpha": ("alpha", "lora_alpha"),
    "lora_dropout": ("adapter_dropout", "lora_dropout"),
    "loraplus_lr_ratio": ("loraplus_lr_ratio", "lora_plus_lr_ratio", "learning_rate_ratio"),
    "lora_rank": ("lora_rank", "rank", "lora_r"),
    "beta": ("beta", "adam_beta", "dpo_beta"),
    "kl_loss_coef": ("kl_loss_coef",),
    "number_generation": ("number_generation", "num_generations", "group_size"),
    "max_new_tokens": ("max_new_tokens", "max_tokens"),
    "temperature": ("temperature",),
    "top_k": ("top_k",),
    "top_p": ("top_p",),
    "seed": ("set_random_seed", "seed"),
    "shuffle": ("shuffle",),
}

#: Hyperparameters the local loops implement at one value only: key -> (accepted values, why).
FIXED: dict[str, tuple[tuple[Any, ...], str]] = {
    "hidden_dropout": ((0, 0.0, None), "the local runtime trains without hidden-state dropout"),
    "attention_dropout": ((0, 0.0, None), "the local runtime trains without attention dropout"),
    "ffn_dropout": ((0, 0.0, None), "the local runtime trains without feed-forward dropout"),
    "adam_w_mode": ((True, None), "the local optimizer is AdamW (decoupled weight decay)"),
    "loss_scale": ((None, 1, 1.0), "the local runtime does not scale the loss"),
}

#: Settings of the service's infrastructure with no local counterpart (named in the job log).
SERVICE_ONLY = frozenset(
    {
        "lambda_concurrency_limit", "max_concurrency", "rollout_tps", "max_retries", "timeout",
        "save_top_k", "val_check_interval", "val_every", "val_at_start", "val_batch_size", "val_group_size",
        "val_random_sample", "limit_val_batches", "eval_interval", "refit_freq", "max_steps_off_policy",
        "age_tolerance", "training_batch_size", "reward_lambda_arn", "type", "fine_tuned_model",
        "top_logprobs", "pass_k_values", "success_threshold", "max_filter_rate", "max_ngram_size",
        "max_repeated_tokens", "max_prompt_length", "reasoning_effort", "reasoning_enabled", "advantage_method",
        "advantage_normalization", "clip_high_threshold", "clip_low_threshold", "clip_ratio_high",
        "ent_coeff", "gamma", "loss_fn",
    }
)  # fmt: skip


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


_INT = frozenset(
    {"max_epochs", "max_steps", "warmup_steps", "constant_steps", "global_batch_size", "micro_batch_size",
     "max_length", "lora_rank", "number_generation", "max_new_tokens", "top_k", "seed", "save_steps",
     "pad_token_id", "micro_batch_tokens", "log_every"}
)  # fmt: skip
_FLOAT = frozenset(
    {"lr", "min_lr", "weight_decay", "adam_beta1", "adam_beta2", "adam_eps", "grad_clip", "lora_alpha",
     "lora_dropout", "loraplus_lr_ratio", "beta", "kl_loss_coef", "temperature", "top_p"}
)  # fmt: skip
_BOOL = frozenset({"lora", "packing", "fused_loss", "shuffle"})
#: Fields where 0 means "not set".
_ZERO_IS_UNSET = frozenset({"max_steps", "micro_batch_size", "save_steps", "micro_batch_tokens", "grad_clip"})
_DTYPES = {"float32": "fp32", "float": "fp32", "fp32": "fp32", "bfloat16": "bf16", "bf16": "bf16", "auto": "auto"}
_FIELDS = frozenset(f.name for f in fields(TrainConfig))


def _coerce(name: str, value: Any, default: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return default
    try:
        if name in _BOOL:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if name in _INT:
            number: Any = int(float(value))
        elif name in _FLOAT:
            number = float(value)
        else:
            return value
    except (TypeError, ValueError) as e:
        raise ConfigError(f"Training setting {name}={value!r} is not a number.") from e
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(f"Training setting {name}={value!r} must be a finite number.")
    return None if name in _ZERO_IS_UNSET and number == 0 else number


def _check_keys(hp: Mapping[str, Any]) -> None:
    """Refuse a hyperparameter the local runtime does not implement, or implements at another value."""
    applied = {k for keys in ALIASES.values() for k in keys} | {"betas"}
    for key, value in hp.items():
        if key in applied or key in SERVICE_ONLY:
            continue
        if key in FIXED:
            allowed, why = FIXED[key]
            if value not in allowed:
                raise ConfigError(
                    f"Hyperparameter {key}={value!r} is not supported locally: {why}. "
                    f"Use {allowed[0]!r} for a local rehearsal, or run the job on SageMaker."
                )
            continue
        raise ConfigError(
            f"Hyperparameter {key!r}={value!r} is not known to the local runtime, which would ignore it. "
            "Remove it from the overrides, or run the job on SageMaker."
        )


def unused_keys(hyperparameters: Mapping[str, Any] | None) -> list[str]:
    """The :data:`SERVICE_ONLY` keys among ``hyperparameters`` (no local effect; the job log names them)."""
    return sorted(k for k in (hyperparameters or {}) if k in SERVICE_ONLY)


def resolve_config(
    hyperparameters: Mapping[str, Any] | None,
    recipe: Mapping[str, Any] | None,
    *,
    method_is_lora: bool,
    overrides: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Build the :class:`TrainConfig`: ``overrides`` > ``hyperparameters`` > recipe leaves > defaults.

    Args:
        hyperparameters: ``JobConfig.hyperparameters`` (flat).
        recipe: The parsed recipe YAML.
        method_is_lora: Whether the method is a LoRA variant (a recipe ``peft_scheme`` of
            ``null`` also turns LoRA off).
        overrides: Local-runtime settings (``LocalRuntimeManager`` knobs), e.g. ``micro_batch_size``.

    Raises:
        ConfigError: A hyperparameter the local runtime cannot honour (unknown key, a value the
            local loops do not implement, a non-number, or an out-of-range setting).

    Example:
        >>> cfg = resolve_config({"lr": 1e-4, "adam_beta2": 0.95, "save_steps": 50}, {}, method_is_lora=True)
        >>> cfg.lr, cfg.adam_beta2, cfg.save_steps, cfg.lora
        (0.0001, 0.95, 50, True)
    """
    hp = dict(hyperparameters or {})
    _check_keys(hp)
    values: dict[str, Any] = {"lora": method_is_lora, "max_length": 1024, "packing": False, "device": "cpu"}
    rec = recipe or {}
    defaults = TrainConfig()
    for name, keys in ALIASES.items():
        value: Any = None
        for k in keys:
            if k in hp and hp[k] is not None:
                value = hp[k]
                break
        if value is None:
            value = find_in_recipe(rec, keys)
        if value is not None:
            values[name] = _coerce(name, value, getattr(defaults, name))
    betas = hp.get("betas") if hp.get("betas") is not None else find_in_recipe(rec, ("betas",))
    if betas is not None:
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise ConfigError(f"Hyperparameter betas={betas!r} must be a list of two numbers [beta1, beta2].")
        for name, v in zip(("adam_beta1", "adam_beta2"), betas):
            if not any(k in hp for k in ALIASES[name]):
                values[name] = _coerce(name, v, None)
    scheme = find_in_recipe(rec, ("peft_scheme",))
    if scheme is not None and method_is_lora and str(scheme).lower() in ("null", "none", ""):
        values["lora"] = False
    extra: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in _FIELDS and key != "extra":
            values[key] = _coerce(key, value, getattr(defaults, key))
        else:
            extra[key] = value
    if "dtype" in values:
        dtype = str(values["dtype"]).replace("torch.", "")
        if dtype not in _DTYPES:
            raise ConfigError(f"dtype={values['dtype']!r} is not supported locally; choose 'auto', 'bf16' or 'fp32'.")
        values["dtype"] = _DTYPES[dtype]
    values["max_epochs"] = max(1, int(values.get("max_epochs", defaults.max_epochs)))
    values["global_batch_size"] = max(1, int(values.get("global_batch_size", defaults.global_batch_size)))
    values["max_length"] = max(16, int(values["max_length"]))
    ratio = values.get("loraplus_lr_ratio")
    values["loraplus_lr_ratio"] = float(ratio) if ratio is not None and float(ratio) > 1.0 else None
    if values.get("min_lr") is not None and values.get("lr") is not None:
        values["min_lr"] = min(values["min_lr"], values["lr"])
    return TrainConfig(**values, extra=extra)
