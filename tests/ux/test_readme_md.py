"""Every code block of README.md runs as written (AWS parts against moto, local parts on a tiny model).

Substitutions, each because the test machine has no network: the README's Hugging Face model id
becomes a tiny model folder built offline (with ``max_new_tokens=8`` to keep the test short); the CLI example's ``--dry-run`` gets the offline flags the
comment next to it names.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import acceptance_support as AS  # on sys.path through conftest.py
import pytest

from amzn_nova_forge.cli._main import main
from amzn_nova_forge.core.enums import JobStatus

README = Path(__file__).resolve().parents[2] / "README.md"
HF_ID = 'base_model="Qwen/Qwen2.5-0.5B-Instruct"'


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_has_the_blocks_this_file_runs() -> None:
    py = _blocks("python")
    assert len(py) == 5
    assert "SMTJRuntimeManager" in py[0] and "LocalRuntimeManager" in py[1] and "DeployPlatform.LOCAL" in py[2]
    assert "ForgeTrainer" in py[3] and "FilterMethod" in py[4]
    assert HF_ID in py[1]


def test_quick_start_aws(notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    AS.A.put(
        "s3://your-bucket/training-data.jsonl",
        "".join(json.dumps({"input": f"What is {i}+{i}?", "output": str(2 * i)}) + "\n" for i in range(5)),
    )
    ns: dict[str, Any] = {}
    exec(_blocks("python")[0], ns)
    result = ns["result"]
    assert result.job_id.startswith("my-nova-training")
    assert (notebook["work"] / f"{result.job_id}_SMTJ.json").is_file()
    out = capsys.readouterr().out
    assert "JobStatus." in out
    req = notebook["creates"][0]
    assert req["TrainingJobName"] == result.job_id
    assert b"bedrock-conversation-2024" in AS.A.get("s3://your-bucket/prepared-data.jsonl")


def test_cli_examples(
    no_aws_credentials: None, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bash = next(b for b in _blocks("bash") if "nova-forge recipe keys" in b)
    commands = [c for c in bash.replace("\\\n", " ").splitlines() if c.strip().startswith("nova-forge")]
    keys, train = (shlex.split(c.split("#")[0])[1:] for c in commands[:2])
    assert main(keys) == 0
    assert "max_steps" in capsys.readouterr().out
    assert "--no-iam-check --no-infra-check" in commands[1]  # the offline flags the comment names
    assert main([*train, "--no-iam-check", "--no-infra-check"]) == 0
    assert "Dry run" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.torch
def test_rehearse_locally_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    pytest.importorskip("matplotlib")
    from amzn_nova_forge.manager._local._tiny import save_tiny_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    tiny = tmp_path / "tiny"
    save_tiny_model(str(tiny))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    train_block, rest_block = _blocks("python")[1:3]
    ns: dict[str, Any] = {}
    exec(train_block.replace(HF_ID, f"base_model={str(tiny)!r}, max_new_tokens=8"), ns)
    result = ns["result"]
    assert result.get_job_status()[0] is JobStatus.COMPLETED
    assert Path(result.model_artifacts.checkpoint_s3_path).is_dir()
    assert (work / "prepared-data.jsonl").is_file() and (work / "runs" / result.job_id).is_dir()
    try:
        exec(rest_block, ns)
    finally:
        dep = ns.get("deployment")
        if dep is not None:
            from amzn_nova_forge.manager import LocalRuntimeManager

            LocalRuntimeManager.stop_deployment(dep.endpoint.uri)
    assert ns["eval_result"].get_job_status()[0] is JobStatus.COMPLETED
    assert "exact_match" in json.dumps(ns["eval_result"].get())
    assert list(work.glob("*_training_loss.png"))


def test_service_classes_block(notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    AS.A.put("s3://your-bucket/prepared-data.jsonl", AS.A.SFT_JSONL)
    ns: dict[str, Any] = {}
    exec(_blocks("python")[3], ns)
    assert ns["result"].job_id.startswith("my-nova-training")
    assert ns["eval_result"].job_id.startswith("my-eval")
    out = capsys.readouterr().out
    assert "max_steps" in out
    assert [r["TrainingJobName"] for r in notebook["creates"]] == [ns["result"].job_id, ns["eval_result"].job_id]


def test_curation_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("numpy")
    monkeypatch.chdir(tmp_path)
    ns: dict[str, Any] = {}
    exec(_blocks("python")[4], ns)
    curation = ns["loader"].last_curation
    assert curation is not None and str(curation) in capsys.readouterr().out
    assert (tmp_path / "curated" / "dedup").is_dir() and (tmp_path / "curated" / "fuzzy").is_dir()
