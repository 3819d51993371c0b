"""Fixtures of the local-runtime tests: tiny models on CPU, jobs started together to share the two cores.

``trained`` (session scope) starts every training job of the suite at once through
``NovaModelCustomizer(..., infra=LocalRuntimeManager(...))`` and waits for them; the
tests then inspect the finished jobs. It is skipped cleanly when torch is missing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import local_toy
import pytest
from local_toy import Jobs

#: name -> (model, method, dataset builder, overrides, extra manager kwargs)
JOB_SPECS: dict[str, tuple[str, str, str, dict[str, Any], dict[str, Any]]] = {
    "sft_lora": (
        "NOVA_MICRO",
        "sft_lora",
        "sft",
        {"lr": 3e-3, "global_batch_size": 16, "max_epochs": 6, "warmup_steps": 1},
        {},
    ),
    "sft_full": (
        "NOVA_MICRO",
        "sft_full",
        "sft",
        {"lr": 3e-3, "global_batch_size": 16, "max_epochs": 4, "warmup_steps": 1},
        {},
    ),
    "dpo_lora": (
        "NOVA_MICRO",
        "dpo_lora",
        "dpo",
        {"lr": 5e-3, "global_batch_size": 16, "max_epochs": 4, "warmup_steps": 1},
        {},
    ),
    "dpo_full": (
        "NOVA_MICRO",
        "dpo_full",
        "dpo",
        {"lr": 1e-3, "global_batch_size": 16, "max_epochs": 3, "warmup_steps": 1},
        {},
    ),
    "cpt": (
        "NOVA_MICRO",
        "cpt",
        "cpt",
        {"lr": 3e-3, "global_batch_size": 32, "max_epochs": 6, "max_length": 1024},
        {"training_overrides": {"max_length": 64}},
    ),
    # The tiny random model needs a far larger learning rate than the RFT recipe allows (<= 1e-3),
    # so the test passes it as a local-runtime setting.
    "rft_full": (
        "NOVA_LITE_2",
        "rft_full",
        "rft",
        {"global_batch_size": 32, "max_steps": 10},
        {
            "training_overrides": {"lr": 1e-2, "number_generation": 8, "kl_loss_coef": 0.0},
            "max_new_tokens": 8,
            "reward": "good",
        },
    ),
    "rft_bad_reward": (
        "NOVA_LITE_2",
        "rft_lora",
        "rft",
        {"global_batch_size": 16, "max_steps": 5},
        {"max_new_tokens": 4, "reward": "bad"},
    ),
    "from_folder": (
        "NOVA_MICRO",
        "sft_lora",
        "sft",
        {"global_batch_size": 16},
        {"max_steps": 2, "base_model": "FOLDER"},
    ),
    "killed": ("NOVA_MICRO", "sft_lora", "sft", {"global_batch_size": 16}, {"max_steps": 100000}),
    "stopped": ("NOVA_MICRO", "sft_lora", "sft", {"global_batch_size": 16}, {"max_steps": 100000}),
}
LONG_RUNNING = ("killed", "stopped")


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jobs]:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("peft")

    from amzn_nova_forge.core.enums import JobStatus, Model, TrainingMethod
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    root = tmp_path_factory.mktemp("local-runtime")
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    mp.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(root / "default-jobs"))
    mp.setenv("OMP_NUM_THREADS", "1")  # many small workers share two cores
    jobs = Jobs(root)
    data_dir = root / "data"
    data_dir.mkdir()
    for kind in ("sft", "dpo", "cpt", "rft", "gen_qa", "mcq"):
        jobs.data[kind] = getattr(local_toy, kind)(data_dir / f"{kind}.jsonl")
    (data_dir / "reward_good.py").write_text(local_toy.REWARD_LOWERCASE)
    (data_dir / "reward_bad.py").write_text(local_toy.REWARD_RAISES)
    try:
        for name, (model, method, data, overrides, extra) in JOB_SPECS.items():
            extra = dict(extra)
            reward = extra.pop("reward", None)
            if extra.get("base_model") == "FOLDER":  # a Hugging Face folder loaded with from_pretrained
                from amzn_nova_forge.manager._local._tiny import save_tiny_model

                extra["base_model"] = str(save_tiny_model(root / "hf-folder-model"))
            infra = LocalRuntimeManager(
                output_root=root / "jobs",
                device="cpu",
                rft_lambda=str(data_dir / f"reward_{reward}.py") if reward else None,
                **extra,
            )
            customizer = NovaModelCustomizer(
                model=Model[model],
                method=TrainingMethod(method),
                infra=infra,
                data_s3_path=jobs.data[data],
                output_s3_path=str(root / "jobs"),
            )
            jobs.customizers[name] = customizer
            validation = jobs.data["sft"] if name == "sft_full" else None
            jobs.results[name] = customizer.train(
                job_name=name.replace("_", "-"), overrides=overrides, validation_data_s3_path=validation
            )
        deadline = time.monotonic() + 600
        for name, result in jobs.results.items():
            if name in LONG_RUNNING:
                continue
            info = result.wait(poll_every=0.5, timeout=max(deadline - time.monotonic(), 1))
            assert info.status.is_terminal, name
        yield jobs
    finally:
        for name in LONG_RUNNING:
            result = jobs.results.get(name)
            if result is not None and result.get_job_status()[0] is JobStatus.IN_PROGRESS:
                LocalRuntimeManager.stop_job(result.ref, grace=1.0)
        mp.undo()
