"""EC2 and ECS platforms: environment workers on an instance (through SSM) or as Fargate tasks."""

from __future__ import annotations

import logging
import shlex
import time
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client
from amzn_nova_forge.core.enums import EnvType
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.rft_multiturn._constants import DEFAULT_ECS_IMAGE, WORKER_MODULE

__all__ = ["EC2Platform", "EC2RFTInfrastructure", "ECSPlatform", "ECSRFTInfrastructure", "instance_id_from"]

logger = logging.getLogger(__name__)

#: The only package a remote worker installs; the SDK itself comes from S3 (see ``_package``).
PIP_PACKAGES = "boto3"


def instance_id_from(arn_or_id: str) -> str:
    """``i-0abc`` or ``arn:aws:ec2:<region>:<acct>:instance/i-0abc`` -> ``i-0abc``."""
    iid = arn_or_id.rsplit("/", 1)[-1]
    if not iid.startswith("i-"):
        raise ConfigError(f"Not an EC2 instance id or ARN: {arn_or_id!r}.")
    return iid


def _bootstrap(python: str, pip: str, workdir: str, region: str, sdk_uri: str | None, env_uri: str | None) -> list[str]:
    """Shell steps: install boto3, fetch the SDK and the custom environment from S3."""
    from amzn_nova_forge.rft_multiturn._package import download_cmd

    q = shlex.quote
    steps = [f"{pip} install -q --upgrade {PIP_PACKAGES}"]
    if sdk_uri:
        steps += [
            f"mkdir -p {q(workdir)}/sdk",
            download_cmd(python, sdk_uri, f"{workdir}/sdk.tar.gz", region),
            f"tar xzf {q(workdir)}/sdk.tar.gz -C {q(workdir)}/sdk",
        ]
    if env_uri:
        env_dir = f"{workdir}/custom_env"
        steps += [
            f"mkdir -p {q(env_dir)}",
            download_cmd(python, env_uri, f"{env_dir}/env.tar.gz", region),
            f"tar xzf {q(env_dir)}/env.tar.gz -C {q(env_dir)}",
            f"if [ -f {q(env_dir)}/requirements.txt ]; then {pip} install -q -r {q(env_dir)}/requirements.txt; fi",
        ]
    return steps


class EC2RFTInfrastructure:
    """The EC2 platform of :class:`RFTMultiturnInfrastructure`: workers on one instance, driven with SSM.

    Usually made by ``RFTMultiturnInfrastructure(infrastructure_arn="i-...", ...)`` and reached
    as ``rft_infra.infra``. Workers run ``AWS-RunShellScript`` commands that fetch the worker
    code (the SDK or a starter kit) and the custom environment from S3.

    Example:
        >>> ec2 = EC2RFTInfrastructure("s-NovaForgeSDK", "us-east-1", "i-0123456789abcdef0", "venv", "s-1")  # doctest: +SKIP
        >>> ec2.instance_id  # doctest: +SKIP
        'i-0123456789abcdef0'
    """

    name = "ec2"

    def __init__(
        self,
        stack_name: str,
        region: str,
        infrastructure_arn: str,
        python_venv_name: str,
        session_id: str,
        remote_root: str = "/home/ec2-user/nova-rft",
    ) -> None:
        self.stack_name, self.region, self.session_id = stack_name, region, session_id
        self.instance_id = instance_id_from(infrastructure_arn)
        self.python_venv_name = python_venv_name
        self.dir = f"{remote_root}/{stack_name}"
        self.command_ids: list[str] = []

    @property
    def venv(self) -> str:
        return f"{self.dir}/{self.python_venv_name}"

    def prepare(self, custom_env_path: str | None = None) -> None:
        with aws_errors("ec2", hint=f"Check that instance {self.instance_id} exists in {self.region}."):
            res = client("ec2", self.region).describe_instances(InstanceIds=[self.instance_id])["Reservations"]
        state = res[0]["Instances"][0]["State"]["Name"] if res else "missing"
        if state != "running":
            raise ConfigError(f"EC2 instance {self.instance_id} is {state}; start it (it needs the SSM agent).")

    def _send(self, commands: list[str], comment: str) -> str:
        with aws_errors("ssm", hint="The instance needs the SSM agent and an instance profile allowing SSM."):
            cmd = client("ssm", self.region).send_command(
                InstanceIds=[self.instance_id],
                DocumentName="AWS-RunShellScript",
                Parameters={"commands": commands},
                Comment=comment[:100],
            )["Command"]
        self.command_ids.append(cmd["CommandId"])
        return str(cmd["CommandId"])

    def start_commands(
        self,
        env_type: EnvType,
        worker_args: list[str],
        num_workers: int,
        s3_uri: str | None,
        sdk_uri: str | None = None,
    ) -> list[str]:
        py, pip = f"{self.venv}/bin/python", f"{self.venv}/bin/pip"
        cmds = [
            "set -e",
            f"mkdir -p {self.dir}/logs {self.dir}/pids",
            f"[ -x {py} ] || python3 -m venv {self.venv}",
            *_bootstrap(py, pip, self.dir, self.region, sdk_uri, s3_uri),
        ]
        args = " ".join(shlex.quote(a) for a in worker_args)
        if s3_uri:
            args += f" --env-path {self.dir}/custom_env"
        env = f"PYTHONPATH={self.dir}/sdk PYTHONUNBUFFERED=1 AWS_DEFAULT_REGION={self.region}"
        for i in range(num_workers):
            wid = f"{self.session_id}-{env_type.value}-{i}"
            cmds.append(
                f"{env} nohup {py} -m {WORKER_MODULE} {args} --worker-id {wid} >> {self.dir}/logs/{env_type.value}.log "
                f"2>&1 & echo $! > {self.dir}/pids/{env_type.value}-{self.session_id}-{i}.pid"
            )
        return cmds

    def start(
        self,
        env_type: EnvType,
        worker_args: list[str],
        num_workers: int,
        s3_uri: str | None = None,
        sdk_uri: str | None = None,
    ) -> list[str]:
        return [
            self._send(
                self.start_commands(env_type, worker_args, num_workers, s3_uri, sdk_uri),
                f"nova-rft start {env_type.value}",
            )
        ]

    def kill(self, env_type: EnvType, *, kill_all_for_stack: bool = False, **_: Any) -> list[str]:
        pattern = f"{env_type.value}-*.pid" if kill_all_for_stack else f"{env_type.value}-{self.session_id}-*.pid"
        script = (
            f'for f in {self.dir}/pids/{pattern}; do [ -f "$f" ] || continue; '
            'kill -TERM $(cat "$f") 2>/dev/null || true; rm -f "$f"; done'
        )
        return [self._send([script], f"nova-rft stop {env_type.value}")]

    def logs(
        self, env_type: EnvType, limit: int = 100, start_from_head: bool = False, timeout: float = 60.0
    ) -> list[str]:
        verb = "head" if start_from_head else "tail"
        cid = self._send([f"{verb} -n {int(limit)} {self.dir}/logs/{env_type.value}.log || true"], "nova-rft logs")
        ssm = client("ssm", self.region)
        deadline = time.monotonic() + timeout
        while True:
            with aws_errors("ssm"):
                inv = ssm.get_command_invocation(CommandId=cid, InstanceId=self.instance_id)
            if inv["Status"] not in ("Pending", "InProgress", "Delayed") or time.monotonic() > deadline:
                return str(inv.get("StandardOutputContent", "")).splitlines()
            time.sleep(1.0)

    def cleanup(self, cleanup_environment: bool = False) -> None:
        for env_type in (EnvType.TRAIN, EnvType.EVAL):
            self.kill(env_type, kill_all_for_stack=True)
        if cleanup_environment:
            self._send([f"rm -rf {self.dir}"], "nova-rft cleanup")

    def get_state(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "python_venv_name": self.python_venv_name,
            "command_ids": self.command_ids,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.command_ids = list(state.get("command_ids") or [])


class ECSRFTInfrastructure:
    """The ECS platform of :class:`RFTMultiturnInfrastructure`: one Fargate task per worker.

    Usually made by ``RFTMultiturnInfrastructure(infrastructure_arn="arn:aws:ecs:...:cluster/...",
    vpc_config=..., ...)`` and reached as ``rft_infra.infra``.

    Example:
        >>> ecs = ECSRFTInfrastructure("s-NovaForgeSDK", "us-east-1",
        ...     "arn:aws:ecs:us-east-1:123456789012:cluster/c", "venv", "s-1",
        ...     vpc_config={"subnets": ["subnet-1"]}, cpu="2048", memory="4096")  # doctest: +SKIP
    """

    name = "ecs"

    def __init__(
        self,
        stack_name: str,
        region: str,
        cluster_arn: str,
        python_venv_name: str,
        session_id: str,
        *,
        vpc_config: dict[str, Any] | None,
        cpu: str | None,
        memory: str | None,
        image: str | None = None,
    ) -> None:
        self.stack_name, self.region, self.session_id = stack_name, region, session_id
        self.cluster_arn = cluster_arn
        self.python_venv_name = python_venv_name
        self.vpc_config = dict(vpc_config or {})
        self.cpu, self.memory = str(cpu or "2048"), str(memory or "4096")
        self.image = image or DEFAULT_ECS_IMAGE
        self.tasks: dict[str, list[str]] = {}
        self.task_definitions: list[str] = []

    def prepare(self, custom_env_path: str | None = None) -> None:
        if not self.vpc_config.get("subnets"):
            raise ConfigError("vpc_config={'subnets': [...], 'security_groups': [...]} is required for ECS workers.")
        with aws_errors("ecs"):
            clusters = client("ecs", self.region).describe_clusters(clusters=[self.cluster_arn])["clusters"]
        if not clusters or clusters[0].get("status") != "ACTIVE":
            raise ConfigError(f"ECS cluster {self.cluster_arn} does not exist or is not ACTIVE.")

    def family(self, env_type: EnvType) -> str:
        return f"{self.stack_name}-{env_type.value}"

    def _script(self, worker_args: list[str], s3_uri: str | None, sdk_uri: str | None) -> str:
        workdir = "/root/nova-rft"
        steps = [f"mkdir -p {workdir}", *_bootstrap("python", "pip", workdir, self.region, sdk_uri, s3_uri)]
        args = " ".join(shlex.quote(a) for a in worker_args) + (f" --env-path {workdir}/custom_env" if s3_uri else "")
        steps.append(
            f"PYTHONPATH={workdir}/sdk exec python -m {WORKER_MODULE} {args} --worker-id {self.session_id}-$HOSTNAME"
        )
        return " && ".join(steps)

    def start(
        self,
        env_type: EnvType,
        worker_args: list[str],
        num_workers: int,
        s3_uri: str | None = None,
        role_arn: str | None = None,
        log_group: str | None = None,
        sdk_uri: str | None = None,
    ) -> list[str]:
        ecs = client("ecs", self.region)
        with aws_errors("ecs", hint="Check the ECS cluster, the RFT role and vpc_config."):
            td = ecs.register_task_definition(
                family=self.family(env_type),
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu=self.cpu,
                memory=self.memory,
                executionRoleArn=role_arn,
                taskRoleArn=role_arn,
                containerDefinitions=[
                    {
                        "name": "worker",
                        "image": self.image,
                        "essential": True,
                        "cpu": int(self.cpu),
                        "memory": int(self.memory),
                        "command": ["sh", "-c", self._script(worker_args, s3_uri, sdk_uri)],
                        "environment": [{"name": "PYTHONUNBUFFERED", "value": "1"}],
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {
                                "awslogs-group": log_group or f"/nova-forge/rft/{self.stack_name}",
                                "awslogs-region": self.region,
                                "awslogs-stream-prefix": env_type.value,
                            },
                        },
                    }
                ],
                tags=[{"key": "CreatedBy", "value": "NovaForgeSDK"}, {"key": "session", "value": self.session_id}],
            )["taskDefinition"]["taskDefinitionArn"]
            self.task_definitions.append(td)
            arns: list[str] = []
            remaining = num_workers
            while remaining > 0:
                resp = ecs.run_task(
                    cluster=self.cluster_arn,
                    taskDefinition=td,
                    count=min(10, remaining),
                    launchType="FARGATE",
                    startedBy=f"nova-rft-{self.session_id}"[:36],
                    networkConfiguration={
                        "awsvpcConfiguration": {
                            "subnets": list(self.vpc_config["subnets"]),
                            "securityGroups": list(self.vpc_config.get("security_groups") or []),
                            "assignPublicIp": "ENABLED"
                            if self.vpc_config.get("assign_public_ip", True)
                            else "DISABLED",
                        }
                    },
                )
                if resp.get("failures"):
                    raise ConfigError(f"ECS could not start workers: {resp['failures']}")
                arns += [t["taskArn"] for t in resp["tasks"]]
                remaining -= 10
        self.tasks.setdefault(env_type.value, []).extend(arns)
        return arns

    def kill(
        self,
        env_type: EnvType,
        *,
        kill_all_for_stack: bool = False,
        task_id: str | None = None,
        deregister_task_def: bool = False,
        **_: Any,
    ) -> list[str]:
        ecs = client("ecs", self.region)
        with aws_errors("ecs"):
            if task_id:
                targets = [task_id]
            elif kill_all_for_stack:
                targets = ecs.list_tasks(cluster=self.cluster_arn, family=self.family(env_type))["taskArns"]
            else:
                targets = list(self.tasks.get(env_type.value, []))
            for arn in targets:
                ecs.stop_task(cluster=self.cluster_arn, task=arn, reason="Stopped by Nova Forge SDK")
            if deregister_task_def:
                self._deregister(env_type)
        self.tasks[env_type.value] = [a for a in self.tasks.get(env_type.value, []) if a not in targets]
        return list(targets)

    def _deregister(self, env_type: EnvType | None = None) -> None:
        ecs = client("ecs", self.region)
        families = [self.family(env_type)] if env_type else [self.family(EnvType.TRAIN), self.family(EnvType.EVAL)]
        for fam in families:
            for arn in ecs.list_task_definitions(familyPrefix=fam)["taskDefinitionArns"]:
                ecs.deregister_task_definition(taskDefinition=arn)

    def logs(
        self,
        env_type: EnvType,
        limit: int = 100,
        start_from_head: bool = False,
        log_stream_name: str | None = None,
        log_group: str | None = None,
    ) -> list[str]:
        logs = client("logs", self.region)
        group = log_group or f"/nova-forge/rft/{self.stack_name}"
        with aws_errors("logs"):
            if log_stream_name is None:
                tasks = self.tasks.get(env_type.value) or []
                if tasks:
                    log_stream_name = f"{env_type.value}/worker/{tasks[-1].rsplit('/', 1)[-1]}"
                else:
                    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{env_type.value}/")
                    if not streams.get("logStreams"):
                        return []
                    log_stream_name = max(streams["logStreams"], key=lambda s: s.get("lastEventTimestamp", 0))[
                        "logStreamName"
                    ]
            try:
                events = logs.get_log_events(
                    logGroupName=group, logStreamName=log_stream_name, limit=limit, startFromHead=start_from_head
                )["events"]
            except logs.exceptions.ResourceNotFoundException:
                return []
        return [e["message"] for e in events]

    def cleanup(self, cleanup_environment: bool = False) -> None:
        for env_type in (EnvType.TRAIN, EnvType.EVAL):
            self.kill(env_type)
        if cleanup_environment:
            with aws_errors("ecs"):
                self._deregister()

    def get_state(self) -> dict[str, Any]:
        return {
            "cluster_arn": self.cluster_arn,
            "python_venv_name": self.python_venv_name,
            "tasks": self.tasks,
            "task_definitions": self.task_definitions,
            "vpc_config": self.vpc_config,
            "cpu": self.cpu,
            "memory": self.memory,
            "image": self.image,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.tasks = {k: list(v) for k, v in (state.get("tasks") or {}).items()}
        self.task_definitions = list(state.get("task_definitions") or [])


#: Earlier names of the EC2 / ECS platform classes.
EC2Platform = EC2RFTInfrastructure
ECSPlatform = ECSRFTInfrastructure
