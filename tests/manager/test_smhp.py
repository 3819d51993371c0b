"""SMHPRuntimeManager: the job seam (replaced by a fake), scale_cluster, get_instance_groups, capacity."""

from __future__ import annotations

from typing import Any

import aws_support as A
import pytest
import yaml
from botocore.exceptions import ClientError

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import AWSServiceError
from amzn_nova_forge.manager import JobConfig, SMHPRuntimeManager, _hyperpod_k8s as K

CLUSTER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:cluster/abc123"


class FakeLauncher:
    """Stands in for the Kubernetes API: records jobs, answers status."""

    def __init__(self) -> None:
        self.started: list[K.HyperPodJobSpec] = []
        self.cancelled: list[str] = []
        self.raw = "Running"

    def start(self, spec: K.HyperPodJobSpec) -> str:
        self.started.append(spec)
        return spec.job_name

    def cancel(self, *, cluster_name: str, namespace: str, job_name: str, region: str | None) -> None:
        self.cancelled.append(f"{cluster_name}/{namespace}/{job_name}")

    def status(self, *, cluster_name: str, namespace: str, job_name: str, region: str | None) -> dict[str, Any]:
        return {"raw": self.raw, "message": None, "started_at": "2026-01-01T00:00:00Z", "ended_at": None}


@pytest.fixture
def launcher() -> Any:
    fake = FakeLauncher()
    previous = K.set_launcher(fake)
    yield fake
    K.set_launcher(previous)


def describe_cluster(groups: list[dict[str, Any]], status: str = "InService") -> list[dict[str, Any]]:
    # moto's DescribeCluster drops RestrictedInstanceGroups (and moto has no UpdateCluster): answer it.
    return A.stub_one(
        "sagemaker",
        "DescribeCluster",
        lambda p: {
            "ClusterArn": CLUSTER_ARN,
            "ClusterName": p["ClusterName"],
            "ClusterStatus": status,
            "CreationTime": "2026-01-01T00:00:00Z",
            "InstanceGroups": [],
            "RestrictedInstanceGroups": groups,
        },
    )


RIG = {
    "InstanceGroupName": "worker-group",
    "InstanceType": "ml.p4d.24xlarge",
    "CurrentCount": 4,
    "TargetCount": 4,
    "ExecutionRole": "arn:aws:iam::123456789012:role/HyperPodRole",
    "ThreadsPerCore": 1,
    "EnvironmentConfig": {
        "FSxLustreConfig": {"SizeInGiB": 1200, "PerUnitStorageThroughput": 250},
        "S3OutputPath": "s3://escrow/out",
    },
}


def _manager() -> SMHPRuntimeManager:
    # api-spec example
    return SMHPRuntimeManager(
        instance_type="ml.p4d.24xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="default"
    )


def test_execute_hands_recipe_and_image_to_the_seam(launcher: FakeLauncher, tmp_path: Any) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"run": {"name": "Job", "replicas": 4}}))
    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="kubeflow"
    )
    job_id = infra.execute(
        JobConfig(
            job_name="My-Job-0123abcd",
            image_uri="img:tag",
            recipe_path=str(recipe),
            output_s3_path="s3://my-bucket/output/",
            method=TrainingMethod.SFT_LORA,
            model=Model.NOVA_LITE_2,
        )
    )
    assert job_id == "my-job-0123abcd"  # Kubernetes names are lowercase
    (spec,) = launcher.started
    assert (spec.cluster_name, spec.namespace, spec.image_uri) == ("my-hyperpod-cluster", "kubeflow", "img:tag")
    assert (spec.instance_type, spec.instance_count) == ("ml.p5.48xlarge", 4)
    assert yaml.safe_load(spec.recipe_yaml) == {"run": {"name": "Job", "replicas": 4}}
    ref = infra.job_ref(job_id)
    assert dict(ref.extras) == {
        "cluster_name": "my-hyperpod-cluster",
        "namespace": "kubeflow",
        "output_s3_path": "s3://my-bucket/output/",
    }
    for raw, expected in (
        ("Running", JobStatus.IN_PROGRESS),
        ("Created", JobStatus.IN_PROGRESS),
        ("Succeeded", JobStatus.COMPLETED),
        ("Failed", JobStatus.FAILED),
        ("Restarting", JobStatus.IN_PROGRESS),
        ("Suspicious", JobStatus.UNKNOWN),
    ):
        launcher.raw = raw
        assert SMHPRuntimeManager.job_info(ref).status is expected
    infra.cleanup(job_id)
    assert launcher.cancelled == ["my-hyperpod-cluster/kubeflow/my-job-0123abcd"]


def test_manifests_carry_recipe_image_and_instances() -> None:
    spec = K.HyperPodJobSpec(
        job_name="j-1",
        cluster_name="c",
        namespace="ns",
        region="us-east-1",
        image_uri="img:tag",
        recipe_yaml="run: {}\n",
        instance_type="ml.p5.48xlarge",
        instance_count=4,
    )
    cm, job = K.render_manifests(spec)["items"]
    assert cm["kind"] == "ConfigMap" and cm["data"]["config.yaml"] == "run: {}\n"
    assert job["kind"] == "PyTorchJob" and job["metadata"] == {**job["metadata"], "name": "j-1", "namespace": "ns"}
    replicas = job["spec"]["pytorchReplicaSpecs"]
    assert replicas["Master"]["replicas"] + replicas["Worker"]["replicas"] == 4
    pod = replicas["Worker"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "img:tag"
    assert pod["nodeSelector"] == {"node.kubernetes.io/instance-type": "ml.p5.48xlarge"}


def test_scale_cluster_sends_update_cluster_and_returns_the_spec_dict(aws: Any) -> None:
    describe_cluster([RIG])
    updates = A.stub_one("sagemaker", "UpdateCluster", lambda p: {"ClusterArn": CLUSTER_ARN})
    manager = _manager()
    # Scale up the worker group from 4 to 8 instances
    result = manager.scale_cluster(instance_group_name="worker-group", target_instance_count=8)
    assert result == {
        "ClusterArn": CLUSTER_ARN,
        "InstanceGroupName": "worker-group",
        "InstanceType": "ml.p4d.24xlarge",
        "PreviousCount": 4,
        "TargetCount": 8,
    }
    (req,) = updates
    assert req == {
        "ClusterName": "my-hyperpod-cluster",
        "RestrictedInstanceGroups": [
            {
                "InstanceGroupName": "worker-group",
                "InstanceType": "ml.p4d.24xlarge",
                "InstanceCount": 8,
                "ExecutionRole": "arn:aws:iam::123456789012:role/HyperPodRole",
                "ThreadsPerCore": 1,
                "EnvironmentConfig": {"FSxLustreConfig": {"SizeInGiB": 1200, "PerUnitStorageThroughput": 250}},
            }
        ],
    }
    # Scale down to 2 instances
    result = manager.scale_cluster(instance_group_name="worker-group", target_instance_count=2)
    assert result["TargetCount"] == 2 and updates[-1]["RestrictedInstanceGroups"][0]["InstanceCount"] == 2


def test_scale_cluster_errors(aws: Any) -> None:
    describe_cluster([RIG])
    manager = _manager()
    with pytest.raises(ValueError, match="non-negative"):
        manager.scale_cluster(instance_group_name="worker-group", target_instance_count=-1)
    with pytest.raises(ValueError, match="no restricted instance group 'gpu'.*worker-group"):
        manager.scale_cluster(instance_group_name="gpu", target_instance_count=2)
    A.stub_one(
        "sagemaker",
        "UpdateCluster",
        lambda p: {
            "Error": {"Code": "ResourceLimitExceeded", "Message": "quota"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
    )
    with pytest.raises(ClientError) as e:
        manager.scale_cluster(instance_group_name="worker-group", target_instance_count=64)
    assert isinstance(e.value, AWSServiceError) and e.value.code == "ResourceLimitExceeded"
    assert "for cluster usage" in str(e.value)


def test_scale_needs_in_service_cluster(aws: Any) -> None:
    describe_cluster([RIG], status="Updating")
    with pytest.raises(ValueError, match="Updating"):
        _manager().scale_cluster(instance_group_name="worker-group", target_instance_count=8)


def test_get_instance_groups_prints_and_returns(aws: Any, capsys: Any) -> None:
    describe_cluster([RIG, {**RIG, "InstanceGroupName": "small", "InstanceType": "ml.g5.12xlarge", "CurrentCount": 1}])
    manager = _manager()
    # Get the instance groups available on the current cluster.
    instance_groups = manager.get_instance_groups()
    assert instance_groups == [
        {"InstanceGroupName": "worker-group", "InstanceType": "ml.p4d.24xlarge", "CurrentCount": 4},
        {"InstanceGroupName": "small", "InstanceType": "ml.g5.12xlarge", "CurrentCount": 1},
    ]
    assert "worker-group: ml.p4d.24xlarge x 4" in capsys.readouterr().out


def test_capacity_check(aws: Any) -> None:
    describe_cluster([RIG])
    assert _manager().check_capacity() == []
    big = SMHPRuntimeManager(
        instance_type="ml.p4d.24xlarge", instance_count=8, cluster_name="my-hyperpod-cluster", namespace="default"
    )
    (problem,) = big.check_capacity()
    assert "8 x ml.p4d.24xlarge" in problem and "worker-group=ml.p4d.24xlarge" in problem


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="namespace"):
        SMHPRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="c1", namespace="Bad_NS")
    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="default"
    )
    assert (infra.instance_type, infra.instance_count, infra.platform) == ("ml.p5.48xlarge", 4, Platform.SMHP)


FAKE_KUBECTL = """#!/bin/sh
# records its arguments and stdin; answers 'get' like the training operator would
echo "$@" >> "$(dirname "$0")/calls.txt"
cp "$2" "$(dirname "$0")/kubeconfig.json"
case "$*" in
  *" apply "*) cat > "$(dirname "$0")/applied.json" ;;
  *" get pytorchjob "*) echo '{"status": {"conditions": [{"type": "Created"}, {"type": "Succeeded", "message": "done"}], "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T01:00:00Z"}}' ;;
esac
"""


def test_default_seam_drives_kubectl_with_an_eks_token(aws: Any, tmp_path: Any) -> None:
    import json
    import stat

    import boto3

    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    eks = boto3.client("eks", region_name="us-east-1")
    eks.create_cluster(
        name="hp-eks", roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={"subnetIds": ["subnet-1"]}
    )
    # moto's DescribeCluster drops the EKS orchestrator of a HyperPod cluster: answer that one call.
    A.stub_one(
        "sagemaker",
        "DescribeCluster",
        lambda p: {
            "ClusterArn": CLUSTER_ARN,
            "ClusterName": p["ClusterName"],
            "ClusterStatus": "InService",
            "CreationTime": "2026-01-01T00:00:00Z",
            "InstanceGroups": [],
            "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/hp-eks"}},
        },
    )
    previous = K.set_launcher(K.KubernetesLauncher(kubectl=str(kubectl)))
    try:
        spec = K.HyperPodJobSpec(
            job_name="j-1",
            cluster_name="my-hyperpod-cluster",
            namespace="kubeflow",
            region="us-east-1",
            image_uri="img:tag",
            recipe_yaml="run: {}\n",
            instance_type="ml.p5.48xlarge",
            instance_count=2,
        )
        assert K.get_launcher().start(spec) == "j-1"
        applied = json.loads((tmp_path / "applied.json").read_text())
        kubeconfig = json.loads((tmp_path / "kubeconfig.json").read_text())
        endpoint = eks.describe_cluster(name="hp-eks")["cluster"]["endpoint"]
        assert kubeconfig["clusters"][0]["cluster"]["server"] == endpoint
        assert kubeconfig["users"][0]["user"]["token"].startswith("k8s-aws-v1.")
        assert [i["kind"] for i in applied["items"]] == ["ConfigMap", "PyTorchJob"]
        ref = SMHPRuntimeManager(
            instance_type="ml.p5.48xlarge", instance_count=2, cluster_name="my-hyperpod-cluster", namespace="kubeflow"
        ).job_ref("j-1")
        info = SMHPRuntimeManager.job_info(ref)
        assert (info.status, info.raw_status, info.message) == (JobStatus.COMPLETED, "Succeeded", "done")
        assert info.ended_at is not None and info.ended_at.hour == 1
        K.get_launcher().cancel(
            cluster_name="my-hyperpod-cluster", namespace="kubeflow", job_name="j-1", region="us-east-1"
        )
    finally:
        K.set_launcher(previous)
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert all(c.startswith("--kubeconfig ") for c in calls)
    assert [c.split()[2:4] for c in calls] == [
        ["apply", "-f"],
        ["get", "pytorchjob"],
        ["delete", "pytorchjob"],
        ["delete", "configmap"],
    ]
