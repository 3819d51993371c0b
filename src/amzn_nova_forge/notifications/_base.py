"""``NotificationManager``: the CloudFormation-managed notification stack of one platform.

A manager owns one stack (per region for SMTJ, per cluster per region for SMHP). Enabling
notifications for a job:

1. validates the email addresses,
2. creates the stack from the bundled template if it does not exist (and waits), or
   reuses it; a stack left in a failed state raises :class:`NotificationManagerInfraError`
   saying how to fix it,
3. uploads the packaged handler code when the deployed code differs,
4. writes the job's entry (``job_id``, ``emails``, ``output_s3_path``, ``created_at``,
   ``ttl`` = now + 30 days, platform extras) to the DynamoDB table,
5. subscribes every address not yet subscribed to the SNS topic (each must confirm).
"""

from __future__ import annotations

import abc
import base64
import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from amzn_nova_forge.core.aws import client, resolve_region
from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import ConfigError, NotificationManagerInfraError

__all__ = ["EMAIL_RE", "TTL_DAYS", "NotificationManager", "validate_emails"]

logger = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")
#: Entries expire (DynamoDB TTL) this many days after they are written.
TTL_DAYS = 30
_READY = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
_BUSY = {
    "CREATE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
}
_FAILED = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "DELETE_FAILED",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_IN_PROGRESS",
}


def validate_emails(emails: Sequence[str]) -> list[str]:
    """Return the addresses (deduplicated, order kept) or raise ``ConfigError`` naming the bad ones."""
    if isinstance(emails, str) or not emails:
        raise ConfigError("emails must be a non-empty list of email addresses, e.g. ['user@example.com'].")
    bad = [e for e in emails if not isinstance(e, str) or not EMAIL_RE.match(e)]
    if bad:
        raise ConfigError(f"Invalid email address(es): {', '.join(map(repr, bad))}.")
    return list(dict.fromkeys(emails))


class NotificationManager(abc.ABC):
    """Base class of the per-platform notification managers.

    Args:
        platform: ``Platform.SMTJ`` or ``Platform.SMHP`` (default: the subclass's).
        region: AWS region of the notification infrastructure.
        kms_key_id: Customer KMS key id (not ARN) to encrypt the topic; used when the stack is created.

    Attributes:
        platform: The :class:`Platform` of the jobs.
        region: AWS region of the notification infrastructure.
        stack_name: The CloudFormation stack this manager owns.
        table_name: The DynamoDB table holding job entries.
        topic_name: The SNS topic emails are sent through.
        function_name: The handler Lambda function.

    Example:
        >>> mgr = SMTJNotificationManager(region="us-east-1")  # doctest: +SKIP
        >>> mgr.enable_notifications("my-job-123", ["me@example.com"], "s3://bucket/output")  # doctest: +SKIP
    """

    #: The platform of the subclass (``platform`` argument default).
    default_platform: ClassVar[Platform]
    template_file: ClassVar[str]

    def __init__(
        self, platform: Platform | str | None = None, region: str | None = "us-east-1", kms_key_id: str | None = None
    ) -> None:
        default = getattr(type(self), "default_platform", None)
        try:
            self.platform = Platform(platform if platform is not None else default)
        except ValueError as e:
            raise ConfigError(f"platform must be Platform.SMTJ or Platform.SMHP, got {platform!r}.") from e
        if default is not None and self.platform is not default:
            raise ConfigError(
                f"{type(self).__name__} manages {default.value} notifications, not {self.platform.value}."
            )
        self.region = resolve_region(region)
        self.kms_key_id: str | None = None
        self._set_kms_key(kms_key_id)

    def _set_kms_key(self, kms_key_id: str | None) -> None:
        if kms_key_id is None:
            return
        if not isinstance(kms_key_id, str) or not kms_key_id or kms_key_id.startswith("arn:"):
            raise ConfigError(
                f"kms_key_id must be the key id (e.g. '1234abcd-12ab-34cd-56ef-1234567890ab'), not an ARN: {kms_key_id!r}."
            )
        self.kms_key_id = kms_key_id

    # ---- names (subclasses) -----------------------------------------------------------------
    @property
    @abc.abstractmethod
    def stack_name(self) -> str: ...

    @property
    @abc.abstractmethod
    def table_name(self) -> str: ...

    @property
    @abc.abstractmethod
    def topic_name(self) -> str: ...

    @property
    @abc.abstractmethod
    def function_name(self) -> str: ...

    @abc.abstractmethod
    def _stack_parameters(self) -> dict[str, str]:
        """CloudFormation parameters for a new stack."""

    def _item_extras(self, namespace: str | None) -> dict[str, Any]:
        """Platform attributes added to the job's DynamoDB item (low-level format)."""
        return {}

    def _check_item(self, namespace: str | None) -> None:
        """Raise before anything is created when the job's item would be incomplete."""
        self._item_extras(namespace)

    # ---- public API -------------------------------------------------------------------------
    @classmethod
    def template_body(cls) -> str:
        """The bundled CloudFormation template (YAML)."""
        return resources.files("amzn_nova_forge.notifications").joinpath("templates", cls.template_file).read_text()

    def get_stack_name(self) -> str:
        """The CloudFormation stack this manager owns (same as :attr:`stack_name`)."""
        return self.stack_name

    def get_template_path(self) -> Path:
        """Path of the bundled CloudFormation template file."""
        return Path(str(resources.files("amzn_nova_forge.notifications").joinpath("templates", self.template_file)))

    def get_platform_name(self) -> str:
        """``"SMTJ"`` or ``"SMHP"``."""
        return self.platform.value

    def _apply_options(self, **options: Any) -> None:
        """Platform options given to :meth:`enable_notifications` (subclasses add theirs)."""
        kms = options.pop("kms_key_id", None)
        if options:
            raise ConfigError(f"Unknown {self.platform.value} notification option(s): {', '.join(sorted(options))}.")
        self._set_kms_key(kms)

    def enable_notifications(
        self,
        job_name: str | None = None,
        emails: Sequence[str] | None = None,
        output_s3_path: str | None = None,
        namespace: str | None = None,
        *,
        job_id: str | None = None,
        validate_output: bool = True,
        **platform_kwargs: Any,
    ) -> dict[str, Any]:
        """Make sure the stack exists, register the job and subscribe ``emails``.

        Args:
            job_name: The job's name (SMTJ training job name, HyperPod PyTorchJob name).
            emails: Addresses to notify (each confirms its SNS subscription once).
            output_s3_path: Where the job writes its outputs (checked for ``manifest.json``).
            namespace: HyperPod only: the job's Kubernetes namespace (required there).
            job_id: Earlier name of ``job_name``.
            validate_output: False skips the manifest check of completed jobs (evaluation and
                inference jobs write no ``manifest.json``).
            **platform_kwargs: ``kms_key_id``; HyperPod also ``kubectl_layer_arn``, ``eks_cluster_arn``,
                ``vpc_id``, ``subnet_ids``, ``security_group_id``, ``route_table_ids``,
                ``create_dynamodb_endpoint``, ``create_s3_endpoint``, ``polling_interval_minutes``
                (used when the stack is created).

        Returns:
            ``{"stack_name", "table_name", "topic_arn", "created_stack", "subscribed", "already_subscribed"}``.

        Raises:
            ConfigError: Invalid emails or parameters.
            NotificationManagerInfraError: The stack or its resources could not be created or used.

        Example:
            >>> SMTJNotificationManager(region="us-east-1").enable_notifications(
            ...     job_name="existing-training-job", emails=["user@example.com"],
            ...     output_s3_path="s3://bucket/output")  # doctest: +SKIP
        """
        if job_name is not None and job_id is not None and job_name != job_id:
            raise ConfigError(f"Pass job_name ({job_name!r}) or job_id ({job_id!r}), not both.")
        job_id = job_name if job_name is not None else job_id
        if not job_id:
            raise ConfigError("job_name is required to enable notifications.")
        if emails is None:
            raise ConfigError("emails is required, e.g. emails=['user@example.com'].")
        self._apply_options(**platform_kwargs)
        self._check_item(namespace)
        addresses = validate_emails(emails)
        if output_s3_path is not None and not output_s3_path.startswith("s3://"):
            raise ConfigError(f"output_s3_path must be an s3:// URI, got {output_s3_path!r}.")
        created, outputs = self.ensure_stack()
        self._sync_handler_code()
        self._put_job(job_id, addresses, output_s3_path, validate_output=validate_output, namespace=namespace)
        new, existing = self._subscribe(outputs["TopicArn"], addresses)
        if new:
            logger.info(
                "Subscribed %s to %s; each address must click the confirmation link AWS SNS emails it.",
                ", ".join(new),
                self.topic_name,
            )
        return {
            "stack_name": self.stack_name,
            "table_name": outputs.get("TableName", self.table_name),
            "topic_arn": outputs["TopicArn"],
            "created_stack": created,
            "subscribed": new,
            "already_subscribed": existing,
        }

    def stack_status(self) -> str | None:
        """The stack's status, or None when it does not exist."""
        cfn = client("cloudformation", self.region)
        from botocore.exceptions import ClientError

        try:
            stacks = cfn.describe_stacks(StackName=self.stack_name)["Stacks"]
        except ClientError as e:
            if "does not exist" in str(e):
                return None
            raise self._infra_error("DescribeStacks", e) from e
        return str(stacks[0]["StackStatus"]) if stacks else None

    def ensure_stack(self, *, wait_timeout: float = 900.0) -> tuple[bool, dict[str, str]]:
        """Create the stack if missing; return ``(created, outputs)``."""
        from botocore.exceptions import ClientError, WaiterError

        cfn = client("cloudformation", self.region)
        status = self.stack_status()
        created = False
        if status is None:
            params = self._stack_parameters()
            logger.info("Creating notification stack %s in %s", self.stack_name, self.region)
            try:
                cfn.create_stack(
                    StackName=self.stack_name,
                    TemplateBody=self.template_body(),
                    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
                    Capabilities=["CAPABILITY_NAMED_IAM"],
                    Tags=[{"Key": "CreatedBy", "Value": "NovaForgeSDK"}],
                )
                created = True
            except ClientError as e:
                if (e.response.get("Error") or {}).get("Code") != "AlreadyExistsException":
                    raise self._infra_error("CreateStack", e) from e
                # Another process created it a moment ago: wait for it like for our own.
            status = self.stack_status() or "CREATE_IN_PROGRESS"
        if status in _BUSY:
            waiter = "stack_create_complete" if status.startswith("CREATE") else "stack_update_complete"
            try:
                cfn.get_waiter(waiter).wait(
                    StackName=self.stack_name,
                    WaiterConfig={"Delay": 5, "MaxAttempts": max(1, int(wait_timeout // 5))},
                )
            except WaiterError as e:
                raise NotificationManagerInfraError(
                    f"Notification stack {self.stack_name} did not become ready: {self._failure_reason() or e}. "
                    "Check its events in the CloudFormation console, fix the cause (IAM permissions, name "
                    "conflicts), delete the stack and try again."
                ) from e
            status = self.stack_status() or "DELETED"
        if status not in _READY:
            raise NotificationManagerInfraError(
                f"Notification stack {self.stack_name} is in state {status}"
                f"{': ' + r if (r := self._failure_reason()) else ''}. Delete it "
                f"(NotificationManager.delete_notification_stack() or the CloudFormation console) and try again."
            )
        return created, self.stack_outputs()

    def stack_outputs(self) -> dict[str, str]:
        """The stack's outputs as a dict."""
        from botocore.exceptions import ClientError

        try:
            stack = client("cloudformation", self.region).describe_stacks(StackName=self.stack_name)["Stacks"][0]
        except ClientError as e:
            raise self._infra_error("DescribeStacks", e) from e
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if "TopicArn" not in outputs:
            raise NotificationManagerInfraError(
                f"Notification stack {self.stack_name} has no TopicArn output; it was not created by this SDK "
                "version. Delete it and enable notifications again."
            )
        return outputs

    def delete_notification_stack(self, *, wait: bool = True) -> None:
        """Delete this manager's stack (table, topic, subscriptions, function, rule, role)."""
        from botocore.exceptions import ClientError, WaiterError

        cfn = client("cloudformation", self.region)
        try:
            cfn.delete_stack(StackName=self.stack_name)
            if wait:
                cfn.get_waiter("stack_delete_complete").wait(
                    StackName=self.stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 180}
                )
        except (ClientError, WaiterError) as e:
            raise NotificationManagerInfraError(f"Could not delete notification stack {self.stack_name}: {e}") from e

    # ---- steps ------------------------------------------------------------------------------
    def _sync_handler_code(self) -> None:
        """Upload the packaged handler when the deployed code differs (first run, SDK upgrade)."""
        from botocore.exceptions import ClientError

        from amzn_nova_forge.notifications.handlers import build_zip

        code = build_zip(self.platform.value)
        sha = base64.b64encode(hashlib.sha256(code).digest()).decode()
        lam = client("lambda", self.region)
        try:
            current = lam.get_function_configuration(FunctionName=self.function_name).get("CodeSha256")
            if current != sha:
                lam.update_function_code(FunctionName=self.function_name, ZipFile=code)
                logger.info("Uploaded notification handler code to %s", self.function_name)
        except ClientError as e:
            raise self._infra_error("UpdateFunctionCode", e) from e

    def _put_job(
        self,
        job_id: str,
        emails: list[str],
        output_s3_path: str | None,
        *,
        validate_output: bool = True,
        namespace: str | None = None,
    ) -> None:
        from botocore.exceptions import ClientError

        now = datetime.now(UTC)
        item: dict[str, Any] = {
            "job_id": {"S": job_id},
            "emails": {"SS": emails},
            "platform": {"S": self.platform.value},
            "created_at": {"S": now.isoformat()},
            "ttl": {"N": str(int(now.timestamp()) + TTL_DAYS * 86400)},
            "validate_output": {"BOOL": bool(validate_output)},
        }
        if output_s3_path:
            item["output_s3_path"] = {"S": output_s3_path}
        item.update(self._item_extras(namespace))
        try:
            client("dynamodb", self.region).put_item(TableName=self.table_name, Item=item)
        except ClientError as e:
            raise self._infra_error("PutItem", e) from e

    def _subscribe(self, topic_arn: str, emails: list[str]) -> tuple[list[str], list[str]]:
        from botocore.exceptions import ClientError

        sns = client("sns", self.region)
        try:
            existing: set[str] = set()
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
                existing.update(
                    s["Endpoint"].lower() for s in page.get("Subscriptions", []) if s.get("Protocol") == "email"
                )
            new = [e for e in emails if e.lower() not in existing]
            for address in new:
                sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=address)
        except ClientError as e:
            raise self._infra_error("Subscribe", e) from e
        return new, [e for e in emails if e.lower() in existing]

    # ---- helpers ----------------------------------------------------------------------------
    def _failure_reason(self) -> str | None:
        try:
            events = client("cloudformation", self.region).describe_stack_events(StackName=self.stack_name)
        except Exception:
            return None
        for ev in events.get("StackEvents", []):
            if str(ev.get("ResourceStatus", "")).endswith("FAILED") and ev.get("ResourceStatusReason"):
                return f"{ev.get('LogicalResourceId')}: {ev['ResourceStatusReason']}"
        return None

    def _infra_error(self, operation: str, err: Exception) -> NotificationManagerInfraError:
        resp = getattr(err, "response", {}) or {}
        code = (resp.get("Error") or {}).get("Code", type(err).__name__)
        return NotificationManagerInfraError(
            f"{operation} failed for notification stack {self.stack_name} in {self.region} ({code}): {err}. "
            "Check that your credentials allow CloudFormation, DynamoDB, SNS, Lambda, EventBridge and IAM."
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(stack_name={self.stack_name!r}, region={self.region!r})"
