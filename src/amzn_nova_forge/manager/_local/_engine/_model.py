"""Preparing a Hugging Face causal LM for fast training, and its per-micro-batch loss.

:func:`prepare_model` places the model (fp32 trainable weights, frozen weights in the compute
dtype), installs the attention backend, optional Liger kernels, gradient checkpointing and
``torch.compile``. :class:`LossComputer` runs the decoder on one micro-batch and returns the
loss of its labelled positions scaled by ``1 / labelled tokens of the step``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from amzn_nova_forge.manager._local._engine._attention import install_attention, layout_of, select_attention
from amzn_nova_forge.manager._local._engine._loss import fused_linear_cross_entropy, liger_loss_fn

__all__ = ["LossComputer", "Prepared", "prepare_model", "resolve_device"]

logger = logging.getLogger(__name__)


def resolve_device(device: str) -> Any:
    """``"auto"`` -> CUDA when available, else CPU."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def base_model(model: Any) -> Any:
    """The transformers model under a peft wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def is_lora(model: Any) -> bool:
    return any(".lora_" in name for name, p in model.named_parameters() if p.requires_grad)


@dataclass
class Prepared:
    """What :func:`prepare_model` decided."""

    device: Any
    compute_dtype: Any
    attention: str
    layout: str
    liger: bool
    fused_loss: str  # "liger", "chunked" or "hf"
    restore: list[Any] = field(default_factory=list)  # callables undoing temporary changes after training

    def finish(self) -> None:
        """Undo the changes that only make sense while training (called by the loop at the end)."""
        while self.restore:
            self.restore.pop()()


def _no_adapter_input_casts(model: Any) -> Any:
    """peft casts each LoRA input to the adapter's fp32; under bf16 autocast the matmul casts it back,
    so the fp32 copy is pure memory traffic. Turn it off while training; return the undo."""
    layers = [m for m in model.modules() if getattr(m, "cast_input_dtype_enabled", None) is True]
    for m in layers:
        m.cast_input_dtype_enabled = False

    def undo() -> None:
        for m in layers:
            m.cast_input_dtype_enabled = True

    return undo


def _expandable_segments() -> None:
    """Micro-batches change shape every step: growable segments keep the CUDA allocator from fragmenting."""
    import os

    if "expandable_segments" in os.environ.get("PYTORCH_CUDA_ALLOC_CONF", ""):
        return
    try:
        import torch

        torch.cuda.memory._set_allocator_settings("expandable_segments:True")
    except Exception as exc:
        logger.debug("expandable segments not enabled: %s", exc)


def _apply_liger(base: Any) -> bool:
    try:
        from liger_kernel.transformers import _apply_liger_kernel_to_instance
    except Exception:
        return False
    try:
        _apply_liger_kernel_to_instance(
            model=base, rope=True, rms_norm=True, swiglu=True, cross_entropy=False, fused_linear_cross_entropy=False
        )
    except Exception as exc:
        logger.warning("Liger kernels not applied: %s", exc)
        return False
    return True


def prepare_model(model: Any, cfg: Any) -> Prepared:
    """Move ``model`` to its device and install the fast paths ``cfg`` allows."""
    import torch

    device = resolve_device(cfg.device)
    if device.type == "cuda":
        _expandable_segments()
    use_bf16 = cfg.dtype == "bf16" or (cfg.dtype == "auto" and device.type == "cuda")
    compute_dtype = torch.bfloat16 if use_bf16 else torch.float32
    for p in model.parameters():
        want = torch.float32 if (p.requires_grad or not use_bf16) else compute_dtype
        if p.dtype != want and p.is_floating_point():
            p.data = p.data.to(want)
    model.to(device)
    base = base_model(model)
    if getattr(base, "config", None) is not None:
        base.config.use_cache = False

    attention = select_attention(cfg.attention, device, packing=cfg.packing, half=use_bf16)
    install_attention(model, attention)
    liger = False
    if device.type == "cuda" and cfg.liger in ("auto", True):
        liger = _apply_liger(base)
        if cfg.liger is True and not liger:
            logger.warning("liger=True but Liger kernels could not be applied (pip install liger-kernel)")

    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    plain_head = isinstance(head, torch.nn.Linear) and not any(
        getattr(base.config, attr, None) for attr in ("final_logit_softcapping", "logit_scale")
    )
    if not cfg.fused_loss or not plain_head:
        fused = "hf"
    elif liger and liger_loss_fn() is not None:
        fused = "liger"
    else:
        fused = "chunked"
    if cfg.compile:
        _compile_layers(base, "inductor" if cfg.compile is True else str(cfg.compile))
    prepared = Prepared(device, compute_dtype, attention, layout_of(attention), liger, fused)
    if use_bf16:
        prepared.restore.append(_no_adapter_input_casts(model))
    logger.info(
        "engine: device=%s dtype=%s attention=%s liger=%s loss=%s compile=%s",
        device,
        compute_dtype,
        attention,
        liger,
        fused,
        cfg.compile,
    )
    return prepared


def _compile_layers(base: Any, backend: str) -> None:
    """``torch.compile`` each decoder layer and the final norm (fuses norms, activations, rotary and
    residual adds; the model-level Python around them stays eager, so no graph breaks there)."""
    decoder = _decoder(base)
    layers = getattr(decoder, "layers", None)
    if layers is None:
        if decoder is not None:
            decoder.compile(backend=backend)
        return
    for layer in layers:
        layer.compile(backend=backend)
    norm = getattr(decoder, "norm", None)
    if norm is not None:
        norm.compile(backend=backend)


def enable_checkpointing(model: Any) -> None:
    base = base_model(model)
    if hasattr(base, "activation_checkpointing_enable"):  # transformers >= 5.2x
        base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if hasattr(base, "config"):
        base.config.use_cache = False


def _decoder(base: Any) -> Any:
    """The decoder stack (``model.model`` for Llama/Qwen) whose output feeds the LM head."""
    if hasattr(base, "get_decoder"):
        try:
            dec = base.get_decoder()
        except Exception as exc:
            logger.debug("get_decoder() failed: %s", exc)
            dec = None
        if dec is not None and dec is not base:
            return dec
    return getattr(base, getattr(base, "base_model_prefix", "model"), None)


class LossComputer:
    """Loss of one micro-batch: decoder -> labelled positions -> fused LM-head cross-entropy."""

    def __init__(self, model: Any, prepared: Prepared) -> None:
        import torch

        self.model = model
        self.prepared = prepared
        base = base_model(model)
        self.decoder = _decoder(base)
        self.head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
        self.mode = prepared.fused_loss if self.decoder is not None else "hf"
        self._liger = liger_loss_fn() if self.mode == "liger" else None
        if prepared.device.type == "cuda" and prepared.compute_dtype == torch.bfloat16:
            self._autocast: Any = lambda: torch.autocast("cuda", dtype=torch.bfloat16)
        elif prepared.compute_dtype == torch.bfloat16:
            self._autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)
        else:
            import contextlib

            self._autocast = contextlib.nullcontext

    @staticmethod
    def model_inputs(t: dict[str, Any], max_seqlen: int) -> dict[str, Any]:
        """Forward kwargs of a micro-batch: ids, restarting positions and, for varlen, the flash kwargs."""
        kwargs: dict[str, Any] = {"input_ids": t["input_ids"], "position_ids": t["position_ids"], "use_cache": False}
        if "cu_seq_lens" in t:
            cu = t["cu_seq_lens"]
            kwargs.update(cu_seq_lens_q=cu, cu_seq_lens_k=cu, max_length_q=max_seqlen, max_length_k=max_seqlen)
        return kwargs

    def logits(self, t: dict[str, Any], max_seqlen: int) -> Any:
        """Full logits ``(B, L, V)`` of a micro-batch (tests and debugging; training never builds them)."""
        with self._autocast():
            return self.model(**self.model_inputs(t, max_seqlen)).logits

    def __call__(self, t: dict[str, Any], max_seqlen: int, scale: float) -> Any:
        import torch.nn.functional as F

        kwargs = self.model_inputs(t, max_seqlen)
        with self._autocast():
            if self.mode == "hf":
                logits = self.model(**kwargs).logits
                flat = logits.reshape(-1, logits.shape[-1]).index_select(0, t["target_index"]).float()
                return F.cross_entropy(flat, t["targets"], reduction="sum") * scale
            hidden = self.decoder(**kwargs).last_hidden_state
            hidden = hidden.reshape(-1, hidden.shape[-1]).index_select(0, t["target_index"])
            hidden = hidden.to(self.prepared.compute_dtype)
        head: Any = self.head
        weight, bias = head.weight, head.bias
        if hidden.shape[0] == 0:  # nothing labelled: a zero loss that still backpropagates
            return hidden.float().sum() * 0.0
        if self._liger is not None:
            with self._autocast():
                return self._liger(hidden, weight.to(hidden.dtype), bias, t["targets"], scale)
        return fused_linear_cross_entropy(hidden, weight, bias, t["targets"], scale=scale)
