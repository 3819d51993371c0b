"""The local runtime's training engine: fast SFT / CPT of a Hugging Face causal LM.

Importing this package is cheap (no torch); :func:`train_causal_lm` imports torch when called.
What makes it fast on a GPU: bf16 autocast, sequence packing with per-example attention
(flash varlen kernels, or a block-diagonal SDPA mask), token-budget micro-batches sized from
device memory, a fused chunked LM-head cross-entropy over the labelled positions only, fused
AdamW, gradient checkpointing only when memory needs it, a background data thread with pinned
memory, and one host sync per logging interval. See ``docs/performance.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from amzn_nova_forge.manager._local._engine._config import StepMetrics, TrainConfig

__all__ = ["StepMetrics", "TrainConfig", "train_causal_lm"]


def train_causal_lm(
    model: Any,
    examples: Iterable[Mapping[str, Any]],
    cfg: TrainConfig,
    on_step: Callable[[StepMetrics], Any] | None = None,
    *,
    on_save: Callable[[int, dict[str, Any]], Any] | None = None,
    resume: Mapping[str, Any] | None = None,
) -> list[StepMetrics]:
    """Train ``model`` in place on tokenised ``examples``; return the metrics of every step.

    Args:
        model: A transformers causal LM, possibly wrapped by peft (only parameters with
            ``requires_grad`` train). It is moved to ``cfg.device``; trainable weights are kept
            in fp32, frozen ones in the compute dtype.
        examples: Mappings with ``input_ids`` (list of ints) and ``labels`` (same length,
            ``-100`` = no loss on that token; missing = loss on every token). Examples longer
            than ``cfg.max_length`` are truncated.
        cfg: The :class:`TrainConfig` (the local runtime's one training configuration).
        on_step: Called with each step's :class:`StepMetrics` (in bursts of ``cfg.log_every``
            steps on CUDA; a step that is a multiple of ``cfg.save_steps`` is delivered at once).
            A truthy return stops training after that step.
        on_save: Called as ``on_save(step, state)`` after every ``cfg.save_steps``-th step (not the
            last) with the trainer state to store next to the weights.
        resume: A state given to ``on_save`` by an earlier run with the same data and config: this
            run continues from that step (same data order, AdamW moments restored).

    Returns:
        One :class:`StepMetrics` per optimizer step run.

    Raises:
        ConfigError: Invalid config, no examples, or nothing trainable.

    Example:
        >>> from transformers import Qwen2Config, Qwen2ForCausalLM
        >>> model = Qwen2ForCausalLM(Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64,
        ...     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1))
        >>> data = [{"input_ids": [1, 2, 3, 4], "labels": [-100, -100, 3, 4]}] * 4
        >>> steps = train_causal_lm(model, data, TrainConfig(global_batch_size=2, device="cpu"))
        >>> [s.step for s in steps], steps[-1].consumed_samples
        ([1, 2], 4)
    """
    from amzn_nova_forge.manager._local._engine._loop import train_causal_lm as _train

    return _train(model, examples, cfg, on_step, on_save=on_save, resume=resume)
