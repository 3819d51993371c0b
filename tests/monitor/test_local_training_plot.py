"""The local runtime's train.log is read by the same parser: its curve matches its metrics CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from amzn_nova_forge.core.enums import JobStatus, Model, TrainingMethod
from amzn_nova_forge.monitor import CloudWatchLogMonitor

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def test_local_sft_logs_plot_and_csv_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    data = tmp_path / "sft.jsonl"
    rows = [
        {"messages": [{"role": "user", "content": f"Say {i}"}, {"role": "assistant", "content": str(i)}]}
        for i in range(32)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    infra = LocalRuntimeManager(output_root=str(tmp_path / "jobs"), device="cpu", max_steps=8)
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path=str(data),
        output_s3_path=str(tmp_path / "jobs"),
    )
    result = customizer.train(job_name="local-sft")
    assert result.wait(poll_every=0.5, timeout=300).status is JobStatus.COMPLETED

    monitor = CloudWatchLogMonitor.from_job_result(result)
    parsed = monitor.get_metrics(TrainingMethod.SFT_LORA)
    with open(Path(result.extras["job_dir"]) / "output" / "step_wise_training_metrics.csv") as f:
        expected = [(int(r["step_number"]), float(r["training_loss"])) for r in csv.DictReader(f)]
    assert [(r["step"], r["training_loss"]) for r in parsed] == [(s, pytest.approx(v, abs=1e-4)) for s, v in expected]
    assert len(parsed) == 8

    png = monitor.plot_metrics(TrainingMethod.SFT_LORA, output_path=tmp_path / "loss.png")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    customizer.get_logs(limit=3)
    assert capsys.readouterr().out.splitlines()[-1] == "Job completed."
