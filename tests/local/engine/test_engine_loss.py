"""The fused chunked LM-head cross-entropy equals the plain one, values and gradients."""

from __future__ import annotations

import pytest

from amzn_nova_forge.manager._local._engine._loss import chunk_rows, fused_linear_cross_entropy

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("chunk", [3, 64])
def test_values_and_gradients_match_cross_entropy(with_bias, chunk):
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    h = torch.randn(17, 8, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(29, 8, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(29, generator=g, dtype=torch.float64, requires_grad=True) if with_bias else None
    t = torch.randint(0, 29, (17,), generator=g)
    scale = 1 / 40  # the step's labelled tokens, not this micro-batch's
    loss = fused_linear_cross_entropy(h, w, b, t, scale=scale, chunk=chunk)
    (2 * loss).backward()  # a non-unit upstream gradient is honoured
    grads = [h.grad, w.grad] + ([b.grad] if with_bias else [])
    for p in [h, w] + ([b] if with_bias else []):
        p.grad = None
    logits = h @ w.t() + (b if with_bias else 0)
    ref = F.cross_entropy(logits, t, reduction="sum") * scale
    (2 * ref).backward()
    torch.testing.assert_close(loss, ref)
    for got, want in zip(grads, [h.grad, w.grad] + ([b.grad] if with_bias else [])):
        torch.testing.assert_close(got, want)


def test_frozen_head_gets_no_gradient_and_tied_weights_accumulate():
    import torch

    h = torch.randn(5, 4, requires_grad=True)
    w = torch.randn(7, 4)  # frozen (LoRA): no weight gradient computed
    loss = fused_linear_cross_entropy(h, w, None, torch.tensor([0, 1, 2, 3, 4]), scale=0.2)
    loss.backward()
    assert h.grad is not None and w.grad is None
    # tied embeddings: the head's gradient adds to the embedding lookup's
    emb = torch.nn.Embedding(7, 4)
    x = emb(torch.tensor([1, 2, 3]))
    fused_linear_cross_entropy(x, emb.weight, None, torch.tensor([2, 3, 4]), scale=1.0).backward()
    g_fused = emb.weight.grad.clone()
    emb.weight.grad = None
    x = emb(torch.tensor([1, 2, 3]))
    torch.nn.functional.cross_entropy(x @ emb.weight.t(), torch.tensor([2, 3, 4]), reduction="sum").backward()
    torch.testing.assert_close(g_fused, emb.weight.grad)


def test_chunk_rows_bounds_memory():
    assert chunk_rows(151936) * 151936 * 4 <= 2**30 + 151936 * 4
    assert chunk_rows(10) == 8192 and chunk_rows(10**9) == 128
