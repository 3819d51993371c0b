"""``SMHPRuntimeManager``: Nova jobs on a SageMaker HyperPod (EKS) cluster.

Jobs start, stop and report status through one seam, ``_hyperpod_k8s.get_launcher()``
(the Kubernetes API; the module docstring there says why not the HyperPod CLI). Cluster
operations use SageMaker: ``DescribeCluster`` for :meth:`get_instance_groups` and the
infra check (a restricted instance group of the right type with enough instances), and
``UpdateCluster`` for :meth:`scale_cluster`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.core.enums import JobStatus, Platform
from amzn_nova_forge.errors import AWSServiceError, ConfigError
from amzn_nova_forge.manager._base import (
    Capabilities,
    InstanceCountMixin,
    JobConfig,
    JobInfo,
    JobOutputs,
    JobRef,
    LogLocation,
    RuntimeManager,
)
from amzn_nova_forge.manager._checks_aws import AWSChecksMixin
from amzn_nova_forge.manager._hyperpod_k8s import HyperPodJobSpec, get_launcher
from amzn_nova_forge.manager._lambda import RFTLambdaMixin

__all__ = ["ClusterScalingError", "SMHPRuntimeManager"]

logger = logging.getLogger(__name__)

_NAMESPACE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CLUSTER = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{1,100}$")
#: RestrictedInstanceGroup fields copied into an UpdateCluster request.
_RIG_FIELDS = (
    "InstanceGroupName",
    "InstanceType",
    "ExecutionRole",
    "ThreadsPerCore",
    "InstanceStorageConfigs",
    "OnStartDeepHealthChecks",
    "TrainingPlanArn",
    "OverrideVpcConfig",
    "ScheduledUpdateConfig",
)


#: Stream prefix of HyperPod training-job logs in the cluster's log group.
HYPERPOD_STREAM_PREFIX = "SagemakerHyperPodTrainingJob"


class ClusterScalingError(AWSServiceError, ClientError):  # type: ignore[misc]
    """``UpdateCluster`` failed. Both an :class:`AWSServiceError` and a botocore ``ClientError``
    (the published API documents ``ClientError`` for ``scale_cluster``)."""

    def __init__(self, err: ClientError, hint: str) -> None:
        base = AWSServiceError.from_client_error(err, service="sagemaker", hint=hint)
        ClientError.__init__(self, err.response, err.operation_name)
        self.service, self.operation, self.code, self.request_id = (
            base.service,
            base.operation,
            base.code,
            base.request_id,
        )
        self.args = base.args

    def __str__(self) -> str:
        return str(self.args[0])


def _parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class SMHPRuntimeManager(InstanceCountMixin, RFTLambdaMixin, AWSChecksMixin, RuntimeManager):
    """Runs Nova jobs on a SageMaker HyperPod cluster.

    Args:
        instance_type: Instance type of the restricted instance group to run on.
        instance_count: Number of instances (nodes) for the job.
        cluster_name: HyperPod cluster name.
        namespace: Kubernetes namespace of the job.
        kms_key_id: KMS key for S3 objects the SDK writes.
        rft_lambda: Reward Lambda ARN or local ``.py`` file (RFT; the name must contain "SageMaker").
        region: AWS region (default: the environment's).

    Example:
        >>> infra = SMHPRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4,
        ...     cluster_name="my-hyperpod-cluster", namespace="default")
        >>> infra.instance_count
        4
    """

    platform: ClassVar[Platform] = Platform.SMHP
    instance_type: str
    capabilities: ClassVar[Capabilities] = Capabilities(
        batch_inference=True,
        mlflow=True,
        data_mixing=True,
        rft_multiturn=True,
        training_metrics_csv=True,
        batch_sample_tracing=True,
        log_needs_cluster=True,
        reads_checkpoints_of=frozenset({Platform.SMHP}),
        foreign_checkpoint_markers={"-smtj-": "SageMaker Training Jobs"},
    )

    @classmethod
    def log_location(cls, ref: JobRef) -> LogLocation:
        """The cluster's log group, filtered on the job name (``extras``: ``cluster_name``; optional
        ``log_group``, ``cluster_id`` or ``sagemaker_client`` to skip / answer the cluster lookup).

        Raises:
            ConfigError: No cluster name.
            AWSServiceError: ``DescribeCluster`` failed.
        """
        extras = ref.extras or {}
        group = extras.get("log_group")
        if not group:
            cluster = extras.get("cluster_name")
            if not cluster:
                raise ConfigError(f"SMHP job {ref.job_id!r}: pass cluster_name=... to read its logs.")
            cluster_id = extras.get("cluster_id")
            if not cluster_id:
                sm = extras.get("sagemaker_client") or client("sagemaker", ref.region)
                with aws_errors("sagemaker", f"while looking up HyperPod cluster {cluster!r}"):
                    cluster_id = sm.describe_cluster(ClusterName=cluster)["ClusterArn"].rsplit("/", 1)[-1]
            group = f"/aws/sagemaker/Clusters/{cluster}/{cluster_id}"
        return LogLocation(
            "cloudwatch_filter", str(group), stream_prefix=HYPERPOD_STREAM_PREFIX, term=ref.job_id, json_records=True
        )

    @classmethod
    def eval_output_location(cls, output_s3_path: str | None, job_id: str, extras: Mapping[str, Any]) -> str:
        """HyperPod evaluation results: ``<output>/<job>/eval-result/``."""
        return f"{(output_s3_path or '').rstrip('/')}/{job_id}/eval-result/"

    def __init__(
        self,
        instance_type: str,
        instance_count: int,
        cluster_name: str,
        namespace: str,
        kms_key_id: str | None = None,
        rft_lambda: str | None = None,
        *,
        region: str | None = None,
    ) -> None:
        if not isinstance(instance_type, str) or not instance_type.startswith("ml."):
            raise ConfigError(f"instance_type must look like 'ml.p5.48xlarge', got {instance_type!r}.")
        if not isinstance(cluster_name, str) or not _CLUSTER.match(cluster_name):
            raise ConfigError(f"Invalid HyperPod cluster name {cluster_name!r}.")
        if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
            raise ConfigError(
                f"Invalid Kubernetes namespace {namespace!r}: use lowercase letters, digits and '-' (max 63)."
            )
        self.instance_type = instance_type
        self.instance_count = instance_count
        self.cluster_name = cluster_name
        self.namespace = namespace
        self.kms_key_id = kms_key_id
        self.region = resolve_region(region)
        self.rft_lambda = rft_lambda
        self._outputs: dict[str, str] = {}

    def job_ref(self, job_id: str) -> JobRef:
        extras: dict[str, Any] = {"cluster_name": self.cluster_name, "namespace": self.namespace}
        if job_id in self._outputs:
            extras["output_s3_path"] = self._outputs[job_id]
        return JobRef(platform=self.platform, job_id=job_id, region=self.region, extras=extras)

    # ---- jobs ---------------------------------------------------------------------------------
    def execute(self, job_config: JobConfig) -> str:
        """Start the job on the cluster; returns the Kubernetes job name (the job id)."""
        if not job_config.image_uri:
            raise ConfigError(f"No container image for job {job_config.job_name!r}; the recipe has no image.")
        name = job_config.job_name.lower()
        spec = HyperPodJobSpec(
            job_name=name,
            cluster_name=self.cluster_name,
            namespace=self.namespace,
            region=self.region,
            image_uri=job_config.image_uri,
            recipe_yaml=storage.read_text(job_config.recipe_path),
            instance_type=self.instance_type,
            instance_count=self.instance_count,
            labels={"nova-forge/kind": job_config.job_kind},
        )
        job_id = get_launcher().start(spec)
        if job_config.output_s3_path:
            self._outputs[job_id] = job_config.output_s3_path
        return job_id

    def cleanup(self, job_name: str) -> None:
        """Cancel the job (a job that no longer exists is not an error)."""
        get_launcher().cancel(
            cluster_name=self.cluster_name, namespace=self.namespace, job_name=job_name, region=self.region
        )

    @classmethod
    def job_info(cls, ref: JobRef) -> JobInfo:
        st = get_launcher().status(
            cluster_name=str(ref.extras.get("cluster_name")),
            namespace=str(ref.extras.get("namespace") or "kubeflow"),
            job_name=ref.job_id,
            region=ref.region,
        )
        raw = str(st.get("raw") or "")
        return JobInfo(
            status=JobStatus.from_raw(raw),
            raw_status=raw,
            message=st.get("message"),
            started_at=_parse_time(st.get("started_at")),
            ended_at=_parse_time(st.get("ended_at")),
        )

    @classmethod
    def job_outputs(cls, ref: JobRef) -> JobOutputs:
        """Output path and checkpoint (``<output>/<job>/manifest.json``) of a finished job."""
        from amzn_nova_forge.manager._artifacts import checkpoint_from_manifest

        output = ref.extras.get("output_s3_path")
        checkpoint = None
        if output:
            import json

            try:
                manifest = json.loads(storage.read_text(storage.join(output, ref.job_id, "manifest.json")))
                checkpoint = checkpoint_from_manifest(manifest if isinstance(manifest, dict) else None)
            except (FileNotFoundError, ValueError):
                checkpoint = None
        return JobOutputs(output_s3_path=output, checkpoint_s3_path=checkpoint)

    # ---- cluster ------------------------------------------------------------------------------
    def _describe(self) -> dict[str, Any]:
        with aws_errors("sagemaker", f"while describing HyperPod cluster {self.cluster_name!r}"):
            return dict(client("sagemaker", self.region).describe_cluster(ClusterName=self.cluster_name))

    def get_instance_groups(self) -> list[dict[str, Any]]:
        """The cluster's restricted instance groups (printed, and returned).

        Returns:
            ``[{"InstanceGroupName", "InstanceType", "CurrentCount"}, ...]``.

        Example:
            >>> instance_groups = manager.get_instance_groups()  # doctest: +SKIP
        """
        groups = [
            {
                "InstanceGroupName": g.get("InstanceGroupName"),
                "InstanceType": g.get("InstanceType"),
                "CurrentCount": g.get("CurrentCount", 0),
            }
            for g in self._describe().get("RestrictedInstanceGroups") or []
        ]
        for g in groups:
            print(f"{g['InstanceGroupName']}: {g['InstanceType']} x {g['CurrentCount']}")
        return groups

    def scale_cluster(self, instance_group_name: str, target_instance_count: int) -> dict[str, Any]:
        """Scale one restricted instance group up or down (asynchronous: the cluster goes 'Updating').

        Returns:
            ``{"ClusterArn", "InstanceGroupName", "InstanceType", "PreviousCount", "TargetCount"}``.

        Raises:
            ValueError: Negative count, unknown group, or the cluster is not InService.
            ClientError: ``UpdateCluster`` failed (quota, capacity …); also an ``AWSServiceError``.

        Example:
            >>> manager.scale_cluster(  # doctest: +SKIP
            ...     instance_group_name="worker-group", target_instance_count=8)
        """
        if isinstance(target_instance_count, bool) or not isinstance(target_instance_count, int):
            raise ConfigError(f"target_instance_count must be an integer, got {target_instance_count!r}.")
        if target_instance_count < 0:
            raise ConfigError(f"target_instance_count must be non-negative, got {target_instance_count}.")
        cluster = self._describe()
        groups = cluster.get("RestrictedInstanceGroups") or []
        group = next((g for g in groups if g.get("InstanceGroupName") == instance_group_name), None)
        if group is None:
            names = [g.get("InstanceGroupName") for g in groups]
            raise ConfigError(
                f"Cluster {self.cluster_name!r} has no restricted instance group {instance_group_name!r}; "
                f"its groups are: {', '.join(map(str, names)) or 'none'}."
            )
        status = cluster.get("ClusterStatus")
        if status != "InService":
            raise ConfigError(
                f"Cluster {self.cluster_name!r} is {status}; scaling needs it InService. Try again later."
            )
        update: dict[str, Any] = {k: group[k] for k in _RIG_FIELDS if group.get(k) is not None}
        update["InstanceCount"] = target_instance_count
        env = group.get("EnvironmentConfig") or {}
        if env.get("FSxLustreConfig"):
            update["EnvironmentConfig"] = {"FSxLustreConfig": env["FSxLustreConfig"]}
        try:
            resp = client("sagemaker", self.region).update_cluster(
                ClusterName=self.cluster_name, RestrictedInstanceGroups=[update]
            )
        except ClientError as e:
            raise ClusterScalingError(
                e,
                f"while scaling {instance_group_name} to {target_instance_count}; check the service quota "
                f"'{group.get('InstanceType')} for cluster usage'",
            ) from e
        previous = group.get("CurrentCount", group.get("TargetCount", 0))
        logger.info(
            "Scaling %s/%s from %s to %s", self.cluster_name, instance_group_name, previous, target_instance_count
        )
        return {
            "ClusterArn": resp.get("ClusterArn", cluster.get("ClusterArn")),
            "InstanceGroupName": instance_group_name,
            "InstanceType": group.get("InstanceType"),
            "PreviousCount": previous,
            "TargetCount": target_instance_count,
        }

    def iam_requirements(self, job_config: JobConfig, account: str) -> list[tuple[str, str]]:
        return super().iam_requirements(job_config, account) + [
            ("sagemaker:DescribeCluster", f"arn:aws:sagemaker:{self.region}:{account}:cluster/*"),
            ("eks:DescribeCluster", f"arn:aws:eks:{self.region}:{account}:cluster/*"),
        ]

    def check_infra(self, job_config: JobConfig) -> list[str]:
        """Output bucket, input data, and a restricted instance group that fits the job."""
        return super().check_infra(job_config) + self.check_capacity()

    def check_capacity(self) -> list[str]:
        """Problems if no restricted instance group has ``instance_count`` x ``instance_type``."""
        groups = self._describe().get("RestrictedInstanceGroups") or []
        fits = [
            g
            for g in groups
            if g.get("InstanceType") == self.instance_type and int(g.get("CurrentCount") or 0) >= self.instance_count
        ]
        if fits:
            return []
        have = ", ".join(
            f"{g.get('InstanceGroupName')}={g.get('InstanceType')}x{g.get('CurrentCount')}" for g in groups
        )
        return [
            f"cluster {self.cluster_name!r} has no restricted instance group with {self.instance_count} x "
            f"{self.instance_type} (groups: {have or 'none'}); scale one with scale_cluster()"
        ]

    def __repr__(self) -> str:
        return (
            f"SMHPRuntimeManager(instance_type={self.instance_type!r}, instance_count={self.instance_count}, "
            f"cluster_name={self.cluster_name!r}, namespace={self.namespace!r})"
        )
