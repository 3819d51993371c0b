"""Kernel plumbing that CPU can check: varlen signature adapter, memory plan, FLOPs, compile, bench smoke."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from amzn_nova_forge.manager._local._engine import TrainConfig, train_causal_lm
from amzn_nova_forge.manager._local._engine._flops import count_params, mfu, train_flops_per_token
from amzn_nova_forge.manager._local._engine._memory import activation_bytes_per_token, plan_memory

pytestmark = pytest.mark.torch


def _fake_varlen_29(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, is_causal=False, return_aux=None):
    return ("2.9", key.shape[1], is_causal, max_q)


def _fake_varlen_new(
    query,
    key,
    value,
    cu_seq_q,
    cu_seq_k,
    max_q,
    max_k,
    *,
    return_aux=None,
    scale=None,
    window_size=(-1, -1),
    enable_gqa=False,
    seqused_k=None,
    block_table=None,
    num_splits=None,
):
    return ("new", key.shape[1], window_size, enable_gqa, scale)


@pytest.mark.parametrize(
    "fake,expected", [(_fake_varlen_29, ("2.9", 4, True, 7)), (_fake_varlen_new, ("new", 2, (-1, 0), True, 0.25))]
)
def test_torch_varlen_adapter_speaks_both_signatures(monkeypatch, fake, expected):
    import torch
    from torch.nn.attention import varlen

    from amzn_nova_forge.manager._local._engine import _attention

    monkeypatch.setattr(varlen, "varlen_attn", fake)
    monkeypatch.setattr(_attention, "_SIGNATURE", {})
    q, k = torch.zeros(5, 4, 8), torch.zeros(5, 2, 8)
    cu = torch.tensor([0, 5], dtype=torch.int32)
    # GQA: the old API has no enable_gqa, so the adapter repeats the kv heads itself
    assert _attention._call_torch_varlen(q, k, k, cu, 7, 0.25) == expected


def test_memory_plan_on_cpu_and_the_activation_estimate(tiny_qwen):
    model = tiny_qwen()
    assert (
        plan_memory(model, device="cpu", max_length=64, requested_tokens=None, checkpointing="auto", lora=False).budget
        == 256
    )
    plan = plan_memory(model, device="cpu", max_length=64, requested_tokens=1000, checkpointing=True, lora=False)
    assert (plan.budget, plan.checkpointing) == (1000, True)
    from transformers import Qwen2Config

    cfg = Qwen2Config(
        hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2
    )
    full = activation_bytes_per_token(cfg, checkpointing=False, lora=False)
    assert 3e6 < full < 6e6  # a few MB per token for Qwen2.5-1.5B
    assert activation_bytes_per_token(cfg, checkpointing=True, lora=False) < full / 5
    assert activation_bytes_per_token(cfg, checkpointing=False, lora=True) > full


def test_flops_and_mfu(tiny_qwen):
    model = tiny_qwen()
    n_all, n_train = count_params(model)
    assert n_all == n_train == sum(p.numel() for p in model.parameters())
    assert train_flops_per_token(n_all, n_all) == 6 * n_all
    assert mfu(1000.0, 10**9, peak=6e12) == pytest.approx(1.0)
    # the published Qwen2.5-1.5B size at the calibration point: 35.1k tok/s -> MFU 0.33
    assert mfu(35_100, 1_543_714_304) == pytest.approx(0.33, abs=0.005)


@pytest.mark.slow
def test_compiled_layers_train_like_eager(tiny_qwen, examples):
    import copy

    model = tiny_qwen()
    twin = copy.deepcopy(model)
    data = examples(16, seed=4)
    cfg = {"device": "cpu", "max_steps": 2, "global_batch_size": 8, "max_length": 64, "attention": "sdpa"}
    eager = train_causal_lm(model, data, TrainConfig(**cfg))
    compiled = train_causal_lm(twin, data, TrainConfig(**cfg, compile="aot_eager"))
    assert [m.loss for m in compiled] == pytest.approx([m.loss for m in eager], rel=1e-5)
    assert hasattr(twin.model.layers[0], "_compiled_call_impl") and twin.model.layers[0]._compiled_call_impl


def test_bench_smoke_runs_on_cpu(tmp_path, capsys):
    bench = Path(__file__).resolve().parents[3] / "bench"
    sys.path.insert(0, str(bench))
    try:
        import gpu_sft
    finally:
        sys.path.remove(str(bench))
    out = tmp_path / "r.json"
    assert gpu_sft.main(["--tiny", "--baseline", "none", "--json", str(out)]) == 0
    import json

    rows = json.loads(out.read_text())["results"]
    assert [(r["system"], r["method"]) for r in rows] == [("engine", "full"), ("engine", "lora")]
    assert all(r["tokens_per_s"] > 0 and r["tokens"] > 0 for r in rows)
    assert rows[1]["trainable"] < rows[1]["params"]
    assert rows[1]["mfu_actual_flops"] < rows[1]["mfu_6n"]  # LoRA needs fewer than 6N FLOPs per token
    assert "| qwen2.5-tiny | full | engine |" in capsys.readouterr().out


def _meta_qwen(hidden, ffn, layers, heads):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    with torch.device("meta"):
        return Qwen2ForCausalLM(
            Qwen2Config(
                hidden_size=hidden,
                intermediate_size=ffn,
                num_hidden_layers=layers,
                num_attention_heads=heads,
                num_key_value_heads=2,
                vocab_size=151936,
            )
        )


def test_memory_plan_on_an_80gb_gpu(monkeypatch):
    """The CUDA branch with a pretend H100: 1.5B full fits ~8k tokens; a small card needs checkpointing."""
    import torch

    from amzn_nova_forge.manager._local._engine._memory import smaller_budget

    model = _meta_qwen(1536, 8960, 28, 12)  # Qwen2.5-1.5B dimensions, no memory allocated
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (79 * 2**30, 80 * 2**30))
    plan = plan_memory(model, device="cuda", max_length=2048, requested_tokens=None, checkpointing="auto", lora=False)
    assert plan.checkpointing is False and 4096 <= plan.budget <= 16384 and plan.budget % 2048 == 0
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (36 * 2**30, 40 * 2**30))
    plan = plan_memory(model, device="cuda", max_length=2048, requested_tokens=None, checkpointing="auto", lora=False)
    assert plan.checkpointing is True and plan.budget >= 2048
    assert [smaller_budget(b, 2048) for b in (32768, 8192, 4096, 2048)] == [24576, 6144, 2048, 2048]


def test_engine_imports_without_boto3():
    """The GPU machine has no boto3: the engine package (and the bench's imports) must not need it."""
    import subprocess

    code = (
        "import sys\n"
        "for name in ('boto3', 'botocore', 'yaml', 'orjson'):\n"
        "    sys.modules[name] = None\n"
        "from amzn_nova_forge.manager._local._engine import TrainConfig, StepMetrics, train_causal_lm\n"
        "import amzn_nova_forge.manager._local._engine._loop\n"
        "TrainConfig()\n"
    )
    src = Path(__file__).resolve().parents[3] / "src"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("module", ["__init__", "_config", "_flops", "_loop", "_lora", "_loss", "_memory", "_packing"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    import torch

    name = "amzn_nova_forge.manager._local._engine" + ("" if module == "__init__" else f".{module}")
    torch.manual_seed(0)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
