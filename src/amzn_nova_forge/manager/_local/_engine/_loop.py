"""The training loop: data thread, micro-batches, deferred host syncs, OOM back-off.

* A background thread shuffles, packs and collates each optimizer step's micro-batches into
  pinned host tensors, a few steps ahead; the loop copies them with ``non_blocking=True``.
* The step's loss is accumulated on the device; the host reads it only every ``log_every``
  steps (one sync per interval) and then calls ``on_step`` for each step of the interval.
* Every micro-batch's loss is scaled by ``1 / labelled tokens of the whole step``, so the
  gradient is that of the token-mean loss of the step, however the step was split or packed.
* With automatic sizing, an out-of-memory error lowers the token budget by a quarter (and, at
  one row, turns gradient checkpointing on) and reruns the step; the lower budget is kept.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._engine._config import StepMetrics, TrainConfig
from amzn_nova_forge.manager._local._engine._lora import build_param_groups
from amzn_nova_forge.manager._local._engine._memory import plan_memory, smaller_budget
from amzn_nova_forge.manager._local._engine._model import (
    LossComputer,
    Prepared,
    enable_checkpointing,
    is_lora,
    prepare_model,
)
from amzn_nova_forge.manager._local._engine._packing import (
    Example,
    MicroBatch,
    collate,
    plan_micro_batches,
    prepare_examples,
)

__all__ = ["lr_at", "make_optimizer", "set_lr", "train_causal_lm"]

logger = logging.getLogger(__name__)


def lr_at(step: int, total_steps: int, cfg: TrainConfig) -> float:
    """Learning rate of 0-based ``step``: linear warm-up, ``constant_steps`` at the peak, then the decay.

    The one schedule of the local runtime (SFT, CPT, DPO and RFT).

    Example:
        >>> cfg = TrainConfig(lr=1.0, warmup_steps=2, lr_schedule="linear")
        >>> [round(lr_at(s, 6, cfg), 2) for s in range(6)]
        [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]
        >>> [round(lr_at(s, 6, TrainConfig(lr=1.0, constant_steps=2, lr_schedule="linear")), 2) for s in range(6)]
        [1.0, 1.0, 1.0, 0.75, 0.5, 0.25]
    """
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return cfg.lr
    hold = cfg.warmup_steps + cfg.constant_steps
    if step < hold:
        return cfg.lr
    span = max(1, total_steps - hold)
    progress = min(1.0, (step - hold) / span)
    if cfg.lr_schedule == "linear":
        factor = 1.0 - progress
    else:
        factor = 0.5 * (1.0 + math.cos(math.pi * progress))
    return cfg.min_lr + (cfg.lr - cfg.min_lr) * factor


def make_optimizer(model: Any, cfg: TrainConfig) -> Any:
    """The one AdamW of the local runtime: decoupled weight decay (none on biases and norms), LoRA+
    groups, ``adam_beta1`` / ``adam_beta2`` / ``adam_eps`` from the recipe; fused on CUDA.

    Raises:
        ConfigError: The model has no trainable parameters.
    """
    import torch

    groups = build_param_groups(model, weight_decay=cfg.weight_decay, loraplus_lr_ratio=cfg.loraplus_lr_ratio)
    if not groups:
        raise ConfigError("the model has no trainable parameters; unfreeze some or attach a LoRA adapter")
    cuda = any(p.is_cuda for g in groups for p in g["params"])
    return torch.optim.AdamW(
        groups,
        lr=cfg.lr,
        betas=(cfg.adam_beta1, cfg.adam_beta2),
        eps=cfg.adam_eps,
        **({"fused": True} if cuda else {}),
    )


def set_lr(optimizer: Any, lr: float) -> None:
    """Set every parameter group's learning rate to ``lr × lr_scale`` (LoRA+ groups train faster)."""
    for g in optimizer.param_groups:
        g["lr"] = lr * g.get("lr_scale", 1.0)


@dataclass
class _Step:
    index: int  # 0-based optimizer step
    epoch: int
    examples: list[int]
    micro: list[MicroBatch]
    budget: int
    tokens: int
    n_targets: int


def _step_indices(n: int, cfg: TrainConfig, total_steps: int) -> Iterator[tuple[int, int, list[int]]]:
    rng = np.random.default_rng(cfg.seed)
    step, epoch = 0, 0
    while step < total_steps:
        order = rng.permutation(n).tolist() if cfg.shuffle else list(range(n))
        for start in range(0, n, cfg.global_batch_size):
            if step >= total_steps:
                return
            yield step, epoch, order[start : start + cfg.global_batch_size]
            step += 1
        epoch += 1


class _Collator:
    def __init__(
        self, data: list[Example], cfg: TrainConfig, layout: str, pin: bool, rank: int = 0, world: int = 1
    ) -> None:
        self.data, self.cfg, self.layout, self.pin = data, cfg, layout, pin
        self.rank, self.world = rank, world
        self.budget = cfg.max_length

    def build(self, index: int, epoch: int, ids: list[int], budget: int) -> _Step:
        """The step's micro-batches; with several processes, of this rank's share of ``ids`` only."""
        mine = ids[self.rank :: self.world]
        lengths = [self.data[i].length for i in mine]
        plan = (
            plan_micro_batches(
                lengths, budget, layout=self.layout, max_length=self.cfg.max_length, packing=self.cfg.packing
            )
            if mine
            else []
        )
        local = [self.data[i] for i in mine]
        pad_multiple = 128 if self.layout == "varlen" else 8
        micro = [
            collate(local, rows, layout=self.layout, packing=self.cfg.packing, pad_multiple=pad_multiple, pin=self.pin)
            for rows in plan
        ]
        return _Step(index, epoch, ids, micro, budget, sum(m.tokens for m in micro), sum(m.n_targets for m in micro))


def _distributed() -> tuple[int, int]:
    """``(rank, world size)`` of the process group torchrun set up, or ``(0, 1)``."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _agree(keep_going: bool, world: int, device: Any) -> bool:
    """With several processes, every rank stops when any rank was asked to stop (no rank left waiting)."""
    if world == 1:
        return keep_going
    import torch
    import torch.distributed as dist

    flag = torch.tensor([0.0 if keep_going else 1.0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item() == 0.0)


def _prefetch(make: Callable[[], Iterator[_Step]], depth: int = 3) -> Iterator[_Step]:
    """Run ``make()`` in a daemon thread, ``depth`` steps ahead of the consumer."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in make():
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:
            q.put(exc)

    thread = threading.Thread(target=work, name="nova-forge-batches", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def train_causal_lm(
    model: Any,
    examples: Iterable[Mapping[str, Any]],
    cfg: TrainConfig,
    on_step: Callable[[StepMetrics], Any] | None = None,
    *,
    on_save: Callable[[int, dict[str, Any]], Any] | None = None,
    resume: Mapping[str, Any] | None = None,
) -> list[StepMetrics]:
    """Fine-tune a causal LM (see :func:`amzn_nova_forge.manager._local._engine.train_causal_lm`).

    ``on_save(step, state)`` is called after every ``cfg.save_steps``-th step with the trainer state
    to keep next to the weights (``{"step", "consumed_samples", "optimizer", "rng", "cuda_rng"}``);
    ``resume`` takes such a state back: the run skips the steps already done (same data order) and
    restores AdamW's moments and the random state, so it continues the loss curve of the run that saved it.
    """
    import torch

    if not isinstance(cfg, TrainConfig):
        raise ConfigError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    cfg.validate()
    torch.manual_seed(cfg.seed)
    data = prepare_examples(examples, cfg.max_length)
    if not data:
        raise ConfigError("no training examples (every example was empty); check the dataset")
    prepared = prepare_model(model, cfg)
    try:
        metrics = _Trainer(model, data, cfg, prepared).run(on_step, on_save=on_save, resume=resume)
    finally:
        prepared.finish()
    return metrics


class _Trainer:
    """One training run: memory plan, optimizer, the step loop and its deferred metrics."""

    def __init__(self, model: Any, data: list[Example], cfg: TrainConfig, prepared: Prepared) -> None:

        self.model, self.data, self.cfg, self.prepared = model, data, cfg, prepared
        self.device = prepared.device
        self.cuda = self.device.type == "cuda"
        steps_per_epoch = math.ceil(len(data) / cfg.global_batch_size)
        self.total_steps = cfg.max_steps if cfg.max_steps is not None else cfg.max_epochs * steps_per_epoch
        self.auto_memory = cfg.micro_batch_tokens is None and cfg.micro_batch_size is None
        rows = cfg.micro_batch_size * cfg.max_length if cfg.micro_batch_size else None
        mem = plan_memory(
            model,
            device=self.device,
            max_length=cfg.max_length,
            requested_tokens=cfg.micro_batch_tokens or rows,
            checkpointing=cfg.gradient_checkpointing,
            lora=is_lora(model),
        )
        self.budget, self.checkpointing = mem.budget, mem.checkpointing
        if self.checkpointing:
            enable_checkpointing(model)
        self.optimizer = make_optimizer(model, cfg)
        self.params = [p for g in self.optimizer.param_groups for p in g["params"]]
        self.loss_of = LossComputer(model, prepared)
        self.rank, self.world = _distributed()
        self.collator = _Collator(data, cfg, prepared.layout, pin=self.cuda, rank=self.rank, world=self.world)
        self.log_every = cfg.log_every or (10 if self.cuda else 1)
        logger.info(
            "training %d examples, %d steps, budget %d tokens/micro-batch, checkpointing=%s, layout=%s",
            len(data),
            self.total_steps,
            self.budget,
            self.checkpointing,
            prepared.layout,
        )

    def _steps(self, start: int = 0) -> Iterator[_Step]:
        for index, epoch, ids in _step_indices(len(self.data), self.cfg, self.total_steps):
            if index >= start:
                yield self.collator.build(index, epoch, ids, self.budget)

    def _run_step(self, step: _Step) -> Any:
        import torch

        cfg = self.cfg
        n_targets = step.n_targets
        if self.world > 1:  # the step's labelled tokens over every rank's share
            import torch.distributed as dist

            count = torch.tensor([float(n_targets)], device=self.device)
            dist.all_reduce(count)
            n_targets = int(count.item())
        scale = 1.0 / max(1, n_targets)  # token mean over the whole step, however it is split
        total = torch.zeros((), dtype=torch.float32, device=self.device)
        for mb in step.micro:
            t = {k: v.to(self.device, non_blocking=True) for k, v in mb.tensors.items()}
            # compiled layers: a constant upper bound keeps the kernel's int argument from recompiling
            loss = self.loss_of(t, max(mb.max_seqlen, cfg.max_length) if cfg.compile else mb.max_seqlen, scale)
            loss.backward()
            total += loss.detach()
        if self.world > 1:  # summed, not averaged: each rank's loss is already scaled by the global count
            import torch.distributed as dist

            for p in self.params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                dist.all_reduce(p.grad)
            dist.all_reduce(total)
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip, foreach=self.cuda or None)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total

    def _step_with_backoff(self, step: _Step) -> Any:
        """Run ``step``; out of memory (automatic sizing only): shrink the budget (then checkpoint) and retry.

        The step's gradients are dropped and the step is rebuilt and rerun from scratch; the
        optimizer has not moved yet (an OOM comes from the forward/backward, or from AdamW
        allocating its state on the very first step).
        """
        import torch

        while True:
            if step.budget != self.budget:
                step = self.collator.build(step.index, step.epoch, step.examples, self.budget)
            try:
                return self._run_step(step)
            except torch.cuda.OutOfMemoryError:
                if not (self.cuda and self.auto_memory):
                    raise
                self.optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                if self.budget > self.cfg.max_length:
                    self.budget = smaller_budget(self.budget, self.cfg.max_length)
                    logger.warning("out of memory: micro-batch budget lowered to %d tokens", self.budget)
                elif not self.checkpointing and self.cfg.gradient_checkpointing == "auto":
                    self.checkpointing = True
                    enable_checkpointing(self.model)
                    logger.warning("out of memory at one row per micro-batch: gradient checkpointing on")
                else:
                    raise

    def run(
        self,
        on_step: Callable[[StepMetrics], Any] | None,
        *,
        on_save: Callable[[int, dict[str, Any]], Any] | None = None,
        resume: Mapping[str, Any] | None = None,
    ) -> list[StepMetrics]:
        """Train; call ``on_step`` per step (in bursts at each host sync); stop when it returns truthy."""
        import torch

        self.model.train()
        metrics: list[StepMetrics] = []
        pending: list[tuple[_Step, Any, float, int]] = []
        consumed, start = 0, 0
        if resume:
            start, consumed = int(resume["step"]), int(resume.get("consumed_samples") or 0)
            if not 0 < start < self.total_steps:
                raise ConfigError(
                    f"cannot resume at step {start}: this run has {self.total_steps} steps "
                    "(resume with the same data, recipe and overrides as the run that saved the checkpoint)"
                )
            self.optimizer.load_state_dict(resume["optimizer"])
            if resume.get("rng") is not None:  # dropout (e.g. LoRA dropout) draws the same masks as before
                torch.set_rng_state(resume["rng"])
            if self.cuda and resume.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(resume["cuda_rng"], self.device)
        last_sync = time.perf_counter()

        def flush() -> bool:
            nonlocal last_sync
            if not pending:
                return True
            losses = torch.stack([p[1] for p in pending]).tolist()  # the one host sync of the interval
            now = time.perf_counter()
            per_step = (now - last_sync) / len(pending)
            last_sync = now
            keep_going = True
            for (step, _, lr, samples), loss in zip(pending, losses):
                m = StepMetrics(
                    step=step.index + 1,
                    epoch=step.epoch,
                    loss=float(loss),
                    lr=lr,
                    tokens=step.tokens,
                    step_time_s=per_step,
                    tokens_per_s=step.tokens / per_step if per_step > 0 else 0.0,
                    consumed_samples=samples,
                    total_steps=self.total_steps,
                )
                metrics.append(m)
                if on_step is not None:
                    keep_going = not on_step(m) and keep_going
            pending.clear()
            return keep_going

        for step in _prefetch(lambda: self._steps(start)):
            lr = lr_at(step.index, self.total_steps, self.cfg)
            set_lr(self.optimizer, lr)
            loss = self._step_with_backoff(step)
            consumed += len(step.examples)
            pending.append((step, loss, lr, consumed))
            # a checkpoint step is delivered at once, so on_step saves the weights of that very step
            saving = bool(self.cfg.save_steps) and (step.index + 1) % (self.cfg.save_steps or 1) == 0
            due = len(pending) >= self.log_every or step.index + 1 == self.total_steps or saving
            if due and not _agree(flush(), self.world, self.device):
                return metrics
            if saving and on_save is not None and step.index + 1 < self.total_steps:
                state = {
                    "step": step.index + 1,
                    "consumed_samples": consumed,
                    "optimizer": self.optimizer.state_dict(),
                    "rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state(self.device) if self.cuda else None,
                }
                on_save(step.index + 1, state)
        flush()
        return metrics
