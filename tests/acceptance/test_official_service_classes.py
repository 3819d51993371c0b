"""The official docs' service-class examples (docs/spec/service-classes.md, model-customizer.md and the
quickstart notebook), executed from their exact text against moto.

The snippets live in ``_official_snippets.py`` (copied verbatim). Around a snippet there is only setup:
moto resources for the placeholders, the names earlier cells defined, and — where a snippet cannot
run as written — :func:`acceptance_support.fill`, each case listed in docs/spec-coverage.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import _official_snippets as O
import boto3
import pytest
from acceptance_support import CHECKPOINT, A, fill

from amzn_nova_forge.core.enums import EvaluationTask, JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import RecipeOverrideError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``~`` is a temporary folder: ForgeConfig's default cache ``~/.nova-forge/cache`` lands there."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


def _jobs() -> list[str]:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    return [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]]


def test_forge_config_example(notebook: dict[str, Any]) -> None:
    ns: dict[str, Any] = {}
    exec(O.SC_FORGE_CONFIG, ns)
    config = ns["config"]
    assert config.validation_config.to_dict() == {"iam": True, "infra": True, "recipe": True}
    assert (config.output_s3_path, config.kms_key_id, config.enable_job_caching) == (
        "s3://my-bucket/output",
        "my-kms-key-id",
        True,
    )
    assert config.mlflow_monitor.experiment_name == "nova-customization"
    assert config.job_cache_dir == "~/.nova-forge/cache"


def test_trainer_evaluator_examples_and_logs(
    notebook: dict[str, Any], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    A.put("s3://my-bucket/training-data/data.jsonl", A.SFT_JSONL)
    A.put("s3://my-bucket/eval-data/data.jsonl", '{"query": "q", "response": "r"}\n')
    ns: dict[str, Any] = {}
    exec(O.SC_TRAINER, ns)
    trainer = ns["trainer"]
    assert (trainer.platform, trainer.output_s3_path) == (Platform.SMTJ, "s3://my-bucket/output")
    # As written, the train() example's global_batch_size=128 is outside Nova Micro SFT LoRA's range:
    with pytest.raises(RecipeOverrideError, match="global_batch_size") as e:
        exec(O.SC_TRAIN, ns)
    assert "one of {16, 32, 64}" in str(e.value)
    assert _jobs() == []
    # ... the same text runs on a recipe that takes these values (Nova Lite DPO LoRA on 4 x p5):
    ns["trainer"] = ns["ForgeTrainer"](
        model=Model.NOVA_LITE,
        method=TrainingMethod.DPO_LORA,
        infra=ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=4),
        training_data_s3_path="s3://my-bucket/training-data/data.jsonl",
        config=ns["ForgeConfig"](output_s3_path="s3://my-bucket/output"),
    )
    exec(O.SC_TRAIN, ns)
    result = ns["result"]
    out = capsys.readouterr().out
    assert f"Training job started: {result.job_id}" in out
    assert f"Checkpoint path: {CHECKPOINT.format(job=result.job_id)}" in out  # moto completed the job
    exec(O.SC_TRAINER_LOGS, ns)
    assert capsys.readouterr().out.splitlines()[0].startswith("Epoch 0: : 1it")

    exec(O.SC_EVALUATOR, ns)
    ns["training_result"] = result
    exec(O.SC_EVALUATE, ns)
    first, chained = notebook["creates"][-2:]
    assert f"Evaluation job started: {first['TrainingJobName']}" in capsys.readouterr().out
    assert ns["eval_result"].job_id == chained["TrainingJobName"]
    assert ns["eval_result"].eval_task is EvaluationTask.MMLU
    assert ns["eval_result"].get()["results"]["mmlu|0"]["accuracy"] == 0.71
    exec(O.SC_EVALUATOR_LOGS, ns)
    assert len(capsys.readouterr().out.splitlines()) == 20


def test_end_to_end_example_train_and_evaluate(notebook: dict[str, Any], home: Path) -> None:
    A.put("s3://my-bucket/data.jsonl", A.SFT_JSONL)
    # Steps 3-4 (ForgeDeployer, ForgeInference) need Bedrock calls moto lacks: they run with the deploy
    # test double in tests/acceptance/test_official_deploy.py::test_end_to_end_deploy_and_inference_steps.
    text = O.SC_END_TO_END.split("# 3. Deploy")[0]
    for line in ("from amzn_nova_forge.deployer import ForgeDeployer\n",
                 "from amzn_nova_forge.inference import ForgeInference\n"):  # fmt: skip
        text = fill(text, {line: ""})
    ns: dict[str, Any] = {}
    exec(text, ns)
    train_result, eval_result = ns["train_result"], ns["eval_result"]
    assert train_result.get_job_status()[0] is JobStatus.COMPLETED
    assert eval_result.get()["results"]["mmlu|0"]["accuracy"] == 0.71
    train_req = notebook["creates"][0]
    cached = list((home / ".nova-forge" / "cache").glob("my-training-job_training_*.json"))
    assert len(cached) == 1  # enable_job_caching=True with the default job_cache_dir
    # running the same cell again reuses both jobs
    again: dict[str, Any] = {}
    exec(text, again)
    assert again["train_result"].job_id == train_result.job_id and len(_jobs()) == 2
    assert train_req["TrainingJobName"] == train_result.job_id


def test_customizer_constructor_and_data_mixing_examples(notebook: dict[str, Any]) -> None:
    ns: dict[str, Any] = {}
    exec(O.MC_CONSTRUCTOR, ns)
    assert ns["customizer"].platform is Platform.SMTJ and ns["bedrock_customizer"].platform is Platform.BEDROCK
    assert ns["customizer_with_mlflow"].mlflow_monitor.run_name == "sft-run-1"
    A.put("s3://bucket/data.jsonl", A.SFT_JSONL)
    smhp = 'SMHPRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-cluster", namespace="kubeflow")'
    text = fill(O.MC_DATA_MIXING, {"SMHPRuntimeManager(...)": smhp})
    exec(text, ns)
    assert ns["customizer"].get_data_mixing_config() == {
        "customer_data_percent": 50,
        "nova_code_percent": 30,
        "nova_general_percent": 70,
    }
    assert ns["customizer"].is_multimodal is False  # detected from s3://bucket/data.jsonl
    assert ns["customizer_mm"].is_multimodal is True  # given


def test_quickstart_notebook_trainer_and_evaluator_cells(
    notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    A.put("s3://my-bucket/demo/train.jsonl", A.SFT_JSONL)
    A.put("s3://my-bucket/nova-customization/gen_qa.jsonl", '{"query": "q", "response": "r"}\n')
    ns: dict[str, Any] = {}
    exec("from amzn_nova_forge import *", ns)
    ns.update(
        runtime=ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=4),
        train_path="s3://my-bucket/demo/train.jsonl",
        S3_OUTPUT_PATH="s3://my-bucket/demo/output",
        S3_BUCKET="my-bucket",
        mlflow_monitor=None,
    )
    exec(O.NB_QUICKSTART_26, ns)
    exec(O.NB_QUICKSTART_30, ns)
    result = ns["training_result"]
    out = capsys.readouterr().out
    assert f"Job ID: {result.job_id}" in out and ns["job_id"] == result.job_id
    assert ns["escrow_uri"] == CHECKPOINT.format(job=result.job_id)
    recipe_req = notebook["creates"][0]
    assert recipe_req["HyperParameters"].get("global_batch_size", "64") == "64"
    exec(O.NB_QUICKSTART_33, ns)
    assert "reduced_train_loss" in capsys.readouterr().out
    exec(O.NB_QUICKSTART_42, ns)
    # the placeholder bucket of the BYOD path is filled (docs/spec-coverage.md)
    exec(fill(O.NB_QUICKSTART_44, {"<data-s3-bucket>": "my-bucket"}), ns)
    mmlu, byod = ns["mmlu_eval_result"], ns["byod_eval_result"]
    assert mmlu.eval_task is EvaluationTask.MMLU and byod.eval_task is EvaluationTask.GEN_QA
    mmlu_req, byod_req = notebook["creates"][1:3]
    assert mmlu_req["OutputDataConfig"]["S3OutputPath"] == "s3://my-bucket/demo/output"
    assert byod_req["ResourceConfig"]["InstanceCount"] == 1
