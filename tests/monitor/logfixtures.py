"""Realistic training-container log lines and helpers that load them into moto CloudWatch Logs.

Lines follow what the SageMaker Nova containers print: NeMo/Lightning progress bars for
SFT/CPT/DPO (``reduced_train_loss=…, global_step=…``), verl-style metric lines for RFT
(``step:N - critic/rewards/mean:…``), interleaved with INFO chatter, warnings and a traceback.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

# CloudWatch (and moto) reject events older than 14 days: stamp lines from two hours ago.
BASE_MS = (int(time.time()) - 7200) * 1000


def loss_at(step: int) -> float:
    return round(2.5 * math.exp(-step / 40.0) + 0.3 + 0.02 * math.sin(step), 4)


def reward_at(step: int) -> float:
    return round(0.9 - 0.7 * math.exp(-step / 60.0), 4)


def sft_lines(steps: int, *, chatter: int = 3, seed: int = 0, total: int | None = None) -> list[str]:
    """Progress-bar lines for ``steps`` steps with ``chatter`` noise lines between them."""
    rnd = random.Random(seed)
    total = total or steps
    out = [
        "[2026-01-15 12:00:00,001] [INFO] [nemo_logging.py:349:info] Loading recipe /opt/ml/input/config/recipe.yaml",
        "WARNING: Logging before flag parsing goes to stderr.",
        "GPU available: True (cuda), used: True",
    ]
    for step in range(steps):
        pct = int(100 * (step + 1) / total)
        out.append(
            f"Epoch 0: : {pct:3d}%|##        | {step + 1}/{total} [00:{step % 60:02d}<01:00, 2.15s/it, "
            f"reduced_train_loss={loss_at(step):.4f}, global_step={step:.3f}, consumed_samples={64.0 * (step + 1)}, "
            f"train_step_timing in s=2.15" + (f", val_loss={loss_at(step) + 0.05:.4f}]" if step % 10 == 9 else "]")
        )
        for _ in range(chatter):
            out.append(
                rnd.choice(
                    [
                        "[2026-01-15 12:00:01,250] [INFO] [checkpointing.py:88] Saving async checkpoint shard 3/8",
                        "NCCL INFO comm 0x55d5 rank 3 nranks 16 cudaDev 3 busId 901c0 - Init COMPLETE",
                        "/usr/local/lib/python3.10/site-packages/torch/utils/data.py:558: UserWarning: step_timing",
                        "Traceback (most recent call last):  [suppressed retry, harmless]",
                    ]
                )
            )
    out.append("Training completed. `Trainer.fit` stopped: `max_steps=%d` reached." % steps)
    return out


def rft_lines(steps: int) -> list[str]:
    out = [
        "(TaskRunner pid=812) Started a local Ray instance.",
        "step:0 - training/global_step:0 - val-score/rewards/mean@1:0.11",
    ]
    for step in range(1, steps + 1):
        out.append(
            f"(TaskRunner pid=812) step:{step} - global_seqlen/mean:5012.0 - actor/entropy:0.61 - actor/pg_loss:0.0123 "
            f"- critic/rewards/mean:{reward_at(step):.4f} - critic/rewards/max:1.0 - perf/time_per_step:41.2"
        )
    return out


def put_lines(
    logs: Any, group: str, stream: str, lines: list[str], *, start_ms: int = BASE_MS, every_ms: int = 10
) -> None:
    """Create the group/stream if needed and put ``lines`` as events ``every_ms`` apart."""
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    batch: list[dict[str, Any]] = []
    size = 0
    for i, line in enumerate(lines):
        batch.append({"timestamp": start_ms + i * every_ms, "message": line})
        size += len(line) + 26
        if len(batch) >= 10_000 or size > 900_000:
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
            batch, size = [], 0
    if batch:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
