"""``nova-forge logs|plot|results`` on result files saved with dump(), against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from logfixtures import BASE_MS, loss_at, put_lines, sft_lines

from amzn_nova_forge.cli._main import main
from amzn_nova_forge.core.enums import EvaluationTask, TrainingMethod
from amzn_nova_forge.model.result import SMTJBatchInferenceResult, SMTJEvaluationResult, SMTJTrainingResult

GROUP = "/aws/sagemaker/TrainingJobs"


def _sm_job(name: str) -> None:
    """A real (moto) SageMaker training job, so status comes from DescribeTrainingJob (Completed)."""
    boto3.client("sagemaker", region_name="us-east-1").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "708977205387.dkr.ecr.us-east-1.amazonaws.com/nova:SM-TJ",
            "TrainingInputMode": "File",
        },
        RoleArn="arn:aws:iam::123456789012:role/SageMakerExecutionRole",
        OutputDataConfig={"S3OutputPath": "s3://my-bucket/output/"},
        ResourceConfig={"InstanceType": "ml.p5.48xlarge", "InstanceCount": 2, "VolumeSizeInGB": 100},
        StoppingCondition={"MaxRuntimeInSeconds": 86400},
    )


@pytest.fixture
def training_file(s3_bucket: str, tmp_path: Path) -> Path:
    _sm_job("cli-sft-job")
    logs = boto3.client("logs", region_name="us-east-1")
    put_lines(logs, GROUP, "cli-sft-job/algo-1-1", sft_lines(80))
    put_lines(logs, GROUP, "cli-sft-job/algo-2-1", [f"node2 {i}" for i in range(40)], start_ms=BASE_MS + 5)
    started = datetime.fromtimestamp(BASE_MS / 1000, tz=UTC)
    r = SMTJTrainingResult("cli-sft-job", TrainingMethod.SFT_LORA, started, region="us-east-1")
    return r.dump(file_path=str(tmp_path))


def test_logs_head_limit(training_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", str(training_file), "--limit", "4", "--head"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "node2 0" and out[3] == "node2 1" and len(out) == 4


def test_logs_follow_stops_when_job_is_done(training_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", str(training_file), "--follow", "--poll", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(sft_lines(80)) + 40 and out[-1].startswith("Training completed")


def test_plot_writes_png(training_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "loss.png"
    assert main(["plot", str(training_file), "-o", str(png), "--start-step", "10"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Wrote {png} (70 steps, 10..79)." in capsys.readouterr().out
    assert main(["plot", str(training_file), "--metric", "reward_score"]) == 1
    assert "reward_score" in capsys.readouterr().err
    assert loss_at(10) > loss_at(79)


def test_results_eval_and_batch(s3_bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "model"))
    from evalfixtures import eval_members, inference_members, tar_gz

    s3 = boto3.client("s3", region_name="us-east-1")
    _sm_job("cli-eval")
    s3.put_object(Bucket="my-bucket", Key="output/cli-eval/output/output.tar.gz", Body=tar_gz(eval_members("cli-eval")))
    ev = SMTJEvaluationResult(
        "cli-eval", None, EvaluationTask.MMLU, "s3://my-bucket/output/cli-eval/output/output.tar.gz", region="us-east-1"
    ).dump(file_path=str(tmp_path))
    assert main(["results", str(ev)]) == 0
    out = capsys.readouterr().out
    assert "Evaluation results for job cli-eval (mmlu):" in out and "mmlu:anatomy|0" in out
    assert main(["results", str(ev), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"]["mmlu:abstract_algebra|0"]["accuracy"] == 0.65

    _sm_job("cli-batch")
    s3.put_object(
        Bucket="my-bucket", Key="o/cli-batch/output/output.tar.gz", Body=tar_gz(inference_members("cli-batch"))
    )
    bi = SMTJBatchInferenceResult(
        "cli-batch", None, "s3://my-bucket/o/cli-batch/output/output.tar.gz", region="us-east-1"
    ).dump(file_path=str(tmp_path))
    assert main(["results", str(bi), "--save", "s3://my-bucket/formatted.jsonl"]) == 0
    captured = capsys.readouterr()
    assert "Saved 3 records to s3://my-bucket/formatted.jsonl." in captured.err
    assert len(s3.get_object(Bucket="my-bucket", Key="formatted.jsonl")["Body"].read().splitlines()) == 3
    assert main(["results", str(ev), "--save", "x.jsonl"]) == 2


def test_bad_result_file_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["results", str(bad)]) == 1
    assert "not a saved job result" in capsys.readouterr().err


def test_results_of_a_running_job_exit_3(s3_bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from moto.sagemaker.models import sagemaker_backends

    _sm_job("cli-running")
    # moto jobs are Completed at once; force the state a real job has while it runs (moto internals).
    sagemaker_backends["123456789012"]["us-east-1"].training_jobs["cli-running"].training_job_status = "InProgress"
    ev = SMTJEvaluationResult(
        "cli-running",
        None,
        EvaluationTask.GPQA,
        "s3://my-bucket/o/cli-running/output/output.tar.gz",
        region="us-east-1",
    ).dump(file_path=str(tmp_path))
    assert main(["results", str(ev)]) == 3
    assert "is InProgress; results are available once it completes" in capsys.readouterr().out
