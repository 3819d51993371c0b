"""Each training method end to end through NovaModelCustomizer + LocalRuntimeManager on a tiny CPU model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from local_toy import Jobs, losses

from amzn_nova_forge.core.enums import JobStatus

pytestmark = pytest.mark.torch

LEARNING = ("sft_lora", "sft_full", "dpo_lora", "dpo_full", "cpt")


def _completed(jobs: Jobs, name: str) -> Path:
    result = jobs.results[name]
    status, raw = result.get_job_status()
    assert status is JobStatus.COMPLETED, f"{name}: {raw}: {result.status().message}"
    return Path(result.extras["job_dir"])


@pytest.mark.parametrize("name", LEARNING)
def test_method_completes_and_loss_decreases(trained: Jobs, name: str) -> None:
    job_dir = _completed(trained, name)
    values = losses(job_dir)
    assert len(values) >= 4
    first, last = sum(values[:2]) / 2, sum(values[-2:]) / 2
    assert last < 0.9 * first, f"{name}: loss {values}"
    log = (job_dir / "train.log").read_text()
    assert "reduced_train_loss=" in log and "global_step=" in log


@pytest.mark.parametrize("name", LEARNING + ("rft_full",))
def test_output_archive_manifest_and_checkpoint(trained: Jobs, name: str) -> None:
    job_dir = _completed(trained, name)
    archive = job_dir / "output" / "output.tar.gz"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert {"manifest.json", "step_wise_training_metrics.csv"} <= names
    ckpt = Path(manifest["checkpoint_s3_bucket"])
    assert (ckpt / "config.json").exists() and (ckpt / "model.safetensors").exists()
    assert (ckpt / "tokenizer.json").exists()
    result = trained.results[name]
    assert result.model_artifacts.checkpoint_s3_path == str(ckpt)
    assert (ckpt / "adapter" / "adapter_config.json").exists() == trained.customizers[name].method.is_lora


def test_dpo_prefers_the_chosen_answer(trained: Jobs) -> None:
    acc = losses(_completed(trained, "dpo_full"), "reward_accuracy")
    assert acc[-1] >= 0.9


def test_rft_reward_rises_with_the_users_reward_function(trained: Jobs) -> None:
    job_dir = _completed(trained, "rft_full")
    rewards = losses(job_dir, "reward_score")
    assert len(rewards) == 10
    assert sum(rewards[-3:]) / 3 > sum(rewards[:3]) / 3 + 0.05, rewards
    assert "reward_score=" in (job_dir / "train.log").read_text()


def test_raising_reward_function_fails_the_job_with_its_traceback(trained: Jobs) -> None:
    result = trained.results["rft_bad_reward"]
    info = result.status()
    assert info.status is JobStatus.FAILED
    message = info.message or ""
    assert "reward_bad.py raised KeyError" in message and "expected_score_field" in message
    assert "Traceback" in message and "_grade" in message  # the user's frame is in the traceback
    log = (Path(result.extras["job_dir"]) / "train.log").read_text()
    assert "in _grade" in log


def test_results_load_and_report_status_in_another_process(trained: Jobs, tmp_path: Path) -> None:
    paths = [str(trained.results[n].dump(str(tmp_path))) for n in ("sft_lora", "dpo_lora", "rft_bad_reward")]
    code = (
        "import json, sys\n"
        "from amzn_nova_forge.model.result import BaseJobResult\n"
        "out = []\n"
        "for p in sys.argv[1:]:\n"
        "    r = BaseJobResult.load(p)\n"
        "    s, raw = r.get_job_status()\n"
        "    out.append([type(r).__name__, s.name, raw, r.model_artifacts.checkpoint_s3_path])\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r[:3] for r in rows] == [
        ["LocalTrainingResult", "COMPLETED", "Completed"],
        ["LocalTrainingResult", "COMPLETED", "Completed"],
        ["LocalTrainingResult", "FAILED", "Failed"],
    ]
    assert rows[0][3] == trained.results["sft_lora"].model_artifacts.checkpoint_s3_path


def _wait_for_progress(result: object, timeout: float = 240) -> dict:
    from amzn_nova_forge.manager import LocalRuntimeManager

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = LocalRuntimeManager.job_status_data(result.ref)  # type: ignore[attr-defined]
        if (st.get("progress") or {}).get("step", 0) >= 1:
            return st
        assert st.get("status") not in ("Failed", "Completed"), st
        time.sleep(0.3)
    raise AssertionError("the long-running job never reported a step")


def test_killed_worker_is_reported_failed(trained: Jobs) -> None:
    result = trained.results["killed"]
    st = _wait_for_progress(result)
    assert result.get_job_status()[0] is JobStatus.IN_PROGRESS
    os.kill(int(st["pid"]), signal.SIGKILL)
    deadline = time.monotonic() + 30  # poll rather than guess how long the kernel takes to reap it
    info = result.status()
    while info.status is JobStatus.IN_PROGRESS and time.monotonic() < deadline:
        time.sleep(0.1)
        info = result.status()
    assert info.status is JobStatus.FAILED
    assert "exited without finishing" in (info.message or "")


def test_cleanup_stops_a_training_worker(trained: Jobs) -> None:
    result = trained.results["stopped"]
    _wait_for_progress(result)
    trained.customizers["stopped"].infra.cleanup(result.job_id)
    status, raw = result.get_job_status()
    assert (status, raw) == (JobStatus.STOPPED, "Stopped")
    assert "Stopped by request" in (Path(result.extras["job_dir"]) / "train.log").read_text()


def test_base_model_folder_is_loaded_with_from_pretrained(trained: Jobs) -> None:
    job_dir = _completed(trained, "from_folder")
    folder = trained.customizers["from_folder"].infra.base_model
    log = (job_dir / "train.log").read_text()
    assert f"Loading model {folder} on cpu" in log
    manifest = json.loads((job_dir / "output" / "manifest.json").read_text())
    assert manifest["base_model"] == folder and len(losses(job_dir)) == 2


def test_validation_data_gives_a_validation_loss(trained: Jobs) -> None:
    job_dir = _completed(trained, "sft_full")
    manifest = json.loads((job_dir / "output" / "manifest.json").read_text())
    assert 0.0 < manifest["val_loss"] < losses(job_dir)[0]  # evaluated after training
    assert f"val_loss={manifest['val_loss']:.4f}" in (job_dir / "train.log").read_text()


def test_s3_data_and_output_over_moto(moto_server: str, s3_bucket: str, tmp_path: Path) -> None:
    """Data read from and the output archive uploaded to S3 (moto over HTTP) by the worker process."""
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    import boto3
    import local_toy

    from amzn_nova_forge.core.enums import Model, TrainingMethod
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server)
    s3.upload_file(local_toy.sft(tmp_path / "sft.jsonl"), s3_bucket, "train/sft.jsonl")
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=LocalRuntimeManager(output_root=tmp_path / "jobs", device="cpu", max_steps=2),
        data_s3_path=f"s3://{s3_bucket}/train/sft.jsonl",
        output_s3_path=f"s3://{s3_bucket}/out",
    )
    result = customizer.train(job_name="s3-job", overrides={"global_batch_size": 16})
    info = result.wait(poll_every=0.5, timeout=300)
    assert info.status is JobStatus.COMPLETED, info.message
    key = f"out/{result.job_id}/output/output.tar.gz"
    body = s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert body[:2] == b"\x1f\x8b"  # gzip
    assert Path(result.model_artifacts.checkpoint_s3_path).is_dir()  # the checkpoint stays local
