"""MTRLLogMonitor, progress, wait() and get_training_metrics() of multi-turn RFT jobs.

Logs are moto's CloudWatch Logs; CreateJob/DescribeJob/StopJob/DescribeHubContent, which moto
lacks, are answered by ``mtrl_support.FakeJobs``. Metrics come from a real local MLflow store.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import aws_support as A
import pytest
from mtrl_support import AGENT_ARN, MLFLOW_ARN, FakeJobs

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import (
    ConfigError,
    JobTimeoutError,
    MissingDependencyError,
    UnsupportedFeatureError,
)
from amzn_nova_forge.manager import SMTJServerlessRuntimeManager
from amzn_nova_forge.model.result import SMTJServerlessTrainingResult
from amzn_nova_forge.monitor import MTRLLogMonitor
from amzn_nova_forge.monitor._mtrl import mtrl_progress, mtrl_training_metrics


@pytest.fixture
def jobs(nova_aws: Any) -> FakeJobs:
    return FakeJobs()


def _start(jobs: FakeJobs, mlflow: bool = True) -> str:
    infra = SMTJServerlessRuntimeManager(model_package_group_name="mtrl-models", agent_core_arn=AGENT_ARN)
    return infra.execute_mtrl(
        Model.NOVA_LITE_2,
        "mon",
        "s3://my-bucket/rft/",
        "s3://my-bucket/out/",
        mlflow_tracking_uri=MLFLOW_ARN if mlflow else None,
    )


def _log(group: str, stream: str, *lines: str, t0: int | None = None) -> None:
    t0 = t0 if t0 is not None else int(time.time() * 1000) - 60_000
    logs = A.plain_client("logs")
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    events = [{"timestamp": t0 + i, "message": line} for i, line in enumerate(lines)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_progress_summary_of_both_progress_formats() -> None:
    import json

    def job(**out: Any) -> dict[str, Any]:
        return {"JobStatus": "InProgress", "JobConfigDocument": json.dumps({"ServiceOutput": out})}

    assert mtrl_progress(
        job(
            ProgressInfo={"MaxEpoch": 2, "StepsPerEpoch": 5, "CurrentEpoch": 1, "CurrentStep": 7},
            BillableTokenUsage={"TrainTokenCount": 10, "PrefillTokenCount": 20, "SampleTokenCount": 30},
        )
    ) == {
        "status": "InProgress",
        "current_epoch": 1,
        "max_epoch": 2,
        "current_step": 7,
        "max_steps": 10,
        "train_tokens": 10,
        "prefill_tokens": 20,
        "sample_tokens": 30,
    }
    assert mtrl_progress(job(ProgressInfo={"CurrentStep": 3})) == {"status": "InProgress"}  # no maximum: no progress
    assert mtrl_progress({"JobStatus": "Completed", "JobConfigDocument": "not json"}) == {"status": "Completed"}


def test_show_logs_of_a_finished_training_job(jobs: FakeJobs, capsys: pytest.CaptureFixture[str]) -> None:
    name = _start(jobs)
    _log("/aws/sagemaker/Job/AgentRFT", f"{name}/rollout", "step 1 reward 0.2", "step 2 reward 0.5")
    _log("/aws/sagemaker/Job/AgentRFT", "other-job/rollout", "not mine")
    jobs.finish(name)
    monitor = MTRLLogMonitor.from_job_id(name, region="us-east-1", cluster_name="ignored")
    assert monitor.job_category == "AgentRFT"  # found from the log group holding its streams
    monitor.show_logs(limit=1)
    assert capsys.readouterr().out == f"step 2 reward 0.5\nJob '{name}' status: Completed\n"
    assert monitor.get_logs(start_from_head=True) == ["step 1 reward 0.2", "step 2 reward 0.5"]


def test_show_logs_follows_a_running_job_with_progress(jobs: FakeJobs, capsys: pytest.CaptureFixture[str]) -> None:
    name = _start(jobs)
    _log("/aws/sagemaker/Job/AgentRFT", f"{name}/rollout", "started")
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        if len(sleeps) == 1:
            jobs.progress(
                name, ProgressInfo={"MaxSteps": 10, "CurrentStep": 4}, BillableTokenUsage={"TrainTokenCount": 99}
            )
            _log("/aws/sagemaker/Job/AgentRFT", f"{name}/rollout", "step 4", t0=int(time.time() * 1000) - 30_000)
        else:
            jobs.finish(name)

    MTRLLogMonitor(name, "us-east-1", "AgentRFT", sleep=sleep).show_logs(poll=5, timeout=600)
    assert capsys.readouterr().out.splitlines() == [
        "started",
        f"[{name}] InProgress",
        "step 4",
        f"[{name}] InProgress · step 4/10 · train_tokens=99",
        f"[{name}] Completed · step 4/10 · train_tokens=99",
    ]
    assert sleeps == [5, 5]


def test_show_logs_times_out_with_a_typed_error(jobs: FakeJobs) -> None:
    name = _start(jobs)
    monitor = MTRLLogMonitor(name, "us-east-1", "AgentRFT", sleep=lambda s: None)
    with pytest.raises(JobTimeoutError, match=f"MTRL job '{name}' still InProgress after 0s"):
        monitor.show_logs(poll=1, timeout=0)
    with pytest.raises(ConfigError, match="poll must be 1-300 seconds"):
        monitor.show_logs(poll=0)
    with pytest.raises(ConfigError, match="job_category must be one of AgentRFT, AgentRFTEvaluation"):
        MTRLLogMonitor(name, job_category="Training")


def test_evaluation_logs(jobs: FakeJobs, capsys: pytest.CaptureFixture[str]) -> None:
    _log("/aws/sagemaker/Job/AgentRFTEvaluation", "ev-1/eval", "pass@1 0.61", "done")
    monitor = MTRLLogMonitor.from_job_id("ev-1")
    assert monitor.job_category == "AgentRFTEvaluation"
    assert monitor.log_group == "/aws/sagemaker/Job/AgentRFTEvaluation"
    monitor.show_logs()
    assert capsys.readouterr().out == "pass@1 0.61\ndone\n"
    MTRLLogMonitor("ev-2", job_category="AgentRFTEvaluation").show_logs()
    assert capsys.readouterr().out == "No logs available yet for job 'ev-2'.\n"


def _mlflow_run(tmp_path: Path) -> tuple[str, str]:
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "mlruns").as_uri()
    c = MlflowClient(tracking_uri=uri)
    run = c.create_run(c.create_experiment("mtrl"))
    for step, reward in ((1, 0.25), (2, 0.5)):
        c.log_metric(run.info.run_id, "rollout/reward/mean", reward, step=step)
        c.log_metric(run.info.run_id, "training/total_tokens", 1000.0 * step, step=step)
    c.log_metric(run.info.run_id, "rollout/turns/mean", 3.0, step=2)
    return uri, run.info.run_id


def test_wait_and_get_training_metrics_on_the_result(
    jobs: FakeJobs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a local store, faster than a database
    name = _start(jobs)
    result = SMTJServerlessTrainingResult(
        name,
        None,
        TrainingMethod.RFT_MULTITURN_LORA,
        model_type=Model.NOVA_LITE_2,
        region="us-east-1",
        extras={"job_category": "AgentRFT"},
    )
    slept: list[float] = []
    assert result.get_training_metrics() == []  # no MLflow run yet
    info = result.wait(poll=7, timeout=60, sleep=lambda s: (slept.append(s), jobs.finish(name)))
    assert (info.status, slept) == (JobStatus.COMPLETED, [7])

    uri, run_id = _mlflow_run(tmp_path)
    jobs.progress(name, MlflowDetails={"RunId": run_id, "ExperimentName": "mtrl"})
    expected = [
        {"step": 1.0, "rollout/reward/mean": 0.25, "training/total_tokens": 1000.0},
        {"step": 2.0, "rollout/reward/mean": 0.5, "rollout/turns/mean": 3.0, "training/total_tokens": 2000.0},
    ]
    assert mtrl_training_metrics(name, "us-east-1", tracking_uri=uri) == expected


def test_get_training_metrics_refusals(jobs: FakeJobs, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _start(jobs)
    jobs.progress(name, MlflowDetails={"RunId": "r1"})
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(MissingDependencyError, match=r"amzn-nova-forge\[mlflow\]") as e:
        mtrl_training_metrics(name, "us-east-1")
    assert e.value.extra == "mlflow"
    sft = SMTJServerlessTrainingResult("sl-job", None, TrainingMethod.SFT_LORA, region="us-east-1")
    with pytest.raises(UnsupportedFeatureError, match="reads multi-turn RFT jobs on SMTJServerless"):
        sft.get_training_metrics()
    assert sft.platform is Platform.SMTJServerless
