"""``nova-forge demo``: the README's first command, offline on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.torch


def test_demo_runs_offline_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    monkeypatch.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(tmp_path / "default-jobs"))
    from amzn_nova_forge.cli._main import main
    from amzn_nova_forge.core.enums import JobStatus
    from amzn_nova_forge.model.result import BaseJobResult

    out_dir = tmp_path / "demo"
    rc = main(["demo", "--output-dir", str(out_dir), "--device", "cpu", "--max-steps", "4"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "TINY DEMO MODEL" in out and "loss " in out and "Done in" in out
    png = out_dir / "loss_curve.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(x) for x in (out_dir / "batch-inference" / "inference_results.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and rows[0]["gold_response"]
    saved = next(out_dir.glob("demo-sft-lora-*_LOCAL.json"))
    result = BaseJobResult.load(str(saved))
    assert result.get_job_status()[0] is JobStatus.COMPLETED
    assert "em=" in out and "bleu=" in out
