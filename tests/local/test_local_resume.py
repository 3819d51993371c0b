"""Intermediate checkpoints (``save_steps``) and ``resume_from``: a resumed job continues the loss curve."""

from __future__ import annotations

import json
from pathlib import Path

import local_toy
import pytest

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def _train(root: Path, data: str, method: str, name: str, **infra_kwargs: object) -> Path:
    from amzn_nova_forge.core.enums import JobStatus, Model, TrainingMethod
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    infra = LocalRuntimeManager(output_root=root / "jobs", device="cpu", max_steps=6, seed=0, **infra_kwargs)  # type: ignore[arg-type]
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod(method),
        infra=infra,
        data_s3_path=data,
        output_s3_path=str(root / "jobs"),
    )
    result = customizer.train(job_name=name, overrides={"lr": 3e-3, "global_batch_size": 16, "warmup_steps": 1})
    info = result.wait(poll_every=0.5, timeout=600)
    job_dir = Path(result.extras["job_dir"])
    assert info.status is JobStatus.COMPLETED, (info.message, (job_dir / "train.log").read_text()[-3000:])
    return job_dir


@pytest.mark.parametrize("method", ["sft_full", "sft_lora"])
def test_resumed_job_continues_the_loss_curve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    pytest.importorskip("peft")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    data = local_toy.sft(tmp_path / "sft.jsonl", n=48)
    first = _train(tmp_path, data, method, "first", training_overrides={"save_steps": 2})
    saved = json.loads((first / "status.json").read_text())["outputs"]["intermediate_checkpoints"]
    assert [Path(p).name for p in saved] == ["step-2", "step-4"]  # every 2 steps, not the last (that is final/)
    step4 = first / "checkpoints" / "step-4"
    assert (step4 / "trainer_state.pt").is_file() and (step4 / "config.json").is_file()
    assert json.loads((step4 / "nova_forge_checkpoint.json").read_text())["step"] == 4

    resumed = _train(tmp_path, data, method, "resumed", resume_from=str(step4))
    whole, tail = local_toy.losses(first), local_toy.losses(resumed)
    assert len(whole) == 6 and len(tail) == 2  # steps 5 and 6 only
    assert tail == pytest.approx(whole[4:], rel=1e-4, abs=1e-5)
    assert "Resuming from" in (resumed / "train.log").read_text()


def test_resume_is_refused_for_a_folder_that_is_not_a_resumable_checkpoint(tmp_path: Path) -> None:
    from amzn_nova_forge.errors import ConfigError
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.manager._local._checkpoints import read_resume

    with pytest.raises(ConfigError, match="is not a folder"):
        LocalRuntimeManager(resume_from=tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"not a resumable checkpoint: .*trainer_state.pt is missing"):
        read_resume(str(tmp_path), family="sft", lora=False)
    with pytest.raises(ConfigError, match="resume_from works for SFT and CPT jobs; this job is DPO"):
        read_resume(str(tmp_path), family="dpo", lora=False)
