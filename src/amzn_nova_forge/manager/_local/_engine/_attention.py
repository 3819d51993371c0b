"""Attention kernels for packed batches: choose one, verify it, install it on the model.

Backends, best first on CUDA:

* ``flash_attention_2``: the ``flash-attn`` package through transformers (varlen layout).
* ``varlen``: PyTorch's own flash kernel ``torch.nn.attention.varlen.varlen_attn`` (torch >= 2.9),
  registered with transformers' ``AttentionInterface`` as ``nova_varlen`` (varlen layout). On a
  device without that kernel the same function runs a per-example SDPA reference, which is what
  the CPU tests exercise.
* ``sdpa``: ``torch.nn.functional.scaled_dot_product_attention`` with the block-diagonal causal
  mask that transformers builds from restarting ``position_ids`` (rows layout).

Both varlen backends receive the example boundaries as transformers' flash kwargs
(``cu_seq_lens_q/k``, ``max_length_q/k``); no mask is materialised.
"""

from __future__ import annotations

import inspect
import itertools
import logging
from typing import Any

__all__ = ["NOVA_VARLEN", "install_attention", "layout_of", "select_attention", "varlen_attention_forward"]

logger = logging.getLogger(__name__)

NOVA_VARLEN = "nova_varlen"
_VARLEN_OK: dict[str, bool] = {}  # self-check result per device ("cuda:0")
_KERNEL_ON = ""  # device type whose torch varlen kernel passed the check; a plain str global, cheap to guard on


def layout_of(backend: str) -> str:
    """``"varlen"`` for the flat-sequence backends, ``"rows"`` for mask-based ones."""
    return "varlen" if backend in ("varlen", "flash_attention_2") else "rows"


def _torch_varlen() -> Any:
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    return varlen_attn


_SIGNATURE: dict[str, bool] = {}


def _varlen_signature() -> dict[str, bool]:
    """Which keywords this torch's ``varlen_attn`` takes (the API changed between 2.9 and 2.10+)."""
    if not _SIGNATURE:
        params = inspect.signature(_torch_varlen()).parameters
        _SIGNATURE.update(is_causal="is_causal" in params, enable_gqa="enable_gqa" in params, scale="scale" in params)
    return _SIGNATURE


def _call_torch_varlen(q: Any, k: Any, v: Any, cu: Any, max_len: int, scale: float | None) -> Any:
    """Causal varlen flash attention over ``(T, H, D)`` tensors; adapts to the torch version's signature."""
    from torch.nn.attention.varlen import varlen_attn

    sig = _SIGNATURE or _varlen_signature()
    kwargs: dict[str, Any] = {}
    if q.shape[1] != k.shape[1]:
        if sig["enable_gqa"]:
            kwargs["enable_gqa"] = True
        else:
            rep = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    if sig["is_causal"]:
        kwargs["is_causal"] = True
    else:
        kwargs["window_size"] = (-1, 0)
    if scale is not None and sig["scale"]:
        kwargs["scale"] = scale
    return varlen_attn(q, k, v, cu, cu, max_len, max_len, **kwargs)


def _reference_varlen(q: Any, k: Any, v: Any, cu: Any, scale: float | None) -> Any:
    """Per-example causal SDPA over ``(T, H, D)`` tensors (CPU, and the GPU self-check)."""
    import torch
    import torch.nn.functional as F

    bounds = cu.tolist()
    rep = q.shape[1] // k.shape[1]
    outs = []
    for start, end in itertools.pairwise(bounds):
        if end <= start:
            continue
        qs = q[start:end].transpose(0, 1)
        ks = k[start:end].transpose(0, 1).repeat_interleave(rep, dim=0)
        vs = v[start:end].transpose(0, 1).repeat_interleave(rep, dim=0)
        outs.append(F.scaled_dot_product_attention(qs, ks, vs, is_causal=True, scale=scale).transpose(0, 1))
    return torch.cat(outs, dim=0)


def varlen_attention_forward(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[Any, None]:
    """transformers attention function for the flat packed layout.

    ``query``/``key``/``value`` are ``(1, H, T, D)``; example boundaries come in
    ``kwargs["cu_seq_lens_q"]`` (int32, on the device) and ``kwargs["max_length_q"]`` (int).
    Returns ``(1, T, H, D)`` as transformers expects.
    """
    import torch

    cu = kwargs.get("cu_seq_lens_q")
    if cu is None:
        raise RuntimeError("nova_varlen attention needs cu_seq_lens_q (the engine's varlen batches pass it)")
    max_len = int(kwargs.get("max_length_q") or query.shape[2])
    if query.shape[0] != 1:
        raise RuntimeError("nova_varlen attention expects one flat packed sequence (batch dimension 1)")
    # (1, H, T, D) -> (T, H, D); after rotary the memory is already (T, H, D), so these are free
    q = query[0].transpose(0, 1).contiguous()
    k = key[0].transpose(0, 1).contiguous()
    v = value[0].transpose(0, 1).contiguous()
    if q.device.type == _KERNEL_ON:
        # flash kernels take bf16/fp16 only, and a custom op gets no autocast: with fp32 weights
        # the rotary embedding hands over fp32 q and k (SDPA would have been cast by autocast)
        half = _half_dtype(q)
        out = _call_torch_varlen(q.to(half), k.to(half), v.to(half), cu, max_len, scaling)
        if not torch.is_autocast_enabled(q.device.type):
            out = out.to(query.dtype)  # no autocast downstream: o_proj expects the input dtype
    else:
        out = _reference_varlen(q, k, v, cu, scaling)
    return out.unsqueeze(0), None


def _half_dtype(t: Any) -> Any:
    """The dtype a flash kernel should see: autocast's if active, else ``t``'s if half, else bf16."""
    import torch

    kind = t.device.type
    if torch.is_autocast_enabled(kind):
        return torch.get_autocast_dtype(kind)
    return t.dtype if t.dtype in (torch.float16, torch.bfloat16) else torch.bfloat16


def _check_torch_varlen(device: Any) -> bool:
    """Run the torch varlen kernel once against the reference, forward and backward."""
    import torch

    global _KERNEL_ON
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    key = str(device)
    if key in _VARLEN_OK:
        return _VARLEN_OK[key]
    ok = False
    if _torch_varlen() is not None:
        try:
            g = torch.Generator(device="cpu").manual_seed(0)
            lens = [37, 128, 1, 90]
            total, hq, hk, d = sum(lens), 8, 2, 64
            base: list[Any] = [torch.randn(total, h, d, generator=g).to(device, torch.bfloat16) for h in (hq, hk, hk)]
            upstream = torch.randn(total, hq, d, generator=g).to(device)
            cu = torch.tensor([0, *torch.tensor(lens).cumsum(0).tolist()], dtype=torch.int32, device=device)
            fast: list[Any] = [t.clone().requires_grad_(True) for t in base]
            out = _call_torch_varlen(fast[0], fast[1], fast[2], cu, max(lens), None)
            (out.float() * upstream).sum().backward()
            slow: list[Any] = [t.float().requires_grad_(True) for t in base]
            ref = _reference_varlen(slow[0], slow[1], slow[2], cu, None)
            (ref * upstream).sum().backward()
            errs = [(out.float() - ref).abs().max().item()]
            errs += [
                (a.grad.float() - b.grad).abs().max().item() / (b.grad.abs().max().item() + 1e-6)
                for a, b in zip(fast, slow)
            ]
            ok = errs[0] < 5e-2 and max(errs[1:]) < 5e-2
            if not ok:
                logger.warning("torch varlen attention disagrees with the reference (errors %s); not used", errs)
        except Exception as exc:
            logger.warning("torch varlen attention unavailable on %s: %s", device, exc)
    _VARLEN_OK[key] = ok
    if ok:
        _KERNEL_ON = device.type
    return ok


def _has_flash_attn() -> bool:
    try:
        import flash_attn  # noqa: F401
    except Exception:
        return False
    return True


def select_attention(requested: str, device: Any, *, packing: bool, half: bool = True) -> str:
    """Pick the attention backend for ``device``.

    ``requested="auto"``: on CUDA with bf16 compute, ``flash_attention_2`` if installed, else
    torch ``varlen`` if its self-check passes, else ``sdpa``; ``sdpa`` on CPU, without packing
    and for fp32 compute (flash kernels are half precision only). A forced ``varlen`` on CPU
    runs the per-example reference.
    """
    import torch

    dev = torch.device(device)
    if requested == "varlen":
        if dev.type == "cuda":
            _check_torch_varlen(dev)
        return "varlen"
    if requested != "auto":
        return requested
    if dev.type != "cuda" or not packing or not half:
        return "sdpa"
    if _has_flash_attn():
        return "flash_attention_2"
    if _check_torch_varlen(dev):
        return "varlen"
    return "sdpa"


def install_attention(model: Any, backend: str) -> None:
    """Set the model's attention implementation to ``backend`` (registering ``nova_varlen``)."""
    from transformers import AttentionInterface

    name = backend
    if backend == "varlen":
        AttentionInterface.register(NOVA_VARLEN, varlen_attention_forward)
        name = NOVA_VARLEN
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        base.set_attn_implementation(name)
    except Exception as exc:
        logger.debug("set_attn_implementation(%s) failed (%s); setting the config", name, exc)
        base.config._attn_implementation = name
    if getattr(base.config, "_attn_implementation", None) != name:
        base.config._attn_implementation = name
