"""The monitoring examples of seeds/api-spec.txt and readme.txt, verbatim, against moto."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from logfixtures import BASE_MS, loss_at, put_lines, sft_lines

GROUP = "/aws/sagemaker/TrainingJobs"


@pytest.fixture
def logs(aws: Any) -> Any:
    client = boto3.client("logs", region_name="us-east-1")
    put_lines(client, GROUP, "my-training-job/algo-1-1768478400", sft_lines(60))
    put_lines(client, GROUP, "job-id/algo-1-1768478400", [f"line {i}" for i in range(120)])
    return client


def _cluster() -> str:
    return boto3.client("sagemaker", region_name="us-east-1").create_cluster(
        ClusterName="my-cluster",
        InstanceGroups=[
            {
                "InstanceCount": 1,
                "InstanceGroupName": "workers",
                "InstanceType": "ml.p5.48xlarge",
                "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/", "OnCreate": "on_create.sh"},
                "ExecutionRole": "arn:aws:iam::123456789012:role/HP",
                "ThreadsPerCore": 1,
            }
        ],
    )["ClusterArn"]


def test_api_spec_from_job_id_examples(logs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from amzn_nova_forge.model.model_enums import Platform
    from amzn_nova_forge.monitor import CloudWatchLogMonitor

    # SMTJ
    monitor = CloudWatchLogMonitor.from_job_id(
        job_id="my-training-job", platform=Platform.SMTJ, started_time=datetime(2026, 1, 15, 12, 0, 0)
    )
    logs_ = monitor.get_logs(limit=100)
    assert len(logs_) == 100 and logs_[-1]["message"].startswith("Training completed")
    monitor.show_logs(limit=50, start_from_head=True)
    assert capsys.readouterr().out.splitlines()[0].startswith("[2026-01-15 12:00:00,001] [INFO]")

    arn = _cluster()
    put_lines(
        logs,
        f"/aws/sagemaker/Clusters/my-cluster/{arn.rsplit('/', 1)[-1]}",
        "SagemakerHyperPodTrainingJob/workers/i-0abc",
        [f"my-hyperpod-job-worker-0 | step {i}" for i in range(30)],
    )
    # SMHP
    monitor = CloudWatchLogMonitor.from_job_id(
        job_id="my-hyperpod-job", platform=Platform.SMHP, cluster_name="my-cluster", namespace="kubeflow"
    )
    assert [e["message"] for e in monitor.get_logs(limit=2)] == [
        "my-hyperpod-job-worker-0 | step 28",
        "my-hyperpod-job-worker-0 | step 29",
    ]


def test_readme_monitor_example(logs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Or Create from job id
    from datetime import datetime

    from amzn_nova_forge.model.model_enums import Platform
    from amzn_nova_forge.monitor import CloudWatchLogMonitor

    monitor = CloudWatchLogMonitor.from_job_id(
        job_id="job-id",
        platform=Platform.SMTJ,
        started_time=datetime(year=2025, month=11, day=1, hour=20),  # Optional, job start time
        cluster_name="cluster_name",  # Optional, SMHP cluster name, only needed when platform is SMHP,
        namespace="namespace",  # Optional, SMHP namespace, only needed when platform is SMHP
    )

    # View logs
    monitor.show_logs(limit=50, start_from_head=False)
    assert capsys.readouterr().out.splitlines() == [f"line {i}" for i in range(70, 120)]

    # Get raw logs as list
    logs = monitor.get_logs(limit=100)
    assert [e["message"] for e in logs] == [f"line {i}" for i in range(20, 120)]


def test_api_spec_plot_example_from_training_result(logs: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from amzn_nova_forge.model.model_enums import Platform, TrainingMethod  # noqa: F401  (spec import line)
    from amzn_nova_forge.model.result import SMTJTrainingResult
    from amzn_nova_forge.monitor import CloudWatchLogMonitor

    boto3.client("sagemaker", region_name="us-east-1").create_training_job(
        TrainingJobName="my-training-job",
        AlgorithmSpecification={"TrainingImage": "nova:SM-TJ-SFT-latest", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/SageMakerExecutionRole",
        OutputDataConfig={"S3OutputPath": "s3://my-bucket/output/"},
        ResourceConfig={"InstanceType": "ml.p5.48xlarge", "InstanceCount": 1, "VolumeSizeInGB": 100},
        StoppingCondition={"MaxRuntimeInSeconds": 86400},
    )
    training_result = SMTJTrainingResult(
        "my-training-job", TrainingMethod.SFT_LORA, datetime.fromtimestamp(BASE_MS / 1000, tz=UTC), region="us-east-1"
    )
    monkeypatch.chdir(tmp_path)

    # Create monitor from a training result
    monitor = CloudWatchLogMonitor.from_job_result(job_result=training_result)

    # Plot training loss for an SFT job
    monitor.plot_metrics(training_method=TrainingMethod.SFT_LORA, metrics=["training_loss"])
    assert (tmp_path / "my-training-job_training_loss.png").read_bytes()[:4] == b"\x89PNG"
    assert monitor._final  # the job is Completed in SageMaker: logs are cached from now on
    rows = monitor.get_metrics(TrainingMethod.SFT_LORA)
    assert [r["training_loss"] for r in rows] == [loss_at(s) for s in range(60)]


def test_over_real_http_with_moto_server(moto_server: str) -> None:
    from amzn_nova_forge.core.enums import Platform
    from amzn_nova_forge.monitor import CloudWatchLogMonitor

    client = boto3.client("logs", region_name="us-east-1", endpoint_url=moto_server)
    put_lines(client, GROUP, "http-job/algo-1", [f"a{i}" for i in range(2500)], every_ms=2)
    put_lines(client, GROUP, "http-job/algo-2", [f"b{i}" for i in range(2500)], start_ms=BASE_MS + 1, every_ms=2)
    events = CloudWatchLogMonitor("http-job", Platform.SMTJ).get_logs(start_from_head=True)
    assert len(events) == 5000
    assert [e["message"] for e in events[:4]] == ["a0", "b0", "a1", "b1"]


def test_mlflow_monitor_use_with_customizer_puts_settings_in_the_eval_recipe(s3_bucket: str, tmp_path: Any) -> None:
    import yaml

    from amzn_nova_forge.core.enums import EvaluationTask, Model, TrainingMethod
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer
    from amzn_nova_forge.monitor import MLflowMonitor

    runtime_manager = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge",
        instance_count=1,
        execution_role="arn:aws:iam::123456789012:role/SageMakerExecutionRole",
    )
    # With explicit tracking URI
    monitor = MLflowMonitor(
        tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx",
        experiment_name="nova-customization",
        run_name="sft-run-1",
    )
    # Use with NovaModelCustomizer
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=runtime_manager,
        data_s3_path="s3://bucket/data",
        mlflow_monitor=monitor,
    )
    customizer.generated_recipe_dir = str(tmp_path)
    customizer.validation_config = {"iam": False, "infra": False, "recipe": True}
    customizer.output_s3_path = "s3://my-bucket/output/"
    assert customizer.evaluate(job_name="mlflow-eval", eval_task=EvaluationTask.MMLU, dry_run=True) is None
    run = yaml.safe_load(next(tmp_path.glob("mlflow-eval-*.yaml")).read_text())["run"]
    assert run["mlflow_tracking_uri"] == "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx"
    assert (run["mlflow_experiment_name"], run["mlflow_run_name"]) == ("nova-customization", "sft-run-1")
