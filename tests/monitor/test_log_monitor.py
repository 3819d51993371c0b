"""CloudWatchLogMonitor against moto: every stream, merged in time order, paginated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from logfixtures import BASE_MS, loss_at, put_lines, sft_lines

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import AWSServiceError, ConfigError
from amzn_nova_forge.monitor import CloudWatchLogMonitor

GROUP = "/aws/sagemaker/TrainingJobs"


@pytest.fixture
def logs(aws: Any) -> Any:
    return boto3.client("logs", region_name="us-east-1")


def _two_node_job(logs: Any, job: str = "my-training-job", steps: int = 400) -> list[str]:
    lines = sft_lines(steps)  # ~1,600 lines per node
    put_lines(logs, GROUP, f"{job}/algo-1-1768478400", lines, every_ms=10)
    # node 2 prints the same progress lines 5 ms later and its own chatter
    put_lines(
        logs, GROUP, f"{job}/algo-2-1768478400", [f"[node2] {x}" for x in lines], start_ms=BASE_MS + 5, every_ms=10
    )
    # another job sharing the prefix's group must not leak in
    put_lines(logs, GROUP, "my-training-job-2/algo-1-1768478400", ["OTHER JOB"] * 50)
    return lines


def test_all_streams_merged_in_time_order(logs: Any) -> None:
    lines = _two_node_job(logs)
    monitor = CloudWatchLogMonitor.from_job_id(job_id="my-training-job", platform=Platform.SMTJ)
    events = monitor.get_logs(start_from_head=True)
    assert len(events) == 2 * len(lines) > 3000
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    # strictly alternating nodes: node-1 line i, node-2 line i, ...
    assert events[0]["message"] == lines[0] and events[1]["message"] == "[node2] " + lines[0]
    assert events[-1]["message"] == "[node2] " + lines[-1]
    assert {e["logStreamName"] for e in events} == {
        "my-training-job/algo-1-1768478400",
        "my-training-job/algo-2-1768478400",
    }
    assert not any(e["message"] == "OTHER JOB" for e in events)


def test_limit_head_tail_and_end_time(logs: Any) -> None:
    lines = _two_node_job(logs, steps=100)
    monitor = CloudWatchLogMonitor.from_job_id(job_id="my-training-job", platform=Platform.SMTJ)
    head = monitor.get_logs(limit=5, start_from_head=True)
    assert [e["message"] for e in head] == [lines[0], "[node2] " + lines[0], lines[1], "[node2] " + lines[1], lines[2]]
    tail = monitor.get_logs(limit=3)
    assert [e["message"] for e in tail] == ["[node2] " + lines[-2], lines[-1], "[node2] " + lines[-1]]
    cut = monitor.get_logs(start_from_head=True, end_time=BASE_MS + 10 * 9)  # node1 lines 0..9, node2 0..8
    assert len(cut) == 19
    iso = datetime.fromtimestamp((BASE_MS + 90) / 1000, tz=UTC).isoformat()
    assert len(monitor.get_logs(start_from_head=True, end_time=iso)) == 19
    with pytest.raises(ConfigError, match="limit must be a positive number of log events, got 0"):
        monitor.get_logs(limit=0)


def test_pages_beyond_one_get_log_events_call(logs: Any) -> None:
    lines = [f"line {i}" for i in range(23_456)]
    put_lines(logs, GROUP, "big-job/algo-1-1", lines, every_ms=1)
    monitor = CloudWatchLogMonitor("big-job", Platform.SMTJ)
    everything = monitor.get_logs(start_from_head=True)
    assert [e["message"] for e in everything] == lines
    tail = monitor.get_logs(limit=12_345)
    assert [e["message"] for e in tail] == lines[-12_345:]


def test_started_time_skips_older_events(logs: Any) -> None:
    put_lines(logs, GROUP, "job-a/algo-1", ["old"] * 3, start_ms=BASE_MS - 3_600_000)
    put_lines(logs, GROUP, "job-a/algo-2", ["new"] * 4, start_ms=BASE_MS)
    started = datetime.fromtimestamp(BASE_MS / 1000, tz=UTC)
    monitor = CloudWatchLogMonitor.from_job_id(job_id="job-a", platform=Platform.SMTJ, started_time=started)
    assert [e["message"] for e in monitor.get_logs()] == ["new"] * 4


def test_show_logs_prints_messages(logs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _two_node_job(logs, steps=10)
    CloudWatchLogMonitor("my-training-job", Platform.SMTJ).show_logs(limit=2, start_from_head=True)
    assert capsys.readouterr().out.splitlines() == [lines[0], "[node2] " + lines[0]]
    CloudWatchLogMonitor("nope", Platform.SMTJ).show_logs()
    assert "No log events yet for job nope" in capsys.readouterr().out


def test_missing_group_is_empty_not_an_error(aws: Any) -> None:
    assert CloudWatchLogMonitor("never-ran", Platform.SMTJ).get_logs() == []


def test_smhp_reads_cluster_group_and_filters_on_job(logs: Any, capsys: pytest.CaptureFixture[str]) -> None:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    arn = sm.create_cluster(
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
    group = f"/aws/sagemaker/Clusters/my-cluster/{arn.rsplit('/', 1)[-1]}"
    mine = [f'{{"kubernetes":{{"pod_name":"my-hyperpod-job-worker-0"}},"log":"{x}"}}' for x in sft_lines(50)]
    other = ['{"kubernetes":{"pod_name":"someone-else-worker-0"},"log":"reduced_train_loss=9.0, global_step=1"}'] * 20
    put_lines(logs, group, "SagemakerHyperPodTrainingJob/rig-1/i-0abc", mine + other)
    put_lines(logs, group, "SagemakerHyperPodTrainingJob/rig-1/i-0def", mine[:10], start_ms=BASE_MS + 3)
    put_lines(logs, group, "unrelated-stream", mine[:10])
    monitor = CloudWatchLogMonitor.from_job_id(
        job_id="my-hyperpod-job", platform=Platform.SMHP, cluster_name="my-cluster", namespace="kubeflow"
    )
    events = monitor.get_logs(start_from_head=True)
    assert len(events) == len(mine) + 10
    assert all("my-hyperpod-job" in e["message"] for e in events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    rows = monitor.get_metrics(TrainingMethod.SFT_LORA)
    assert [r["step"] for r in rows] == list(range(50))
    monitor.show_logs(limit=1, start_from_head=True)  # the container line, not its JSON envelope
    assert capsys.readouterr().out == sft_lines(50)[0] + "\n"
    assert rows[7]["training_loss"] == pytest.approx(loss_at(7))


def test_smhp_needs_cluster_and_unknown_cluster_is_typed(aws: Any) -> None:
    with pytest.raises(ConfigError, match="cluster_name"):
        CloudWatchLogMonitor.from_job_id(job_id="j", platform=Platform.SMHP)
    with pytest.raises(AWSServiceError, match="DescribeCluster"):
        CloudWatchLogMonitor.from_job_id(job_id="j", platform=Platform.SMHP, cluster_name="nope").get_logs()


def test_bedrock_has_no_logs_and_prints_the_status(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    arn = boto3.client("bedrock", region_name="us-east-1").create_model_customization_job(
        jobName="br-sft-1",
        customModelName="br-sft-1-model",
        roleArn="arn:aws:iam::123456789012:role/BR",
        baseModelIdentifier="amazon.nova-2-lite-v1:0",
        customizationType="FINE_TUNING",
        trainingDataConfig={"s3Uri": "s3://my-bucket/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://my-bucket/out/"},
    )["jobArn"]
    monitor = CloudWatchLogMonitor(arn, Platform.BEDROCK, region="us-east-1", job_name="br-sft-1")
    assert monitor.get_logs() == []
    monitor.show_logs()
    out = capsys.readouterr().out
    assert "publishes no CloudWatch logs. Status: InProgress" in out
    CloudWatchLogMonitor(arn + "-gone", Platform.BEDROCK, region="us-east-1").show_logs()
    assert "Its status could not be read" in capsys.readouterr().out


def test_follow_yields_new_events_then_stops_when_done(logs: Any) -> None:
    put_lines(logs, GROUP, "live-job/algo-1", ["a0", "a1"])
    monitor = CloudWatchLogMonitor("live-job", Platform.SMTJ)
    state = {"polls": 0}

    def sleep(_: float) -> None:  # new output arrives between polls, incl. a new stream
        state["polls"] += 1
        if state["polls"] == 1:
            logs.put_log_events(
                logGroupName=GROUP,
                logStreamName="live-job/algo-1",
                logEvents=[{"timestamp": BASE_MS + 100, "message": "a2"}],
            )
            put_lines(logs, GROUP, "live-job/algo-2", ["b0"], start_ms=BASE_MS + 200)

    got = [e["message"] for e in monitor.follow(is_done=lambda: state["polls"] >= 2, sleep=sleep)]
    assert got == ["a0", "a1", "a2", "b0"]
