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

from amzn_nova_forge.core.aws import aws_errors, resolve_region
from amzn_nova_forge.core.enums import EnvType, VFEnvId
from amzn_nova_forge.errors import ConfigError, LocalCommandExecutionError
from amzn_nova_forge.rft_multiturn import _stacks
from amzn_nova_forge.rft_multiturn._constants import (
    QUEUE_OUTPUTS,
    RFT_EXECUTION_ROLE_NAME,
    STACK_NAME_RE,
    UNUSABLE_STACK_STATES,
    full_stack_name,
)
from amzn_nova_forge.rft_multiturn._custom_env import CustomEnvironment
from amzn_nova_forge.rft_multiturn._options import WorkerOptions, load_config
from amzn_nova_forge.rft_multiturn._queues import QueueMessageCounts, count_messages, flush_queues

__all__ = ["RFTMultiturnInfrastructure", "detect_platform"]

logger = logging.getLogger(__name__)


def detect_platform(infrastructure_arn: str | None) -> str:
    """``None`` -> local, ``i-…``/EC2 ARN -> ec2, ECS cluster ARN -> ecs.

    Example:
        >>> detect_platform("arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster")
        'ecs'
    """
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
        starter_kit_path: Worker code to run instead of the installed SDK: a folder holding an
            ``amzn_nova_forge`` package (LOCAL: put first on the workers' ``PYTHONPATH``; EC2/ECS:
            packed and uploaded by :meth:`setup`) or the ``s3://…tar.gz`` of one (EC2/ECS).
        vpc_config: ECS only: ``{"subnets": [...], "security_groups": [...]}``.
        cpu: ECS task CPU units (e.g. ``"2048"``).
        memory: ECS task memory in MB (e.g. ``"4096"``).
        rft_role_name: IAM role (default ``RFTExecutionRoleNovaSDK``; created when missing).
        custom_policy_path: Policy JSON used if the role has to be created.
        container_image: ECS only: worker image (default ``python:3.12-slim``; the SDK is pip-installed).
        allow_local_command_execution: Let LOCAL workers run an environment that executes
            model-written commands (``VFEnvId.TERMINAL_BENCH``). They run sandboxed (see
            :mod:`amzn_nova_forge.rft_multiturn.sandbox`), but on this machine: opt in knowingly.

    Example:
        >>> rft_infra = RFTMultiturnInfrastructure(
        ...     stack_name="my-rft-stack", region="us-east-1",
        ...     python_venv_name="my_rft_venv", vf_env_id=VFEnvId.WORDLE)  # doctest: +SKIP
        >>> rft_infra.setup()  # doctest: +SKIP
        >>> rft_infra.start_environment(env_type=EnvType.TRAIN)  # doctest: +SKIP
    """

    def __init__(
        self,
        stack_name: str,
        region: str = "us-east-1",
        vf_env_id: VFEnvId | str | None = None,
        custom_env: CustomEnvironment | None = None,
        infrastructure_arn: str | None = None,
        python_venv_name: str | None = None,
        starter_kit_path: str | None = None,
        vpc_config: dict[str, Any] | None = None,
        cpu: str | None = None,
        memory: str | None = None,
        rft_role_name: str | None = None,
        custom_policy_path: str | None = None,
        *,
        container_image: str | None = None,
        allow_local_command_execution: bool = False,
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
        if isinstance(starter_kit_path, dict):
            raise ConfigError("The 7th positional argument is now starter_kit_path; pass vpc_config= by keyword.")
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
        self.starter_kit_path: str | None = None
        if starter_kit_path is not None:
            from amzn_nova_forge.rft_multiturn._package import check_starter_kit

            self.starter_kit_path = check_starter_kit(starter_kit_path)
            if self.platform == "local" and self.starter_kit_path.startswith("s3://"):
                raise ConfigError("LOCAL workers need a local starter_kit_path folder, not an S3 URI.")
        self.allow_local_command_execution = bool(allow_local_command_execution)
        self.python_venv_name = python_venv_name or "rft_nova_venv"
        self.stack_name = full_stack_name(stack_name)
        self.rft_role_name = rft_role_name or RFT_EXECUTION_ROLE_NAME
        self.custom_policy_path = custom_policy_path
        # Unique per instance (two sessions started in the same second must not share workers).
        self._session_id = f"{stack_name}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.stack_outputs: _stacks.StackOutputs | None = None
        self.role_arn: str | None = None
        self.sdk_s3_uri: str | None = None
        self.s3_bucket: str | None = None
        self.infra = self._make_platform(vpc_config, cpu, memory, container_image)

    @property
    def session_id(self) -> str:
        """This instance's session: workers it starts are recorded under it (kept by :meth:`dump`/:meth:`load`)."""
        return self._session_id

    def detect_platform(self, infrastructure_arn: str | None = None) -> str:
        """``"local"``, ``"ec2"`` or ``"ecs"`` for ``infrastructure_arn`` (default: this instance's).

        Raises:
            ConfigError: Neither an EC2 instance nor an ECS cluster ARN.
        """
        return detect_platform(self.infrastructure_arn if infrastructure_arn is None else infrastructure_arn)

    def _make_platform(self, vpc_config: Any, cpu: Any, memory: Any, image: Any) -> Any:
        if self.platform == "local":
            from amzn_nova_forge.rft_multiturn._local import LocalRFTInfrastructure

            return LocalRFTInfrastructure(
                self.stack_name, self.python_venv_name, self.session_id, starter_kit_path=self.starter_kit_path
            )
        from amzn_nova_forge.rft_multiturn._remote import EC2RFTInfrastructure, ECSRFTInfrastructure

        assert self.infrastructure_arn is not None
        if self.platform == "ec2":
            return EC2RFTInfrastructure(
                self.stack_name, self.region, self.infrastructure_arn, self.python_venv_name, self.session_id
            )
        return ECSRFTInfrastructure(
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
        """The RFT role's ARN: created when missing; an SDK-made role is extended with this setup's locations."""
        from amzn_nova_forge.rft_multiturn._role_infra import ensure_role

        self.role_arn = ensure_role(self)
        return self.role_arn

    def setup(self, s3_bucket: str | None = None) -> dict[str, Any]:
        """Deploy the stack (rollout Lambda, SQS queues, DynamoDB table) or reuse it; prepare the workers' platform.

        An existing stack is reused only when its queues are empty (run :meth:`flush_all_queues` first).

        Args:
            s3_bucket: EC2/ECS: bucket (name only) for the worker code, the starter kit and the
                custom environment (default ``sagemaker-<region>-<account>``, created if missing).

        Returns:
            :meth:`get_configuration`.
        """
        if s3_bucket is not None and (not isinstance(s3_bucket, str) or not s3_bucket or "/" in s3_bucket):
            raise ConfigError(f"s3_bucket must be a bucket name (no s3:// and no prefix), got {s3_bucket!r}.")
        self.s3_bucket = s3_bucket or self.s3_bucket
        self._ensure_role()
        if self.platform != "local":
            self._upload_worker_code()
            if self.custom_env is not None and not self.custom_env.s3_uri:
                logger.info("Uploading custom environment %s for %s workers", self.env_id, self.platform.upper())
                self.custom_env.package_and_upload(s3_bucket=self.s3_bucket, region=self.region)
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
            busy = {k: v for k, v in self.check_all_queues().items() if v.visible + v.in_flight > 0}
            if busy:
                detail = ", ".join(f"{k} ({v.visible} visible, {v.in_flight} in flight)" for k, v in busy.items())
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

    def _upload_worker_code(self) -> str:
        from amzn_nova_forge.rft_multiturn._package import upload_sdk

        self.sdk_s3_uri = upload_sdk(self.region, self.s3_bucket, self.starter_kit_path)
        logger.info("Worker code for %s workers at %s", self.platform.upper(), self.sdk_s3_uri)
        return self.sdk_s3_uri

    # ---- workers ----------------------------------------------------------------------------
    def _worker_args(self, env_type: EnvType, opts: WorkerOptions) -> list[str]:
        out = self._outputs()
        args = [
            "--region",
            self.region,
            "--rollout-queue",
            opts.queue_url or out.rollout_request_queue_url,
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
            json.dumps(opts.vf_env_args),
            "--env-type",
            env_type.value,
            "--platform",
            self.platform,
            *opts.worker_args(),
        ]
        if self.custom_env is not None and self.platform == "local":
            args += ["--env-path", str(self.custom_env.path)]
        return args

    def start_environment(
        self,
        env_type: EnvType,
        vf_env_args: dict[str, Any] | None = None,
        max_concurrent_rollouts: int = 40,
        max_rollout_timeout: float = 300.0,
        completion_poll_timeout: float = 600.0,
        completion_poll_interval: float = 0.5,
        rollout_poll_interval: float = 1.0,
        log_output_directory: str | None = None,
        config_name: str | None = None,
        config_path: str | None = None,
        queue_url: str | None = None,
        *,
        num_workers: int = 1,
    ) -> list[str]:
        """Start environment workers of ``env_type``; returns their ids (pids, SSM command ids or task ARNs).

        Args:
            env_type: ``EnvType.TRAIN`` or ``EnvType.EVAL``.
            vf_env_args: Keyword arguments of the environment's ``load_environment``.
            max_concurrent_rollouts: Rollouts each worker runs at once (threads, 1–1024).
            max_rollout_timeout: Seconds one rollout may take.
            completion_poll_timeout: Seconds a rollout waits for one generation from the trainer.
            completion_poll_interval: Seconds between polls of the generate-response queue
                (1 s or more: an SQS long poll of that many whole seconds).
            rollout_poll_interval: Seconds between polls of the rollout queue (0–20; 1 s or more: SQS long poll).
            log_output_directory: Folder (on the worker's machine) for one log file and one
                ``.metrics.jsonl`` (a line per rollout) per worker.
            config_name: Read the options from ``<config_path or ./configs>/<config_name>.yaml``;
                its keys (any option name here, and ``num_workers``) replace the arguments.
            config_path: Folder of ``config_name``.
            queue_url: Rollout request queue to read (default: the stack's).
            num_workers: Worker processes (LOCAL/EC2) or tasks (ECS).

        Raises:
            ConfigError: An option out of range, an unreadable config file, or ``EnvType.SAM``.
            LocalCommandExecutionError: A command-executing environment on LOCAL workers without
                ``allow_local_command_execution=True``.

        Example:
            >>> rft_infra.start_environment(env_type=EnvType.TRAIN, vf_env_args={"max_turns": 10},
            ...     max_concurrent_rollouts=60, log_output_directory="./logs")  # doctest: +SKIP
        """
        env_type = EnvType(env_type)
        if env_type is EnvType.SAM:
            raise ConfigError("Start EnvType.TRAIN or EnvType.EVAL workers.")
        opts = WorkerOptions(
            vf_env_args={} if vf_env_args is None else vf_env_args,
            max_concurrent_rollouts=max_concurrent_rollouts,
            max_rollout_timeout=max_rollout_timeout,
            completion_poll_timeout=completion_poll_timeout,
            completion_poll_interval=completion_poll_interval,
            rollout_poll_interval=rollout_poll_interval,
            log_output_directory=log_output_directory,
            queue_url=queue_url,
            num_workers=num_workers,
        ).with_config(load_config(config_name, config_path))
        self._check_local_commands()
        if self.platform == "local" and opts.log_output_directory:
            opts = opts.with_config(
                {"log_output_directory": str(Path(opts.log_output_directory).expanduser().resolve())}
            )
        args = self._worker_args(env_type, opts)
        s3_uri = self.custom_env.s3_uri if self.custom_env is not None else None
        if self.platform == "local":
            return list(self.infra.start(env_type, args, opts.num_workers))
        if self.sdk_s3_uri is None:  # a new session on an existing stack: ship the worker code again
            self._upload_worker_code()
        if self.platform == "ec2":
            return list(self.infra.start(env_type, args, opts.num_workers, s3_uri, sdk_uri=self.sdk_s3_uri))
        role = self.role_arn or self._ensure_role()
        return list(
            self.infra.start(
                env_type,
                args,
                opts.num_workers,
                s3_uri,
                role_arn=role,
                log_group=self._outputs().worker_log_group,
                sdk_uri=self.sdk_s3_uri,
            )
        )

    def _check_local_commands(self) -> None:
        if self.platform != "local" or self.allow_local_command_execution or self.custom_env is not None:
            return
        from amzn_nova_forge.rft_multiturn import envs

        if envs.executes_commands(self.env_id):
            raise LocalCommandExecutionError(
                f"Environment {self.env_id!r} runs commands written by the model. On LOCAL workers they run on "
                "this machine (sandboxed: own process group, CPU/memory/file-size/time limits, writes confined "
                "to a private folder where the kernel has Landlock). Opt in with "
                "RFTMultiturnInfrastructure(..., allow_local_command_execution=True), or run the workers on "
                "EC2/ECS (infrastructure_arn=...)."
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

    def _queue_urls(self) -> dict[str, str]:
        out = self._outputs().to_dict()
        urls = {
            "rollout_request": out["rollout_request_queue_url"],
            "rollout_response": out["rollout_response_sqs_url"],
            "generate_request": out["generate_request_sqs_url"],
            "generate_response": out["generate_response_sqs_url"],
        }
        assert set(urls) == set(QUEUE_OUTPUTS)
        return urls

    def check_all_queues(self) -> dict[str, QueueMessageCounts]:
        """Message counts per queue (``rollout_request``, ``rollout_response``, ``generate_request``,
        ``generate_response``) as :class:`QueueMessageCounts` (``counts[name]["visible"]`` also works).
        """
        return count_messages(self.region, self._queue_urls())

    def flush_all_queues(self) -> dict[str, int]:
        """Empty every queue (purge; drained message by message when a purge ran in the last 60 s).

        Returns:
            Queue name -> messages visible before the flush.
        """
        before = self.check_all_queues()
        flush_queues(self.region, self._queue_urls())
        return {k: v.visible for k, v in before.items()}

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

    def get_recipe_path(self, method: Any) -> str:
        """Write the RFT multiturn recipe of ``method`` to a local YAML file and return its path.

        The recipe is the bundled catalogue's (Nova Lite 2 on HyperPod); after :meth:`setup` its
        ``run`` section already points at this stack (rollout Lambda and queue URLs).

        Args:
            method: ``TrainingMethod.RFT_MULTITURN_LORA``, ``TrainingMethod.RFT_MULTITURN_FULL`` or
                ``EvaluationTask.RFT_MULTITURN_EVAL``.

        Raises:
            ConfigError: Any other method.

        Example:
            >>> path = rft_infra.get_recipe_path(TrainingMethod.RFT_MULTITURN_LORA)  # doctest: +SKIP
        """
        from amzn_nova_forge.rft_multiturn._local import workspace_root
        from amzn_nova_forge.rft_multiturn._recipes import write_recipe

        overrides = self.get_recipe_overrides() if self.stack_outputs is not None else None
        return str(write_recipe(method, workspace_root() / self.stack_name / "recipes", overrides))

    def dump(self, file_path: str | None = None, file_name: str | None = None, include_session_id: bool = True) -> Path:
        """Save this infrastructure's state (to find the stack and workers again later).

        Args:
            file_path: Folder (default: the current one).
            file_name: File name (default ``rft_state_<stack>_<session>.json``, or
                ``rft_state_<stack>.json`` with ``include_session_id=False``).
            include_session_id: Put the session id in the default file name.

        Returns:
            The file written (atomically).
        """
        from amzn_nova_forge.rft_multiturn._state import dump_state

        return dump_state(self, file_path, file_name, include_session_id)

    @classmethod
    def load(cls, file_path: str, auto_reconnect: bool = True) -> RFTMultiturnInfrastructure:
        """Rebuild an infrastructure saved by :meth:`dump` (same session: its workers can be stopped).

        Args:
            file_path: The state file.
            auto_reconnect: Reconnect to the saved workers (EC2 command ids, ECS task ARNs; LOCAL
                workers are found by session in the workspace either way). False: only the
                configuration and stack outputs are restored.

        Example:
            >>> rft_infra = RFTMultiturnInfrastructure.load("rft_state_my-rft-stack-NovaForgeSDK_....json")  # doctest: +SKIP
            >>> rft_infra.kill_task(EnvType.TRAIN)  # doctest: +SKIP
        """
        from amzn_nova_forge.rft_multiturn._state import load_state

        return load_state(cls, file_path, auto_reconnect)

    def __repr__(self) -> str:
        return f"RFTMultiturnInfrastructure(stack_name={self.stack_name!r}, platform={self.platform!r}, env_id={self.env_id!r})"
