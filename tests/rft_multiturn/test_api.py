"""RFT multiturn API against in-process moto: role, stacks, custom environments, EC2 and ECS platforms."""

from __future__ import annotations

import io
import json
import tarfile
import time

import boto3
import pytest

from amzn_nova_forge.errors import ConfigError


# ---- create_rft_execution_role / list_rft_stacks --------------------------------------------------
def test_spec_create_rft_execution_role(aws) -> None:
    from amzn_nova_forge import create_rft_execution_role

    # Create role with default name
    role_arn = create_rft_execution_role(region="us-east-1")
    assert role_arn == "arn:aws:iam::123456789012:role/RFTExecutionRoleNovaSDK"
    # Create role with custom name
    role_arn = create_rft_execution_role(region="us-east-1", role_name="my-custom-rft-role")
    assert role_arn.endswith(":role/my-custom-rft-role")

    iam = boto3.client("iam")
    trust = iam.get_role(RoleName="RFTExecutionRoleNovaSDK")["Role"]["AssumeRolePolicyDocument"]
    principals = {st["Principal"]["Service"] for st in trust["Statement"]}
    assert principals == {"lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "sagemaker.amazonaws.com"}
    assert all(st["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}} for st in trust["Statement"])
    policy = iam.get_role_policy(RoleName="RFTExecutionRoleNovaSDK", PolicyName="NovaForgeSDK-RFTMultiturn")
    text = json.dumps(policy["PolicyDocument"])
    assert "arn:aws:sqs:us-east-1:123456789012:" in text and "{region}" not in text
    # Idempotent
    assert create_rft_execution_role(region="us-east-1") == "arn:aws:iam::123456789012:role/RFTExecutionRoleNovaSDK"


def test_custom_policy_path(aws, tmp_path) -> None:
    from amzn_nova_forge import create_rft_execution_role

    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:{region}:{account_id}:mine-*"}
                ],
            }
        )
    )
    create_rft_execution_role(region="us-west-2", role_name="r2", custom_policy_path=str(path))
    doc = boto3.client("iam").get_role_policy(RoleName="r2", PolicyName="NovaForgeSDK-RFTMultiturn")["PolicyDocument"]
    assert doc["Statement"][0]["Resource"] == "arn:aws:sqs:us-west-2:123456789012:mine-*"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        create_rft_execution_role(custom_policy_path=str(path))


def test_spec_list_rft_stacks(aws) -> None:
    from amzn_nova_forge import create_rft_execution_role, list_rft_stacks
    from amzn_nova_forge.rft_multiturn._stacks import deploy_stack

    deploy_stack("b-stack-NovaForgeSDK", "us-east-1", create_rft_execution_role())
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="someone-else", TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    )
    # List only Nova SDK stacks
    nova_stacks = list_rft_stacks(region="us-east-1")
    # List all CloudFormation stacks
    all_stacks = list_rft_stacks(region="us-east-1", all_stacks=True)
    assert nova_stacks == ["b-stack-NovaForgeSDK"]
    assert all_stacks == ["b-stack-NovaForgeSDK", "someone-else"]
    fn = boto3.client("lambda", region_name="us-east-1").get_function_configuration(
        FunctionName="b-stack-NovaForgeSDK-SageMaker-rollout"
    )
    assert fn["Runtime"] == "python3.12" and "SageMaker" in fn["FunctionName"]
    assert fn["Environment"]["Variables"]["ROLLOUT_QUEUE_URL"].endswith("b-stack-NovaForgeSDK-rollout-request")


# ---- CustomEnvironment --------------------------------------------------------------------
def test_spec_custom_environment(aws, home, capsys) -> None:
    from amzn_nova_forge import CustomEnvironment

    custom_env = CustomEnvironment(env_id="my-custom-env", output_dir="~/custom_envs/", env_type="single_turn").create(
        overwrite=True
    )

    custom_env.validate()
    custom_env.package_and_upload()
    print(f"Uploaded to: {custom_env.s3_uri}")

    uri = "s3://sagemaker-us-east-1-123456789012/nova-rft-custom-envs/my-custom-env/my-custom-env.tar.gz"
    assert capsys.readouterr().out.strip() == f"Uploaded to: {uri}"
    assert (home / "custom_envs/my-custom-env/my_custom_env.py").is_file()
    body = (
        boto3.client("s3")
        .get_object(
            Bucket="sagemaker-us-east-1-123456789012", Key="nova-rft-custom-envs/my-custom-env/my-custom-env.tar.gz"
        )["Body"]
        .read()
    )
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert sorted(tar.getnames()) == ["README.md", "my_custom_env.py", "requirements.txt", "samples.jsonl"]


def test_custom_environment_rules(home) -> None:
    from amzn_nova_forge import CustomEnvironment

    env = CustomEnvironment("guess-env", env_type="multi_turn").create()
    assert env.validate() is True
    with pytest.raises(ConfigError, match="overwrite=True"):
        CustomEnvironment("guess-env").create()
    (home / "custom_envs/guess-env/guess_env.py").write_text(
        "def load_environment(**kw):\n    class E:\n        def rollout(self, s, g):\n            return {'reward': 'high'}\n    return E()\n"
    )
    with pytest.raises(ConfigError, match="numeric 'reward'"):
        CustomEnvironment("guess-env", local_path=str(home / "custom_envs/guess-env")).validate()
    with pytest.raises(ConfigError, match="env_type"):
        CustomEnvironment("x", env_type="three_turn")
    with pytest.raises(ConfigError, match="env_id"):
        CustomEnvironment("1bad")


# ---- RFTMultiturnInfrastructure validation ----------------------------------------------------
def test_constructor_validation(home) -> None:
    from amzn_nova_forge import CustomEnvironment, RFTMultiturnInfrastructure, VFEnvId

    with pytest.raises(ConfigError, match="exactly one"):
        RFTMultiturnInfrastructure(stack_name="s", python_venv_name="v")
    with pytest.raises(ConfigError, match="exactly one"):
        RFTMultiturnInfrastructure(
            stack_name="s", python_venv_name="v", vf_env_id=VFEnvId.WORDLE, custom_env=CustomEnvironment("e")
        )
    with pytest.raises(ConfigError, match="stack_name"):
        RFTMultiturnInfrastructure(stack_name="1-bad", python_venv_name="v", vf_env_id="wordle")
    with pytest.raises(ConfigError, match="stack_name"):
        RFTMultiturnInfrastructure(stack_name="a" * 33, python_venv_name="v", vf_env_id="wordle")
    with pytest.raises(ConfigError, match="python_venv_name is required for the LOCAL"):
        RFTMultiturnInfrastructure(stack_name="s", vf_env_id="wordle")
    with pytest.raises(ConfigError, match="neither an EC2"):
        RFTMultiturnInfrastructure(stack_name="s", vf_env_id="wordle", infrastructure_arn="arn:aws:s3:::bucket")
    with pytest.raises(ConfigError, match="vpc_config"):
        RFTMultiturnInfrastructure(
            stack_name="s", vf_env_id="wordle", infrastructure_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c"
        )
    with pytest.raises(ConfigError, match="Unknown vf_env_id"):
        RFTMultiturnInfrastructure(stack_name="s", python_venv_name="v", vf_env_id="chess")
    with pytest.raises(ConfigError, match="local_path"):
        RFTMultiturnInfrastructure(stack_name="s", python_venv_name="v", custom_env=CustomEnvironment("e"))
    infra = RFTMultiturnInfrastructure(stack_name="s", python_venv_name="v", vf_env_id="terminalbench_env")
    assert (infra.platform, infra.stack_name, infra.env_id) == ("local", "s-NovaForgeSDK", "terminalbench_env")
    twin = RFTMultiturnInfrastructure(stack_name="s", python_venv_name="v", vf_env_id="terminalbench_env")
    assert twin.session_id != infra.session_id  # same second, still separate sessions


def test_recipe_overrides_need_a_stack(aws, home) -> None:
    from amzn_nova_forge import RFTMultiturnInfrastructure, VFEnvId

    infra = RFTMultiturnInfrastructure(stack_name="none", python_venv_name="v", vf_env_id=VFEnvId.WORDLE)
    with pytest.raises(ConfigError, match="setup"):
        infra.get_recipe_overrides()


# ---- ECS ------------------------------------------------------------------------------------------
@pytest.fixture
def ecs_network(aws, monkeypatch):
    """The spec example's ECS cluster, subnets and security group (moto gives them those ids)."""
    import moto.ec2.models.security_groups as moto_sgs
    import moto.ec2.models.subnets as moto_subnets

    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as Fargate needs (moto too)
    for sid, cidr in (("subnet-12345", "10.2.1.0/24"), ("subnet-67890", "10.2.2.0/24")):
        with monkeypatch.context() as m:
            m.setattr(moto_subnets, "random_subnet_id", lambda sid=sid: sid)
            ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)
    with monkeypatch.context() as m:
        m.setattr(moto_sgs, "random_security_group_id", lambda: "sg-12345")
        ec2.create_security_group(GroupName="workers", Description="workers", VpcId=vpc)
    boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="my-cluster")


def test_spec_ecs_example(ecs_network, home) -> None:
    from amzn_nova_forge import CustomEnvironment, EnvType, RFTMultiturnInfrastructure

    # Option 2: ECS with custom environment and VPC config (spec example, verbatim)
    custom_env = CustomEnvironment(env_id="my-custom-env", output_dir="~/custom_envs/", env_type="single_turn").create(
        overwrite=True
    )

    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack",
        custom_env=custom_env,
        infrastructure_arn="arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster",
        vpc_config={"subnets": ["subnet-12345", "subnet-67890"], "security_groups": ["sg-12345"]},
        cpu="4096",
        memory="8192",
    )

    # Deploy infrastructure
    rft_infra.setup()

    # Start training environment
    rft_infra.start_training_environment()

    assert rft_infra.platform == "ecs"
    assert (
        custom_env.s3_uri
        == "s3://sagemaker-us-east-1-123456789012/nova-rft-custom-envs/my-custom-env/my-custom-env.tar.gz"
    )
    ecs = boto3.client("ecs", region_name="us-east-1")
    tasks = ecs.list_tasks(cluster="my-cluster")["taskArns"]
    assert len(tasks) == 1
    td = ecs.describe_task_definition(taskDefinition="my-rft-stack-NovaForgeSDK-train")["taskDefinition"]
    assert (td["cpu"], td["memory"], td["networkMode"]) == ("4096", "8192", "awsvpc")
    assert td["taskRoleArn"].endswith(":role/RFTExecutionRoleNovaSDK")
    script = td["containerDefinitions"][0]["command"][2]
    assert "amzn_nova_forge.rft_multiturn._worker" in script and custom_env.s3_uri in script
    assert "--env-id my-custom-env" in script and "--env-path /root/nova-rft/custom_env" in script
    assert "nova-rft-sdk/" in script and "PYTHONPATH=/root/nova-rft/sdk exec python -m" in script
    assert "pip install" in script and "amzn-nova-forge" not in script  # our code ships via S3, not PyPI
    overrides = rft_infra.get_recipe_overrides()
    assert overrides["rollout_request_arn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:my-rft-stack-NovaForgeSDK-SageMaker-rollout"
    )
    assert overrides["rollout_request_queue_url"] in script
    assert set(overrides) == {
        "rollout_request_arn",
        "rollout_response_sqs_url",
        "rollout_request_queue_url",
        "generate_request_sqs_url",
        "generate_response_sqs_url",
    }

    # Logs come from CloudWatch (the awslogs stream of the task).
    logs = boto3.client("logs", region_name="us-east-1")
    stream = f"train/worker/{tasks[0].rsplit('/', 1)[-1]}"
    logs.create_log_stream(logGroupName="/nova-forge/rft/my-rft-stack-NovaForgeSDK", logStreamName=stream)
    logs.put_log_events(
        logGroupName="/nova-forge/rft/my-rft-stack-NovaForgeSDK",
        logStreamName=stream,
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "worker ready"}],
    )
    assert rft_infra.get_logs(EnvType.TRAIN) == ["worker ready"]

    # A later session (after dump/load) stops the same tasks.
    again = RFTMultiturnInfrastructure.load(str(rft_infra.dump(file_path=str(home))))
    assert again.platform == "ecs" and again.custom_env.s3_uri == custom_env.s3_uri
    assert again.kill_task(EnvType.TRAIN) == tasks
    assert ecs.describe_tasks(cluster="my-cluster", tasks=tasks)["tasks"][0]["lastStatus"] == "STOPPED"
    rft_infra.cleanup(delete_stack=True, cleanup_environment=True)
    assert ecs.list_task_definitions(familyPrefix="my-rft-stack-NovaForgeSDK-train")["taskDefinitionArns"] == []
    from amzn_nova_forge import list_rft_stacks

    assert list_rft_stacks() == []


# ---- EC2 ------------------------------------------------------------------------------------------
def test_ec2_platform_through_ssm(aws, home) -> None:
    from amzn_nova_forge import EnvType, RFTMultiturnInfrastructure, VFEnvId

    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    infra = RFTMultiturnInfrastructure(
        stack_name="ec2-stack",
        python_venv_name="rft_venv",
        vf_env_id=VFEnvId.WORDLE,
        infrastructure_arn=f"arn:aws:ec2:us-east-1:123456789012:instance/{iid}",
    )
    assert infra.platform == "ec2"
    infra.setup()
    [command_id] = infra.start_training_environment({"max_turns": 4}, num_workers=2)
    ssm = boto3.client("ssm", region_name="us-east-1")
    cmd = ssm.list_commands(CommandId=command_id)["Commands"][0]
    assert cmd["DocumentName"] == "AWS-RunShellScript" and cmd["InstanceIds"] == [iid]
    lines = cmd["Parameters"]["commands"]
    starts = [c for c in lines if "-m amzn_nova_forge.rft_multiturn._worker" in c]
    assert len(starts) == 2 and all(
        "nohup /home/ec2-user/nova-rft/ec2-stack-NovaForgeSDK/rft_venv/bin/python" in c for c in starts
    )
    assert """--env-args '{"max_turns": 4}'""" in starts[0]
    assert all("PYTHONPATH=/home/ec2-user/nova-rft/ec2-stack-NovaForgeSDK/sdk" in c for c in starts)
    assert any("nova-rft-sdk/" in c and "download_file" in c for c in lines)
    [kill_id] = infra.kill_task(EnvType.TRAIN)
    kill = ssm.list_commands(CommandId=kill_id)["Commands"][0]["Parameters"]["commands"][0]
    assert f"pids/train-{infra.session_id}-*.pid" in kill and "kill -TERM" in kill
    assert infra.get_logs(EnvType.TRAIN, limit=10) == []  # moto runs no command: empty output
    infra.cleanup(delete_stack=True, cleanup_environment=True)
    assert any(
        "rm -rf /home/ec2-user/nova-rft/ec2-stack-NovaForgeSDK" in c["Parameters"]["commands"][0]
        for c in ssm.list_commands()["Commands"]
    )


# ---- shipping the worker code to remote workers -------------------------------------------------
def test_sdk_is_shipped_through_s3_and_importable_from_there(moto_server, tmp_path) -> None:
    import subprocess
    import sys

    from amzn_nova_forge.rft_multiturn._package import download_cmd, sdk_archive, upload_sdk

    assert sdk_archive() == sdk_archive()  # deterministic: same code, same S3 key
    uri = upload_sdk("us-east-1")
    assert uri.startswith("s3://sagemaker-us-east-1-123456789012/nova-rft-sdk/") and upload_sdk("us-east-1") == uri
    # What a remote worker runs: download with boto3, unpack, import from there.
    dest = tmp_path / "sdk.tar.gz"
    subprocess.run(download_cmd(sys.executable, uri, str(dest), "us-east-1"), shell=True, check=True, timeout=120)
    (tmp_path / "sdk").mkdir()
    with tarfile.open(dest) as tar:
        tar.extractall(tmp_path / "sdk", filter="data")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import amzn_nova_forge.rft_multiturn.envs.wordle as w; "
        "print(w.__file__); print(w.feedback('slate', 'crane'))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, str(tmp_path / "sdk")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(tmp_path / "sdk/amzn_nova_forge/rft_multiturn/envs/wordle.py"), "--G-G"]
