"""parse_metrics on realistic container lines."""

from __future__ import annotations

import pytest
from logfixtures import loss_at, reward_at, rft_lines, sft_lines

from amzn_nova_forge.core.enums import TrainingMethod
from amzn_nova_forge.monitor._metrics import metric_names, parse_metrics


def test_sft_progress_lines_give_every_step_loss_and_val_loss() -> None:
    rows = parse_metrics(sft_lines(120), TrainingMethod.SFT_LORA)
    assert [r["step"] for r in rows] == list(range(120))
    assert all(r["training_loss"] == pytest.approx(loss_at(r["step"])) for r in rows)
    with_val = [r["step"] for r in rows if "validation_loss" in r]
    assert with_val == list(range(9, 120, 10))
    assert rows[9]["validation_loss"] == pytest.approx(loss_at(9) + 0.05)


def test_repeated_steps_keep_last_value_and_noise_is_ignored() -> None:
    lines = [
        "Epoch 0: : 1it [00:01, reduced_train_loss=3.0, global_step=0.000]",
        "Epoch 0: : 1it [00:02, reduced_train_loss=2.9, global_step=0.000]",  # progress-bar refresh
        "global_step is computed from consumed_samples",  # no metric
        "reduced_train_loss=1.0 with no step on this line",  # no step
        {"message": "Epoch 0: : 2it [00:03, reduced_train_loss=2.5e-1, global_step=1.000]"},
    ]
    assert parse_metrics(lines, "cpt") == [{"step": 0, "training_loss": 2.9}, {"step": 1, "training_loss": 0.25}]


def test_rft_verl_lines_and_other_reward_spellings() -> None:
    rows = parse_metrics(rft_lines(30), TrainingMethod.RFT_LORA)
    assert [r["step"] for r in rows] == list(range(1, 31))  # step 0 has only a val-score
    assert rows[-1]["reward_score"] == pytest.approx(reward_at(30))
    other = ["global_step=5 reward_score=0.75", "global_step: 6, train_rm_score: 0.8", "perf/time_per_step:3 step:7"]
    assert parse_metrics(other, TrainingMethod.RFT_FULL) == [
        {"step": 5, "reward_score": 0.75},
        {"step": 6, "reward_score": 0.8},
    ]


def test_loss_lines_are_not_rewards_and_vice_versa() -> None:
    assert parse_metrics(sft_lines(5), TrainingMethod.RFT_LORA) == []
    assert parse_metrics(rft_lines(5), TrainingMethod.SFT_FULL) == []
    assert metric_names(TrainingMethod.EVALUATION) == ()
    with pytest.raises(ValueError, match="Unknown training method"):
        parse_metrics([], "sft_qlora")
