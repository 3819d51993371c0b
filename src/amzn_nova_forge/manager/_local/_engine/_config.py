"""Training configuration and per-step metrics of the local engine (no torch import here).

:class:`TrainConfig` is what the local runtime builds from a recipe's hyperparameters;
:class:`StepMetrics` is what :func:`train_causal_lm` reports for every optimizer step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from amzn_nova_forge.errors import ConfigError

__all__ = ["StepMetrics", "TrainConfig", "coerce_config"]

_SCHEDULES = ("cosine", "linear", "constant")
_ATTENTION = ("auto", "varlen", "flash_attention_2", "sdpa", "eager")


@dataclass
class TrainConfig:
    """How :func:`train_causal_lm` trains.

    Batch sizes count examples (samples), as the cloud recipes do: one optimizer step consumes
    ``global_batch_size`` examples whatever their lengths. The engine splits those examples into
    micro-batches of at most ``micro_batch_tokens`` tokens (token-budget batching), so short
    examples make large micro-batches and long ones small micro-batches.

    Attributes:
        max_epochs: Passes over the data.
        max_steps: Stop after this many optimizer steps (None: run ``max_epochs``).
        lr: Peak learning rate.
        warmup_steps: Linear warm-up steps from 0 to ``lr``.
        global_batch_size: Examples per optimizer step.
        micro_batch_size: Rows of ``max_length`` tokens per forward pass (None: sized automatically
            from the device memory; ignored when ``micro_batch_tokens`` is set).
        max_length: Longest example in tokens; longer examples are truncated.
        packing: Pack several examples into one sequence (attention and loss restricted to each
            example). Without packing each example is its own padded row.
        weight_decay: AdamW weight decay (not applied to biases and norms).
        grad_clip: Max global gradient norm (0 or None: no clipping).
        seed: Seed of the data order and of torch.
        device: "auto" (CUDA if available, else CPU), "cuda", "cuda:1", "cpu".
        dtype: "auto" (bf16 autocast on CUDA with fp32 trainable weights, fp32 on CPU), "bf16", "fp32".
        gradient_checkpointing: "auto" (only when the memory estimate needs it), True or False.
        compile: ``torch.compile`` each decoder layer (True: inductor; a string names another
            backend, e.g. "aot_eager" to check graph capture without code generation).
        loraplus_lr_ratio: LoRA+ ratio: LoRA ``B`` matrices train at ``lr * ratio`` (None: off).
        micro_batch_tokens: Token budget of one forward pass (None: automatic).
        lr_schedule: "cosine", "linear" or "constant" after warm-up.
        min_lr: Floor of the decaying schedules.
        log_every: Steps between host syncs that read the loss (None: 1 on CPU, 10 on CUDA);
            ``on_step`` is still called once per step, in bursts.
        attention: "auto" or a forced kernel ("varlen", "flash_attention_2", "sdpa", "eager").
        liger: Use Liger kernels when installed ("auto"), always (True) or never (False).
        fused_loss: Compute the loss with the chunked fused linear cross-entropy (only the
            positions that have a label reach the LM head; logits never fully materialised).
    """

    max_epochs: int = 1
    max_steps: int | None = None
    lr: float = 1e-4
    warmup_steps: int = 0
    global_batch_size: int = 8
    micro_batch_size: int | None = None
    max_length: int = 2048
    packing: bool = True
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    gradient_checkpointing: bool | str = "auto"
    compile: bool | str = False
    loraplus_lr_ratio: float | None = None
    micro_batch_tokens: int | None = None
    lr_schedule: str = "cosine"
    min_lr: float = 0.0
    log_every: int | None = None
    attention: str = "auto"
    liger: bool | str = "auto"
    fused_loss: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""

        def bad(field: str, why: str) -> ConfigError:
            return ConfigError(f"TrainConfig.{field}={getattr(self, field)!r}: {why}")

        if self.max_epochs < 1:
            raise bad("max_epochs", "must be >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise bad("max_steps", "must be >= 1 or None")
        if not self.lr > 0:
            raise bad("lr", "must be > 0")
        if self.warmup_steps < 0:
            raise bad("warmup_steps", "must be >= 0")
        if self.global_batch_size < 1:
            raise bad("global_batch_size", "must be >= 1")
        if self.micro_batch_size is not None and self.micro_batch_size < 1:
            raise bad("micro_batch_size", "must be >= 1 or None")
        if self.max_length < 2:
            raise bad("max_length", "must be >= 2")
        if self.micro_batch_tokens is not None and self.micro_batch_tokens < self.max_length:
            raise bad("micro_batch_tokens", f"must be >= max_length ({self.max_length}) so any example fits")
        if self.lr_schedule not in _SCHEDULES:
            raise bad("lr_schedule", f"choose one of {_SCHEDULES}")
        if self.dtype not in ("auto", "bf16", "fp32"):
            raise bad("dtype", "choose 'auto', 'bf16' or 'fp32'")
        if self.gradient_checkpointing not in ("auto", True, False):
            raise bad("gradient_checkpointing", "choose 'auto', True or False")
        if self.attention not in _ATTENTION:
            raise bad("attention", f"choose one of {_ATTENTION}")
        if self.loraplus_lr_ratio is not None and not self.loraplus_lr_ratio > 0:
            raise bad("loraplus_lr_ratio", "must be > 0 or None")
        if self.log_every is not None and self.log_every < 1:
            raise bad("log_every", "must be >= 1 or None")

    @classmethod
    def from_object(cls, other: Any) -> TrainConfig:
        """Read the fields this class shares with another config object (e.g. ``_hparams.TrainConfig``).

        Zero ``max_steps``/``micro_batch_size`` mean "unset"; ``dtype`` accepts torch names
        ("float32", "bfloat16"); a LoRA+ ratio of 1 means off.

        Example:
            >>> from types import SimpleNamespace
            >>> c = TrainConfig.from_object(SimpleNamespace(max_steps=0, dtype="float32", lr=0.5, loraplus_lr_ratio=1.0))
            >>> c.max_steps, c.dtype, c.lr, c.loraplus_lr_ratio
            (None, 'fp32', 0.5, None)
        """
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if hasattr(other, name):
                values[name] = getattr(other, name)
        for name in ("max_steps", "micro_batch_size"):
            if not values.get(name):
                values[name] = None
        dtype = str(values.get("dtype", "auto")).replace("torch.", "")
        values["dtype"] = {"float32": "fp32", "float": "fp32", "bfloat16": "bf16"}.get(dtype, dtype)
        ratio = values.get("loraplus_lr_ratio")
        if ratio is not None and float(ratio) == 1.0:
            values["loraplus_lr_ratio"] = None
        return cls(**values)


def coerce_config(cfg: Any) -> tuple[TrainConfig, bool]:
    """``(engine config, foreign)``: ``foreign`` is True when ``cfg`` was another config type."""
    if isinstance(cfg, TrainConfig):
        return cfg, False
    return TrainConfig.from_object(cfg), True


@dataclass(frozen=True)
class StepMetrics:
    """What one optimizer step did.

    Attributes:
        step: 1-based optimizer step.
        epoch: 0-based epoch the step belongs to.
        loss: Mean cross-entropy over the step's labelled tokens.
        lr: Learning rate used by the step (base parameter group).
        tokens: Input tokens processed by the step (padding excluded).
        step_time_s: Wall time of the step (averaged over a logging interval on CUDA).
        tokens_per_s: ``tokens / step_time_s``.
        consumed_samples: Examples consumed since the start, this step included.
    """

    step: int
    epoch: int
    loss: float
    lr: float
    tokens: int
    step_time_s: float
    tokens_per_s: float
    consumed_samples: int

    def to_dict(self) -> dict[str, Any]:
        """The metrics as a plain dict (JSON-safe)."""
        return asdict(self)
