"""End-to-end training on CPU: packing-invariant loss, learning, LoRA+, stop, configs."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._engine import StepMetrics, TrainConfig, train_causal_lm
from amzn_nova_forge.manager._local._engine._loop import lr_at

pytestmark = pytest.mark.torch


def _cfg(**kw):
    base = {
        "device": "cpu",
        "global_batch_size": 8,
        "max_length": 64,
        "lr": 1e-3,
        "grad_clip": 1.0,
        "seed": 3,
        "max_steps": 1,
    }
    base.update(kw)
    return TrainConfig(**base)


def _reference_loss(model, data):
    """Token-mean next-token loss over all labelled tokens of the batch (plain transformers)."""
    import torch
    import torch.nn.functional as F

    total, n = 0.0, 0
    with torch.no_grad():
        for e in data:
            logits = model(input_ids=torch.tensor(e["input_ids"])[None]).logits[0]
            labels = torch.tensor(e["labels"])
            total += F.cross_entropy(logits[:-1], labels[1:], ignore_index=-100, reduction="sum").item()
            n += int((labels[1:] != -100).sum())
    return total / n


@pytest.mark.parametrize(
    "variant",
    [
        {"packing": False, "attention": "sdpa"},
        {"packing": True, "attention": "sdpa"},
        {"packing": True, "attention": "varlen"},
        {"packing": True, "attention": "eager", "micro_batch_tokens": 64},  # many micro-batches
        {"packing": True, "attention": "sdpa", "fused_loss": False},
        {"packing": True, "attention": "sdpa", "gradient_checkpointing": True},
    ],
)
def test_same_loss_and_update_with_and_without_packing(tiny_qwen, variant, examples):
    import torch

    data = examples(8, seed=1)
    ref_model = tiny_qwen()
    expected = _reference_loss(ref_model, data)
    plain, fast = tiny_qwen(), tiny_qwen()
    [m_plain] = train_causal_lm(plain, data, _cfg(packing=False, attention="sdpa", micro_batch_tokens=64))
    [m_fast] = train_causal_lm(fast, data, _cfg(**variant))
    assert m_plain.loss == pytest.approx(expected, rel=1e-5)
    assert m_fast.loss == pytest.approx(expected, rel=1e-5)
    for (name, p1), (_, p2) in zip(plain.named_parameters(), fast.named_parameters()):
        torch.testing.assert_close(p1, p2, atol=2e-6, rtol=1e-4, msg=name)
    assert m_fast.tokens == sum(len(e["input_ids"]) for e in data)


def test_loss_decreases_on_a_toy_task(tiny_qwen):
    # counting: every next token is the previous + 1 (mod 100): learnable by a 2-layer model
    data = [
        {"input_ids": [(s + i) % 100 + 1 for i in range(24)], "labels": [(s + i) % 100 + 1 for i in range(24)]}
        for s in range(64)
    ]
    metrics = train_causal_lm(
        tiny_qwen(), data, _cfg(max_steps=40, lr=1e-2, lr_schedule="constant", global_batch_size=16)
    )
    assert len(metrics) == 40
    first, last = metrics[0].loss, sum(m.loss for m in metrics[-5:]) / 5
    assert first > 4.0 and last < 0.5 * first


def test_metrics_steps_epochs_and_samples(tiny_qwen, examples):
    data = examples(10, seed=2)
    seen = []
    metrics = train_causal_lm(
        tiny_qwen(), data, _cfg(max_steps=None, max_epochs=2, global_batch_size=4), on_step=seen.append
    )
    assert seen == metrics and all(isinstance(m, StepMetrics) for m in metrics)
    assert [m.step for m in metrics] == [1, 2, 3, 4, 5, 6]  # ceil(10/4) = 3 steps per epoch
    assert [m.epoch for m in metrics] == [0, 0, 0, 1, 1, 1]
    assert [m.consumed_samples for m in metrics] == [4, 8, 10, 14, 18, 20]
    assert all(m.tokens > 0 and m.tokens_per_s > 0 and m.step_time_s > 0 for m in metrics)
    assert metrics[0].lr == pytest.approx(1e-3)  # cosine starts at the peak (no warm-up)


def test_on_step_truthy_return_stops(tiny_qwen, examples):
    metrics = train_causal_lm(
        tiny_qwen(), examples(16), _cfg(max_steps=5, global_batch_size=2), on_step=lambda m: m.step == 2
    )
    assert [m.step for m in metrics] == [1, 2]


def test_log_every_delivers_every_step_in_bursts(tiny_qwen, examples):
    calls = []
    metrics = train_causal_lm(
        tiny_qwen(), examples(16), _cfg(max_steps=5, global_batch_size=2, log_every=3), on_step=calls.append
    )
    assert [m.step for m in calls] == [1, 2, 3, 4, 5] == [m.step for m in metrics]


def test_another_config_object_is_refused(tiny_qwen, examples):
    """One training configuration: a look-alike object is an error, not read field by field."""
    look_alike = SimpleNamespace(lr=1e-3, max_steps=1, global_batch_size=4, device="cpu")
    with pytest.raises(ConfigError, match="cfg must be a TrainConfig, got SimpleNamespace"):
        train_causal_lm(tiny_qwen(), examples(8), look_alike)


def test_lora_plus_trains_b_matrices_faster(tiny_qwen, examples):
    """Adam's first step moves every parameter by ~lr; LoRA+ moves lora_B by lr * ratio."""
    import torch

    peft = pytest.importorskip("peft")
    from amzn_nova_forge.manager._local._engine._lora import build_param_groups

    def lora_model():
        cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
        return peft.get_peft_model(tiny_qwen(), cfg)

    model = lora_model()
    groups = build_param_groups(model, weight_decay=0.1, loraplus_lr_ratio=16.0)
    by_name = {g["name"]: g for g in groups}
    names = {id(p): n for n, p in model.named_parameters()}
    assert by_name["lora_B_decay"]["lr_scale"] == 16.0 and by_name["decay"]["lr_scale"] == 1.0
    assert all(".lora_B." in names[id(p)] for p in by_name["lora_B_decay"]["params"])
    assert all(".lora_A." in names[id(p)] for p in by_name["decay"]["params"])
    assert sum(len(g["params"]) for g in groups) == sum(1 for p in model.parameters() if p.requires_grad)

    lr = 1e-3
    for ratio, want in ((None, lr), (16.0, 16 * lr)):
        model = lora_model()
        train_causal_lm(model, examples(8), _cfg(lr=lr, loraplus_lr_ratio=ratio, lr_schedule="constant"))
        b = [p for n, p in model.named_parameters() if ".lora_B." in n]
        moved = max(p.detach().abs().max().item() for p in b)  # B starts at zero
        assert moved == pytest.approx(want, rel=1e-2)
        frozen = [p for n, p in model.named_parameters() if not p.requires_grad]
        assert frozen and all(p.dtype == torch.float32 for p in frozen)  # CPU: fp32 everywhere


def test_schedule():
    cfg = TrainConfig(lr=1.0, warmup_steps=2, min_lr=0.1)
    assert [lr_at(s, 10, cfg) for s in (0, 1)] == [0.5, 1.0]
    assert lr_at(2, 10, cfg) == pytest.approx(1.0)
    assert lr_at(10, 10, cfg) == pytest.approx(0.1)
    assert lr_at(6, 10, cfg) == pytest.approx(0.55)  # cosine midpoint


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"global_batch_size": 0}, "global_batch_size"),
        ({"max_length": 128, "micro_batch_tokens": 64}, "micro_batch_tokens"),
        ({"attention": "flash"}, "attention"),
        ({"dtype": "fp16"}, "dtype"),
        ({"loraplus_lr_ratio": 0}, "loraplus_lr_ratio"),
    ],
)
def test_invalid_config(kw, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kw)


def test_no_examples_or_nothing_trainable(tiny_qwen, examples):
    with pytest.raises(ConfigError, match="no training examples"):
        train_causal_lm(tiny_qwen(), [{"input_ids": []}], _cfg())
    model = tiny_qwen()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ConfigError, match="no trainable parameters"):
        train_causal_lm(model, examples(2), _cfg())


def test_bf16_lora_disables_adapter_input_casts_only_while_training(tiny_qwen, examples):
    """Under bf16 autocast peft's fp32 input copies are skipped; the model is left as it was found."""
    import torch

    peft = pytest.importorskip("peft")
    model = peft.get_peft_model(tiny_qwen(), peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    lora_layers = [m for m in model.modules() if hasattr(m, "cast_input_dtype_enabled")]
    seen = []
    metrics = train_causal_lm(
        model,
        examples(8),
        _cfg(dtype="bf16", max_steps=2, global_batch_size=4),
        on_step=lambda m: seen.append({lay.cast_input_dtype_enabled for lay in lora_layers}),
    )
    assert lora_layers and seen == [{False}, {False}]
    assert all(lay.cast_input_dtype_enabled for lay in lora_layers)
    assert all(math.isfinite(m.loss) for m in metrics)
    frozen = [p for n, p in model.named_parameters() if not p.requires_grad]
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert all(p.dtype == torch.bfloat16 for p in frozen) and all(p.dtype == torch.float32 for p in trainable)
    with torch.no_grad():  # still usable without autocast afterwards (evaluation, merging)
        model(input_ids=torch.tensor([[1, 2, 3]]))


def test_the_local_runtime_config_is_the_engine_config(tiny_qwen, examples):
    hparams = pytest.importorskip("amzn_nova_forge.manager._local._hparams")
    assert hparams.TrainConfig is TrainConfig
    cfg = hparams.resolve_config(
        {"max_steps": 2, "global_batch_size": 4, "max_length": 64, "adam_beta2": 0.95}, {}, method_is_lora=False
    )
    calls = []
    metrics = train_causal_lm(tiny_qwen(), examples(8), cfg, on_step=calls.append)
    assert [m.step for m in metrics] == [1, 2] and [c.total_steps for c in calls] == [2, 2]


def test_out_of_memory_lowers_the_budget_then_checkpoints(tiny_qwen, examples, monkeypatch):
    """The GPU back-off, driven on CPU: two OOMs shrink the budget, the third turns checkpointing on."""
    import torch

    from amzn_nova_forge.manager._local._engine import _loop
    from amzn_nova_forge.manager._local._engine._model import prepare_model
    from amzn_nova_forge.manager._local._engine._packing import prepare_examples

    cfg = _cfg(max_steps=2, global_batch_size=8, max_length=64)
    model = tiny_qwen()
    trainer = _loop._Trainer(model, prepare_examples(examples(16), 64), cfg, prepare_model(model, cfg))
    trainer.cuda, trainer.budget = True, 3 * 64  # pretend: CUDA, automatic sizing, 3 rows
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    budgets, real = [], trainer._run_step

    def flaky(step):
        budgets.append((step.budget, trainer.checkpointing))
        if len(budgets) <= 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(step)

    trainer._run_step = flaky
    metrics = trainer.run(None)
    assert budgets[:4] == [(192, False), (128, False), (64, False), (64, True)]
    assert [m.step for m in metrics] == [1, 2] and model.model.gradient_checkpointing
    # with an explicit budget (micro_batch_tokens / micro_batch_size) an OOM is the user's to see
    trainer.auto_memory = False
    trainer._run_step = lambda step: (_ for _ in ()).throw(torch.cuda.OutOfMemoryError("boom"))
    with pytest.raises(torch.cuda.OutOfMemoryError):
        trainer._step_with_backoff(next(trainer._steps()))


@pytest.mark.parametrize("attention", ["sdpa", "varlen"])
def test_llama_with_tied_embeddings_packs_like_it_pads(tiny_llama, examples, attention):
    import torch

    data = examples(8, seed=6)
    expected = _reference_loss(tiny_llama(), data)
    plain, fast = tiny_llama(), tiny_llama()
    [m_plain] = train_causal_lm(plain, data, _cfg(packing=False, attention="sdpa"))
    [m_fast] = train_causal_lm(fast, data, _cfg(attention=attention))
    assert m_plain.loss == pytest.approx(expected, rel=1e-5) and m_fast.loss == pytest.approx(expected, rel=1e-5)
    assert fast.lm_head.weight is fast.model.embed_tokens.weight  # still tied
    for p1, p2 in zip(plain.parameters(), fast.parameters()):
        torch.testing.assert_close(p1, p2, atol=2e-6, rtol=1e-4)
