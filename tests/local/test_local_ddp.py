"""Several processes: ``LocalRuntimeManager(devices=2)`` trains through torchrun (gloo on CPU)."""

from __future__ import annotations

from pathlib import Path

import local_toy
import pytest

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def _train(root: Path, data: str, name: str, method: str = "sft_full", **infra_kwargs: object) -> Path:
    from amzn_nova_forge.core.enums import JobStatus, Model, TrainingMethod
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    infra = LocalRuntimeManager(output_root=root / "jobs", device="cpu", max_steps=4, **infra_kwargs)  # type: ignore[arg-type]
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


def test_two_process_ddp_matches_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch.distributed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    data = local_toy.sft(tmp_path / "sft.jsonl", n=40)  # 40 rows, steps of 16: the third step has 8 rows (4 per rank)
    single = _train(tmp_path, data, "single")
    ddp = _train(tmp_path, data, "ddp", devices=2)
    one, two = local_toy.losses(single), local_toy.losses(ddp)
    assert len(one) == len(two) == 4
    assert two == pytest.approx(one, rel=1e-4, abs=1e-5)
    log = (ddp / "train.log").read_text()
    assert "Training with 2 processes" in log and "--nproc_per_node=2" in log
    assert log.count("Model loaded") == 1  # rank 1 writes nothing
    assert (ddp / "checkpoints" / "final" / "config.json").is_file()


def test_devices_is_validated(tmp_path: Path) -> None:
    from amzn_nova_forge.errors import ConfigError
    from amzn_nova_forge.manager import LocalRuntimeManager

    for bad in (0, 2.5, True, 65):
        with pytest.raises(ConfigError, match="devices must be an integer from 1 to 64"):
            LocalRuntimeManager(devices=bad)  # type: ignore[arg-type]
    assert LocalRuntimeManager(devices=2).local_settings["devices"] == 2
    assert "devices" not in LocalRuntimeManager().local_settings


def test_several_processes_refuse_dpo_and_rft(tmp_path: Path) -> None:
    from amzn_nova_forge.errors import ConfigError
    from amzn_nova_forge.manager._local._jobdir import JobDir
    from amzn_nova_forge.manager._local._worker import _launch_ranks

    for method in ("dpo_lora", "rft_full"):
        with pytest.raises(
            ConfigError, match=r"devices=2: several processes train SFT and CPT jobs; run this (DPO|RFT)"
        ):
            _launch_ranks(JobDir(tmp_path / "job"), {"method": method}, 2)
