"""``RFTMultiturnInfrastructure``: the stack, queues and environment workers of RFT multiturn training.

The training job (HyperPod, Nova 2) invokes the stack's rollout Lambda, which queues
rollouts; workers (LOCAL processes, an EC2 instance or ECS tasks) run the environment and
talk to the policy through the generate queues. :meth:`get_recipe_overrides` gives the
training recipe the ARNs and URLs it needs.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.core.enums import EnvType, VFEnvId
from amzn_nova_forge.errors import AWSServiceError, ConfigError
from amzn_nova_forge.rft_multiturn import _stacks
from amzn_nova_forge.rft_multiturn._constants import (
    QUEUE_OUTPUTS,
    RFT_EXECUTION_ROLE_NAME,
    STACK_NAME_RE,
    UNUSABLE_STACK_STATES,
    full_stack_name,
)
from amzn_nova_forge.rft_multiturn._custom_env import CustomEnvironment

__all__ = ["RFTMultiturnInfrastructure", "detect_platform"]

logger = logging.getLogger(__name__)


def detect_platform(infrastructure_arn: str | None) -> str:
    """``None`` -> local, ``i-…``/EC2 ARN -> ec2, ECS cluster ARN -> ecs."""
    if infrastructure_arn is None:
        return "local"
    if infrastructure_arn.startswith("i-") or (":ec2:" in infrastructure_arn and ":instance/" in infrastructure_arn):
        return "ec2"
    if ":ecs:" in infrastructure_arn and ":cluster/" in infrastructure_arn:
        return "ecs"
    raise ConfigError(
        f"infrastructure_arn {infrastructure_arn!r} is neither an EC2 instance (i-… or arn:aws:ec2:…:instance/i-…) "
        "nor an ECS cluster ARN (arn:aws:ecs:…:cluster/…); pass None to run workers locally."
    )


class RFTMultiturnInfrastructure:
    """Infrastructure for RFT multiturn training and evaluation (reward-environment workers).

    Args:
        stack_name: Your name for the stack (a letter first, ≤ 32 characters); the deployed
            stack is ``<stack_name>-NovaForgeSDK``.
        region: AWS region.
        vf_env_id: Built-in environment (``VFEnvId.WORDLE``, ``VFEnvId.TERMINAL_BENCH``).
        custom_env: A :class:`CustomEnvironment` (exclusive with ``vf_env_id``).
        infrastructure_arn: None (workers on this machine), an EC2 instance id/ARN, or an ECS cluster ARN.
        python_venv_name: Virtual environment name (required for LOCAL and EC2).
        vpc_config: ECS only: ``{"subnets": [...], "security_groups": [...]}``.
        cpu: ECS task CPU units (e.g. ``"2048"``).
        memory: ECS task memory in MB (e.g. ``"4096"``).
        rft_role_name: IAM role (default ``RFTExecutionRoleNovaSDK``; created when missing).
        custom_policy_path: Policy JSON used if the role has to be created.
        container_image: ECS only: worker image (default ``python:3.12-slim``; the SDK is pip-installed).

    Example:
        >>> rft_infra = RFTMultiturnInfrastructure(
        ...     stack_name="my-rft-stack", region="us-east-1",
        ...     python_venv_name="my_rft_venv", vf_env_id=VFEnvId.WORDLE)  # doctest: +SKIP
        >>> rft_infra.setup()  # doctest: +SKIP
        >>> rft_infra.start_training_environment()  # doctest: +SKIP
    """

    def __init__(
        self,
        stack_name: str,
        region: str = "us-east-1",
        vf_env_id: VFEnvId | str | None = None,
        custom_env: CustomEnvironment | None = None,
        infrastructure_arn: str | None = None,
        python_venv_name: str | None = None,
        vpc_config: dict[str, Any] | None = None,
        cpu: str | None = None,
        memory: str | None = None,
        rft_role_name: str | None = None,
        *,
        custom_policy_path: str | None = None,
        container_image: str | None = None,
    ) -> None:
        if not isinstance(stack_name, str) or not STACK_NAME_RE.match(stack_name.removesuffix("-NovaForgeSDK")):
            raise ConfigError(
                f"stack_name must start with a letter and have at most 32 letters, digits or '-': {stack_name!r}."
            )
        if (vf_env_id is None) == (custom_env is None):
            raise ConfigError("Pass exactly one of vf_env_id (a built-in VFEnvId) or custom_env (a CustomEnvironment).")
        if vf_env_id is not None:
            try:
                self.env_id = VFEnvId(vf_env_id).value
            except ValueError as e:
                raise ConfigError(f"Unknown vf_env_id {vf_env_id!r}; use one of {[v.value for v in VFEnvId]}.") from e
        else:
            assert custom_env is not None
            self.env_id = custom_env.env_id
        self.custom_env = custom_env
        self.region = resolve_region(region)
        self.infrastructure_arn = infrastructure_arn
        self.platform = detect_platform(infrastructure_arn)
        if self.platform in ("local", "ec2") and not python_venv_name:
            raise ConfigError(f"python_venv_name is required for the {self.platform.upper()} platform.")
        if custom_env is not None and self.platform == "local" and not custom_env.local_path:
            raise ConfigError("custom_env has no local_path: call create() or pass local_path for LOCAL workers.")
        if self.platform == "ecs" and not (vpc_config or {}).get("subnets"):
            raise ConfigError("vpc_config={'subnets': [...], 'security_groups': [...]} is required for ECS.")
        self.python_venv_name = python_venv_name or "rft_nova_venv"
        self.stack_name = full_stack_name(stack_name)
        self.rft_role_name = rft_role_name or RFT_EXECUTION_ROLE_NAME
        self.custom_policy_path = custom_policy_path
        # Unique per instance (two sessions started in the same second must not share workers).
        self.session_id = f"{stack_name}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.stack_outputs: _stacks.StackOutputs | None = None
        self.role_arn: str | None = None
        self.sdk_s3_uri: str | None = None
        self.infra = self._make_platform(vpc_config, cpu, memory, container_image)

    def _make_platform(self, vpc_config: Any, cpu: Any, memory: Any, image: Any) -> Any:
        if self.platform == "local":
            from amzn_nova_forge.rft_multiturn._local import LocalPlatform

            return LocalPlatform(self.stack_name, self.python_venv_name, self.session_id)
        from amzn_nova_forge.rft_multiturn._remote import EC2Platform, ECSPlatform

        assert self.infrastructure_arn is not None
        if self.platform == "ec2":
            return EC2Platform(
                self.stack_name, self.region, self.infrastructure_arn, self.python_venv_name, self.session_id
            )
        return ECSPlatform(
            self.stack_name,
            self.region,
            self.infrastructure_arn,
            self.python_venv_name,
            self.session_id,
            vpc_config=vpc_config,
            cpu=cpu,
            memory=memory,
            image=image,
        )

    # ---- setup ------------------------------------------------------------------------------
    def _ensure_role(self) -> str:
        """The RFT role's ARN, creating the role when it does not exist."""
        from botocore.exceptions import ClientError

        try:
            self.role_arn = str(client("iam", self.region).get_role(RoleName=self.rft_role_name)["Role"]["Arn"])
            return self.role_arn
        except ClientError as e:
            if (e.response.get("Error") or {}).get("Code") != "NoSuchEntity":
                raise AWSServiceError.from_client_error(e, service="iam") from e
        from amzn_nova_forge.rft_multiturn._role import create_rft_execution_role

        self.role_arn = create_rft_execution_role(self.region, self.rft_role_name, self.custom_policy_path)
        return self.role_arn

    def setup(self) -> dict[str, Any]:
        """Deploy the stack (rollout Lambda, SQS queues, DynamoDB table) or reuse it; prepare the workers' platform.

        An existing stack is reused only when its queues are empty (run :meth:`flush_all_queues` first).

        Returns:
            :meth:`get_configuration`.
        """
        self._ensure_role()
        if self.platform != "local":
            from amzn_nova_forge.rft_multiturn._package import upload_sdk

            self.sdk_s3_uri = upload_sdk(self.region)
            logger.info("Worker code for %s workers at %s", self.platform.upper(), self.sdk_s3_uri)
            if self.custom_env is not None and not self.custom_env.s3_uri:
                logger.info("Uploading custom environment %s for %s workers", self.env_id, self.platform.upper())
                self.custom_env.package_and_upload(region=self.region)
        custom_path = self.custom_env.local_path if (self.custom_env and self.platform == "local") else None
        self.infra.prepare(custom_path)
        with aws_errors("cloudformation"):
            status = _stacks.stack_status(self.stack_name, self.region)
        if status in UNUSABLE_STACK_STATES:
            raise ConfigError(
                f"Stack {self.stack_name} is in state {status}. Delete it (`aws cloudformation delete-stack "
                f"--stack-name {self.stack_name} --region {self.region}`) and run setup() again."
            )
        if status is None:
            logger.info("Deploying stack %s in %s", self.stack_name, self.region)
            assert self.role_arn is not None
            _stacks.deploy_stack(self.stack_name, self.region, self.role_arn)
            self.stack_outputs = _stacks.load_stack_outputs(self.stack_name, self.region)
        else:
            self.stack_outputs = _stacks.load_stack_outputs(self.stack_name, self.region)
            _stacks.sync_rollout_code(self.stack_name, self.region)
            busy = {k: v for k, v in self.check_all_queues().items() if v["visible"] + v["in_flight"] > 0}
            if busy:
                detail = ", ".join(f"{k} ({v['visible']} visible, {v['in_flight']} in flight)" for k, v in busy.items())
                raise ConfigError(
                    f"Stack {self.stack_name} exists but its queues are not empty: {detail}. "
                    "Call flush_all_queues() (after stopping any job using them) and run setup() again."
                )
            logger.info("Using existing stack %s", self.stack_name)
        return self.get_configuration()

    def _outputs(self) -> _stacks.StackOutputs:
        if self.stack_outputs is None:
            try:
                self.stack_outputs = _stacks.load_stack_outputs(self.stack_name, self.region)
            except ConfigError as e:
                raise ConfigError(f"{e} (call setup() first)") from e
        return self.stack_outputs

    # ---- workers ----------------------------------------------------------------------------
    def _worker_args(
        self,
        env_type: EnvType,
        vf_env_args: dict[str, Any] | None,
        concurrency: int,
        rollout_timeout: float,
        poll_wait: int,
    ) -> list[str]:
        out = self._outputs()
        args = [
            "--region",
            self.region,
            "--rollout-queue",
            out.rollout_request_queue_url,
            "--finished-queue",
            out.rollout_response_sqs_url,
            "--generate-request",
            out.generate_request_sqs_url,
            "--generate-response",
            out.generate_response_sqs_url,
            "--tasks-table",
            out.dynamo_table_name,
            "--env-id",
            self.env_id,
            "--env-args",
            json.dumps(vf_env_args or {}),
            "--env-type",
            env_type.value,
            "--concurrency",
            str(concurrency),
            "--rollout-timeout",
            str(rollout_timeout),
            "--poll-wait",
            str(poll_wait),
        ]
        if self.custom_env is not None and self.platform == "local":
            args += ["--env-path", str(self.custom_env.path)]
        return args

    def start_environment(
        self,
        env_type: EnvType,
        vf_env_args: dict[str, Any] | None = None,
        *,
        num_workers: int = 1,
        max_concurrent_rollouts: int = 4,
        max_rollout_timeout: float = 300.0,
        rollout_poll_interval: int = 2,
    ) -> list[str]:
        """Start environment workers of ``env_type``; returns their ids (pids, SSM command ids or task ARNs).

        Args:
            env_type: ``EnvType.TRAIN`` or ``EnvType.EVAL``.
            vf_env_args: Keyword arguments of the environment's ``load_environment``.
            num_workers: Worker processes (LOCAL/EC2) or tasks (ECS).
            max_concurrent_rollouts: Rollouts each worker runs at once (threads).
            max_rollout_timeout: Seconds a rollout may take.
            rollout_poll_interval: SQS long-poll wait in seconds (0–20).
        """
        env_type = EnvType(env_type)
        if env_type is EnvType.SAM:
            raise ConfigError("Start EnvType.TRAIN or EnvType.EVAL workers.")
        if num_workers < 1 or max_concurrent_rollouts < 1:
            raise ConfigError("num_workers and max_concurrent_rollouts must be at least 1.")
        if not 0 <= int(rollout_poll_interval) <= 20:
            raise ConfigError("rollout_poll_interval must be between 0 and 20 seconds (SQS long polling).")
        args = self._worker_args(
            env_type, vf_env_args, max_concurrent_rollouts, max_rollout_timeout, int(rollout_poll_interval)
        )
        s3_uri = self.custom_env.s3_uri if self.custom_env is not None else None
        if self.platform == "local":
            return list(self.infra.start(env_type, args, num_workers))
        if self.sdk_s3_uri is None:  # a new session on an existing stack: ship the worker code again
            from amzn_nova_forge.rft_multiturn._package import upload_sdk

            self.sdk_s3_uri = upload_sdk(self.region)
        if self.platform == "ec2":
            return list(self.infra.start(env_type, args, num_workers, s3_uri, sdk_uri=self.sdk_s3_uri))
        role = self.role_arn or self._ensure_role()
        return list(
            self.infra.start(
                env_type,
                args,
                num_workers,
                s3_uri,
                role_arn=role,
                log_group=self._outputs().worker_log_group,
                sdk_uri=self.sdk_s3_uri,
            )
        )

    def start_training_environment(self, vf_env_args: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        """Start training workers (see :meth:`start_environment` for the keyword arguments)."""
        return self.start_environment(EnvType.TRAIN, vf_env_args, **kwargs)

    def start_evaluation_environment(self, vf_env_args: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        """Start evaluation workers (see :meth:`start_environment`)."""
        return self.start_environment(EnvType.EVAL, vf_env_args, **kwargs)

    def kill_task(self, env_type: EnvType = EnvType.TRAIN, **kwargs: Any) -> list[Any]:
        """Stop the workers of ``env_type`` started by this session.

        Keyword Args:
            kill_all_for_stack (bool): Stop every worker of the stack, from any session.
            task_id (str): ECS: stop only this task.
            deregister_task_def (bool): ECS: also deregister the task definition.
        """
        stopped = list(self.infra.kill(EnvType(env_type), **kwargs))
        logger.info("Stopped %d %s worker(s) on %s", len(stopped), EnvType(env_type).value, self.platform)
        return stopped

    def cleanup(self, delete_stack: bool = False, cleanup_environment: bool = False) -> None:
        """Stop every worker; optionally delete the stack and the environment resources.

        Args:
            delete_stack: Delete the CloudFormation stack (queues, table, Lambda).
            cleanup_environment: LOCAL/EC2: delete the virtual environment and workspace; ECS:
                deregister the task definitions.
        """
        self.infra.cleanup(cleanup_environment=cleanup_environment)
        if delete_stack:
            with aws_errors("cloudformation"):
                exists = _stacks.stack_status(self.stack_name, self.region) is not None
            if exists:
                _stacks.delete_stack(self.stack_name, self.region)
            self.stack_outputs = None

    # ---- monitoring -------------------------------------------------------------------------
    def get_logs(
        self,
        env_type: EnvType = EnvType.TRAIN,
        limit: int = 100,
        start_from_head: bool = False,
        log_stream_name: str | None = None,
        tail: bool = False,
        *,
        tail_timeout: float | None = None,
    ) -> list[str]:
        """Return worker log lines; with ``tail=True`` print new lines until Ctrl+C (or ``tail_timeout`` s)."""
        env_type = EnvType(env_type)

        def fetch() -> list[str]:
            if self.platform == "ecs":
                return list(
                    self.infra.logs(
                        env_type, limit, start_from_head, log_stream_name, log_group=self._outputs().worker_log_group
                    )
                )
            return list(self.infra.logs(env_type, limit, start_from_head))

        if not tail:
            return fetch()
        deadline = None if tail_timeout is None else time.monotonic() + tail_timeout
        try:
            if self.platform == "local":
                for line in fetch():
                    print(line)
                for line in self.infra.follow(env_type, until=deadline):
                    print(line, flush=True)
            else:
                seen: list[str] = []
                while deadline is None or time.monotonic() < deadline:
                    lines = fetch()
                    start = 0
                    if seen and seen[-1] in lines:
                        start = len(lines) - lines[::-1].index(seen[-1])
                    for line in lines[start:]:
                        print(line, flush=True)
                    seen = lines or seen
                    time.sleep(5.0)
        except KeyboardInterrupt:
            pass
        return []

    def check_all_queues(self) -> dict[str, dict[str, int]]:
        """Message counts per queue: ``{name: {"visible", "in_flight", "delayed"}}``."""
        out = self._outputs().to_dict()
        urls = {
            "rollout_request": out["rollout_request_queue_url"],
            "rollout_response": out["rollout_response_sqs_url"],
            "generate_request": out["generate_request_sqs_url"],
            "generate_response": out["generate_response_sqs_url"],
        }
        assert set(urls) == set(QUEUE_OUTPUTS)
        sqs = client("sqs", self.region)
        counts: dict[str, dict[str, int]] = {}
        with aws_errors("sqs"):
            for name, url in urls.items():
                a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                counts[name] = {
                    "visible": int(a.get("ApproximateNumberOfMessages", 0)),
                    "in_flight": int(a.get("ApproximateNumberOfMessagesNotVisible", 0)),
                    "delayed": int(a.get("ApproximateNumberOfMessagesDelayed", 0)),
                }
        return counts

    def flush_all_queues(self) -> dict[str, int]:
        """Empty every queue (purge; drained message by message when a purge ran in the last 60 s).

        Returns:
            Queue name -> messages visible before the flush.
        """
        from botocore.exceptions import ClientError

        before = self.check_all_queues()
        out = self._outputs()
        sqs = client("sqs", self.region)
        for name, url in (
            ("rollout_request", out.rollout_request_queue_url),
            ("rollout_response", out.rollout_response_sqs_url),
            ("generate_request", out.generate_request_sqs_url),
            ("generate_response", out.generate_response_sqs_url),
        ):
            try:
                sqs.purge_queue(QueueUrl=url)
            except ClientError as e:
                if "PurgeQueueInProgress" not in str(e):
                    raise
                while msgs := sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=30
                ).get("Messages", []):
                    sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
                    )
            logger.info("Flushed %s", name)
        return {k: v["visible"] for k, v in before.items()}

    # ---- configuration ----------------------------------------------------------------------
    def get_configuration(self) -> dict[str, Any]:
        """Stack, platform and (after setup) the stack outputs."""
        config: dict[str, Any] = {
            "stack_name": self.stack_name,
            "region": self.region,
            "platform": self.platform,
            "infrastructure_arn": self.infrastructure_arn,
            "env_id": self.env_id,
            "rft_role_name": self.rft_role_name,
            "session_id": self.session_id,
        }
        if self.stack_outputs is not None:
            config["stack_outputs"] = self.stack_outputs.to_dict()
        return config

    def get_recipe_overrides(self) -> dict[str, str]:
        """Recipe overrides that connect an RFT multiturn training/eval job to this infrastructure.

        Returns:
            ``rollout_request_arn`` (the rollout Lambda), ``rollout_request_queue_url``,
            ``rollout_response_sqs_url``, ``generate_request_sqs_url``, ``generate_response_sqs_url``.
        """
        out = self._outputs()
        return {
            "rollout_request_arn": out.rollout_request_arn,
            "rollout_response_sqs_url": out.rollout_response_sqs_url,
            "rollout_request_queue_url": out.rollout_request_queue_url,
            "generate_request_sqs_url": out.generate_request_sqs_url,
            "generate_response_sqs_url": out.generate_response_sqs_url,
        }

    def dump(self, file_path: str | None = None, file_name: str | None = None) -> Path:
        """Save this infrastructure's state (to find the stack and workers again later)."""
        path = Path(file_path or ".") / (file_name or f"rft_state_{self.stack_name}_{self.session_id}.json")
        state = {
            **self.get_configuration(),
            "custom_env": self.custom_env.to_dict() if self.custom_env else None,
            "python_venv_name": self.python_venv_name,
            "infra_state": self.infra.get_state(),
        }
        path.write_text(json.dumps(state, indent=2, default=str))
        logger.info("Saved RFT infrastructure state to %s", path)
        return path

    @classmethod
    def load(cls, file_path: str) -> RFTMultiturnInfrastructure:
        """Rebuild an infrastructure saved by :meth:`dump` (same session: its workers can be stopped).

        Example:
            >>> rft_infra = RFTMultiturnInfrastructure.load("rft_state_my-rft-stack-NovaForgeSDK_....json")  # doctest: +SKIP
            >>> rft_infra.kill_task(EnvType.TRAIN)  # doctest: +SKIP
        """
        try:
            state = json.loads(Path(file_path).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"{file_path} is not a saved RFT infrastructure state: {e}") from e
        infra_state = state.get("infra_state") or {}
        custom = state.get("custom_env")
        custom_env = CustomEnvironment(**custom) if custom else None
        obj = cls(
            stack_name=state["stack_name"],
            region=state["region"],
            vf_env_id=None if custom_env else state["env_id"],
            custom_env=custom_env,
            infrastructure_arn=state.get("infrastructure_arn"),
            python_venv_name=state.get("python_venv_name"),
            vpc_config=infra_state.get("vpc_config"),
            cpu=infra_state.get("cpu"),
            memory=infra_state.get("memory"),
            rft_role_name=state.get("rft_role_name"),
            container_image=infra_state.get("image"),
        )
        obj.session_id = obj.infra.session_id = state["session_id"]
        if state.get("stack_outputs"):
            obj.stack_outputs = _stacks.StackOutputs(**state["stack_outputs"])
        obj.infra.restore(infra_state)
        return obj

    def __repr__(self) -> str:
        return f"RFTMultiturnInfrastructure(stack_name={self.stack_name!r}, platform={self.platform!r}, env_id={self.env_id!r})"
