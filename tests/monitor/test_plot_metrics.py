"""plot_metrics: the spec's errors, a real PNG holding the expected curve, local train.log."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import boto3
import pytest
from logfixtures import BASE_MS, loss_at, put_lines, reward_at, rft_lines, sft_lines

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.monitor import CloudWatchLogMonitor

GROUP = "/aws/sagemaker/TrainingJobs"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def sft_job(aws: Any) -> CloudWatchLogMonitor:
    logs = boto3.client("logs", region_name="us-east-1")
    put_lines(logs, GROUP, "sft-job/algo-1-1", sft_lines(300))
    put_lines(logs, GROUP, "sft-job/algo-2-1", sft_lines(300, seed=1), start_ms=BASE_MS + 3)
    monitor = CloudWatchLogMonitor.from_job_id(job_id="sft-job", platform=Platform.SMTJ)
    monitor._job_is_terminal = lambda: True  # type: ignore[method-assign]  # no runtime needed here
    return monitor


def test_plot_saves_png_with_the_loss_curve(sft_job: CloudWatchLogMonitor, tmp_path: Path) -> None:
    out = sft_job.plot_metrics(
        training_method=TrainingMethod.SFT_LORA, metrics=["training_loss"], output_path=tmp_path / "loss.png"
    )
    assert out == tmp_path / "loss.png"
    width, height = _png_size(out)
    assert (width, height) == (800, 320)
    rows = sft_job.get_metrics(TrainingMethod.SFT_LORA)
    assert [r["step"] for r in rows] == list(range(300))
    assert [r["training_loss"] for r in rows] == [loss_at(s) for s in range(300)]
    assert rows[0]["training_loss"] > 2.7 and rows[-1]["training_loss"] < 0.35  # decaying curve
    # The PNG itself shows that curve: the line's pixels (matplotlib's default blue) sit high on the
    # left (large loss at the first steps) and low on the right.
    from matplotlib.image import imread

    img = imread(out)[:, :, :3]
    blue = (
        (abs(img[:, :, 0] - 0x1F / 255) < 0.08)
        & (abs(img[:, :, 1] - 0x77 / 255) < 0.08)
        & (abs(img[:, :, 2] - 0xB4 / 255) < 0.08)
    )
    rows_px, cols_px = blue.nonzero()
    assert len(cols_px) > 500
    left, right = cols_px < cols_px.min() + 60, cols_px > cols_px.max() - 200
    import numpy as np

    # (the legend's short blue sample sits top right, hence the median)
    assert rows_px[left].min() < np.median(rows_px[right]) - 150  # starts far above where it ends


def test_plot_default_file_name_outside_notebook(
    sft_job: CloudWatchLogMonitor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = sft_job.plot_metrics(training_method=TrainingMethod.SFT_LORA)
    assert out == Path("sft-job_training_loss.png")
    assert _png_size(tmp_path / out)[0] == 800
    two = sft_job.plot_metrics(TrainingMethod.SFT_FULL, ["training_loss", "validation_loss"], output_path="two.png")
    assert _png_size(tmp_path / two) == (800, 640)  # one panel per metric


def test_step_window_and_spec_errors(sft_job: CloudWatchLogMonitor, tmp_path: Path) -> None:
    rows = sft_job.get_metrics(TrainingMethod.SFT_LORA, starting_step=50, ending_step=200)
    assert rows[0]["step"] == 50 and rows[-1]["step"] == 200 and len(rows) == 151
    with pytest.raises(ValueError, match="starting_step"):
        sft_job.plot_metrics(TrainingMethod.SFT_LORA, starting_step=200, ending_step=50)
    with pytest.raises(NotImplementedError, match="reward_score"):
        sft_job.plot_metrics(TrainingMethod.SFT_LORA, metrics=["reward_score"])
    with pytest.raises(NotImplementedError, match="not reported by EVALUATION jobs"):
        sft_job.plot_metrics(TrainingMethod.EVALUATION)
    with pytest.raises(ValueError, match="No reward_score values"):
        sft_job.plot_metrics(TrainingMethod.RFT_LORA, output_path=tmp_path / "r.png")
    assert not (tmp_path / "r.png").exists()
    with pytest.raises(ValueError, match="No training_loss values .* in steps 5000..6000"):
        sft_job.plot_metrics(TrainingMethod.SFT_LORA, starting_step=5000, ending_step=6000)


def test_no_logs_is_value_error(aws: Any) -> None:
    monitor = CloudWatchLogMonitor.from_job_id(job_id="ghost", platform=Platform.SMTJ)
    with pytest.raises(ValueError, match="No logs found for job 'ghost'"):
        monitor.plot_metrics(training_method=TrainingMethod.SFT_LORA, metrics=["training_loss"])


def test_rft_reward_plot_spec_example(aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    put_lines(logs, GROUP, "rft-job/algo-1-1", rft_lines(250))
    monkeypatch.chdir(tmp_path)
    monitor = CloudWatchLogMonitor.from_job_id(job_id="rft-job", platform=Platform.SMTJ)
    # Plot reward score for an RFT job, filtered to steps 50-200 (spec example, verbatim)
    monitor.plot_metrics(
        training_method=TrainingMethod.RFT_LORA, metrics=["reward_score"], starting_step=50, ending_step=200
    )
    assert _png_size(tmp_path / "rft-job_reward_score.png")[0] == 800
    rows = monitor.get_metrics(TrainingMethod.RFT_LORA, 50, 200)
    assert [r["reward_score"] for r in rows] == [reward_at(s) for s in range(50, 201)]


def test_logs_are_refetched_while_the_job_runs(aws: Any) -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    put_lines(logs, GROUP, "running/algo-1", sft_lines(10, chatter=0))
    monitor = CloudWatchLogMonitor("running", Platform.SMTJ)
    monitor._job_is_terminal = lambda: False  # type: ignore[method-assign]
    assert len(monitor.get_metrics(TrainingMethod.CPT)) == 10
    more = [f"Epoch 0: : 1it [00:01, reduced_train_loss=0.5, global_step={s}.000]" for s in range(10, 15)]
    put_lines(logs, GROUP, "running/algo-2", more, start_ms=BASE_MS + 10_000)
    assert len(monitor.get_metrics(TrainingMethod.CPT)) == 15


def test_local_train_log(tmp_path: Path) -> None:
    job_dir = tmp_path / "local-jobs" / "local-sft-1"
    job_dir.mkdir(parents=True)
    lines = sft_lines(40, chatter=1)
    stamped = [f"2026-01-15T12:00:{i // 100:02d}.{i % 100:02d}0Z {x}" if i % 2 == 0 else x for i, x in enumerate(lines)]
    (job_dir / "train.log").write_text("\n".join(stamped) + "\n")
    monitor = CloudWatchLogMonitor.from_job_id(job_id="local-sft-1", platform=Platform.LOCAL, job_dir=str(job_dir))
    events = monitor.get_logs(start_from_head=True)
    assert [e["message"] for e in events] == lines
    assert events[1]["timestamp"] == events[0]["timestamp"]  # unstamped line takes the previous time
    assert [e["message"] for e in monitor.get_logs(limit=2)] == lines[-2:]
    monitor._job_is_terminal = lambda: True  # type: ignore[method-assign]
    out = monitor.plot_metrics(TrainingMethod.SFT_LORA, output_path=tmp_path / "local.png")
    assert _png_size(out)[0] == 800
    assert [r["training_loss"] for r in monitor.get_metrics(TrainingMethod.SFT_LORA)] == [loss_at(s) for s in range(40)]


def test_local_follow_reads_only_complete_new_lines(tmp_path: Path) -> None:
    log = tmp_path / "j" / "train.log"
    log.parent.mkdir()
    log.write_text("one\ntwo\nhalf")
    monitor = CloudWatchLogMonitor("j", Platform.LOCAL, job_dir=str(log.parent))
    calls = {"n": 0}

    def sleep(_: float) -> None:
        calls["n"] += 1
        with open(log, "a") as f:
            f.write("-line\nthree\n")

    got = [e["message"] for e in monitor.follow(is_done=lambda: calls["n"] >= 1, sleep=sleep)]
    assert got == ["one", "two", "half-line", "three"]
    assert os.path.exists(log)


def test_inline_in_notebook_and_the_figure_holds_the_curve(
    sft_job: CloudWatchLogMonitor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    class KernelShell:
        config = {"IPKernelApp": {"connection_file": "kernel-1.json"}}

    shown: list[Any] = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = KernelShell  # type: ignore[attr-defined]
    # matplotlib reads IPython.version_info the first time a canvas is made in the process (cached):
    # without it the test fails when it happens to be the first to draw (order dependence).
    ipython.version_info = (8, 24, 0)  # type: ignore[attr-defined]
    display_mod = types.ModuleType("IPython.display")
    display_mod.display = shown.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_mod)
    monkeypatch.chdir(tmp_path)
    assert (
        sft_job.plot_metrics(
            training_method=TrainingMethod.SFT_LORA, metrics=["training_loss"], starting_step=20, ending_step=120
        )
        is None
    )
    assert list(tmp_path.iterdir()) == []  # nothing written in a notebook
    (fig,) = shown
    (ax,) = fig.axes
    xy = ax.lines[0].get_xydata()
    assert [int(x) for x in xy[:, 0]] == list(range(20, 121))
    assert list(xy[:, 1]) == pytest.approx([loss_at(s) for s in range(20, 121)])
    assert ax.get_xlabel() == "global step" and ax.get_ylabel() == "training loss"
    # An explicit output_path still writes the file, even in a notebook.
    assert sft_job.plot_metrics(TrainingMethod.SFT_LORA, output_path="x.png") == Path("x.png")
