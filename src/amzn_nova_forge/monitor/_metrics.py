"""Training metrics parsed from log lines (the one parser shared by every platform).

Log line format
===============

The parser reads the *message* of each log event (a CloudWatch event's ``message``,
or one line of a local job's ``train.log``). A line may carry anything around the
metrics; metrics are ``name=value`` or ``name: value`` pairs found anywhere in it.

* **SFT / CPT / DPO** — the SageMaker training containers print a progress line per
  step (PyTorch Lightning / NeMo style)::

      Epoch 0: : 12it [00:30, 2.50s/it, reduced_train_loss=1.234, global_step=11.000, consumed_samples=96.0, train_step_timing in s=2.15, val_loss=1.301]

  ``global_step`` is the step; ``reduced_train_loss`` (or ``train_loss``) is
  ``training_loss``; ``val_loss`` (when printed) is ``validation_loss``.

* **RFT** (single and multi-turn) — any of::

      global_step=12 reward_score=0.532
      step:12 - critic/rewards/mean:0.532 - actor/entropy:0.61 - actor/pg_loss:0.02
      global_step: 12, train_rm_score: 0.532

  ``reward_score``, ``critic/rewards/mean`` (SMTJ) and ``train_rm_score`` (HyperPod)
  are all ``reward_score``; the step is ``global_step`` or, failing that, ``step``.

A line that has a step but none of the method's metrics is ignored, so progress bars,
warnings and stack traces may be interleaved freely. A step printed several times
(progress-bar refreshes, one copy per node when streams are merged) keeps its last
values. Local jobs write ``train.log`` with one event per line, optionally prefixed by
an ISO-8601 UTC timestamp and one space (``2026-01-15T12:00:01.250Z Epoch 0: ...``);
see :mod:`amzn_nova_forge.monitor._logs`.

Example:
    >>> parse_metrics(["Epoch 0: : 1it [00:01, reduced_train_loss=2.5, global_step=0.000]"], "sft_lora")
    [{'step': 0, 'training_loss': 2.5}]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from amzn_nova_forge.core.enums import TrainingMethod

__all__ = ["METRICS_BY_FAMILY", "metric_names", "parse_metrics", "step_metrics_csv"]

_NUM = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"
_STEP_RE = re.compile(r"global_step\s*[=:]\s*" + _NUM)
_PLAIN_STEP_RE = re.compile(r"(?<![\w/])step\s*[=:]\s*(\d+)")

#: metric name -> (cheap substring that must be in the line, compiled regex)
_PATTERNS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "training_loss": [
        ("reduced_train_loss", re.compile(r"reduced_train_loss\s*[=:]\s*" + _NUM)),
        ("train_loss", re.compile(r"(?<![\w/])train_loss\s*[=:]\s*" + _NUM)),
    ],
    "validation_loss": [("val_loss", re.compile(r"(?<![\w/])val_loss\s*[=:]\s*" + _NUM))],
    "reward_score": [
        ("reward_score", re.compile(r"reward_score\s*[=:]\s*" + _NUM)),
        ("critic/rewards/mean", re.compile(r"critic/rewards/mean\s*[=:]\s*" + _NUM)),
        ("train_rm_score", re.compile(r"train_rm_score\s*[=:]\s*" + _NUM)),
    ],
}

#: Training-method family -> metrics that can be parsed for it (first one is the default plot).
METRICS_BY_FAMILY: Mapping[str, tuple[str, ...]] = {
    "sft": ("training_loss", "validation_loss"),
    "cpt": ("training_loss", "validation_loss"),
    "dpo": ("training_loss", "validation_loss"),
    "rft": ("reward_score",),
    "rft_multiturn": ("reward_score",),
}


def _family(method: TrainingMethod | str) -> str:
    try:
        return TrainingMethod(method).family
    except ValueError:
        raise ValueError(
            f"Unknown training method {method!r}; expected one of {', '.join(m.value for m in TrainingMethod)}."
        ) from None


def metric_names(method: TrainingMethod | str) -> tuple[str, ...]:
    """The metrics that :func:`parse_metrics` extracts for ``method`` (default plot metric first)."""
    return METRICS_BY_FAMILY.get(_family(method), ())


def _step_of(line: str) -> int | None:
    m = _STEP_RE.search(line)
    if m is None:
        m = _PLAIN_STEP_RE.search(line)
        if m is None:
            return None
    try:
        return int(float(m.group(1)))
    except ValueError:
        return None


def parse_metrics(lines: Iterable[str | Mapping[str, Any]], method: TrainingMethod | str) -> list[dict[str, Any]]:
    """Extract per-step metrics from log lines.

    Args:
        lines: Log messages (strings) or log events (dicts with a ``"message"`` key), in time order.
        method: The training method of the job; selects the metrics to look for
            (see :data:`METRICS_BY_FAMILY`).

    Returns:
        One dict per step, sorted by step: ``{"step": int, "<metric>": float, ...}``. A step
        seen several times keeps the last value of each metric. Empty when nothing matched.

    Raises:
        ValueError: ``method`` is not a training method.

    Example:
        >>> parse_metrics(["global_step=3 reward_score=0.75"], TrainingMethod.RFT_LORA)
        [{'step': 3, 'reward_score': 0.75}]
    """
    wanted = [(name, _PATTERNS[name]) for name in metric_names(method)]
    if not wanted:
        return []
    by_step: dict[int, dict[str, Any]] = {}
    for item in lines:
        line = item if isinstance(item, str) else str(item.get("message", ""))
        found: dict[str, float] | None = None
        for name, patterns in wanted:
            for needle, rx in patterns:
                if needle not in line:
                    continue
                m = rx.search(line)
                if m is not None:
                    if found is None:
                        found = {}
                    found[name] = float(m.group(1))
                    break
        if not found:
            continue
        step = _step_of(line)
        if step is None:
            continue
        row = by_step.get(step)
        if row is None:
            by_step[step] = row = {"step": step}
        row.update(found)
    return [by_step[s] for s in sorted(by_step)]


_EPOCH_RE = re.compile(r"Epoch\s+(\d+)\s*:")


def step_metrics_csv(lines: Iterable[str | Mapping[str, Any]]) -> str:
    """The ``step_wise_training_metrics.csv`` text of an SFT job: ``step_number,epoch_number,training_loss``.

    Reads the container's progress lines (``Epoch <n>: ... reduced_train_loss=..., global_step=...``);
    a step seen several times keeps its last values. The header alone when nothing matched.

    Example:
        >>> print(step_metrics_csv(["Epoch 0: : 1it [00:01, reduced_train_loss=2.5, global_step=0.000]"]), end="")
        step_number,epoch_number,training_loss
        0,0,2.5
    """
    rows: dict[int, tuple[int | None, float]] = {}
    patterns = _PATTERNS["training_loss"]
    for item in lines:
        line = item if isinstance(item, str) else str(item.get("message", ""))
        step = _step_of(line)
        if step is None:
            continue
        loss = None
        for needle, rx in patterns:
            m = rx.search(line) if needle in line else None
            if m is not None:
                loss = float(m.group(1))
                break
        if loss is None:
            continue
        epoch = _EPOCH_RE.search(line)
        rows[step] = (int(epoch.group(1)) if epoch else None, loss)
    out = ["step_number,epoch_number,training_loss"]
    for step in sorted(rows):
        epoch_number, loss = rows[step]
        out.append(f"{step},{'' if epoch_number is None else epoch_number},{loss!r}")
    return "\n".join(out) + "\n"
