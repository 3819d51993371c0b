"""The official 1.4.10 call forms of serverless multi-turn RFT through Amazon Bedrock AgentCore.

The 1.4.10 wheel documents this feature only in code (``ForgeTrainer.train`` / ``get_logs``,
``ForgeEvaluator.evaluate`` / ``get_logs``, ``MTRLLogMonitor``, ``SMTJServerlessRuntimeManager``
and its ``execute_mtrl`` / ``execute_mtrl_eval`` / ``cleanup(is_mtrl=True)``); these tests run
those call forms, as a user writes them, against moto.

moto lacks CreateJob, DescribeJob, StopJob and DescribeHubContent: ``mtrl_support.FakeJobs``
answers exactly those calls on the SDK's client (botocore still validates each request).
Model package groups, IAM, S3 and CloudWatch Logs are moto's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))

import aws_support as A
from mtrl_support import AGENT_ARN, MLFLOW_ARN, FakeJobs

PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/my-mtrl-models/1"


@pytest.fixture
def service(aws: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    role = A.assume_role(monkeypatch, "MtrlExecutionRole")  # the notebook runs as the execution role
    A.put("s3://my-bucket/mtrl-prompts/train.jsonl", A.RFT_JSONL)
    A.put("s3://my-bucket/mtrl-eval/eval.jsonl", A.RFT_JSONL)
    denied: set[str] = set()
    # moto lacks iam:SimulatePrincipalPolicy: answered (allowed unless in ``denied``) by aws_support
    simulations = A.allow_simulation(denied)
    return {"jobs": FakeJobs(), "role": role, "denied": denied, "simulations": simulations}


def _setup(role: str) -> dict[str, Any]:
    from amzn_nova_forge import (
        EvaluationTask,
        ForgeConfig,
        ForgeEvaluator,
        ForgeTrainer,
        MLflowMonitor,
        Model,
        SMTJServerlessRuntimeManager,
        TrainingMethod,
    )

    infra = SMTJServerlessRuntimeManager(
        model_package_group_name="my-mtrl-models",
        execution_role=role,
        agent_core_arn=AGENT_ARN,
        intermediate_model_package_group_name="my-mtrl-checkpoints",
        hub_content_version="1.0.0",
    )
    config = ForgeConfig(
        output_s3_path="s3://my-bucket/mtrl-output", mlflow_monitor=MLflowMonitor(tracking_uri=MLFLOW_ARN)
    )
    trainer = ForgeTrainer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.RFT_MULTITURN_LORA,
        infra=infra,
        training_data_s3_path="s3://my-bucket/mtrl-prompts/",
        config=config,
    )
    evaluator = ForgeEvaluator(
        model=Model.NOVA_LITE_2, infra=infra, data_s3_path="s3://my-bucket/mtrl-eval/", config=config
    )
    return {"infra": infra, "trainer": trainer, "evaluator": evaluator, "task": EvaluationTask.RFT_MULTITURN_EVAL}


def test_train_wait_metrics_evaluate_and_logs(service: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    from amzn_nova_forge import BaseJobResult, JobStatus
    from amzn_nova_forge.monitor import MTRLLogMonitor

    jobs: FakeJobs = service["jobs"]
    s = _setup(service["role"])
    trainer, evaluator = s["trainer"], s["evaluator"]

    assert trainer.train(job_name="my-mtrl", dry_run=True) is None
    assert jobs.create_calls == []

    result = trainer.train(job_name="my-mtrl", overrides={"group_size": 8, "rollout_timeout": 600})
    name = result.job_id
    assert name.startswith("my-mtrl-")
    assert result.get_job_status() == (JobStatus.IN_PROGRESS, "InProgress")
    doc = jobs.document(name)
    assert doc["TrainingConfig"]["HyperParameters"] == {"group_size": 8, "rollout_timeout": 600}
    assert doc["TrainingConfig"]["MlflowConfig"] == {"MlflowResourceArn": MLFLOW_ARN}
    assert doc["TrainingConfig"]["BaseModelArn"].endswith("/nova-textgeneration-lite-v2/1.0.0")
    assert doc["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://my-bucket/mtrl-prompts/"
    assert doc["OutputDataConfig"] == {"S3OutputPath": "s3://my-bucket/mtrl-output"}

    # a fresh process: the saved result finds the job again
    loaded = BaseJobResult.load(str(result.dump(str(tmp_path))))
    jobs.progress(name, OutputModelPackageArn=PACKAGE, ProgressInfo={"MaxSteps": 4, "CurrentStep": 4})
    jobs.finish(name)
    assert loaded.wait(poll=1, timeout=60).status is JobStatus.COMPLETED
    assert loaded.model_artifacts.output_model_arn == PACKAGE
    assert loaded.get_training_metrics() == []  # no MLflow run recorded yet

    logs = A.plain_client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/Job/AgentRFT")
    logs.create_log_stream(logGroupName="/aws/sagemaker/Job/AgentRFT", logStreamName=f"{name}/trainer")
    logs.put_log_events(
        logGroupName="/aws/sagemaker/Job/AgentRFT",
        logStreamName=f"{name}/trainer",
        logEvents=[{"timestamp": int(time.time() * 1000) - 1000, "message": "step 4 reward 0.8"}],
    )
    capsys.readouterr()
    trainer.get_logs(job_result=loaded)
    assert capsys.readouterr().out == f"step 4 reward 0.8\nJob '{name}' status: Completed\n"

    eval_result = evaluator.evaluate(
        job_name="my-mtrl-eval", eval_task=s["task"], job_result=loaded, overrides={"eval_group_size": 4}
    )
    eval_doc = jobs.document(eval_result.job_id)
    assert jobs.jobs[eval_result.job_id]["JobCategory"] == "AgentRFTEvaluation"
    assert eval_doc["ModelPackageConfig"] == {"InputModelPackageArn": PACKAGE}
    assert eval_doc["EvaluationConfig"]["HyperParameters"] == {"eval_group_size": "4"}
    assert eval_doc["OutputDataConfig"]["S3OutputPath"] == "s3://my-bucket/mtrl-output/my-mtrl-eval/"
    assert eval_result.eval_output_path == "s3://my-bucket/mtrl-output/my-mtrl-eval/"
    assert eval_result.get_job_status()[0] is JobStatus.IN_PROGRESS

    logs.create_log_group(logGroupName="/aws/sagemaker/Job/AgentRFTEvaluation")
    logs.create_log_stream(logGroupName="/aws/sagemaker/Job/AgentRFTEvaluation", logStreamName=eval_result.job_id)
    logs.put_log_events(
        logGroupName="/aws/sagemaker/Job/AgentRFTEvaluation",
        logStreamName=eval_result.job_id,
        logEvents=[{"timestamp": int(time.time() * 1000) - 1000, "message": "pass@1 0.72"}],
    )
    evaluator.get_logs(job_result=eval_result, limit=50)
    assert capsys.readouterr().out == "pass@1 0.72\n"
    MTRLLogMonitor.from_job_id(job_id=eval_result.job_id, region="us-east-1").show_logs(limit=10)
    assert capsys.readouterr().out == "pass@1 0.72\n"


def test_runtime_verbs_and_cleanup(service: dict[str, Any]) -> None:
    from amzn_nova_forge import Model

    jobs: FakeJobs = service["jobs"]
    infra = _setup(service["role"])["infra"]
    job = infra.execute_mtrl(
        model=Model.NOVA_LITE_2,
        job_name="direct",
        data_s3_path="s3://my-bucket/mtrl-prompts/",
        output_s3_path="s3://my-bucket/out/",
        mlflow_tracking_uri=MLFLOW_ARN,
    )
    execution = infra.execute_mtrl_eval(
        model=Model.NOVA_LITE_2,
        data_s3_path="s3://my-bucket/mtrl-eval/",
        output_s3_path="s3://my-bucket/out/",
        mlflow_tracking_uri=MLFLOW_ARN,
        model_path=PACKAGE,
        evaluate_base_model=True,
    )
    assert len(execution.job_names) == 2
    assert json.loads(jobs.jobs[execution.base_job_name]["JobConfigDocument"]).get("ModelPackageConfig") is None
    infra.cleanup(job, is_mtrl=True)
    assert jobs.stop_calls == [{"JobName": job, "JobCategory": "AgentRFT"}]


def test_mtrl_without_mlflow_or_with_a_recipe_is_refused(service: dict[str, Any]) -> None:
    from amzn_nova_forge import ConfigError, ForgeConfig, ForgeTrainer, Model, TrainingMethod

    s = _setup(service["role"])
    trainer = ForgeTrainer(
        Model.NOVA_LITE_2,
        TrainingMethod.RFT_MULTITURN_LORA,
        s["infra"],
        training_data_s3_path="s3://my-bucket/mtrl-prompts/",
        config=ForgeConfig(output_s3_path="s3://my-bucket/out"),
    )
    with pytest.raises(ConfigError, match=r"MLflow is required for multi-turn RFT .*mlflow_monitor=MLflowMonitor"):
        trainer.train(job_name="no-mlflow")
    with pytest.raises(ConfigError, match="takes no recipe"):
        s["trainer"].train(job_name="r", recipe_path="my.yaml")
    with pytest.raises(ConfigError, match="takes no recipe"):
        s["evaluator"].evaluate(job_name="e", eval_task=s["task"], recipe_path="my.yaml")
    assert service["jobs"].create_calls == []


def test_job_cache_reuses_an_identical_mtrl_job(service: dict[str, Any], tmp_path: Path) -> None:
    from amzn_nova_forge import ForgeConfig, ForgeTrainer, MLflowMonitor, Model, TrainingMethod

    jobs: FakeJobs = service["jobs"]
    infra = _setup(service["role"])["infra"]
    config = ForgeConfig(
        output_s3_path="s3://my-bucket/mtrl-output",
        mlflow_monitor=MLflowMonitor(tracking_uri=MLFLOW_ARN),
        enable_job_caching=True,
        job_cache_dir=str(tmp_path / "cache"),
    )
    trainer = ForgeTrainer(
        Model.NOVA_LITE_2, TrainingMethod.RFT_MULTITURN_LORA, infra, "s3://my-bucket/mtrl-prompts/", config=config
    )
    first = trainer.train(job_name="cached", overrides={"group_size": 8})
    again = trainer.train(job_name="cached", overrides={"group_size": 8})
    other = trainer.train(job_name="cached", overrides={"group_size": 16})
    assert again.job_id == first.job_id and again.extras == {"job_category": "AgentRFT"}
    assert other.job_id != first.job_id
    assert len(jobs.create_calls) == 2
    assert len(list((tmp_path / "cache").glob("cached_train_*.json"))) == 2


def test_iam_check_names_the_mtrl_resources_and_stops_before_create(service: dict[str, Any]) -> None:
    from amzn_nova_forge import ValidationCheckError

    s = _setup(service["role"])
    assert s["trainer"].train(job_name="iam-ok", dry_run=True) is None
    asked = {(a, r) for call in service["simulations"] for a in call["ActionNames"] for r in call["ResourceArns"]}
    job = "arn:aws:sagemaker:us-east-1:123456789012:job/AgentRFT/iam-ok-*"
    groups = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/"
    assert {
        ("sagemaker:CreateJob", job),
        ("sagemaker:DescribeJob", job),
        ("sagemaker:StopJob", job),
        ("sagemaker:DescribeModelPackageGroup", groups + "my-mtrl-models"),
        ("sagemaker:DescribeModelPackageGroup", groups + "my-mtrl-checkpoints"),
        ("iam:PassRole", service["role"]),
        ("s3:GetObject", "arn:aws:s3:::my-bucket/mtrl-prompts/*"),
    } <= asked
    assert not any(r == "*" for _, r in asked)
    service["denied"].add("sagemaker:CreateJob")
    with pytest.raises(
        ValidationCheckError,
        match=r"(?s)IAM check failed for multi-turn RFT job 'iam-no'.*sagemaker:CreateJob on .*job/AgentRFT/iam-no-\*",
    ):
        s["trainer"].train(job_name="iam-no")
    with pytest.raises(
        ValidationCheckError, match=r"(?s)multi-turn RFT evaluation job .ev-no.*job/AgentRFTEvaluation/ev-no-\*"
    ):
        s["evaluator"].evaluate(job_name="ev-no", eval_task=s["task"], model_path=PACKAGE)
    assert service["jobs"].create_calls == []
