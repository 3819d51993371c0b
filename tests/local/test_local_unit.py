"""Local runtime pieces that need no torch: config resolution, data conversion, metrics, job folder, status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amzn_nova_forge.core.enums import JobStatus, Platform
from amzn_nova_forge.errors import ConfigError, DataPrepError
from amzn_nova_forge.manager._base import JobRef
from amzn_nova_forge.manager._local import _data, _hparams
from amzn_nova_forge.manager._local._jobdir import JobDir, pid_alive
from amzn_nova_forge.manager._local._manager import LocalRuntimeManager, spawn_detached


# ---- hyperparameters ------------------------------------------------------------------------------
def test_resolve_config_prefers_hyperparameters_then_recipe_leaves() -> None:
    recipe = {
        "training_config": {
            "model": {
                "optim": {"lr": 5e-6, "sched": {"warmup_steps": 7}},
                "peft": {"peft_scheme": "lora", "lora_tuning": {"alpha": 64}},
            },
            "trainer": {"max_epochs": 3},
            "max_length": 4096,
        }
    }
    cfg = _hparams.resolve_config(
        {"lr": 1e-3, "learning_rate_ratio": 8.0},
        recipe,
        method_is_lora=True,
        overrides={"micro_batch_size": 2, "lora_rank": 4},
    )
    assert cfg.lr == 1e-3  # hyperparameter wins over the recipe leaf
    assert cfg.warmup_steps == 7 and cfg.max_epochs == 3 and cfg.max_length == 4096  # recipe leaves
    assert cfg.lora_alpha == 64.0 and cfg.loraplus_lr_ratio == 8.0
    assert cfg.micro == 2 and cfg.lora_rank == 4 and cfg.lora


def test_resolve_config_full_rank_recipe_turns_lora_off() -> None:
    cfg = _hparams.resolve_config({}, {"peft": {"peft_scheme": "null"}}, method_is_lora=True)
    assert not cfg.lora


def test_lr_schedule_warms_up_then_decays_to_min() -> None:
    from amzn_nova_forge.manager._local._engine._loop import lr_at

    cfg = _hparams.TrainConfig(lr=1.0, min_lr=0.1, warmup_steps=4)
    lrs = [lr_at(s, 20, cfg) for s in range(20)]
    assert lrs[0] < lrs[3] <= 1.0  # warm-up rises
    assert max(lrs) == pytest.approx(1.0)
    assert lrs[-1] < lrs[10] and lrs[-1] >= 0.1  # cosine decay to the floor


# ---- data conversion ----------------------------------------------------------------------------------
def test_converse_row_to_messages_keeps_system_and_text_blocks() -> None:
    row = {
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "Hi "}, {"text": "there"}]},
            {
                "role": "assistant",
                "content": [{"reasoningContent": {"reasoningText": {"text": "r"}}}, {"text": "Hello"}],
            },
        ],
    }
    assert _data.to_messages(row) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "<thinking>r</thinking>Hello"},
    ]


def test_dpo_row_splits_preferred_and_rejected() -> None:
    row = {
        "messages": [
            {"role": "user", "content": [{"text": "Q"}]},
            {
                "role": "assistant",
                "candidates": [
                    {"content": [{"text": "bad"}], "preferenceLabel": "non-preferred"},
                    {"content": [{"text": "good"}], "preferenceLabel": "preferred"},
                ],
            },
        ]
    }
    ex = _data.dpo_example(row)
    assert ex == {"prompt": [{"role": "user", "content": "Q"}], "chosen": "good", "rejected": "bad"}
    with pytest.raises(DataPrepError, match="candidates"):
        _data.dpo_example({"messages": [{"role": "user", "content": "Q"}]})


def test_media_blocks_are_detected_and_dropped_from_text() -> None:
    row = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/i.png", "bucketOwner": "1"}}}},
                    {"text": "What is shown?"},
                ],
            },
            {"role": "assistant", "content": [{"text": "A cat."}]},
        ]
    }
    assert _data.has_media(row) and not _data.has_media({"messages": [{"role": "user", "content": "hi"}]})
    assert _data.to_messages(row)[0] == {"role": "user", "content": "What is shown?"}


def test_qa_example_reads_gen_qa_converse_and_bedrock_batch_rows() -> None:
    gq = _data.qa_example({"query": "Q1", "response": "A1", "system": "S", "metadata": "m"})
    assert (gq["system"], gq["query"], gq["gold"], gq["metadata"]) == ("S", "Q1", "A1", "m")
    assert gq["prompt"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"}]
    conv = _data.qa_example(
        {
            "messages": [
                {"role": "user", "content": [{"text": "Q2"}]},
                {"role": "assistant", "content": [{"text": "A2"}]},
            ]
        }
    )
    assert (conv["query"], conv["gold"]) == ("Q2", "A2")
    batch = _data.qa_example({"recordId": "r1", "modelInput": {"messages": [{"role": "user", "content": "Q3"}]}})
    assert (batch["query"], batch["gold"], batch["metadata"]) == ("Q3", None, "r1")


def test_read_rows_names_file_and_line_of_bad_json(tmp_path: Path) -> None:
    f = tmp_path / "d.jsonl"
    f.write_text('{"text": "ok"}\n{not json}\n', encoding="utf-8")
    with pytest.raises(DataPrepError) as e:
        _data.read_rows(str(f))
    assert e.value.line == 2 and str(f) in str(e.value)
    with pytest.raises(DataPrepError, match="not found"):
        _data.read_rows(str(tmp_path / "missing.jsonl"))


# ---- metrics -------------------------------------------------------------------------------------------
def test_gen_qa_metrics_exact_quasi_f1_rouge_bleu() -> None:
    pytest.importorskip("rouge_score")
    pytest.importorskip("sacrebleu")
    from amzn_nova_forge.manager._local._metrics import gen_qa_metrics

    m = gen_qa_metrics(["The Paris.", "blue sky today", "x"], ["paris", "the sky is blue", "y"])
    assert m["em"] == 0.0
    assert m["qem"] == pytest.approx(1 / 3)  # "The Paris." normalises to "paris"
    assert 0.0 < m["f1_quasi"] < 1.0 and 0.0 < m["rouge1"] < 1.0
    perfect = gen_qa_metrics(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert perfect["em"] == perfect["f1"] == perfect["rougeL"] == 1.0
    assert perfect["bleu"] == pytest.approx(100.0)
    assert "em_stderr" in m and m["exact_match"] == m["em"]


# ---- job folder, status and liveness --------------------------------------------------------------------
def test_status_updates_merge_and_terminal_status_is_sticky(tmp_path: Path) -> None:
    jd = JobDir(tmp_path / "job")
    jd.update_status(status="InProgress", outputs={"a": 1})
    jd.update_status(status="Completed", outputs={"b": 2})
    st = jd.update_status(status="InProgress")  # a late non-terminal write must not undo Completed
    assert st["status"] == "Completed" and st["outputs"] == {"a": 1, "b": 2}
    jd.log("line one\nline two")
    lines = jd.log_file.read_text().splitlines()
    assert len(lines) == 2 and lines[0].endswith("Z line one")


def test_job_info_unknown_for_missing_folder(tmp_path: Path) -> None:
    ref = JobRef(Platform.LOCAL, "nope", extras={"job_dir": str(tmp_path / "nope")})
    info = LocalRuntimeManager.job_info(ref)
    assert info.status is JobStatus.UNKNOWN and "No local job folder" in (info.message or "")


def _sleeper(jd: JobDir) -> int:
    """A detached process whose command line names the job folder (as a real worker's does)."""
    jd.path.mkdir(parents=True, exist_ok=True)
    return spawn_detached([sys.executable, "-c", "import time, sys; time.sleep(60)", str(jd.path)], jd.worker_out)


def test_killed_worker_process_is_reported_failed_with_reason(tmp_path: Path) -> None:
    jd = JobDir(tmp_path / "job-killed")
    pid = _sleeper(jd)
    jd.update_status(status="InProgress", pid=pid)
    ref = JobRef(Platform.LOCAL, "job-killed", extras={"job_dir": str(jd.path)})
    assert LocalRuntimeManager.job_info(ref).status is JobStatus.IN_PROGRESS
    os.kill(pid, 9)
    deadline = time.monotonic() + 30
    while pid_alive(pid):
        assert time.monotonic() < deadline, f"pid {pid} survived SIGKILL"
        time.sleep(0.05)
    info = LocalRuntimeManager.job_info(ref)
    assert info.status is JobStatus.FAILED
    assert f"pid {pid}" in (info.message or "") and "exited without finishing" in (info.message or "")
    assert json.loads(jd.status_file.read_text())["status"] == "Failed"  # persisted


def test_cleanup_stops_a_running_job(tmp_path: Path) -> None:
    jd = JobDir(tmp_path / "job-stop")
    pid = _sleeper(jd)
    jd.update_status(status="InProgress", pid=pid)
    infra = LocalRuntimeManager(output_root=tmp_path)
    infra.cleanup("job-stop")
    info = LocalRuntimeManager.job_info(infra.job_ref("job-stop"))
    assert info.status is JobStatus.STOPPED and info.raw_status == "Stopped"
    assert not pid_alive(pid)
    infra.cleanup("job-stop")  # idempotent


def test_manager_rejects_bad_device_and_is_registered() -> None:
    from amzn_nova_forge.manager._registry import get_runtime_class

    assert get_runtime_class("LOCAL") is LocalRuntimeManager
    assert LocalRuntimeManager.platform is Platform.LOCAL
    with pytest.raises(ConfigError, match="device"):
        LocalRuntimeManager(device="tpu")


def test_execute_missing_data_fails_before_starting(tmp_path: Path) -> None:
    from amzn_nova_forge.manager._base import JobConfig

    infra = LocalRuntimeManager(output_root=tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        infra.execute(JobConfig(job_name="j", image_uri="", recipe_path="", data_s3_path=str(tmp_path / "x.jsonl")))
    assert not any(tmp_path.iterdir())


def test_manager_import_pulls_no_torch() -> None:
    code = (
        "import sys; import amzn_nova_forge.manager._local as m; m.LocalRuntimeManager(); "
        "import amzn_nova_forge.cli._demo; "
        "print(sorted(k for k in ('torch', 'transformers', 'peft', 'trl', 'matplotlib') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_job_being_spawned_is_in_progress_not_failed(tmp_path: Path) -> None:
    from amzn_nova_forge.manager._local._jobdir import utc_now

    jd = JobDir(tmp_path / "job-new")
    jd.update_status(status="Pending", created_at=utc_now())  # execute() has not written the pid yet
    ref = JobRef(Platform.LOCAL, "job-new", extras={"job_dir": str(jd.path)})
    assert LocalRuntimeManager.job_info(ref).status is JobStatus.IN_PROGRESS
    jd.update_status(created_at="2020-01-01T00:00:00Z")  # ... but a worker that never started is a failure
    assert LocalRuntimeManager.job_info(ref).status is JobStatus.FAILED


def test_missing_torch_is_reported_before_any_worker_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from amzn_nova_forge.errors import MissingDependencyError
    from amzn_nova_forge.manager._base import JobConfig

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    infra = LocalRuntimeManager(output_root=tmp_path)
    with pytest.raises(MissingDependencyError, match=r"needs torch.*amzn-nova-forge\[local\]") as e:
        infra.execute(JobConfig(job_name="j", image_uri="", recipe_path=""))
    assert e.value.extra == "local" and not any(tmp_path.iterdir())


def test_default_jobs_root_is_under_home_unless_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amzn_nova_forge.manager._local._jobdir import default_jobs_root
    from amzn_nova_forge.rft_multiturn._local import workspace_root

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NOVA_FORGE_LOCAL_JOBS_DIR")  # conftest points both at a private folder
    monkeypatch.delenv("NOVA_FORGE_RFT_WORKSPACE")
    assert default_jobs_root() == tmp_path / ".nova-forge" / "local-jobs"
    assert workspace_root() == tmp_path / ".nova-forge" / "rft-workspace"
    monkeypatch.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", "~/elsewhere")
    assert default_jobs_root() == tmp_path / "elsewhere"  # ~ is expanded
    assert LocalRuntimeManager(device="cpu").output_root == (tmp_path / "elsewhere").resolve()


def test_liveness_probe_is_psutil_and_guards_recycled_pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_os_kill(*a: object) -> None:
        raise AssertionError("os.kill is not a liveness probe on Windows")

    monkeypatch.setattr(os, "kill", no_os_kill)
    jd = JobDir(tmp_path / "job-alive")
    assert pid_alive(os.getpid())
    assert not pid_alive(None) and not pid_alive(0)
    assert not pid_alive(os.getpid(), must_contain=str(jd.path))  # this process is not that job's worker
    monkeypatch.undo()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    import psutil

    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:  # exited, not yet reaped
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not pid_alive(child.pid)  # a zombie is dead
    child.wait()
    assert not pid_alive(child.pid)


def test_status_lock_is_bounded_and_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    from amzn_nova_forge.errors import JobError
    from amzn_nova_forge.manager._local import _jobdir

    jd = JobDir(tmp_path / "job-locked")
    jd.update_status(status="InProgress")
    monkeypatch.setattr(_jobdir, "LOCK_TIMEOUT_S", 0.2)
    holder = FileLock(str(jd.path / ".status.lock"))
    with holder, pytest.raises(JobError, match=r"Could not lock .*\.status\.lock within 0s") as err:
        jd.update_status(status="Completed")
    assert err.value.job_id == "job-locked"
    assert jd.read_status()["status"] == "InProgress"  # nothing written without the lock
    assert jd.update_status(status="Completed")["status"] == "Completed"  # free again


# ---- every recipe key applied or refused ----------------------------------------------------------------
def test_optimizer_and_checkpoint_keys_are_applied() -> None:
    cfg = _hparams.resolve_config(
        {"adam_beta1": 0.8, "adam_beta2": 0.95, "adam_eps": 1e-6, "save_steps": 5, "constant_steps": 3},
        {"optim": {"betas": [0.5, 0.6], "sched": {"min_lr": 1e-7}}},
        method_is_lora=False,
    )
    assert (cfg.adam_beta1, cfg.adam_beta2, cfg.adam_eps) == (0.8, 0.95, 1e-6)  # flat keys beat the recipe list
    assert cfg.save_steps == 5 and cfg.constant_steps == 3 and cfg.min_lr == 1e-7
    from_list = _hparams.resolve_config({}, {"optim": {"betas": [0.5, 0.6], "eps": 1e-5}}, method_is_lora=False)
    assert (from_list.adam_beta1, from_list.adam_beta2, from_list.adam_eps) == (0.5, 0.6, 1e-5)
    assert _hparams.resolve_config({"save_steps": 0}, {}, method_is_lora=False).save_steps is None


def test_optimizer_betas_reach_adamw() -> None:
    torch = pytest.importorskip("torch")
    from amzn_nova_forge.manager._local._engine._loop import make_optimizer

    cfg = _hparams.resolve_config({"adam_beta1": 0.8, "adam_beta2": 0.95, "eps": 1e-6}, {}, method_is_lora=False)
    opt = make_optimizer(torch.nn.Linear(2, 2), cfg)
    assert {(g["betas"], g["eps"]) for g in opt.param_groups} == {((0.8, 0.95), 1e-6)}


@pytest.mark.parametrize(
    ("hp", "match"),
    [
        ({"hidden_dropout": 0.1}, r"hidden_dropout=0.1 is not supported locally: .*without hidden-state dropout"),
        ({"adam_w_mode": False}, r"adam_w_mode=False is not supported locally"),
        ({"mystery_knob": 3}, r"'mystery_knob'=3 is not known to the local runtime"),
        ({"adam_beta2": 1.5}, r"TrainConfig.adam_beta2=1.5: must be in \[0, 1\)"),
        ({"lr": "fast"}, r"lr='fast' is not a number"),
        ({"lr": float("nan")}, r"lr=nan must be a finite number"),
        ({"betas": [0.9]}, r"betas=\[0.9\] must be a list of two numbers"),
        ({"save_steps": -2}, r"TrainConfig.save_steps=-2: must be >= 1 or None"),
    ],
)
def test_keys_the_local_runtime_cannot_honour_are_refused(hp: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _hparams.resolve_config(hp, {}, method_is_lora=False)


def test_recipe_defaults_pass_and_service_only_keys_are_named() -> None:
    hp = {"hidden_dropout": 0.0, "adam_w_mode": True, "lambda_concurrency_limit": 12, "val_check_interval": 100}
    _hparams.resolve_config(hp, {}, method_is_lora=False)
    assert _hparams.unused_keys(hp) == ["lambda_concurrency_limit", "val_check_interval"]


def test_every_catalogue_hyperparameter_is_accounted_for() -> None:
    from amzn_nova_forge.recipe._catalogue import catalogue

    cat = catalogue()
    known = {k for keys in _hparams.ALIASES.values() for k in keys} | set(_hparams.FIXED) | _hparams.SERVICE_ONLY
    known.add("betas")
    names = {n for t in cat.templates.values() for n, p in t["params"].items() if p.get("category") == "hyperparameter"}
    assert names and names <= known, sorted(names - known)


def test_every_catalogue_recipe_resolves_with_its_own_defaults() -> None:
    """No recipe's default values are refused: a job on any recipe starts without overrides."""
    from amzn_nova_forge.recipe._builder import _get, _resolve
    from amzn_nova_forge.recipe._catalogue import catalogue

    for name, template in catalogue().templates.items():
        recipe = template["recipe"]
        hp = {
            k: _resolve(recipe, _get(recipe, spec["paths"][0]))
            for k, spec in template["params"].items()
            if spec.get("category") == "hyperparameter"
        }
        cfg = _hparams.resolve_config(hp, recipe, method_is_lora=True)
        if hp.get("shuffle") is False:
            assert cfg.shuffle is False, name


def test_shuffle_false_keeps_the_dataset_order() -> None:
    from amzn_nova_forge.manager._local._batches import batches

    cfg = _hparams.resolve_config({"shuffle": False, "global_batch_size": 2, "max_epochs": 2}, {}, method_is_lora=False)
    assert [idx for _, idx in batches(4, cfg)] == [[0, 1], [2, 3], [0, 1], [2, 3]]
    cfg.shuffle = True
    assert [idx for _, idx in batches(4, cfg)] != [[0, 1], [2, 3], [0, 1], [2, 3]]
    from amzn_nova_forge.manager._local._engine._loop import _step_indices

    cfg.shuffle = False
    assert [ids for _, _, ids in _step_indices(4, cfg, 4)] == [[0, 1], [2, 3], [0, 1], [2, 3]]
