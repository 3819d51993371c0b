"""Throughput of the local training engine against trl's SFTTrainer (defaults), on one GPU.

Workload: supervised fine-tuning (full and LoRA r=16 on every linear layer) of randomly
initialised Qwen2.5-0.5B and Qwen2.5-1.5B architectures (real dimensions, no weights needed),
on synthetic examples of at most 2048 tokens whose lengths follow a log-normal distribution
(median 400 tokens, sigma 0.9; a masked prompt of 20-60 % of each example), like chat SFT data.

Reported per configuration: tokens/s (input tokens, padding excluded), MFU = 6·N·tokens/s ÷
peak (N = all parameters, peak = 989 TFLOP/s dense bf16 on H100 SXM), for LoRA also the MFU
of the FLOPs LoRA really needs, (4·N + 2·N_lora)·tokens/s ÷ peak, peak memory, and the ratio
to trl's SFTTrainer run in the same process on the same examples with its default settings
(only ``max_length`` set to the workload's 2048 and the number of steps bounded).

Usage (GPU; trl is not installed on the GPU machine, see bench/README.md for its wheels)::

    python bench/gpu_sft.py --json gpu_sft.json
    python bench/gpu_sft.py --models 1.5b --methods full --compile --baseline none
    python bench/gpu_sft.py --tiny            # CPU smoke test, seconds
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from amzn_nova_forge.manager._local._engine import TrainConfig, train_causal_lm
from amzn_nova_forge.manager._local._engine._flops import (
    H100_BF16_DENSE_PEAK,
    count_params,
    mfu,
    train_flops_per_token,
)

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# Published dimensions of the Qwen2.5 checkpoints (config.json of Qwen/Qwen2.5-0.5B and -1.5B).
ARCHS: dict[str, dict[str, Any]] = {
    "0.5b": {
        "hidden_size": 896,
        "intermediate_size": 4864,
        "num_hidden_layers": 24,
        "num_attention_heads": 14,
        "num_key_value_heads": 2,
        "vocab_size": 151936,
        "tie_word_embeddings": True,
    },
    "1.5b": {
        "hidden_size": 1536,
        "intermediate_size": 8960,
        "num_hidden_layers": 28,
        "num_attention_heads": 12,
        "num_key_value_heads": 2,
        "vocab_size": 151936,
        "tie_word_embeddings": True,
    },
    "tiny": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 512,
        "tie_word_embeddings": True,
    },
}


def qwen_config(name: str) -> Any:
    from transformers import Qwen2Config

    return Qwen2Config(
        **ARCHS[name],
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        use_sliding_window=False,
        attn_implementation="sdpa",
    )


def make_examples(n: int, max_length: int, vocab: int, seed: int = 0) -> list[dict[str, list[int]]]:
    """Log-normal lengths (median 400, sigma 0.9) clipped to [16, max_length]; masked prompt of 20-60 %."""
    import numpy as np

    rng = np.random.default_rng(seed)
    median = min(400.0, max_length / 5)
    lengths = np.clip(rng.lognormal(math.log(median), 0.9, n).astype(int), 16, max_length)
    out = []
    for length in lengths:
        ids = rng.integers(3, vocab, int(length)).tolist()
        prompt = int(length * rng.uniform(0.2, 0.6))
        out.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return out


def build_model(arch: str, method: str, device: str) -> Any:
    import torch
    from transformers import Qwen2ForCausalLM

    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2ForCausalLM(qwen_config(arch))
    if method == "lora":
        import peft

        lora = peft.LoraConfig(
            r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS, task_type="CAUSAL_LM"
        )
        model = peft.get_peft_model(model, lora)
    return model


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _reset_memory(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gib(device: str) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


VARIANTS: dict[str, dict[str, Any]] = {
    "engine": {},
    "engine+compile": {"compile": True},
    # ablation: what the varlen kernel and the fused loss buy (block-diagonal SDPA masks, full logits)
    "engine-basic": {"attention": "sdpa", "fused_loss": False, "liger": False},
}


def run_engine(
    arch: str, method: str, data: list[dict[str, Any]], args: argparse.Namespace, variant: str = "engine"
) -> dict[str, Any]:
    """The engine at its production settings; timed between the host syncs after warm-up and at the end."""
    _reset_memory(args.device)
    model = build_model(arch, method, args.device)
    n_all, n_train = count_params(model)
    warm, meas = args.warmup, args.steps
    settings: dict[str, Any] = {
        "attention": args.attention,
        "liger": {"auto": "auto", "on": True, "off": False}[args.liger],
        **VARIANTS[variant],
    }
    cfg = TrainConfig(
        max_steps=warm + meas,
        lr=2e-5,
        global_batch_size=args.global_batch_size,
        max_length=args.max_length,
        device=args.device,
        log_every=warm,
        lr_schedule="constant",
        seed=0,
        micro_batch_tokens=args.micro_batch_tokens,
        **settings,
    )
    marks: dict[int, float] = {}

    def on_step(m: Any) -> None:
        if m.step in (warm, warm + meas):
            marks[m.step] = time.perf_counter()  # on_step runs right after the flush's host sync

    plan = _EngineLog()
    logging.getLogger("amzn_nova_forge.manager._local._engine").addHandler(plan)
    try:
        metrics = train_causal_lm(model, data, cfg, on_step=on_step)
    finally:
        logging.getLogger("amzn_nova_forge.manager._local._engine").removeHandler(plan)
    tokens = sum(m.tokens for m in metrics if m.step > warm)
    seconds = marks[warm + meas] - marks[warm]
    result = _result(variant, arch, method, n_all, n_train, tokens, seconds, args)
    result["final_loss"] = round(metrics[-1].loss, 4)
    result["plan"] = plan.lines
    del model
    return result


class _EngineLog(logging.Handler):
    """Keeps the engine's INFO lines (attention kernel, token budget, checkpointing) for the report."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def run_trl(arch: str, method: str, data: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """trl's SFTTrainer with default settings (max_length set to the workload's; steps bounded)."""
    from datasets import Dataset
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    _reset_memory(args.device)
    cuda = args.device.startswith("cuda")
    model = build_model(arch, "full", args.device)
    peft_config = None
    if method == "lora":
        import peft

        peft_config = peft.LoraConfig(
            r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LORA_TARGETS, task_type="CAUSAL_LM"
        )
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")),
        pad_token="<pad>",
        eos_token="<eos>",
        unk_token="<unk>",
    )
    warm, meas = args.trl_warmup, args.trl_steps
    extra: dict[str, Any] = {} if cuda else {"bf16": False, "use_cpu": True}
    config = SFTConfig(
        output_dir=tempfile.mkdtemp(prefix="trl-bench-"),
        max_length=args.max_length,
        max_steps=warm + meas,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        **extra,
    )
    counts: list[int] = []
    marks: dict[int, float] = {}

    class Timer(TrainerCallback):
        def on_step_end(self, _args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step in (warm, warm + meas):
                _sync(args.device)
                marks[state.global_step] = time.perf_counter()

    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(data),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[Timer()],
    )
    collate = trainer.data_collator

    def counting(features: list[dict[str, Any]]) -> Any:
        counts.append(sum(len(f["input_ids"]) for f in features))
        return collate(features)

    trainer.data_collator = counting
    trainer.train()
    n_all, n_train = count_params(trainer.model)
    tokens = sum(counts[warm : warm + meas])  # batches are consumed in order (prefetch does not reorder)
    seconds = marks[warm + meas] - marks[warm]
    result = _result("trl", arch, method, n_all, n_train, tokens, seconds, args)
    del trainer, model
    return result


def _result(
    system: str, arch: str, method: str, n_all: int, n_train: int, tokens: int, seconds: float, args: argparse.Namespace
) -> dict[str, Any]:
    tps = tokens / seconds
    return {
        "system": system,
        "model": f"qwen2.5-{arch}",
        "method": method,
        "params": n_all,
        "trainable": n_train,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "tokens_per_s": round(tps, 1),
        "mfu_6n": round(mfu(tps, n_all, peak=args.peak), 4),
        "mfu_actual_flops": round(
            mfu(tps, n_all, peak=args.peak, flops_per_token=train_flops_per_token(n_all, n_train)), 4
        ),
        "peak_mem_gib": None if _peak_gib(args.device) is None else round(_peak_gib(args.device), 2),
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| model | method | system | tokens/s | MFU (6N) | MFU (actual FLOPs) | peak GiB | vs trl |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    base = {(r["model"], r["method"]): r["tokens_per_s"] for r in rows if r["system"] == "trl" and "error" not in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['method']} | {r['system']} | failed: {r['error'][:60]} | | | | |")
            continue
        ref = base.get((r["model"], r["method"]))
        ratio = f"{r['tokens_per_s'] / ref:.2f}x" if ref and r["system"] != "trl" else ""
        lines.append(
            f"| {r['model']} | {r['method']} | {r['system']} | {r['tokens_per_s']:,.0f} | {r['mfu_6n']:.3f} | "
            f"{r['mfu_actual_flops']:.3f} | {r['peak_mem_gib'] if r['peak_mem_gib'] is not None else '-'} | {ratio} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiny", action="store_true", help="CPU smoke test: tiny model, a few steps")
    p.add_argument("--models", default="0.5b,1.5b")
    p.add_argument("--methods", default="full,lora")
    p.add_argument("--baseline", choices=["trl", "none"], default="trl")
    p.add_argument("--device", default=None, help="default: cuda (cpu with --tiny)")
    p.add_argument("--max-length", type=int, default=2048)
    p.add_argument("--global-batch-size", type=int, default=64, help="engine examples per step")
    p.add_argument("--micro-batch-tokens", type=int, default=None, help="engine token budget (default: automatic)")
    p.add_argument("--attention", default="auto")
    p.add_argument(
        "--liger",
        choices=["auto", "on", "off"],
        default="auto",
        help="engine Liger kernels (auto: when liger-kernel is installed)",
    )
    p.add_argument("--compile", action="store_true", help="also run the engine with torch.compile")
    p.add_argument("--ablation", action="store_true", help="also run the engine with SDPA masks and full logits")
    p.add_argument("--warmup", type=int, default=5, help="engine steps before timing")
    p.add_argument("--steps", type=int, default=20, help="engine steps timed (multiple of --warmup)")
    p.add_argument("--trl-warmup", type=int, default=10)
    p.add_argument("--trl-steps", type=int, default=60)
    p.add_argument("--peak", type=float, default=H100_BF16_DENSE_PEAK, help="bf16 dense peak FLOP/s")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args(argv)
    if args.tiny:
        args.models, args.max_length = "tiny", 256
        args.global_batch_size, args.warmup, args.steps = 8, 2, 4
        args.trl_warmup, args.trl_steps = 2, 4
        args.device = args.device or "cpu"
        args.peak = 1e12
    args.device = args.device or "cuda"
    if args.steps % args.warmup:
        p.error("--steps must be a multiple of --warmup (the engine syncs every --warmup steps)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("amzn_nova_forge.manager._local._engine").setLevel(logging.INFO)
    import torch

    if args.tiny:
        torch.set_num_threads(1)
    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}", flush=True)
    rows: list[dict[str, Any]] = []
    datasets = {}
    for arch in args.models.split(","):
        n_engine = args.global_batch_size * (args.warmup + args.steps)
        n = max(n_engine, 8 * (args.trl_warmup + args.trl_steps))
        datasets[arch] = make_examples(n, args.max_length, ARCHS[arch]["vocab_size"])
    configs = [(arch, method) for arch in args.models.split(",") for method in args.methods.split(",")]
    # trl first: kernels the engine may patch into transformers' classes (Liger) must not reach the baseline
    runs: list[tuple[str, str, str]] = []
    if args.baseline == "trl":
        runs += [("trl", arch, method) for arch, method in configs]
    variants = ["engine"] + ["engine+compile"] * args.compile + ["engine-basic"] * args.ablation
    runs += [(variant, arch, method) for variant in variants for arch, method in configs]
    for system, arch, method in runs:
        try:
            if system == "trl":
                row = run_trl(arch, method, datasets[arch], args)
            else:
                row = run_engine(arch, method, datasets[arch], args, system)
        except Exception as exc:  # one failed configuration must not lose the others
            logging.getLogger("gpu_sft").exception("%s %s %s failed", system, arch, method)
            row = {"system": system, "model": f"qwen2.5-{arch}", "method": method, "error": repr(exc)[:500]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    rows.sort(key=lambda r: (r["model"], r["method"], r["system"] != "trl"))
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
