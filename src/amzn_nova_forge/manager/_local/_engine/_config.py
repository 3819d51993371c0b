"""Training configuration and per-step metrics of the local runtime (no torch import here).

:class:`TrainConfig` is the one training configuration of the local runtime: ``_hparams``
builds it from a recipe's hyperparameters, the engine (SFT / CPT), DPO and RFT all read it.
:class:`StepMetrics` is what :func:`train_causal_lm` reports for every optimizer step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from amzn_nova_forge.errors import ConfigError

__all__ = ["StepMetrics", "TrainConfig"]

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
        adam_beta1 / adam_beta2 / adam_eps: AdamW's betas and epsilon (every method).
        constant_steps: Steps held at ``lr`` after warm-up, before the decay starts.
        save_steps: Write an intermediate checkpoint every this many steps (None: final only).
        shuffle: Reshuffle the examples every epoch (False: the dataset's order, every epoch).
        lora / lora_rank / lora_alpha / lora_dropout: Whether the job trains a LoRA adapter, and its shape.
        beta: DPO temperature.
        kl_loss_coef / number_generation / max_new_tokens / temperature / top_k / top_p: RFT
            rollouts (KL weight to the starting policy, completions per prompt, sampling).
        pad_token_id: The tokenizer's padding id (set when the model is loaded).
        extra: Local settings with no field here (kept for the job log).
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
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    constant_steps: int = 0
    save_steps: int | None = None
    shuffle: bool = True
    lora: bool = False
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.0
    beta: float = 0.1
    kl_loss_coef: float = 0.0
    number_generation: int = 4
    max_new_tokens: int = 32
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    pad_token_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def micro(self) -> int:
        """Rows per forward pass of the DPO / RFT loops: ``micro_batch_size`` (default 8), at most the global batch.

        Example:
            >>> TrainConfig(global_batch_size=4).micro, TrainConfig(global_batch_size=32, micro_batch_size=2).micro
            (4, 2)
        """
        return max(1, min(self.global_batch_size, self.micro_batch_size or 8))

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

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
        for name in ("adam_beta1", "adam_beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise bad(name, "must be in [0, 1)")
        if not self.adam_eps > 0:
            raise bad("adam_eps", "must be > 0")
        if self.constant_steps < 0:
            raise bad("constant_steps", "must be >= 0")
        if self.save_steps is not None and self.save_steps < 1:
            raise bad("save_steps", "must be >= 1 or None")


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
        total_steps: Optimizer steps the run will take.
    """

    step: int
    epoch: int
    loss: float
    lr: float
    tokens: int
    step_time_s: float
    tokens_per_s: float
    consumed_samples: int
    total_steps: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The metrics as a plain dict (JSON-safe)."""
        return asdict(self)
