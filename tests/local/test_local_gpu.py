"""GPU path of the local runtime (skipped without CUDA)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.torch, pytest.mark.gpu]


def test_sft_lora_trains_on_cuda_in_bf16(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    import local_toy

    from amzn_nova_forge.core.enums import JobStatus, TrainingMethod
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.manager._base import JobConfig

    infra = LocalRuntimeManager(output_root=tmp_path, device="cuda", max_steps=4)
    job_id = infra.execute(
        JobConfig(
            job_name="gpu",
            image_uri="",
            recipe_path="",
            data_s3_path=local_toy.sft(tmp_path / "sft.jsonl"),
            method=TrainingMethod.SFT_LORA,
            hyperparameters={"lr": 3e-3},
        )
    )
    ref = infra.job_ref(job_id)
    deadline = time.monotonic() + 300
    while not (info := LocalRuntimeManager.job_info(ref)).status.is_terminal and time.monotonic() < deadline:
        time.sleep(0.5)
    assert info.status is JobStatus.COMPLETED, info.message
    status = json.loads((Path(ref.extras["job_dir"]) / "status.json").read_text())
    assert status["model"]["device"] == "cuda"
    log = (Path(ref.extras["job_dir"]) / "train.log").read_text()
    assert "torch.bfloat16" in log or not torch.cuda.is_bf16_supported()
