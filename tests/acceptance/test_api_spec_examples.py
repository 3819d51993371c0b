"""api-spec.txt examples that no area test ran verbatim, executed from their exact text against moto.

The snippets live in ``_snippets.py`` (copied verbatim from the spec). Around a snippet there is
only setup: moto resources for the placeholders (account 123456789012, buckets, roles), a
namespace holding what earlier cells of the same section defined (``customizer``, ``result``), and,
where the spec writes ``(...)`` for "your arguments", :func:`conftest.fill` (documented in
docs/spec-coverage.md). moto lacks ``iam:SimulatePrincipalPolicy``: answered by an event hook.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import _snippets as S
import boto3
import pytest
from acceptance_support import CHECKPOINT, A, fill, redirect_absolute_dir, star

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod


def _customizer(ns: dict[str, Any], **kwargs: Any) -> Any:
    """The api-spec constructor example's SMTJ customizer (section "NovaModelCustomizer")."""
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    infra = ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=2)
    args = {
        "model": Model.NOVA_MICRO,
        "method": TrainingMethod.SFT_LORA,
        "infra": infra,
        "data_s3_path": "s3://my-bucket/training-data/",
        "output_s3_path": "s3://my-bucket/output/",
        **kwargs,
    }
    return ns["NovaModelCustomizer"](**args)


@pytest.fixture
def absolute_placeholder_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The spec dumps to ``/customized/path``: mapped to a temporary folder (nothing made at ``/``)."""
    target = tmp_path / "customized" / "path"
    existed = Path("/customized").exists()
    redirect_absolute_dir("/customized/path", target, monkeypatch)
    yield target
    assert existed or not Path("/customized").exists(), "the snippet wrote outside the temporary folder"


def test_runtime_manager_constructor_examples(aws: Any) -> None:
    boto3.client("iam").create_role(RoleName="BedrockRole", AssumeRolePolicyDocument=json.dumps(A.TRUST))
    ns: dict[str, Any] = {}
    exec(S.SPEC_SMTJ_MANAGER, ns)
    assert (ns["infra"].platform, ns["infra"].instance_type, ns["infra"].instance_count) == (
        Platform.SMTJ,
        "ml.p5.48xlarge",
        2,
    )
    exec(S.SPEC_SMHP_MANAGER, ns)
    smhp = ns["infra"]
    assert (smhp.platform, smhp.cluster_name, smhp.namespace, smhp.instance_count) == (
        Platform.SMHP,
        "my-hyperpod-cluster",
        "default",
        4,
    )
    exec(S.SPEC_BEDROCK_MANAGER, ns)
    bedrock = ns["infra"]
    assert bedrock.platform is Platform.BEDROCK
    assert bedrock.execution_role == "arn:aws:iam::123456789012:role/BedrockRole"
    assert bedrock.base_model_identifier.endswith("amazon.nova-2-lite-v1:0:256k:abcdefghijk")
    exec(S.SPEC_SERVERLESS_MANAGER, ns)
    assert ns["infra"].platform is Platform.SMTJServerless
    assert ns["infra"].model_package_group_name == "model-group"


def test_job_result_status_dump_and_load_examples(
    notebook: dict[str, Any], absolute_placeholder_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from amzn_nova_forge.model.result import SMTJTrainingResult

    ns = star()
    ns["customizer"] = _customizer(ns)
    ns["result"] = result = ns["customizer"].train(job_name="my-job")
    capsys.readouterr()

    exec(S.SPEC_GET_JOB_STATUS, ns)  # moto completes training jobs at once
    assert ns["status"] is JobStatus.COMPLETED and ns["raw_status"] == "Completed"
    assert capsys.readouterr().out == "Job finished!\n"

    exec(S.SPEC_DUMP, ns)
    local = notebook["work"] / f"{result.job_id}_SMTJ.json"
    custom = absolute_placeholder_dirs / "customized_name.json"
    assert json.loads(local.read_text())["job_id"] == json.loads(custom.read_text())["job_id"] == result.job_id

    shutil.copy(local, notebook["work"] / "my_job_result.json")  # the load example's file name
    exec(S.SPEC_LOAD, ns)
    loaded = ns["job_result"]
    assert isinstance(loaded, SMTJTrainingResult) and loaded.job_id == result.job_id
    assert loaded.get_job_status() == (JobStatus.COMPLETED, "Completed")
    assert loaded.model_artifacts.checkpoint_s3_path == CHECKPOINT.format(job=result.job_id)


def test_monitor_from_job_result_get_and_show_logs(
    notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ns = star()
    ns["customizer"] = _customizer(ns)
    exec(S.SPEC_FROM_JOB_RESULT, ns)
    assert ns["monitor"].job_id == ns["result"].job_id
    exec(S.SPEC_GET_LOGS, ns)
    assert len(ns["logs"]) == 20 and "reduced_train_loss=2.500" in ns["logs"][0]["message"]
    capsys.readouterr()
    exec(S.SPEC_SHOW_LOGS, ns)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 20 and "global_step=0.000" in out[0] and "global_step=19.000" in out[-1]


def test_evaluation_and_batch_get_examples(notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    ns = star()
    ns["customizer"] = _customizer(ns)
    A.put("s3://my-bucket/inference-input/part-0.jsonl", '{"query": "What is 2+2?", "response": "4"}\n')
    # The spec writes "(...)" for the call's arguments: those of the evaluate() / batch_inference() examples.
    exec(
        fill(
            S.SPEC_EVAL_GET,
            {
                "customizer.evaluate(...)": (
                    'customizer.evaluate(job_name="my-eval-job", eval_task=EvaluationTask.MMLU, '
                    'model_path="s3://my-bucket/checkpoints/my-model/")'
                )
            },
        ),
        ns,
    )
    assert ns["results"]["results"]["mmlu|0"]["accuracy"] == 0.71
    assert "0.71" in capsys.readouterr().out
    exec(
        fill(
            S.SPEC_BATCH_GET,
            {
                "customizer.batch_inference(...)": (
                    'customizer.batch_inference(job_name="batch-inference-job", input_path="s3://my-bucket/inference-input/", '
                    'output_s3_path="s3://my-bucket/inference-output/", model_path="s3://my-bucket/trained-model/")'
                )
            },
        ),
        ns,
    )
    saved = [json.loads(line) for line in A.get("s3://my-bucket/formatted-results.jsonl").decode().splitlines()]
    assert [r["gold_response"] for r in saved] == ["Paris", "4"]
    assert saved[0]["inference_response"] == "Paris"
    assert ns["results"]


def test_model_from_model_type_example() -> None:
    ns = star()
    exec(S.SPEC_FROM_MODEL_TYPE, ns)
    assert ns["model"] is Model.NOVA_MICRO


def test_error_handling_example(notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    ns = star()
    ns["customizer"] = _customizer(ns)
    exec(S.SPEC_ERROR_HANDLING, ns)
    assert capsys.readouterr().out == "" and ns["result"].job_id.startswith("my-job")
    # a bad configuration is a ValueError: the example's first branch names it
    ns = star()
    ns["customizer"] = _customizer(ns, data_s3_path="s3://my-bucket/no-such-data/")
    exec(S.SPEC_ERROR_HANDLING, ns)
    out = capsys.readouterr().out
    assert out.startswith("Configuration error: ") and "no-such-data" in out
    assert "result" not in ns


def test_job_notifications_example(notebook: dict[str, Any]) -> None:
    """ "Using Job Notifications", verbatim (its import name ``amzn_nova_forge_sdk`` is an alias)."""
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    ns: dict[str, Any] = {}
    exec(S.SPEC_NOTIFICATIONS, ns)
    result = ns["result"]
    region = result.region  # the job's region wins: job events are regional
    assert region == "us-east-1"
    cfn = boto3.client("cloudformation", region_name=region)
    stack = cfn.describe_stacks(StackName="NovaForgeSDK-SMTJ-JobNotifications")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    item = boto3.client("dynamodb", region_name=region).get_item(
        TableName="NovaForgeSDK-SMTJ-JobNotifications", Key={"job_id": {"S": result.job_id}}
    )["Item"]
    assert item["output_s3_path"]["S"] == "s3://my-bucket/custom-output-path/"
    assert sorted(item["emails"]["SS"]) == ["team@example.com", "user@example.com"]


def test_evaluate_example_then_show_and_tensorboard(
    notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """evaluate() verbatim except the BYOM Lambda ARN's ``<region>`` placeholder, which the SDK refuses
    as written (it is not an ARN; the error says which key and what an ARN looks like)."""
    from amzn_nova_forge.errors import RecipeOverrideError

    ns = star()
    ns["customizer"] = _customizer(ns)
    A.put("s3://bucket/data", '{"query": "What is 2+2?", "response": "4"}\n')
    with pytest.raises(RecipeOverrideError, match=r"processor.lambda_arn .*<region>.* is not a Lambda function ARN"):
        exec(S.SPEC_EVALUATE, dict(ns))
    notebook["creates"].clear()
    capsys.readouterr()
    exec(fill(S.SPEC_EVALUATE, {"arn:aws:lambda:<region>:": "arn:aws:lambda:us-east-1:"}), ns)
    eval_result, byom = ns["eval_result"], ns["byom_eval_result"]
    assert f"Evaluation job started: {eval_result.job_id}" in capsys.readouterr().out
    mmlu_req, byom_req = notebook["creates"]
    assert mmlu_req["TrainingJobName"] == eval_result.job_id and byom_req["TrainingJobName"] == byom.job_id
    assert byom_req["HyperParameters"]["eval_lambda_arn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:byom-lambda"
    )
    exec(S.SPEC_EVAL_SHOW, ns)
    assert "0.7100" in capsys.readouterr().out
    exec(S.SPEC_UPLOAD_TENSORBOARD, ns)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="my-bucket", Prefix="tensorboard/")["Contents"]]
    assert keys == ["tensorboard/eval/events.out.tfevents.1768480800.algo-1"]


def test_scale_cluster_and_instance_groups_examples(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # moto's DescribeCluster drops RestrictedInstanceGroups and moto has no UpdateCluster: both answered.
    arn = "arn:aws:sagemaker:us-east-1:123456789012:cluster/abc123"
    rig = {
        "InstanceGroupName": "worker-group",
        "InstanceType": "ml.p4d.24xlarge",
        "CurrentCount": 4,
        "TargetCount": 4,
        "ExecutionRole": "arn:aws:iam::123456789012:role/HyperPodRole",
        "ThreadsPerCore": 1,
        "EnvironmentConfig": {"FSxLustreConfig": {"SizeInGiB": 1200, "PerUnitStorageThroughput": 250}},
    }
    A.stub_one(
        "sagemaker",
        "DescribeCluster",
        lambda p: {
            "ClusterArn": arn,
            "ClusterName": p["ClusterName"],
            "ClusterStatus": "InService",
            "CreationTime": "2026-01-01T00:00:00Z",
            "InstanceGroups": [],
            "RestrictedInstanceGroups": [rig],
        },
    )
    updates = A.stub_one("sagemaker", "UpdateCluster", lambda p: {"ClusterArn": arn})
    ns: dict[str, Any] = {}
    exec(S.SPEC_SCALE_CLUSTER, ns)
    assert [u["RestrictedInstanceGroups"][0]["InstanceCount"] for u in updates] == [8, 2]
    assert ns["result"] == {
        "ClusterArn": arn,
        "InstanceGroupName": "worker-group",
        "InstanceType": "ml.p4d.24xlarge",
        "PreviousCount": 4,
        "TargetCount": 2,
    }
    exec(S.SPEC_GET_INSTANCE_GROUPS, ns)
    assert ns["instance_groups"] == [
        {"InstanceGroupName": "worker-group", "InstanceType": "ml.p4d.24xlarge", "CurrentCount": 4}
    ]
    assert "worker-group" in capsys.readouterr().out


def test_mlflow_monitor_example(notebook: dict[str, Any]) -> None:
    ns = star()
    ns["runtime_manager"] = ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=4)
    exec(S.SPEC_MLFLOW_MONITOR, ns)
    customizer = ns["customizer"]
    assert customizer.mlflow_monitor is ns["monitor"]
    assert (ns["monitor"].experiment_name, ns["monitor"].run_name) == ("nova-customization", "sft-run-1")


def test_presigned_url_example(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # moto has no CreatePresignedMlflowAppUrl: that one call is answered (and its arguments recorded).
    calls = A.stub_one(
        "sagemaker",
        "CreatePresignedMlflowAppUrl",
        lambda p: {"AuthorizedUrl": f"https://app-xxx.mlflow.example/auth?ttl={p['ExpiresInSeconds']}"},
    )
    ns = star()
    exec(S.SPEC_PRESIGNED_URL, ns)
    assert capsys.readouterr().out == "Access MLflow UI at: https://app-xxx.mlflow.example/auth?ttl=300\n"
    assert ns["url"].endswith("ttl=60")
    assert [(c["ExpiresInSeconds"], c["SessionExpirationDurationInSeconds"]) for c in calls] == [
        (300, 43200),
        (60, 3600),
    ]


def test_job_config_has_the_spec_fields_and_defaults() -> None:
    """ "Runtime Managers": the JobConfig dataclass as the spec prints it (names, order, defaults)."""
    import dataclasses

    from amzn_nova_forge.manager import JobConfig

    spec_fields = [
        "job_name",
        "image_uri",
        "recipe_path",
        "output_s3_path",
        "data_s3_path",
        "input_s3_data_type",
        "mlflow_tracking_uri",
        "mlflow_experiment_name",
        "mlflow_run_name",
    ]
    fields = [f.name for f in dataclasses.fields(JobConfig)]
    assert fields[: len(spec_fields)] == spec_fields
    cfg = JobConfig("job", "image:latest", "/tmp/recipe.yaml")
    assert all(getattr(cfg, name) is None for name in spec_fields[3:])


@pytest.fixture
def rft_world(notebook: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """What the RFT multiturn example names, made to exist: HOME (custom envs), the ECS cluster
    ``my-cluster`` with subnets ``subnet-12345``/``subnet-67890`` and ``sg-12345``, the dataset, an
    InService HyperPod cluster for ``runtime`` and the HyperPod job seam (a recorder: no Kubernetes)."""
    import moto.ec2.models.security_groups as moto_sgs
    import moto.ec2.models.subnets as moto_subnets

    from amzn_nova_forge.manager import _hyperpod_k8s as K

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NOVA_FORGE_RFT_WORKSPACE", raising=False)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    for sid, cidr in (("subnet-12345", "10.2.1.0/24"), ("subnet-67890", "10.2.2.0/24")):
        with monkeypatch.context() as m:
            m.setattr(moto_subnets, "random_subnet_id", lambda sid=sid: sid)
            ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)
    with monkeypatch.context() as m:
        m.setattr(moto_sgs, "random_security_group_id", lambda: "sg-12345")
        ec2.create_security_group(GroupName="workers", Description="workers", VpcId=vpc)
    boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="my-cluster")
    A.put("s3://bucket/data.jsonl", A.RFT_JSONL)
    # moto's DescribeCluster has no RestrictedInstanceGroups: that one call is answered.
    A.stub_one(
        "sagemaker",
        "DescribeCluster",
        lambda p: {
            "ClusterArn": "arn:aws:sagemaker:us-east-1:123456789012:cluster/abc",
            "ClusterName": p["ClusterName"],
            "ClusterStatus": "InService",
            "CreationTime": "2026-01-01T00:00:00Z",
            "InstanceGroups": [],
            "RestrictedInstanceGroups": [
                {"InstanceGroupName": "rig", "InstanceType": "ml.p5.48xlarge", "CurrentCount": 4}
            ],
        },
    )

    class Recorder:
        def __init__(self) -> None:
            self.started: list[Any] = []

        def start(self, spec: Any) -> str:
            self.started.append(spec)
            return str(spec.job_name)

        def cancel(self, **_: Any) -> None:  # pragma: no cover - not used
            pass

        def status(self, **_: Any) -> dict[str, Any]:
            return {"raw": "Running", "message": None, "started_at": None, "ended_at": None}

    rec = Recorder()
    previous = K.set_launcher(rec)
    yield {"launcher": rec, "home": home}
    K.set_launcher(previous)


def test_rft_multiturn_example_in_one_cell(rft_world: dict[str, Any]) -> None:
    """The whole RFT multiturn example (both options, setup, start, train) as one exec.
    ``runtime`` (not defined by the example) is a HyperPod runtime: RFT multiturn runs on SMHP only."""
    import yaml

    ns = star()
    ns["runtime"] = ns["SMHPRuntimeManager"](
        instance_type="ml.p5.48xlarge", instance_count=2, cluster_name="my-hp-cluster", namespace="kubeflow"
    )
    try:
        exec(S.SPEC_RFT_MULTITURN, ns)
        rft_infra, result = ns["rft_infra"], ns["training_result"]
        assert rft_infra.platform == "ecs"
        assert len(boto3.client("ecs", region_name="us-east-1").list_tasks(cluster="my-cluster")["taskArns"]) == 1
        [spec] = rft_world["launcher"].started
        assert result.job_id == spec.job_name and spec.job_name.startswith("rft-training")
        run = yaml.safe_load(spec.recipe_yaml)["run"]
        overrides = rft_infra.get_recipe_overrides()
        assert run["rollout_request_arn"] == overrides["rollout_request_arn"]
        assert run["generate_response_sqs_url"] == overrides["generate_response_sqs_url"]
    finally:
        if "rft_infra" in ns:
            ns["rft_infra"].cleanup(delete_stack=True, cleanup_environment=True)
