"""Direct Preference Optimization (Rafailov et al., 2023) for the local runtime.

Loss per pair: ``-log σ(β·[(log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))])``.
The reference log-probs are computed once, before training, with the starting weights
(for LoRA that is the model with its adapter at zero), so no second model is kept in memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from amzn_nova_forge.manager._local._batches import (
    IGNORE,
    OnStep,
    batches,
    optimizer_step,
    pad_batch,
    sequence_logps,
    total_steps,
)
from amzn_nova_forge.manager._local._engine._config import TrainConfig
from amzn_nova_forge.manager._local._engine._loop import lr_at, make_optimizer, set_lr

__all__ = ["build_pairs", "train_dpo"]


def build_pairs(tok: Any, rows: Sequence[dict[str, Any]], max_length: int) -> list[dict[str, Any]]:
    """Tokenize ``{"prompt", "chosen", "rejected"}`` rows into two labelled sequences each."""
    from amzn_nova_forge.manager._local._data import tokenize_prompt

    eos = [tok.eos_token_id] if tok.eos_token_id is not None else []
    pairs = []
    for r in rows:
        prompt = tokenize_prompt(tok, r["prompt"])
        out: dict[str, Any] = {}
        for key in ("chosen", "rejected"):
            answer = list(tok(r[key], add_special_tokens=False)["input_ids"]) + eos
            ids = (prompt + answer)[:max_length]
            labels = ([IGNORE] * len(prompt) + answer)[:max_length]
            out[key] = {"input_ids": ids, "labels": labels}
        if any(t != IGNORE for t in out["chosen"]["labels"]) and any(t != IGNORE for t in out["rejected"]["labels"]):
            pairs.append(out)
    return pairs


def _logps(model: Any, rows: list[dict[str, Any]], key: str, cfg: TrainConfig, device: Any) -> Any:
    batch = pad_batch([r[key] for r in rows], cfg.pad_token_id, device)
    logps, _ = sequence_logps(model, batch)
    return logps


def train_dpo(model: Any, pairs: Sequence[dict[str, Any]], cfg: TrainConfig, on_step: OnStep) -> dict[str, Any]:
    """Train with the DPO loss; ``on_step`` also gets ``reward_accuracy`` and ``reward_margin``."""
    import torch
    import torch.nn.functional as F

    if not pairs:
        from amzn_nova_forge.errors import DataPrepError

        raise DataPrepError("No DPO pairs left after tokenization (check max_length and the candidates).")
    device = next(model.parameters()).device
    model.eval()
    ref_c, ref_r = [], []
    with torch.no_grad():
        for start in range(0, len(pairs), cfg.micro):
            chunk = list(pairs[start : start + cfg.micro])
            ref_c.append(_logps(model, chunk, "chosen", cfg, device))
            ref_r.append(_logps(model, chunk, "rejected", cfg, device))
    ref_chosen = torch.cat(ref_c)
    ref_rejected = torch.cat(ref_r)

    steps = total_steps(len(pairs), cfg)
    optimizer = make_optimizer(model, cfg)
    model.train()
    consumed, done, last = 0, 0, float("nan")
    for step, (epoch, idx) in enumerate(batches(len(pairs), cfg)):
        t0 = time.perf_counter()
        lr = lr_at(step, steps, cfg)
        set_lr(optimizer, lr)
        loss_sum, correct, margin_sum = 0.0, 0, 0.0
        for start in range(0, len(idx), cfg.micro):
            sub = idx[start : start + cfg.micro]
            chunk = [pairs[i] for i in sub]
            pol_c = _logps(model, chunk, "chosen", cfg, device)
            pol_r = _logps(model, chunk, "rejected", cfg, device)
            sel = torch.tensor(sub, device=ref_chosen.device)
            logits = cfg.beta * ((pol_c - ref_chosen[sel]) - (pol_r - ref_rejected[sel]))
            loss = -F.logsigmoid(logits).sum() / len(idx)
            loss.backward()  # type: ignore[no-untyped-call]
            loss_sum += float(loss.detach())
            correct += int((logits > 0).sum())
            margin_sum += float(logits.detach().sum()) / max(cfg.beta, 1e-8)
        optimizer_step(model, optimizer, cfg)
        consumed += len(idx)
        done, last = step + 1, loss_sum
        stop = on_step(
            {
                "step": step,
                "epoch": epoch,
                "loss": loss_sum,
                "lr": lr,
                "consumed_samples": consumed,
                "step_time": time.perf_counter() - t0,
                "total_steps": steps,
                "reward_accuracy": correct / len(idx),
                "reward_margin": margin_sum / len(idx),
            }
        )
        if stop:
            break
    model.eval()
    return {"steps": done, "final_loss": last, "consumed_samples": consumed}
