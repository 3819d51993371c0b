"""Reinforcement fine-tuning: a GRPO-style loop that scores rollouts with the user's reward function.

Each step takes ``P`` prompts, samples ``G = number_generation`` completions per prompt,
sends every completion to the reward function (one batched call, Nova Lambda shape),
turns the rewards into group-relative advantages ``(r − mean_group) / (std_group + ε)``
and takes one policy-gradient step on ``−A · mean_token_log π(completion)``, plus
``kl_loss_coef ·`` KL to the starting policy (k3 estimator) when that is > 0.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from amzn_nova_forge.manager._local._batches import (
    IGNORE,
    OnStep,
    batches,
    optimizer_step,
    pad_batch,
)
from amzn_nova_forge.manager._local._engine._config import TrainConfig
from amzn_nova_forge.manager._local._engine._loop import lr_at, make_optimizer, set_lr

__all__ = ["train_rft"]


def _token_logps(model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
    import torch

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    keep = (labels != IGNORE).float()
    logp = torch.log_softmax(logits, dim=-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return logp, keep


def _advantages(rewards: list[float], group: int) -> list[float]:
    adv: list[float] = []
    for g in range(0, len(rewards), group):
        chunk = rewards[g : g + group]
        mean = statistics.fmean(chunk)
        std = statistics.pstdev(chunk) if len(chunk) > 1 else 0.0
        adv.extend((r - mean) / (std + 1e-4) if std > 1e-8 else 0.0 for r in chunk)
    return adv


def train_rft(
    model: Any,
    tok: Any,
    examples: Sequence[dict[str, Any]],
    score: Callable[[Sequence[dict[str, Any]]], list[float]],
    cfg: TrainConfig,
    on_step: OnStep,
) -> dict[str, Any]:
    """Run the GRPO loop; ``on_step`` gets ``loss`` and ``reward_score`` (mean reward of the step)."""
    import torch

    from amzn_nova_forge.manager._local._data import tokenize_prompt
    from amzn_nova_forge.manager._local._model import generate
    from amzn_nova_forge.manager._local._reward import make_request

    device = next(model.parameters()).device
    group = max(2, int(cfg.number_generation))
    prompts_per_step = max(1, cfg.global_batch_size // group)
    step_cfg = copy.copy(cfg)
    step_cfg.global_batch_size = prompts_per_step
    steps = cfg.max_steps if cfg.max_steps else -(-len(examples) // prompts_per_step) * cfg.max_epochs
    step_cfg.max_steps = steps
    budget = max(8, cfg.max_length - cfg.max_new_tokens)
    prompt_ids = [tokenize_prompt(tok, ex["prompt"])[-budget:] for ex in examples]

    ref_model = None
    if cfg.kl_loss_coef > 0 and not hasattr(model, "disable_adapter"):
        ref_model = copy.deepcopy(model).eval()
        for p in ref_model.parameters():
            p.requires_grad_(False)
    optimizer = make_optimizer(model, cfg)
    consumed, done, last_loss, last_reward = 0, 0, float("nan"), float("nan")
    for step, (epoch, idx) in enumerate(batches(len(examples), step_cfg)):
        t0 = time.perf_counter()
        lr = lr_at(step, steps, cfg)
        set_lr(optimizer, lr)
        model.eval()
        completions = generate(
            model,
            tok,
            [prompt_ids[i] for i in idx],
            max_new_tokens=cfg.max_new_tokens,
            temperature=cfg.temperature if cfg.temperature > 0 else 1.0,
            top_k=cfg.top_k,
            top_p=cfg.top_p,
            num_return_sequences=group,
            keep_eos=True,
        )
        owners = [i for i in idx for _ in range(group)]
        texts = [tok.decode(c, skip_special_tokens=True) for c in completions]
        rewards = score([make_request(examples[i], t) for i, t in zip(owners, texts, strict=True)])
        adv = _advantages(rewards, group)
        rows = []
        for i, comp in zip(owners, completions, strict=True):
            comp = comp or ([tok.eos_token_id] if tok.eos_token_id is not None else [0])
            p = prompt_ids[i]
            rows.append({"input_ids": p + comp, "labels": [IGNORE] * len(p) + comp})
        model.train()
        loss_sum = 0.0
        for start in range(0, len(rows), cfg.micro):
            batch = pad_batch(rows[start : start + cfg.micro], cfg.pad_token_id, device)
            logp, keep = _token_logps(model, batch)
            a = torch.tensor(adv[start : start + cfg.micro], device=device, dtype=logp.dtype)
            per_seq = (logp * keep).sum(-1) / keep.sum(-1).clamp(min=1)
            loss = -(a * per_seq).sum() / len(rows)
            if cfg.kl_loss_coef > 0:
                with torch.no_grad():
                    if ref_model is not None:
                        ref_logp, _ = _token_logps(ref_model, batch)
                    else:
                        with model.disable_adapter():
                            ref_logp, _ = _token_logps(model, batch)
                diff = ref_logp - logp
                kl = ((torch.exp(diff) - diff - 1) * keep).sum(-1) / keep.sum(-1).clamp(min=1)
                loss = loss + cfg.kl_loss_coef * kl.sum() / len(rows)
            loss.backward()
            loss_sum += float(loss.detach())
        optimizer_step(model, optimizer, cfg)
        consumed += len(idx)
        done, last_loss, last_reward = step + 1, loss_sum, statistics.fmean(rewards)
        stop = on_step(
            {
                "step": step,
                "epoch": epoch,
                "loss": loss_sum,
                "lr": lr,
                "consumed_samples": consumed,
                "step_time": time.perf_counter() - t0,
                "total_steps": steps,
                "reward_score": last_reward,
                "reward_max": max(rewards),
                "reward_min": min(rewards),
            }
        )
        if stop:
            break
    model.eval()
    return {"steps": done, "final_loss": last_loss, "final_reward": last_reward, "consumed_samples": consumed}
