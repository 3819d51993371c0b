"""Causal-LM loss on the labelled positions only, without materialising full logits.

The engine hands the LM head only the hidden states of positions that have a target (prompt
tokens and padding never reach it). :class:`FusedLinearCrossEntropy` then walks those rows in
chunks: logits of one chunk (in fp32), their log-sum-exp and loss, and at once the gradients of
the hidden states and of the head's weight; backward only scales what forward stored. Peak
memory is one chunk of logits instead of ``tokens × vocab`` floats (9.7 GB for 16k tokens and
Qwen2.5's 152k vocabulary), and a frozen head (LoRA) costs no weight gradient at all.
When Liger is installed, its Triton kernel of the same algorithm is used on CUDA.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["chunk_rows", "fused_linear_cross_entropy", "liger_loss_fn"]

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 30


def chunk_rows(vocab_size: int) -> int:
    """Rows per chunk so one chunk of fp32 logits stays near 1 GiB (clamped to [128, 8192])."""
    return max(128, min(8192, _CHUNK_BYTES // (4 * max(1, vocab_size))))


def _fn() -> Any:
    import torch

    class FusedLinearCrossEntropy(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, hidden: Any, weight: Any, bias: Any, targets: Any, scale: float, chunk: int) -> Any:
            with torch.autocast(device_type=hidden.device.type, enabled=False):
                w = weight.to(hidden.dtype)
                b = bias.to(hidden.dtype) if bias is not None else None
                n = hidden.shape[0]
                acc = torch.promote_types(torch.float32, hidden.dtype)  # fp32, or fp64 for fp64 inputs
                grad_h = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
                grad_w = torch.zeros(weight.shape, dtype=acc, device=weight.device) if ctx.needs_input_grad[1] else None
                grad_b = (
                    torch.zeros(bias.shape, dtype=acc, device=bias.device)
                    if bias is not None and ctx.needs_input_grad[2]
                    else None
                )
                loss = torch.zeros((), dtype=acc, device=hidden.device)
                for start in range(0, n, chunk):
                    h = hidden[start : start + chunk]
                    t = targets[start : start + chunk]
                    logits = h @ w.t()
                    if b is not None:
                        logits = logits + b
                    logits = logits.to(acc)
                    lse = torch.logsumexp(logits, dim=-1)
                    loss += (lse - logits.gather(1, t[:, None]).squeeze(1)).sum()
                    # softmax - onehot, in place on the chunk's logits
                    probs = logits.sub_(lse[:, None]).exp_()
                    probs[torch.arange(t.shape[0], device=t.device), t] -= 1.0
                    g = probs.mul_(scale).to(hidden.dtype)
                    if grad_h is not None:
                        grad_h[start : start + chunk] = g @ w
                    if grad_w is not None:
                        grad_w += (g.t() @ h).to(acc)
                    if grad_b is not None:
                        grad_b += g.to(acc).sum(0)
            ctx.save_for_backward(grad_h, grad_w, grad_b)
            ctx.dtypes = (weight.dtype, bias.dtype if bias is not None else None)
            return loss * scale

        @staticmethod
        def backward(ctx: Any, grad_out: Any) -> Any:
            grad_h, grad_w, grad_b = ctx.saved_tensors
            w_dtype, b_dtype = ctx.dtypes
            gh = grad_h * grad_out.to(grad_h.dtype) if grad_h is not None else None
            gw = (grad_w * grad_out).to(w_dtype) if grad_w is not None else None
            gb = (grad_b * grad_out).to(b_dtype) if grad_b is not None else None
            return gh, gw, gb, None, None, None

    return FusedLinearCrossEntropy


_FUNCTION: Any = None


def fused_linear_cross_entropy(
    hidden: Any, weight: Any, bias: Any, targets: Any, *, scale: float, chunk: int | None = None
) -> Any:
    """``scale · Σ CE(hidden @ weightᵀ + bias, targets)`` with chunked logits and fused gradients.

    Args:
        hidden: ``(n, d)`` hidden states of the labelled positions.
        weight: ``(V, d)`` LM-head weight (may be tied to the embeddings).
        bias: ``(V,)`` or None.
        targets: ``(n,)`` int64 token ids (all valid: masked positions were dropped before).
        scale: Multiplier of the summed loss (``1 / labelled tokens of the optimizer step``).
        chunk: Rows per chunk (default from the vocabulary size).

    Example:
        >>> import torch
        >>> h, w, t = torch.randn(5, 4), torch.randn(7, 4), torch.tensor([1, 2, 3, 4, 5])
        >>> ref = torch.nn.functional.cross_entropy(h @ w.t(), t)
        >>> bool(torch.allclose(fused_linear_cross_entropy(h, w, None, t, scale=1 / 5, chunk=2), ref, atol=1e-5))
        True
    """
    global _FUNCTION
    if _FUNCTION is None:
        _FUNCTION = _fn()
    return _FUNCTION.apply(hidden, weight, bias, targets, float(scale), chunk or chunk_rows(weight.shape[0]))


def liger_loss_fn() -> Any:
    """Liger's fused linear cross-entropy as ``f(hidden, weight, bias, targets, scale)``, or None."""
    try:
        from liger_kernel.transformers.fused_linear_cross_entropy import LigerFusedLinearCrossEntropyLoss
    except Exception:
        return None
    module = LigerFusedLinearCrossEntropyLoss(reduction="sum")

    def loss(hidden: Any, weight: Any, bias: Any, targets: Any, scale: float) -> Any:
        out = module(weight, hidden, targets, bias)
        out = out[0] if isinstance(out, tuple) else out
        return out.float() * scale

    return loss
