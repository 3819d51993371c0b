"""Packed attention keeps examples apart: no cross-example attention, no loss leakage.

Each backend the engine can pick is run on CPU: ``sdpa`` and ``eager`` (block-diagonal mask from
restarting position_ids, rows layout) and ``varlen`` (flat layout with cu_seq_lens; on CPU the
per-example reference kernel, on CUDA the same plumbing drives the flash kernel).
"""

from __future__ import annotations

import copy

import pytest

from amzn_nova_forge.manager._local._engine import TrainConfig
from amzn_nova_forge.manager._local._engine._attention import layout_of, select_attention
from amzn_nova_forge.manager._local._engine._model import LossComputer, prepare_model
from amzn_nova_forge.manager._local._engine._packing import collate, prepare_examples

pytestmark = pytest.mark.torch

BACKENDS = ["sdpa", "eager", "varlen"]


def _examples(a_tokens=None):
    import random

    rng = random.Random(7)
    a = [rng.randrange(1, 101) for _ in range(9)]
    a = a_tokens or a
    b = [rng.randrange(1, 101) for _ in range(13)]
    c = [rng.randrange(1, 101) for _ in range(5)]
    return [
        {"input_ids": a, "labels": [-100] * 3 + a[3:]},
        {"input_ids": b, "labels": [-100] * 4 + b[4:]},
        {"input_ids": c, "labels": c},
    ]


def _packed(model, backend, raw):
    cfg = TrainConfig(device="cpu", attention=backend)
    prepared = prepare_model(model, cfg)
    assert prepared.attention == backend
    ex = prepare_examples(raw, 64)
    mb = collate(ex, [[0, 1, 2]], layout=layout_of(backend), packing=True, pad_multiple=8)
    return LossComputer(model, prepared), mb, ex


def _slices(ex):
    out, at = [], 0
    for e in ex:
        out.append(slice(at, at + e.length))
        at += e.length
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_packed_logits_equal_each_example_alone(tiny_qwen, backend):
    import torch

    model = tiny_qwen()
    reference = copy.deepcopy(model)
    raw = _examples()
    comp, mb, ex = _packed(model, backend, raw)
    with torch.no_grad():
        packed = comp.logits(mb.tensors, mb.max_seqlen)[0]
        for e, sl in zip(ex, _slices(ex)):
            alone = reference(input_ids=torch.tensor(e.input_ids)[None]).logits[0]
            torch.testing.assert_close(packed[sl], alone, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_changing_one_example_does_not_change_the_others(tiny_qwen, backend):
    import torch

    model = tiny_qwen()
    comp, mb, ex = _packed(model, backend, _examples())
    _, mb2, _ = _packed(model, backend, _examples(a_tokens=[5] * 9))  # A replaced, same length
    a, b, c = _slices(ex)
    with torch.no_grad():
        l1 = comp.logits(mb.tensors, mb.max_seqlen)[0]
        l2 = comp.logits(mb2.tensors, mb2.max_seqlen)[0]
    assert not torch.allclose(l1[a], l2[a])  # A itself did change
    assert torch.equal(l1[b], l2[b]) or torch.allclose(l1[b], l2[b], atol=1e-6, rtol=0)
    assert torch.allclose(l1[c], l2[c], atol=1e-6, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_packed_loss_is_the_sum_of_per_example_losses(tiny_qwen, backend):
    """No loss leakage: the last token of one example is never asked to predict the next example."""
    import torch

    model = tiny_qwen()
    reference = copy.deepcopy(model)
    raw = _examples()
    comp, mb, ex = _packed(model, backend, raw)
    with torch.no_grad():
        packed_sum = comp(mb.tensors, mb.max_seqlen, scale=1.0).item()
        expected = 0.0
        for r in raw:
            out = reference(input_ids=torch.tensor(r["input_ids"])[None], labels=torch.tensor(r["labels"])[None])
            n = sum(1 for t in r["labels"][1:] if t != -100)
            expected += out.loss.item() * n
    assert packed_sum == pytest.approx(expected, rel=1e-5)
    # and the gradient of B's loss does not depend on C's first token (the naive-shift leak)
    c_changed = _examples()
    c_changed[2]["input_ids"] = [99] + c_changed[2]["input_ids"][1:]
    _, mb2, _ = _packed(model, backend, c_changed)
    with torch.no_grad():
        h1 = comp.logits(mb.tensors, mb.max_seqlen)[0]
        h2 = comp.logits(mb2.tensors, mb2.max_seqlen)[0]
    b = _slices(ex)[1]
    assert torch.allclose(h1[b], h2[b], atol=1e-6, rtol=0)


def test_auto_backend_on_cpu_is_sdpa():
    assert select_attention("auto", "cpu", packing=True) == "sdpa"
    assert select_attention("auto", "cuda", packing=True, half=False) == "sdpa"  # fp32: no flash kernel
    assert select_attention("auto", "cuda", packing=False) == "sdpa"  # unpacked rows: plain causal SDPA
    assert select_attention("eager", "cpu", packing=True) == "eager"
    assert layout_of("varlen") == layout_of("flash_attention_2") == "varlen"
    assert layout_of("sdpa") == "rows"


def test_varlen_backend_really_runs_the_custom_kernel(tiny_qwen, monkeypatch):
    """Without the custom kernel transformers would still mask correctly: prove ours is the one used."""
    import torch

    from amzn_nova_forge.manager._local._engine import _attention

    calls = []
    real = _attention._reference_varlen

    def spy(q, k, v, cu, scale):
        calls.append(cu.tolist())
        return real(q, k, v, cu, scale)

    monkeypatch.setattr(_attention, "_reference_varlen", spy)
    model = tiny_qwen()
    comp, mb, _ex = _packed(model, "varlen", _examples())
    assert model.config._attn_implementation == _attention.NOVA_VARLEN
    with torch.no_grad():
        comp.logits(mb.tensors, mb.max_seqlen)
    assert calls == [[0, 9, 22, 27, 32]] * model.config.num_hidden_layers  # 3 examples + padding segment


@pytest.mark.parametrize("broken", [False, True])
def test_kernel_self_check_gates_the_fast_path(tiny_qwen, examples, monkeypatch, broken):
    """The GPU dispatch, exercised on CPU: a kernel is used only after it matched the reference."""
    import torch

    from amzn_nova_forge.manager._local._engine import _attention, train_causal_lm

    calls = []

    def kernel(q, k, v, cu, max_len, scale):  # stands in for torch's flash varlen kernel
        calls.append(max_len)
        out = _attention._reference_varlen(q, k, v, cu, scale)
        return out * 1.5 if broken else out

    monkeypatch.setattr(_attention, "_VARLEN_OK", {})
    monkeypatch.setattr(_attention, "_KERNEL_ON", "")
    monkeypatch.setattr(_attention, "_torch_varlen", lambda: kernel)
    monkeypatch.setattr(_attention, "_call_torch_varlen", kernel)
    assert _attention._check_torch_varlen("cpu") is (not broken)
    assert ("" if broken else "cpu") == _attention._KERNEL_ON
    calls.clear()
    model, twin = tiny_qwen(), tiny_qwen()
    data = examples(8, seed=5)
    fast = train_causal_lm(model, data, TrainConfig(device="cpu", attention="varlen", max_steps=1, max_length=64))
    ref = train_causal_lm(twin, data, TrainConfig(device="cpu", attention="sdpa", max_steps=1, max_length=64))
    # a broken kernel never reaches training; a good one runs in bf16 (flash kernels are half precision)
    assert fast[0].loss == pytest.approx(ref[0].loss, rel=1e-6 if broken else 1e-2)
    assert (len(calls) > 0) is (not broken)
    if not broken:
        assert max(calls) < 128  # max_length_q: the longest segment (padding to 128 included), not the batch
        for p1, p2 in zip(model.parameters(), twin.parameters()):
            torch.testing.assert_close(p1, p2, atol=1e-3, rtol=1e-2)


def test_kernel_gets_half_precision_inputs_under_autocast(tiny_qwen, examples, monkeypatch):
    """Full fine-tuning keeps fp32 weights, so rotary hands fp32 q/k to attention; flash needs bf16."""
    import torch

    from amzn_nova_forge.manager._local._engine import _attention, train_causal_lm

    dtypes = set()

    def kernel(q, k, v, cu, max_len, scale):
        dtypes.update({q.dtype, k.dtype, v.dtype})
        return _attention._reference_varlen(q, k, v, cu, scale)

    monkeypatch.setattr(_attention, "_KERNEL_ON", "cpu")  # pretend the CPU kernel passed its check
    monkeypatch.setattr(_attention, "_call_torch_varlen", kernel)
    metrics = train_causal_lm(
        tiny_qwen(), examples(8), TrainConfig(device="cpu", dtype="bf16", attention="varlen", max_steps=1)
    )
    assert dtypes == {torch.bfloat16} and metrics[0].loss == metrics[0].loss
