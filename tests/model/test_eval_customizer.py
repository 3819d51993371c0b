"""customizer.evaluate / batch_inference / get_logs end to end against moto (SMTJ).

The spec's examples run verbatim; a moto training job is ``Completed`` at once, so the
results are read back from output archives uploaded where the containers write them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from evalfixtures import eval_members, inference_members, tar_gz

from amzn_nova_forge.core.enums import EvaluationTask, JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError
from amzn_nova_forge.manager import SMTJRuntimeManager
from amzn_nova_forge.model import NovaModelCustomizer
from amzn_nova_forge.model.result import (
    BaseJobResult,
    ModelArtifacts,
    SMHPTrainingResult,
    SMTJBatchInferenceResult,
    SMTJEvaluationResult,
    SMTJServerlessTrainingResult,
)
from amzn_nova_forge.monitor import CloudWatchLogMonitor

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:byom-lambda"
REWARD = "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"


@pytest.fixture
def env(s3_bucket: str, tmp_path: Path) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    for key in ("data/gen_qa.jsonl", "inference-input/part-0.jsonl", "training-data/train.jsonl"):
        s3.put_object(Bucket="my-bucket", Key=key, Body=b'{"query": "q", "response": "r"}\n')
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="data", Body=b'{"query": "q", "response": "r"}\n')
    role = boto3.client("iam").create_role(
        RoleName="SageMakerExecutionRole",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    return {"s3": s3, "role": role, "recipes": tmp_path / "recipes"}


def _customizer(env: dict[str, Any], model: Model = Model.NOVA_LITE_2, **infra_kwargs: Any) -> NovaModelCustomizer:
    infra = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=1, execution_role=env["role"], **infra_kwargs
    )
    return NovaModelCustomizer(
        model=model,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path="s3://my-bucket/training-data/train.jsonl",
        output_s3_path="s3://my-bucket/output/",
        validation_config={"iam": False},
        generated_recipe_dir=str(env["recipes"]),
    )


def _recipe(env: dict[str, Any], job_id: str) -> dict[str, Any]:
    return yaml.safe_load(next(env["recipes"].glob(f"{job_id}*.yaml")).read_text())


def test_spec_evaluate_example_then_results(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    customizer = _customizer(env)
    # General eval task (with overrides)
    eval_result = customizer.evaluate(
        job_name="my-eval-job",
        eval_task=EvaluationTask.MMLU,
        model_path="s3://my-bucket/checkpoints/my-model/",
        overrides={"max_new_tokens": 2048, "temperature": 0, "top_p": 1.0},
    )
    print(f"Evaluation job started: {eval_result.job_id}")
    assert isinstance(eval_result, SMTJEvaluationResult) and customizer.job_result is eval_result
    assert eval_result.eval_task is EvaluationTask.MMLU
    assert eval_result.eval_output_path == f"s3://my-bucket/output/{eval_result.job_id}/output/output.tar.gz"
    recipe = _recipe(env, eval_result.job_id)
    assert recipe["evaluation"]["task"] == "mmlu" and recipe["evaluation"]["strategy"] == "zs_cot"
    assert recipe["run"]["model_name_or_path"] == "s3://my-bucket/checkpoints/my-model/"
    assert recipe["inference"]["max_new_tokens"] == 2048 and recipe["inference"]["top_p"] == 1.0
    job = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(TrainingJobName=eval_result.job_id)
    assert job["TrainingJobStatus"] == "Completed"
    # the container writes its archive; get() merges every results file
    bucket_key = eval_result.eval_output_path[len("s3://my-bucket/") :]
    env["s3"].put_object(Bucket="my-bucket", Key=bucket_key, Body=tar_gz(eval_members(eval_result.job_id)))
    assert eval_result.get_job_status() == (JobStatus.COMPLETED, "Completed")
    results = eval_result.get()
    assert {"mmlu:abstract_algebra|0", "mmlu:anatomy|0"} <= set(results["results"])
    eval_result.show()
    assert "mmlu:anatomy|0" in capsys.readouterr().out
    # reload in a "fresh process" and read again
    again = BaseJobResult.load(str(eval_result.dump(file_path=str(env["recipes"].parent))))
    assert again.get()["results"] == results["results"]


def test_spec_byom_example(env: dict[str, Any]) -> None:
    customizer = _customizer(env)
    # BYOM eval task (by providing processor config)
    byom_eval_result = customizer.evaluate(
        job_name="my-eval-test-byom",
        eval_task=EvaluationTask.GEN_QA,
        data_s3_path="s3://bucket/data",
        processor={"lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:byom-lambda"},
    )
    proc = _recipe(env, byom_eval_result.job_id)["processor"]
    assert proc["lambda_arn"] == LAMBDA
    assert proc["preprocessing"] == {"enabled": True} and proc["postprocessing"] == {"enabled": True}
    assert proc["aggregation"] == "average"
    assert _recipe(env, byom_eval_result.job_id)["evaluation"]["task"] == "gen_qa"
    job = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(
        TrainingJobName=byom_eval_result.job_id
    )
    assert job["HyperParameters"]["eval_lambda_arn"] == LAMBDA
    assert {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}[
        "train"
    ] == "s3://bucket/data"


def test_readme_evaluate_example_with_every_option(env: dict[str, Any]) -> None:
    customizer = _customizer(env)
    eval_result = customizer.evaluate(
        job_name="model-evaluation",
        eval_task=EvaluationTask.MMLU,
        model_path="s3://bucket/model-artifacts/",  # Optional model path override
        subtask="abstract_algebra",  # Optional
        processor={  # Optional, only needed for BYOM (Bring your own metric) Eval
            "lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:my-metrics",
            "preprocessing": {  # Optional, default to True if not provided
                "enabled": True
            },
            "postprocessing": {  # Optional, default to True if not provided
                "enabled": True
            },
            # Optional, Built-in aggregation function (valid options: min, max, average, sum), default to average
            "aggregation": "average",
        },
        rl_env={  # Optional, only needed for RFT Eval
            "reward_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
        },
        overrides={  # Optional overrides
            "max_new_tokens": 2048,
            "temperature": 0.1,
            "top_p": 0.9,
        },
    )
    recipe = _recipe(env, eval_result.job_id)
    assert recipe["evaluation"]["subtask"] == "abstract_algebra"
    assert "processor" not in recipe and "rl_env" not in recipe  # MMLU takes neither (warned)


def test_bad_processor_and_missing_byod_data(env: dict[str, Any]) -> None:
    customizer = _customizer(env)
    with pytest.raises(ValueError, match="aggregation"):
        customizer.evaluate(
            job_name="x",
            eval_task=EvaluationTask.GEN_QA,
            data_s3_path="s3://bucket/data",
            processor={"lambda_arn": LAMBDA, "aggregation": "median"},
        )
    with pytest.raises(ValueError, match="data_s3_path"):
        customizer.evaluate(job_name="x", eval_task=EvaluationTask.GEN_QA)
    with pytest.raises(ValueError, match="Unknown eval_task"):
        customizer.evaluate(job_name="x", eval_task="mmlu_typo")


def test_rft_eval_rl_env_takes_priority_over_runtime_lambda(env: dict[str, Any]) -> None:
    customizer = _customizer(env, rft_lambda=REWARD)
    mine = "arn:aws:lambda:us-east-1:123456789012:function:other-reward"
    r1 = customizer.evaluate(
        job_name="rft-eval",
        eval_task=EvaluationTask.RFT_EVAL,
        data_s3_path="s3://bucket/data",
        rl_env={"reward_lambda_arn": mine},
    )
    assert _recipe(env, r1.job_id)["rl_env"]["reward_lambda_arn"] == mine
    r2 = customizer.evaluate(
        job_name="rft-eval-default", eval_task=EvaluationTask.RFT_EVAL, data_s3_path="s3://bucket/data"
    )
    assert _recipe(env, r2.job_id)["rl_env"]["reward_lambda_arn"] == REWARD
    r3 = customizer.evaluate(
        job_name="rft-eval-proc",
        eval_task=EvaluationTask.RFT_EVAL,
        data_s3_path="s3://bucket/data",
        processor={"lambda_arn": mine},
    )
    assert _recipe(env, r3.job_id)["rl_env"]["reward_lambda_arn"] == mine
    sm = boto3.client("sagemaker", region_name="us-east-1")
    hps = [sm.describe_training_job(TrainingJobName=r.job_id)["HyperParameters"] for r in (r1, r2, r3)]
    assert [hp["reward_lambda_arn"] for hp in hps] == [mine, REWARD, mine]
    with pytest.raises(ValueError, match="reward function"):
        _customizer(env).evaluate(
            job_name="rft-eval-none", eval_task=EvaluationTask.RFT_EVAL, data_s3_path="s3://bucket/data"
        )


def test_dry_run_returns_none_and_starts_nothing(env: dict[str, Any]) -> None:
    customizer = _customizer(env)
    assert customizer.evaluate(job_name="dry", eval_task=EvaluationTask.GPQA, dry_run=True) is None
    assert boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"] == []
    assert customizer.job_result is None
    assert any(env["recipes"].glob("dry-*.yaml"))


def _training(cls: type, platform: Platform, checkpoint: str | None, **kw: Any) -> Any:
    r = cls(
        "train-1",
        TrainingMethod.SFT_LORA,
        None,
        model_type=Model.NOVA_LITE_2,
        model_artifacts=ModelArtifacts(checkpoint_s3_path=checkpoint, output_s3_path="s3://my-bucket/output/"),
        platform=platform,
        **kw,
    )
    return r


def test_model_path_resolution_order(env: dict[str, Any]) -> None:
    customizer = _customizer(env)
    smtj_ckpt = "s3://customer-escrow-123456789012-smtj-abc/train-1/step-100"
    from amzn_nova_forge.model.result import SMTJTrainingResult

    customizer.last_training_result = _training(SMTJTrainingResult, Platform.SMTJ, smtj_ckpt)
    r = customizer.evaluate(job_name="e1", eval_task=EvaluationTask.MMLU)
    assert _recipe(env, r.job_id)["run"]["model_name_or_path"] == smtj_ckpt  # last training job
    serverless = _training(SMTJServerlessTrainingResult, Platform.SMTJServerless, "s3://esc/serverless/ckpt")
    r = customizer.evaluate(job_name="e2", eval_task=EvaluationTask.MMLU, job_result=serverless)
    assert _recipe(env, r.job_id)["run"]["model_name_or_path"] == "s3://esc/serverless/ckpt"  # job_result wins
    r = customizer.evaluate(
        job_name="e3", eval_task=EvaluationTask.MMLU, job_result=serverless, model_path="s3://my-bucket/explicit/"
    )
    assert _recipe(env, r.job_id)["run"]["model_name_or_path"] == "s3://my-bucket/explicit/"  # model_path wins
    hp = _training(SMHPTrainingResult, Platform.SMHP, "s3://customer-escrow-1-hp-x/ckpt", cluster_name="c")
    with pytest.raises(ValueError, match="ran on SMHP"):
        customizer.evaluate(job_name="e4", eval_task=EvaluationTask.MMLU, job_result=hp)
    with pytest.raises(ValueError, match="HyperPod checkpoint"):
        customizer.evaluate(job_name="e5", eval_task=EvaluationTask.MMLU, model_path="s3://customer-escrow-1-hp-x/c")


def test_unfinished_training_job_has_no_checkpoint(env: dict[str, Any]) -> None:
    from amzn_nova_forge.model.result import SMTJTrainingResult

    class Pending(SMTJTrainingResult):
        @property
        def model_artifacts(self) -> ModelArtifacts:  # type: ignore[override]
            return ModelArtifacts()

        def get_job_status(self) -> tuple[JobStatus, str]:
            return JobStatus.IN_PROGRESS, "InProgress"

    customizer = _customizer(env)
    with pytest.raises(ValueError, match=r"no checkpoint yet \(job status: InProgress\)"):
        customizer.evaluate(job_name="e6", eval_task=EvaluationTask.MMLU, job_result=Pending("t", "sft_lora"))


def test_spec_batch_inference_example(env: dict[str, Any]) -> None:
    customizer = _customizer(env)
    inference_result = customizer.batch_inference(
        job_name="batch-inference-job",
        input_path="s3://my-bucket/inference-input/",
        output_s3_path="s3://my-bucket/inference-output/",
        model_path="s3://my-bucket/trained-model/",
    )
    print(f"Batch inference started: {inference_result.job_id}")
    assert isinstance(inference_result, SMTJBatchInferenceResult)
    assert inference_result.inference_output_path == (
        f"s3://my-bucket/inference-output/{inference_result.job_id}/output/output.tar.gz"
    )
    recipe = _recipe(env, inference_result.job_id)
    assert recipe["evaluation"]["task"] == "gen_qa"
    assert recipe["run"]["model_name_or_path"] == "s3://my-bucket/trained-model/"
    job = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(
        TrainingJobName=inference_result.job_id
    )
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in job["InputDataConfig"]}
    assert any(src["S3Uri"] == "s3://my-bucket/inference-input/" for src in channels.values())
    key = inference_result.inference_output_path[len("s3://my-bucket/") :]
    env["s3"].put_object(Bucket="my-bucket", Key=key, Body=tar_gz(inference_members(inference_result.job_id)))
    inference_result.get_job_status()  # Gets the job status.
    inference_result.get(
        "s3://my-bucket/save-location/file-name.jsonl"
    )  # Uploads a formatted inference_results.jsonl file to the given s3 location.
    body = env["s3"].get_object(Bucket="my-bucket", Key="save-location/file-name.jsonl")["Body"].read().decode()
    assert json.loads(body.splitlines()[0])["query"] == "What is the capital of France?"


def test_batch_inference_dry_run_and_platforms(env: dict[str, Any]) -> None:
    customizer = _customizer(env)
    assert (
        customizer.batch_inference(
            job_name="b",
            input_path="s3://my-bucket/inference-input/",
            output_s3_path="s3://my-bucket/inference-output/",
            dry_run=True,
        )
        is None
    )
    with pytest.raises(ValueError, match="S3 URI"):
        customizer.batch_inference(job_name="b", input_path="/local/in", output_s3_path="s3://my-bucket/o/")
    from amzn_nova_forge.manager import BedrockRuntimeManager

    bedrock = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=BedrockRuntimeManager(execution_role=env["role"]),
        data_s3_path="s3://my-bucket/training-data/train.jsonl",
    )
    with pytest.raises(UnsupportedFeatureError, match="Batch inference runs on"):
        bedrock.batch_inference(job_name="b", input_path="s3://my-bucket/i/", output_s3_path="s3://my-bucket/o/")
    with pytest.raises(UnsupportedFeatureError, match="supported on: SMHP, SMTJ"):
        bedrock.evaluate(job_name="e", eval_task=EvaluationTask.MMLU)


def test_get_logs_of_the_last_job(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    customizer = _customizer(env)
    with pytest.raises(ConfigError, match="not started a job"):
        customizer.get_logs()
    eval_result = customizer.evaluate(job_name="logs-eval", eval_task=EvaluationTask.MMLU)
    logs = boto3.client("logs", region_name="us-east-1")
    import time

    now = int(time.time() * 1000)
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    for node in (1, 2):
        stream = f"{eval_result.job_id}/algo-{node}-1768478400"
        logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream)
        logs.put_log_events(
            logGroupName="/aws/sagemaker/TrainingJobs",
            logStreamName=stream,
            logEvents=[{"timestamp": now + i * 10 + node, "message": f"node{node} line {i}"} for i in range(150)],
        )
    capsys.readouterr()
    customizer.get_logs(limit=100, start_from_head=True)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 100 and out[:3] == ["node1 line 0", "node2 line 0", "node1 line 1"]
    eval_job_monitor = CloudWatchLogMonitor.from_job_result(eval_result)
    eval_job_monitor.show_logs()
    assert len(capsys.readouterr().out.splitlines()) == 300


def test_output_location_per_platform() -> None:
    from amzn_nova_forge.model._evaluate import output_location

    out = "s3://my-bucket/output/"
    assert output_location(Platform.SMTJ, out, "j-1", {}) == "s3://my-bucket/output/j-1/output/output.tar.gz"
    assert output_location(Platform.SMTJServerless, out, "j-1", {}) == "s3://my-bucket/output/j-1/output/output/"
    assert output_location(Platform.SMHP, out, "j-1", {"cluster_name": "c"}) == "s3://my-bucket/output/j-1/eval-result/"
    arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abc123"
    assert output_location(Platform.BEDROCK, out, arn, {}) == "s3://my-bucket/output/abc123/"
    assert output_location(Platform.LOCAL, None, "l-1", {"job_dir": "/jobs/l-1"}) == "/jobs/l-1/output/output.tar.gz"
