"""The official 1.4.10 examples of RFT multiturn and job notifications, run against moto.

Sources (official repository, HEAD): ``samples/rft_multiturn_quickstart.ipynb``,
``docs/user-guides/rft_multiturn.md``, ``docs/spec/rft-multiturn.md``,
``docs/user-guides/job_notifications.md`` and ``docs/spec/notifications.md``. Each block below
is the example's code (placeholders filled in); the assertions check what it did in moto.

Where moto lacks a call the test stubs it with botocore's ``Stubber`` (commented there). The
LOCAL workers are real processes: they reach moto through a ``ThreadedMotoServer`` on
127.0.0.1, like the SDK's own worker tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from amzn_nova_forge import *  # the examples' import line
from amzn_nova_forge import (
    CustomEnvironment,
    EnvType,
    EvaluationTask,
    RFTMultiturnInfrastructure,
    SMHPNotificationManager,
    SMTJNotificationManager,
    TrainingMethod,
    VFEnvId,
    create_rft_execution_role,
    list_rft_stacks,
)
from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge.errors import LocalCommandExecutionError
from amzn_nova_forge.rft_multiturn import QueueMessageCounts

ACCOUNT = "123456789012"
LAYER = "arn:aws:lambda:<region>:123456789012:layer:kubectl:1"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME (``~/custom_envs``, the RFT workspace) and working folder (state files)."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.delenv("NOVA_FORGE_RFT_WORKSPACE", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return h


# ---- samples/rft_multiturn_quickstart.ipynb (LOCAL platform, real worker processes) ---------------
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quickstart_notebook_local_flow(moto_server: str, home: Path, request: pytest.FixtureRequest) -> None:
    # Create a custom environment
    custom_env = CustomEnvironment(env_id="my-custom-env", output_dir="~/custom_envs/", env_type="single_turn").create(
        overwrite=True
    )
    # Validate and upload to S3
    custom_env.validate()
    custom_env.package_and_upload()
    assert custom_env.s3_uri == (
        f"s3://sagemaker-us-east-1-{ACCOUNT}/nova-rft-custom-envs/my-custom-env/my-custom-env.tar.gz"
    )
    # # Load an existing environment (the notebook's commented alternative; its parent folder works too)
    custom_env = CustomEnvironment(env_id="my-custom-env", local_path="~/custom_envs/", env_type="single_turn").load()
    assert custom_env.local_path == str(home / "custom_envs/my-custom-env")

    STACK_NAME = "sample-stack"  # "<sample-stack-name>"
    REGION = "us-east-1"
    VF_ENV_ID = "wordle"
    PYTHON_VENV_NAME = "my_rft_venv"

    role_arn = create_rft_execution_role(region=REGION)
    RFT_ROLE_NAME = role_arn.split("/")[-1]
    assert RFT_ROLE_NAME == "RFTExecutionRoleNovaSDK"
    stacks = list_rft_stacks(region=REGION)
    assert stacks == []

    # Option 1: LOCAL (for development/testing)
    rft_infra = RFTMultiturnInfrastructure(
        stack_name=STACK_NAME,
        region=REGION,
        python_venv_name=PYTHON_VENV_NAME,  # Required for LOCAL
        vf_env_id=VF_ENV_ID,
        infrastructure_arn=None,  # None = Local;
    )
    request.addfinalizer(lambda: rft_infra.cleanup())  # never leave workers behind
    assert rft_infra.platform == "local"
    # Deploy Lambda/SQS/DynamoDB infrastructure
    rft_infra.setup()
    assert list_rft_stacks(region=REGION) == ["sample-stack-NovaForgeSDK"]

    counts = rft_infra.check_all_queues()
    assert set(counts) == {"rollout_request", "rollout_response", "generate_request", "generate_response"}
    assert all(isinstance(c, QueueMessageCounts) and c.visible == 0 for c in counts.values())
    assert rft_infra.flush_all_queues() == dict.fromkeys(counts, 0)

    rft_infra.start_environment(vf_env_args={"use_think": False}, env_type=EnvType.EVAL)
    assert len(rft_infra.infra.running(EnvType.EVAL)) == 1
    logs = _wait_for_log(rft_infra, EnvType.EVAL, "ready: env=wordle type=eval")
    assert any("threads=40" in line for line in logs)  # the official default max_concurrent_rollouts

    # Save infrastructure state to file
    state_file = rft_infra.dump(file_name="rft-infra.json")
    assert state_file == Path("rft-infra.json") and state_file.is_file()
    # Load infrastructure state from file (e.g., after notebook restart)
    rft_infra = RFTMultiturnInfrastructure.load("rft-infra.json")
    print(f"Reconnected to session: {rft_infra.session_id}")
    assert rft_infra.infra.running(EnvType.EVAL)  # the same session's workers are found again

    # Run if you want to kill the process before running another process on same stack
    rft_infra.kill_task(env_type=EnvType.EVAL)
    assert rft_infra.infra.running(EnvType.EVAL) == []

    rft_infra.start_environment(vf_env_args={"use_think": False}, env_type=EnvType.TRAIN)
    _wait_for_log(rft_infra, EnvType.TRAIN, "ready: env=wordle type=train")
    infra_logs = rft_infra.get_logs(limit=20)
    assert infra_logs and len(infra_logs) <= 20

    # What trainer.train(..., rft_multiturn_infra=rft_infra) puts in the recipe
    overrides = rft_infra.get_recipe_overrides()
    recipe = yaml.safe_load(Path(rft_infra.get_recipe_path(TrainingMethod.RFT_MULTITURN_LORA)).read_text())
    assert recipe["run"]["reward_lambda_arn"] == overrides["rollout_request_arn"]
    assert overrides["rollout_request_arn"].endswith(":function:sample-stack-NovaForgeSDK-SageMaker-rollout")

    # Stop workers
    rft_infra.kill_task(env_type=EnvType.TRAIN)
    # Clean up processes only (keeps CloudFormation stack and environment)
    rft_infra.cleanup(delete_stack=False, cleanup_environment=False)
    assert list_rft_stacks(region=REGION) == ["sample-stack-NovaForgeSDK"]
    # Or delete everything including CloudFormation stack
    rft_infra.cleanup(delete_stack=True, cleanup_environment=True)
    assert list_rft_stacks(region=REGION) == []
    assert not (home / ".nova-forge/rft-workspace/sample-stack-NovaForgeSDK").exists()


def _wait_for_log(infra: RFTMultiturnInfrastructure, env_type: EnvType, text: str) -> list[str]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = infra.get_logs(env_type=env_type, limit=200)
        if any(text in line for line in lines):
            return lines
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} in the {env_type.value} worker log: {lines[-10:]}")


# ---- docs/user-guides/rft_multiturn.md ------------------------------------------------------------
def test_user_guide_platforms_and_starter_kits(aws: Any, home: Path) -> None:
    boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="my-cluster")
    # EC2 Platform
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack",
        region="us-east-1",
        infrastructure_arn="i-1234567890abcdef0",  # EC2 instance ID or full ARN
        python_venv_name="my_rft_venv",  # Required for EC2
        vf_env_id=VFEnvId.WORDLE,
    )
    assert rft_infra.platform == "ec2" and rft_infra.detect_platform() == "ec2"
    # ECS Platform
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack",
        region="us-east-1",
        infrastructure_arn="arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster",
        vf_env_id=VFEnvId.WORDLE,
        vpc_config={"subnets": ["subnet-12345", "subnet-67890"], "security_groups": ["sg-12345"]},
        cpu="4096",  # Optional, defaults to "2048"
        memory="8192",  # Optional, defaults to "4096"
    )
    assert (rft_infra.platform, rft_infra.infra.cpu, rft_infra.infra.memory) == ("ecs", "4096", "8192")

    # Custom Starter Kit Path. LOCAL: a local folder (ours: the worker code, an amzn_nova_forge package)
    kit = home / "my-custom-starter-kit"
    shutil.copytree(
        Path(__import__("amzn_nova_forge").__file__).parent,
        kit / "amzn_nova_forge",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack",
        region="us-east-1",
        python_venv_name="my_rft_venv",
        vf_env_id=VFEnvId.WORDLE,
        starter_kit_path="~/my-custom-starter-kit",  # Local path
    )
    assert rft_infra.starter_kit_path == str(kit)
    # ECS: Use S3 URI directly
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack",
        region="us-east-1",
        infrastructure_arn="arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster",
        vf_env_id=VFEnvId.WORDLE,
        vpc_config={"subnets": ["subnet-12345"], "security_groups": ["sg-12345"]},
        starter_kit_path="s3://my-bucket/custom-starter-kits/v1.tar.gz",  # S3 URI
    )
    rft_infra.setup(s3_bucket="my-bucket")
    assert rft_infra.sdk_s3_uri == "s3://my-bucket/custom-starter-kits/v1.tar.gz"
    policy = boto3.client("iam").get_role_policy(
        RoleName="RFTExecutionRoleNovaSDK", PolicyName="NovaForgeSDK-RFTMultiturn"
    )
    code = next(st for st in policy["PolicyDocument"]["Statement"] if st["Sid"] == "WorkerCode")
    assert "arn:aws:s3:::my-bucket/custom-starter-kits/*" in code["Resource"]
    assert not any(r in ("*", "arn:aws:s3:::*") for r in code["Resource"])

    # Custom IAM Role
    path = home / "custom-policy.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": []}))
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack",
        region="us-east-1",
        python_venv_name="my_rft_venv",
        vf_env_id=VFEnvId.WORDLE,
        rft_role_name="MyCustomRFTRole",  # Custom role name
        custom_policy_path=str(path),  # Custom policy JSON ("path/to/custom-policy.json")
    )
    assert (rft_infra.rft_role_name, rft_infra.custom_policy_path) == ("MyCustomRFTRole", str(path))


def test_user_guide_start_environment_and_custom_environments(aws: Any, home: Path) -> None:
    from amzn_nova_forge.rft_multiturn._stacks import deploy_stack

    deploy_stack("my-rft-stack-NovaForgeSDK", "us-east-1", create_rft_execution_role())
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack", region="us-east-1", python_venv_name="my_rft_venv", vf_env_id=VFEnvId.WORDLE
    )
    fake_worker(rft_infra, home / "argv")
    try:
        # Start training with custom parameters
        rft_infra.start_environment(
            env_type=EnvType.TRAIN,
            vf_env_args={"use_think": True, "max_turns": 10},
            max_concurrent_rollouts=60,
            max_rollout_timeout=600.0,
            log_output_directory="/opt/ml/output/logs",
        )
        flags = recorded_flags(home / "argv")
        assert (flags["--concurrency"], flags["--rollout-timeout"]) == ("60", "600.0")
        assert flags["--log-dir"] == "/opt/ml/output/logs" and json.loads(flags["--env-args"])["max_turns"] == 10
        # Old way (deprecated)
        (home / "argv").unlink()
        rft_infra.start_evaluation_environment(vf_env_args={"num_eval_examples": 200})
        assert recorded_flags(home / "argv")["--env-type"] == "eval"
    finally:
        rft_infra.cleanup()

    # VFEnvId.TERMINAL_BENCH on LOCAL workers: model-written commands run on this machine, so the
    # SDK asks for an explicit opt-in (a documented difference from the official SDK).
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack",
        region="us-east-1",
        python_venv_name="my_rft_venv",
        vf_env_id=VFEnvId.TERMINAL_BENCH,
    )
    with pytest.raises(LocalCommandExecutionError, match="allow_local_command_execution=True"):
        rft_infra.start_environment(env_type=EnvType.EVAL)

    # Scenario 1: Create a NEW environment / Scenario 2: Load an EXISTING environment
    custom_env = CustomEnvironment(env_id="my-custom-env", output_dir="~/my_environments").create(overwrite=True)
    assert custom_env.local_path == str(home / "my_environments/my-custom-env")
    custom_env = CustomEnvironment(env_id="my-custom-env", local_path="~/my_environments/my-custom-env").load()
    assert custom_env.validate() is True
    boto3.client("s3").create_bucket(Bucket="my-bucket")
    s3_uri = custom_env.package_and_upload(s3_bucket="my-bucket", s3_prefix="custom-environments")
    print(f"Uploaded to: {s3_uri}")
    assert s3_uri == "s3://my-bucket/custom-environments/my-custom-env/my-custom-env.tar.gz"

    # Helper functions
    role_arn = create_rft_execution_role(region="us-east-1", role_name="my-custom-rft-role")
    trust = boto3.client("iam").get_role(RoleName="my-custom-rft-role")["Role"]["AssumeRolePolicyDocument"]
    assert role_arn.endswith(":role/my-custom-rft-role")
    assert all(st["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT for st in trust["Statement"])
    assert list_rft_stacks(region="us-east-1", all_stacks=True) == ["my-rft-stack-NovaForgeSDK"]
    assert Path(rft_infra.get_recipe_path(EvaluationTask.RFT_MULTITURN_EVAL)).is_file()


def fake_worker(infra: RFTMultiturnInfrastructure, out: Path) -> None:
    """The LOCAL venv's python replaced by a script recording the worker's arguments (no real worker)."""
    py = infra.infra.python
    py.parent.mkdir(parents=True, exist_ok=True)
    py.write_text(f'#!/bin/bash\nprintf "%s\\0" "$@" > {out}.part && mv {out}.part {out}\nsleep 60 & wait\n')
    py.chmod(0o755)


def recorded_flags(out: Path) -> dict[str, str]:
    import time

    deadline = time.monotonic() + 20
    while not out.exists():
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.05)
    argv = out.read_text().split("\0")
    return {argv[i]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}


# ---- docs/user-guides/job_notifications.md and docs/spec/notifications.md -------------------------
@pytest.fixture
def smtj_result() -> Any:
    """What ``customizer.train(job_name="my-training-job")`` returns (the train call itself runs
    against moto in tests/notifications/test_train_flow.py)."""
    from amzn_nova_forge.model.result._training import ModelArtifacts, SMTJTrainingResult

    return SMTJTrainingResult(
        "my-training-job",
        "sft_lora",
        model_artifacts=ModelArtifacts(output_s3_path="s3://my-bucket/output"),
        model_type="NOVA_MICRO",
        region="us-east-1",
    )


def test_notifications_smtj_examples(aws: Any, smtj_result: Any) -> None:
    result = smtj_result
    # Enable notifications
    result.enable_job_notifications(emails=["user@example.com", "team@example.com"])
    # With KMS Encryption
    result.enable_job_notifications(
        emails=["user@example.com"],
        kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab",  # Just the key ID, not full ARN
    )
    # For SMTJ jobs (managers used directly)
    smtj_manager = SMTJNotificationManager(region="us-east-1")
    smtj_manager.enable_notifications(
        job_name="existing-training-job", emails=["user@example.com"], output_s3_path="s3://bucket/output"
    )
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for job, output in (("my-training-job", "s3://my-bucket/output"), ("existing-training-job", "s3://bucket/output")):
        item = ddb.get_item(TableName="NovaForgeSDK-SMTJ-JobNotifications", Key={"job_id": {"S": job}})["Item"]
        assert item["output_s3_path"]["S"] == output and item["platform"]["S"] == "SMTJ"
    topic = boto3.client("sns", region_name="us-east-1").list_topics()["Topics"][0]["TopicArn"]
    subs = boto3.client("sns", region_name="us-east-1").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["Endpoint"] for s in subs) == ["team@example.com", "user@example.com"]
    assert smtj_manager.get_stack_name() == "NovaForgeSDK-SMTJ-JobNotifications"
    assert smtj_manager.get_template_path().is_file() and smtj_manager.get_platform_name() == "SMTJ"

    # Deleting Notification Infrastructure
    smtj_manager = SMTJNotificationManager()
    smtj_manager.delete_notification_stack()
    assert smtj_manager.stack_status() is None


def test_notifications_smhp_examples(aws: Any) -> None:
    from botocore.stub import Stubber

    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="hp", Description="hp", VpcId=vpc)["GroupId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    role = boto3.client("iam").create_role(RoleName="eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("eks", region_name="us-east-1").create_cluster(
        name="hp-eks", roleArn=role, resourcesVpcConfig={"subnetIds": [subnet], "securityGroupIds": [sg]}
    )
    # moto's sagemaker:DescribeCluster has no HyperPod cluster here with an EKS orchestrator (its
    # response drops Orchestrator), so that one call is stubbed on the SDK's own client.
    sagemaker = aws_factory.client("sagemaker", "us-east-1")
    stub = Stubber(sagemaker)
    stub.add_response(
        "describe_cluster",
        {
            "ClusterArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:cluster/abc",
            "ClusterName": "my-cluster",
            "ClusterStatus": "InService",
            "InstanceGroups": [],
            "Orchestrator": {"Eks": {"ClusterArn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/hp-eks"}},
            "VpcConfig": {"SecurityGroupIds": [sg], "Subnets": [subnet]},
        },
        {"ClusterName": "my-cluster"},
    )
    with stub:
        # For SMHP jobs
        smhp_manager = SMHPNotificationManager(cluster_name="my-cluster", region="us-east-1")
        smhp_manager.enable_notifications(
            job_name="existing-pytorch-job",
            emails=["user@example.com"],
            output_s3_path="s3://bucket/output",
            namespace="kubeflow",
            kubectl_layer_arn=LAYER,
            route_table_ids=[table],  # NT4: the route tables of the gateway endpoints
            create_s3_endpoint=False,
        )
    stub.assert_no_pending_responses()
    stack = boto3.client("cloudformation", region_name="us-east-1").describe_stacks(
        StackName="NovaForgeSDK-SMHP-JobNotifications-my-cluster"
    )["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert (params["CreateS3Endpoint"], params["CreateDynamoDBEndpoint"]) == ("false", "true")
    assert table in params["RouteTableIds"] and params["VpcId"] == vpc
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="NovaForgeSDK-SMHP-JobNotifications-my-cluster", Key={"job_id": {"S": "existing-pytorch-job"}}
    )["Item"]
    assert item["namespace"]["S"] == "kubeflow"
    assert smhp_manager.get_platform_name() == "SMHP"

    # Custom Polling Interval (SMHP Only). The guide's block lacks a comma after kubectl_layer_arn
    # (a SyntaxError as printed); run with it added, on the existing stack.
    smhp_manager.enable_notifications(
        job_name="second-job",
        emails=["user@example.com"],
        output_s3_path="s3://bucket/output",
        namespace="kubeflow",
        kubectl_layer_arn=LAYER,
        polling_interval_minutes=10,  # Check every 10 minutes instead of default 5
    )
    assert smhp_manager.polling_interval_minutes == 10

    # Deleting Notification Infrastructure
    smhp_manager = SMHPNotificationManager(cluster_name="my-cluster", region="us-east-1")
    smhp_manager.delete_notification_stack()
    assert smhp_manager.stack_status() is None
