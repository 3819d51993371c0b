"""The notification Lambda handlers, run directly on recorded events against moto.

moto cannot run Lambda code without Docker, so the handler functions are called in-process
with the same environment variables the stack gives them.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import boto3
import pytest

from amzn_nova_forge.notifications.handlers import build_zip, smhp_handler, smtj_handler

EVENTS = Path(__file__).parent / "events"
TABLE = "jobs"


def _event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def _sent(topic_arn: str) -> list[tuple]:
    from moto.sns.models import sns_backends

    return sns_backends["123456789012"]["us-east-1"].topics[topic_arn].sent_notifications


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def infra(aws, monkeypatch):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="t")["TopicArn"]
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="my-bucket")
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("TOPIC_ARN", topic)
    return ddb, topic


def _register(ddb, job_id: str, **extra: str) -> None:
    item = {
        "job_id": {"S": job_id},
        "emails": {"SS": ["user@example.com"]},
        "output_s3_path": {"S": "s3://my-bucket/output"},
        "ttl": {"N": "1"},
    }
    item.update({k: {"S": v} for k, v in extra.items()})
    ddb.put_item(TableName=TABLE, Item=item)


def _item(ddb, job_id: str):
    return ddb.get_item(TableName=TABLE, Key={"job_id": {"S": job_id}}).get("Item")


# ---- SMTJ ------------------------------------------------------------------------------------
def test_smtj_completed_with_manifest(infra) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-abc123")
    tar = _tar_gz({"manifest.json": b'{"checkpoint_s3_bucket": "s3://customer-escrow-1-smtj-x/ckpt"}', "x.csv": b"a"})
    boto3.client("s3").put_object(Bucket="my-bucket", Key="output/my-job-abc123/output/output.tar.gz", Body=tar)
    out = smtj_handler.handler(_event("smtj_completed.json"), None)
    assert out["action"] == "notified" and out["manifest_ok"] is True
    ((_, message, subject, attrs, _),) = _sent(topic)
    assert subject == "[SMTJ] Job Completed: my-job-abc123"
    assert "Output validation: PASSED" in message
    assert "Platform: SMTJ" in message and "#/jobs/my-job-abc123" in message
    assert attrs["status"]["Value"] == "Completed"
    assert _item(ddb, "my-job-abc123") is None


def test_smtj_completed_manifest_missing(infra) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-abc123")
    boto3.client("s3").put_object(
        Bucket="my-bucket", Key="output/my-job-abc123/output/output.tar.gz", Body=_tar_gz({"other.txt": b"x"})
    )
    out = smtj_handler.handler(_event("smtj_completed.json"), None)
    assert out["manifest_ok"] is False
    ((_, message, subject, _, _),) = _sent(topic)
    assert subject == "[SMTJ] Job Completed (output validation failed): my-job-abc123"
    assert (
        "Output validation: FAILED - manifest.json is missing from s3://my-bucket/output/my-job-abc123/output/output.tar.gz"
        in message
    )


def test_smtj_completed_output_archive_absent(infra) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-abc123")
    out = smtj_handler.handler(_event("smtj_completed.json"), None)
    assert out["manifest_ok"] is False
    ((_, message, _, _, _),) = _sent(topic)
    assert "could not be read (NoSuchKey)" in message


def test_smtj_failed_includes_reason(infra) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-abc123")
    out = smtj_handler.handler(_event("smtj_failed.json"), None)
    assert out["status"] == "Failed" and out["manifest_ok"] is None
    ((_, message, subject, _, _),) = _sent(topic)
    assert subject == "[SMTJ] Job Failed: my-job-abc123"
    assert "Reason: AlgorithmError: CUDA out of memory" in message
    assert _item(ddb, "my-job-abc123") is None


def test_smtj_stopped(infra) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-abc123")
    out = smtj_handler.handler(_event("smtj_stopped.json"), None)
    assert out["status"] == "Stopped"
    assert _sent(topic)[0][2] == "[SMTJ] Job Stopped: my-job-abc123"


def test_smtj_ignores_unregistered_and_non_terminal(infra) -> None:
    ddb, topic = infra
    assert smtj_handler.handler(_event("smtj_completed.json"), None)["action"] == "ignored"
    _register(ddb, "my-job-abc123")
    assert smtj_handler.handler(_event("smtj_inprogress.json"), None)["action"] == "ignored"
    assert _sent(topic) == []
    kept = _item(ddb, "my-job-abc123")  # a non-terminal event keeps the registration for the final one
    assert kept is not None and kept["emails"]["SS"] == ["user@example.com"]


# ---- SMHP ------------------------------------------------------------------------------------
@pytest.fixture
def kubectl(infra, monkeypatch):
    """Recorded kubectl answers: {("pytorchjob"|"pod", name): event file or None for NotFound}."""
    answers: dict[tuple[str, str], str | None] = {}
    calls: list[list[str]] = []

    def fake(args: list[str]) -> tuple[int, str, str]:
        calls.append(args)
        kind, name = args[1], args[2]
        recorded = answers.get((kind, name))
        if recorded is None:
            return 1, "", f'Error from server (NotFound): {kind}s.kubeflow.org "{name}" not found'
        return 0, (EVENTS / recorded).read_text(), ""

    monkeypatch.setattr(smhp_handler, "run_kubectl", fake)
    monkeypatch.setenv("CLUSTER_NAME", "my-hp-cluster")
    monkeypatch.setenv("EKS_CLUSTER_NAME", "my-eks")
    answers["calls"] = calls  # type: ignore[assignment]
    return answers


def test_smhp_completed_with_manifest(infra, kubectl) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-hp1", namespace="kubeflow")
    boto3.client("s3").put_object(Bucket="my-bucket", Key="output/my-job-hp1/manifest.json", Body=b"{}")
    kubectl[("pytorchjob", "my-job-hp1")] = "pytorchjob_succeeded.json"
    out = smhp_handler.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert out["results"] == [
        {
            "job_id": "my-job-hp1",
            "action": "notified",
            "status": "Completed",
            "manifest_ok": True,
            "subject": "[SMHP] Job Completed: my-job-hp1",
        }
    ]
    ((_, message, _, _, _),) = _sent(topic)
    assert "Cluster: my-hp-cluster" in message and "Namespace: kubeflow" in message
    assert "Output validation: PASSED" in message
    assert kubectl["calls"][0] == ["get", "pytorchjob", "my-job-hp1", "-n", "kubeflow", "-o", "json"]
    assert _item(ddb, "my-job-hp1") is None


def test_smhp_completed_manifest_missing(infra, kubectl) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-hp1", namespace="kubeflow")
    kubectl[("pytorchjob", "my-job-hp1")] = "pytorchjob_succeeded.json"
    out = smhp_handler.handler({}, None)["results"][0]
    assert out["manifest_ok"] is False
    ((_, message, subject, _, _),) = _sent(topic)
    assert subject == "[SMHP] Job Completed (output validation failed): my-job-hp1"
    assert "manifest.json is missing: s3://my-bucket/output/my-job-hp1/manifest.json" in message


def test_smhp_failed(infra, kubectl) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-hp1", namespace="team-a")
    kubectl[("pytorchjob", "my-job-hp1")] = "pytorchjob_failed.json"
    out = smhp_handler.handler({}, None)["results"][0]
    assert out["status"] == "Failed"
    ((_, message, subject, _, _),) = _sent(topic)
    assert subject == "[SMHP] Job Failed: my-job-hp1"
    assert "1 Master replica(s) failed" in message and "Namespace: team-a" in message
    assert kubectl["calls"][0][4] == "team-a"


@pytest.mark.parametrize("recorded", ["pytorchjob_suspended.json", None], ids=["suspended", "deleted"])
def test_smhp_stopped(infra, kubectl, recorded) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-hp1", namespace="kubeflow")
    kubectl[("pytorchjob", "my-job-hp1")] = recorded
    out = smhp_handler.handler({}, None)["results"][0]
    assert out["status"] == "Stopped"
    assert _sent(topic)[0][2] == "[SMHP] Job Stopped: my-job-hp1"
    assert _item(ddb, "my-job-hp1") is None


def test_smhp_running_healthy_then_degraded_once(infra, kubectl) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-hp1", namespace="kubeflow")
    kubectl[("pytorchjob", "my-job-hp1")] = "pytorchjob_running.json"
    kubectl[("pod", "my-job-hp1-master-0")] = "pod_healthy.json"
    assert smhp_handler.handler({}, None)["results"][0]["action"] == "waiting"
    assert _sent(topic) == []
    kubectl[("pod", "my-job-hp1-master-0")] = "pod_crashloop.json"
    assert smhp_handler.handler({}, None)["results"][0]["status"] == "Degraded"
    assert smhp_handler.handler({}, None)["results"][0]["action"] == "waiting"  # not emailed twice
    assert [n[2] for n in _sent(topic)] == ["[SMHP] Job Degraded: my-job-hp1"]
    assert "CrashLoopBackOff" in _sent(topic)[0][1]
    assert _item(ddb, "my-job-hp1")["degraded_notified"] == {"BOOL": True}


def test_smhp_one_bad_job_does_not_block_others(infra, kubectl, monkeypatch) -> None:
    ddb, topic = infra
    _register(ddb, "a-job", namespace="kubeflow")
    _register(ddb, "b-job", namespace="kubeflow")
    kubectl[("pytorchjob", "b-job")] = "pytorchjob_failed.json"
    real = smhp_handler.run_kubectl

    def flaky(args):
        if args[2] == "a-job":
            raise OSError("kubectl crashed")
        return real(args)

    monkeypatch.setattr(smhp_handler, "run_kubectl", flaky)
    results = {r["job_id"]: r["action"] for r in smhp_handler.handler({}, None)["results"]}
    assert results == {"a-job": "error", "b-job": "notified"}
    assert [n[2] for n in _sent(topic)] == ["[SMHP] Job Failed: b-job"]
    assert _item(ddb, "a-job") is not None  # retried at the next scheduled run


def test_eks_token_format(aws) -> None:
    import base64

    token = smhp_handler._eks_token("my-eks")
    assert token.startswith("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(token[len("k8s-aws-v1.") :] + "==").decode()
    assert "Action=GetCallerIdentity" in url and "x-k8s-aws-id" in url.lower()


# ---- packaging -------------------------------------------------------------------------------
@pytest.mark.parametrize("platform", ["SMTJ", "SMHP"])
def test_zip_is_deterministic_and_self_contained(platform, tmp_path) -> None:
    data = build_zip(platform)
    assert data == build_zip(platform)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["_common.py", "index.py"]
        zf.extractall(tmp_path)
    # Isolated interpreter (-I, no site-packages): the handler imports with the stdlib alone,
    # as top-level modules, exactly as Lambda loads it.
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import index; assert callable(index.handler); print('ok')"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout.strip() == "ok", proc.stderr


def test_evaluation_jobs_skip_the_manifest_check(infra) -> None:
    ddb, topic = infra
    _register(ddb, "my-job-abc123")
    ddb.update_item(
        TableName=TABLE,
        Key={"job_id": {"S": "my-job-abc123"}},
        UpdateExpression="SET validate_output = :f",
        ExpressionAttributeValues={":f": {"BOOL": False}},
    )
    out = smtj_handler.handler(_event("smtj_completed.json"), None)
    assert out["manifest_ok"] is None
    ((_, message, subject, _, _),) = _sent(topic)
    assert subject == "[SMTJ] Job Completed: my-job-abc123" and "Output validation" not in message
