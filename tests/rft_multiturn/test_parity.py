"""Official 1.4.10 RFT multiturn signatures next to the earlier forms (rows F3-F9)."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import boto3
import pytest
import yaml

from amzn_nova_forge.core.enums import EnvType, EvaluationTask, TrainingMethod, VFEnvId
from amzn_nova_forge.errors import ConfigError, LocalCommandExecutionError
from amzn_nova_forge.rft_multiturn import (
    CustomEnvironment,
    EC2RFTInfrastructure,
    ECSRFTInfrastructure,
    LocalRFTInfrastructure,
    QueueMessageCounts,
    RFTMultiturnInfrastructure,
    StackOutputs,
)

OUTPUTS = StackOutputs(
    rollout_request_arn="arn:aws:lambda:us-east-1:123456789012:function:p-NovaForgeSDK-SageMaker-rollout",
    rollout_function_name="p-NovaForgeSDK-SageMaker-rollout",
    rollout_request_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/p-NovaForgeSDK-rollout-request",
    rollout_response_sqs_url="https://sqs.us-east-1.amazonaws.com/123456789012/p-NovaForgeSDK-rollout-response",
    generate_request_sqs_url="https://sqs.us-east-1.amazonaws.com/123456789012/p-NovaForgeSDK-generate-request",
    generate_response_sqs_url="https://sqs.us-east-1.amazonaws.com/123456789012/p-NovaForgeSDK-generate-response",
    dynamo_table_name="p-NovaForgeSDK-tasks",
    worker_log_group="/nova-forge/rft/p-NovaForgeSDK",
)


def _recording_venv(local: LocalRFTInfrastructure, out: Path) -> None:
    """A worker 'python' that records its arguments and environment, then idles until stopped."""
    py = local.python
    py.parent.mkdir(parents=True, exist_ok=True)
    body = f'printf "%s\\0" "$@" > {out}.tmp\necho "PYTHONPATH=$PYTHONPATH" > {out}.env\nmv {out}.tmp {out}\n'
    py.write_text("#!/bin/bash\n" + body + "sleep 60 & wait\n")
    py.chmod(py.stat().st_mode | stat.S_IXUSR)


def _started_args(out: Path) -> tuple[dict[str, str], str]:
    deadline = time.monotonic() + 20
    while not out.exists():
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.05)
    argv = out.read_text().split("\0")
    env_line = Path(f"{out}.env").read_text().strip()
    flags = {argv[i]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}
    return flags, env_line


def _infra(**kwargs: object) -> RFTMultiturnInfrastructure:
    infra = RFTMultiturnInfrastructure(stack_name="p", python_venv_name="venv", **kwargs)  # type: ignore[arg-type]
    infra.stack_outputs = OUTPUTS
    return infra


def test_start_environment_official_parameters_reach_the_worker(home: Path, tmp_path: Path) -> None:
    infra = _infra(vf_env_id=VFEnvId.WORDLE)
    _recording_venv(infra.infra, tmp_path / "argv")
    try:
        infra.start_environment(
            env_type=EnvType.TRAIN,
            vf_env_args={"use_think": True, "max_turns": 10},
            max_concurrent_rollouts=60,
            max_rollout_timeout=600.0,
            completion_poll_timeout=120.0,
            completion_poll_interval=0.25,
            rollout_poll_interval=5,
            log_output_directory=str(tmp_path / "logs"),
            queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/other-queue",
        )
        flags, _ = _started_args(tmp_path / "argv")
    finally:
        infra.kill_task(EnvType.TRAIN)
    assert json.loads(flags["--env-args"]) == {"use_think": True, "max_turns": 10}
    assert (flags["--concurrency"], flags["--rollout-timeout"], flags["--poll-wait"]) == ("60", "600.0", "5.0")
    assert (flags["--completion-timeout"], flags["--completion-interval"]) == ("120.0", "0.25")
    assert flags["--log-dir"] == str(tmp_path / "logs")
    assert flags["--rollout-queue"].endswith("/other-queue")
    assert flags["--env-type"] == "train" and flags["--platform"] == "local"


def test_config_file_replaces_arguments(home: Path, tmp_path: Path) -> None:
    configs = tmp_path / "my-configs"
    configs.mkdir()
    (configs / "fast.yaml").write_text("max_concurrent_rollouts: 8\nvf_env_args: {max_turns: 3}\nnum_workers: 2\n")
    infra = _infra(vf_env_id=VFEnvId.WORDLE)
    _recording_venv(infra.infra, tmp_path / "argv")
    try:
        pids = infra.start_environment(EnvType.EVAL, config_name="fast", config_path=str(configs))
        flags, _ = _started_args(tmp_path / "argv")
    finally:
        infra.kill_task(EnvType.EVAL)
    assert len(pids) == 2 and flags["--concurrency"] == "8" and json.loads(flags["--env-args"]) == {"max_turns": 3}
    (configs / "bad.yaml").write_text("max_concurrent_rollout: 8\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown key\(s\) max_concurrent_rollout"):
        infra.start_environment(EnvType.EVAL, config_name="bad", config_path=str(configs))
    with pytest.raises(ConfigError, match="not found"):
        infra.start_environment(EnvType.EVAL, config_name="missing", config_path=str(configs))
    with pytest.raises(ConfigError, match="config_path is only used with config_name"):
        infra.start_environment(EnvType.EVAL, config_path=str(configs))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_concurrent_rollouts": 0}, "max_concurrent_rollouts must be an integer from 1"),
        ({"rollout_poll_interval": 25}, "rollout_poll_interval must be a number from 0 to 20"),
        ({"completion_poll_timeout": 0}, "completion_poll_timeout must be a number"),
        ({"queue_url": "my-queue"}, "queue_url must be an SQS queue URL"),
        ({"num_workers": 0}, "num_workers must be an integer from 1"),
        ({"vf_env_args": ["x"]}, "vf_env_args must be a dict"),
    ],
)
def test_start_environment_rejects_bad_options(home: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _infra(vf_env_id=VFEnvId.WORDLE).start_environment(EnvType.TRAIN, **kwargs)


def test_command_executing_env_needs_local_opt_in(home: Path, tmp_path: Path) -> None:
    infra = _infra(vf_env_id=VFEnvId.TERMINAL_BENCH)
    with pytest.raises(LocalCommandExecutionError, match="allow_local_command_execution=True"):
        infra.start_environment(env_type=EnvType.EVAL)
    with pytest.raises(LocalCommandExecutionError):
        infra.start_evaluation_environment()
    assert not infra.infra.running(EnvType.EVAL)
    allowed = _infra(vf_env_id=VFEnvId.TERMINAL_BENCH, allow_local_command_execution=True)
    _recording_venv(allowed.infra, tmp_path / "argv")
    try:
        assert len(allowed.start_environment(env_type=EnvType.EVAL)) == 1
    finally:
        allowed.kill_task(EnvType.EVAL)
    # Wordle runs no commands: no opt-in needed.
    assert _infra(vf_env_id=VFEnvId.WORDLE)._check_local_commands() is None


def test_starter_kit_path(home: Path, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    (kit / "amzn_nova_forge/rft_multiturn").mkdir(parents=True)
    (kit / "amzn_nova_forge/rft_multiturn/_worker.py").write_text("# patched worker\n")
    infra = _infra(vf_env_id=VFEnvId.WORDLE, starter_kit_path=str(kit))
    _recording_venv(infra.infra, tmp_path / "argv")
    try:
        infra.start_environment(env_type=EnvType.TRAIN)
        _, env_line = _started_args(tmp_path / "argv")
    finally:
        infra.kill_task(EnvType.TRAIN)
    assert env_line.startswith(f"PYTHONPATH={kit}")
    with pytest.raises(ConfigError, match=r"has no amzn_nova_forge/rft_multiturn/_worker.py"):
        _infra(vf_env_id=VFEnvId.WORDLE, starter_kit_path=str(tmp_path))
    with pytest.raises(ConfigError, match="LOCAL workers need a local starter_kit_path"):
        _infra(vf_env_id=VFEnvId.WORDLE, starter_kit_path="s3://bucket/kits/v1.tar.gz")
    with pytest.raises(ConfigError, match=r"s3://<bucket>/<key>.tar.gz"):
        _infra(vf_env_id=VFEnvId.WORDLE, starter_kit_path="s3://bucket/kits/")
    with pytest.raises(ConfigError, match="pass vpc_config= by keyword"):
        RFTMultiturnInfrastructure("p", "us-east-1", "wordle", None, None, "venv", {"subnets": ["s"]})  # type: ignore[arg-type]


def test_starter_kit_s3_uri_is_used_by_remote_workers(aws, home: Path) -> None:
    boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="kit")
    infra = RFTMultiturnInfrastructure(
        stack_name="kit",
        vf_env_id=VFEnvId.WORDLE,
        infrastructure_arn="arn:aws:ecs:us-east-1:123456789012:cluster/kit",
        vpc_config={"subnets": ["subnet-1"]},
        starter_kit_path="s3://my-kits/v1/amzn_nova_forge.tar.gz",
    )
    assert infra._upload_worker_code() == "s3://my-kits/v1/amzn_nova_forge.tar.gz"
    from amzn_nova_forge.rft_multiturn._role_infra import role_locations

    assert "s3://my-kits/v1" in role_locations(infra)


def test_detect_platform_session_id_and_platform_classes(home: Path) -> None:
    infra = _infra(vf_env_id="wordle")
    assert infra.detect_platform() == "local" and infra.platform == "local"
    assert infra.detect_platform("i-1234567890abcdef0") == "ec2"
    assert infra.detect_platform("arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0") == "ec2"
    assert infra.detect_platform("arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster") == "ecs"
    with pytest.raises(ConfigError, match="neither an EC2 instance"):
        infra.detect_platform("arn:aws:s3:::bucket")
    assert isinstance(infra.infra, LocalRFTInfrastructure)
    assert infra.session_id.startswith("p-") and infra.infra.session_id == infra.session_id
    with pytest.raises(AttributeError):
        infra.session_id = "other"  # type: ignore[misc]
    assert EC2RFTInfrastructure.name == "ec2" and ECSRFTInfrastructure.name == "ecs"


def test_dump_include_session_id_and_load_auto_reconnect(home: Path, tmp_path: Path, monkeypatch) -> None:
    infra = _infra(vf_env_id=VFEnvId.WORDLE, allow_local_command_execution=True)
    with_id = infra.dump(file_path=str(tmp_path))
    without = infra.dump(file_path=str(tmp_path), include_session_id=False)
    assert with_id.name == f"rft_state_p-NovaForgeSDK_{infra.session_id}.json"
    assert without.name == "rft_state_p-NovaForgeSDK.json"
    restored: list[dict] = []
    monkeypatch.setattr(LocalRFTInfrastructure, "restore", lambda self, state: restored.append(state))
    again = RFTMultiturnInfrastructure.load(str(without), auto_reconnect=False)
    assert restored == [] and again.session_id == infra.session_id and again.stack_outputs == OUTPUTS
    assert again.allow_local_command_execution is True
    RFTMultiturnInfrastructure.load(str(without))
    assert restored and restored[0]["python_venv_name"] == "venv"
    (tmp_path / "broken.json").write_text(json.dumps({"stack_name": "p"}))
    with pytest.raises(ConfigError, match="missing region, env_id, session_id"):
        RFTMultiturnInfrastructure.load(str(tmp_path / "broken.json"))


def test_get_recipe_path(home: Path) -> None:
    infra = _infra(vf_env_id=VFEnvId.WORDLE)
    path = Path(infra.get_recipe_path(TrainingMethod.RFT_MULTITURN_LORA))
    recipe = yaml.safe_load(path.read_text())
    assert path.name == "nova_lite_2_0_p5_gpu_lora_rft_multiturn.yaml"
    assert recipe["run"]["reward_lambda_arn"] == OUTPUTS.rollout_request_arn
    assert recipe["run"]["generate_request_sqs_url"] == OUTPUTS.generate_request_sqs_url
    assert Path(infra.get_recipe_path(TrainingMethod.RFT_MULTITURN_FULL)).name.endswith("_rft_multiturn.yaml")
    assert yaml.safe_load(Path(infra.get_recipe_path(EvaluationTask.RFT_MULTITURN_EVAL)).read_text())
    with pytest.raises(ConfigError, match="No RFT multiturn recipe for"):
        infra.get_recipe_path(TrainingMethod.SFT_LORA)


def test_queue_message_counts() -> None:
    c = QueueMessageCounts(visible="5", in_flight=3.0, last_receive_timestamp=1700000000)  # type: ignore[arg-type]
    assert (c.visible, c.in_flight, c.last_receive_timestamp, c.delayed) == (5, 3, 1700000000, 0)
    assert c["visible"] == 5 and dict(c) == c.to_dict() and not c.empty
    with pytest.raises(KeyError):
        c["nope"]
    with pytest.raises(ValueError, match="visible must be an integer"):
        QueueMessageCounts(visible="many", in_flight=0, last_receive_timestamp=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        QueueMessageCounts(visible=1, in_flight=0)  # type: ignore[call-arg]


def test_custom_environment_load_validate_and_upload(aws, home: Path) -> None:
    CustomEnvironment(env_id="my-custom-env", output_dir="~/my_environments").create()
    # local_path may be the environment's folder or the folder holding it.
    for given in ("~/my_environments/my-custom-env", "~/my_environments"):
        env = CustomEnvironment(env_id="my-custom-env", local_path=given).load()
        assert env.local_path == str(home / "my_environments/my-custom-env")
    assert env.validate() is True
    boto3.client("s3").create_bucket(Bucket="my-bucket")
    uri = env.package_and_upload(s3_bucket="my-bucket", s3_prefix="custom-environments")
    assert uri == "s3://my-bucket/custom-environments/my-custom-env/my-custom-env.tar.gz" == env.s3_uri
    assert env.package_and_upload(bucket="my-bucket").startswith("s3://my-bucket/nova-rft-custom-envs/")
    with pytest.raises(ConfigError, match="bucket name only"):
        env.package_and_upload(s3_bucket="s3://my-bucket/x")
    with pytest.raises(ConfigError, match=r"No environment 'other-env'"):
        CustomEnvironment(env_id="other-env", local_path="~/my_environments").load()
    with pytest.raises(ConfigError, match="needs local_path"):
        CustomEnvironment(env_id="x").load()


def test_worker_records_metrics_and_accepts_float_intervals(tmp_path: Path) -> None:
    from amzn_nova_forge.rft_multiturn._worker import Worker, parse_args

    base = ["--region", "us-east-1", "--env-id", "wordle"]
    base += [f"--{q}" for q in ("rollout-queue", "finished-queue", "generate-request", "generate-response")]
    argv = [base[0], base[1], base[2], base[3]]
    for flag in base[4:]:
        argv += [flag, "https://sqs.us-east-1.amazonaws.com/1/q"]
    args = parse_args([*argv, "--poll-wait", "0.5", "--log-dir", str(tmp_path), "--worker-id", "w1"])
    assert args.poll_wait == 0.5 and args.completion_interval == 0.5 and args.completion_timeout == 600.0
    with pytest.raises(SystemExit):
        parse_args([*argv, "--poll-wait", "25"])
    worker = Worker(args)
    worker._record_metrics({"rollout_id": "r1", "status": "ok", "reward": 0.5, "duration_s": 1.0, "metrics": {}})
    line = json.loads((tmp_path / "w1.metrics.jsonl").read_text())
    assert line["rollout_id"] == "r1" and line["reward"] == 0.5
