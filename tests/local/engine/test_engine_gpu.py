"""The same guarantees on a CUDA device, with the real kernels (skipped without a GPU).

Self-contained (no conftest fixtures): the GPU machine has no boto3, which ``tests/conftest.py``
needs, so run it there with ``--noconftest`` and without the project's pytest options::

    python3 -m pytest tests/local/engine/test_engine_gpu.py -q --noconftest -o addopts="" -p no:cacheprovider
"""

from __future__ import annotations

import copy

import pytest

from amzn_nova_forge.manager._local._engine import TrainConfig, train_causal_lm
from amzn_nova_forge.manager._local._engine._attention import layout_of, select_attention
from amzn_nova_forge.manager._local._engine._model import LossComputer, prepare_model
from amzn_nova_forge.manager._local._engine._packing import collate, prepare_examples

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.torch,
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU"),
]


def _model(_unused=None):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=101,
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=False,
    )
    return Qwen2ForCausalLM(config).float().cuda()


def _examples(n, seed, min_len=3, max_len=40):
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ids = [rng.randrange(1, 101) for _ in range(rng.randint(min_len, max_len))]
        out.append({"input_ids": ids, "labels": [-100] * (len(ids) // 3) + ids[len(ids) // 3 :]})
    return out


def test_auto_picks_a_varlen_kernel_that_passed_its_self_check():
    backend = select_attention("auto", "cuda", packing=True)
    assert backend in ("varlen", "flash_attention_2"), "no flash varlen kernel: packed batches fall back to SDPA masks"


@pytest.mark.parametrize("backend", ["varlen", "sdpa"])
def test_no_cross_example_leakage_on_cuda(backend):
    model = _model()
    raw = _examples(3, seed=9, min_len=20, max_len=60)
    other = copy.deepcopy(raw)
    other[0]["input_ids"] = [7] * len(other[0]["input_ids"])
    prepared = prepare_model(model, TrainConfig(device="cuda", attention=backend))
    comp = LossComputer(model, prepared)
    outs = []
    for data in (raw, other):
        ex = prepare_examples(data, 64)
        mb = collate(ex, [[0, 1, 2]], layout=layout_of(backend), pad_multiple=8)
        t = {k: v.cuda() for k, v in mb.tensors.items()}
        with torch.no_grad():
            outs.append(comp.logits(t, mb.max_seqlen)[0].float())
    a = len(raw[0]["input_ids"])
    assert not torch.allclose(outs[0][:a], outs[1][:a])
    torch.testing.assert_close(outs[0][a:], outs[1][a:], atol=1e-5, rtol=0)  # a leak would be ~1e-2 (bf16)


@pytest.mark.parametrize("attention", ["varlen", "sdpa"])
def test_packed_equals_unpacked_in_bf16(attention):
    data = _examples(32, seed=10, max_len=120)
    cfg = {"device": "cuda", "max_steps": 3, "global_batch_size": 16, "max_length": 128, "lr": 1e-3, "log_every": 3}
    plain = train_causal_lm(_model(), data, TrainConfig(**cfg, packing=False, attention="sdpa"))
    packed = train_causal_lm(_model(), data, TrainConfig(**cfg, attention=attention))
    assert [m.loss for m in packed] == pytest.approx([m.loss for m in plain], rel=2e-2)  # bf16 tolerance


def test_lora_full_and_compile_run():
    peft = pytest.importorskip("peft")
    data = _examples(64, seed=11, max_len=120)
    lora = peft.get_peft_model(_model(), peft.LoraConfig(r=8, target_modules=["q_proj", "v_proj"]))
    for model, extra in ((lora, {}), (_model(), {"compile": True})):
        metrics = train_causal_lm(
            model, data, TrainConfig(device="cuda", max_steps=6, global_batch_size=16, max_length=128, lr=1e-3, **extra)
        )
        assert len(metrics) == 6 and all(m.loss == m.loss for m in metrics)
        assert metrics[-1].loss < metrics[0].loss
