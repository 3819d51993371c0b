"""``SMHPNotificationManager``: notifications for HyperPod jobs (one stack per cluster per region).

The stack's Lambda runs inside the cluster's VPC with the kubectl layer and polls the
PyTorchJobs on a schedule. Whatever is not given (EKS cluster, VPC, subnets, security
group, route tables) is detected from ``sagemaker:DescribeCluster``, ``eks:DescribeCluster``
and EC2; gateway endpoints that already exist in the VPC are not created again.

After the stack is created, grant its Lambda role access to the EKS cluster (an EKS access
entry); the log message and the stack output ``RoleArn`` give the exact role.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from amzn_nova_forge.core.aws import client
from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import ConfigError, NotificationManagerInfraError
from amzn_nova_forge.notifications._base import NotificationManager

__all__ = ["SMHPNotificationManager", "cluster_suffix"]

logger = logging.getLogger(__name__)

#: Longest cluster name used verbatim in resource names (Lambda and role names are capped at 64).
MAX_SUFFIX = 26


def cluster_suffix(cluster_name: str) -> str:
    """The cluster's name in resource names; names over 26 characters are shortened with a hash."""
    if len(cluster_name) <= MAX_SUFFIX:
        return cluster_name
    digest = hashlib.sha1(cluster_name.encode()).hexdigest()[:6]
    return f"{cluster_name[: MAX_SUFFIX - 7].rstrip('-')}-{digest}"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _ids(prefix: str) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, str) or not value or not all(isinstance(v, str) and v.startswith(prefix) for v in value):
            return f"must be a non-empty list of '{prefix}...' ids"
        return None

    return check


#: HyperPod option -> check (returns the problem, or None when the value is fine).
_OPTION_CHECKS: dict[str, Any] = {
    "kubectl_layer_arn": lambda v: None if isinstance(v, str) and ":layer:" in v else "must be a Lambda layer ARN",
    "eks_cluster_arn": lambda v: None if isinstance(v, str) and ":eks:" in v else "must be an EKS cluster ARN",
    "vpc_id": lambda v: None if isinstance(v, str) and v.startswith("vpc-") else "must be a VPC id (vpc-...)",
    "subnet_ids": _ids("subnet-"),
    "security_group_id": lambda v: (
        None if isinstance(v, str) and v.startswith("sg-") else "must be a security group id"
    ),
    "route_table_ids": _ids("rtb-"),
    "create_dynamodb_endpoint": lambda v: None if isinstance(v, bool) else "must be True or False",
    "create_s3_endpoint": lambda v: None if isinstance(v, bool) else "must be True or False",
    "polling_interval_minutes": lambda v: (
        None
        if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1440
        else "must be an integer from 1 to 1440"
    ),
}


class SMHPNotificationManager(NotificationManager):
    """Creates and uses ``NovaForgeSDK-SMHP-JobNotifications-{ClusterName}``.

    Args:
        cluster_name: The HyperPod cluster the jobs run on.
        region: Region of the cluster and the infrastructure.
        kubectl_layer_arn: ARN of the lambda-kubectl layer (needed to create the stack).
        eks_cluster_arn: EKS cluster ARN (detected from the HyperPod cluster when omitted).
        vpc_id: VPC of the Lambda (detected from the subnets when omitted).
        subnet_ids: Subnets of the Lambda (the cluster's when omitted).
        security_group_id: Security group of the Lambda (the cluster's when omitted).
        route_table_ids: Route tables for the DynamoDB/S3 gateway endpoints (the subnets' when omitted).
        create_dynamodb_endpoint: Create a DynamoDB gateway endpoint (skipped anyway when the VPC has one).
        create_s3_endpoint: Create an S3 gateway endpoint (skipped anyway when the VPC has one).
        polling_interval_minutes: How often job states are checked (default 5).
        kms_key_id: Customer KMS key id (not ARN) to encrypt the topic.

    Example:
        >>> mgr = SMHPNotificationManager("my-cluster", kubectl_layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1")  # doctest: +SKIP
        >>> mgr.enable_notifications("my-job", ["me@example.com"], "s3://bucket/out", namespace="kubeflow")  # doctest: +SKIP
    """

    default_platform: ClassVar[Platform] = Platform.SMHP
    template_file: ClassVar[str] = "smhp_notifications.yaml"

    def __init__(
        self,
        cluster_name: str,
        region: str | None = "us-east-1",
        *,
        kubectl_layer_arn: str | None = None,
        eks_cluster_arn: str | None = None,
        vpc_id: str | None = None,
        subnet_ids: Sequence[str] | None = None,
        security_group_id: str | None = None,
        route_table_ids: Sequence[str] | None = None,
        create_dynamodb_endpoint: bool = True,
        create_s3_endpoint: bool = True,
        polling_interval_minutes: int = 5,
        kms_key_id: str | None = None,
    ) -> None:
        super().__init__(Platform.SMHP, region, kms_key_id)
        if not cluster_name or not isinstance(cluster_name, str):
            raise ConfigError("cluster_name is required for HyperPod notifications.")
        self.cluster_name = cluster_name
        self.suffix = cluster_suffix(cluster_name)
        self.kubectl_layer_arn: str | None = None
        self.eks_cluster_arn: str | None = None
        self.vpc_id: str | None = None
        self.subnet_ids: list[str] | None = None
        self.security_group_id: str | None = None
        self.route_table_ids: list[str] | None = None
        self.create_dynamodb_endpoint = True
        self.create_s3_endpoint = True
        self.polling_interval_minutes = 5
        self._apply_options(
            kubectl_layer_arn=kubectl_layer_arn,
            eks_cluster_arn=eks_cluster_arn,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            security_group_id=security_group_id,
            route_table_ids=route_table_ids,
            create_dynamodb_endpoint=create_dynamodb_endpoint,
            create_s3_endpoint=create_s3_endpoint,
            polling_interval_minutes=polling_interval_minutes,
        )

    def _apply_options(self, **options: Any) -> None:
        """Validate and set the HyperPod options that are given (``None`` leaves a setting as it is)."""
        known = {f for f in _OPTION_CHECKS}
        unknown = sorted(set(options) - known - {"kms_key_id"})
        if unknown:
            raise ConfigError(
                f"Unknown SMHP notification option(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(known | {'kms_key_id'}))}."
            )
        self._set_kms_key(options.get("kms_key_id"))
        for name, check in _OPTION_CHECKS.items():
            value = options.get(name)
            if value is None:
                continue
            problem = check(value)
            if problem:
                raise ConfigError(f"{name} {problem}, got {value!r}.")
            setattr(self, name, list(value) if name in ("subnet_ids", "route_table_ids") else value)

    @property
    def stack_name(self) -> str:
        return f"NovaForgeSDK-SMHP-JobNotifications-{self.suffix}"

    @property
    def table_name(self) -> str:
        return f"NovaForgeSDK-SMHP-JobNotifications-{self.suffix}"

    @property
    def topic_name(self) -> str:
        return f"NovaForgeSDK-SMHP-Notifications-{self.suffix}"

    @property
    def function_name(self) -> str:
        return f"NovaForgeSDK-SMHP-NotificationHandler-{self.suffix}"

    @property
    def rule_name(self) -> str:
        return f"NovaForgeSDK-SMHP-Job-Check-{self.suffix}"

    def _item_extras(self, namespace: str | None) -> dict[str, Any]:
        if not namespace:
            raise ConfigError("namespace is required for HyperPod notifications (e.g. namespace='kubeflow').")
        return {"namespace": {"S": str(namespace)}, "cluster_name": {"S": self.cluster_name}}

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
        """See :meth:`NotificationManager.enable_notifications`; ``namespace`` is required here.

        Example:
            >>> SMHPNotificationManager(cluster_name="my-cluster").enable_notifications(
            ...     job_name="existing-pytorch-job", emails=["user@example.com"],
            ...     output_s3_path="s3://bucket/output", namespace="kubeflow",
            ...     kubectl_layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1")  # doctest: +SKIP
        """
        info = super().enable_notifications(
            job_name,
            emails,
            output_s3_path,
            namespace,
            job_id=job_id,
            validate_output=validate_output,
            **platform_kwargs,
        )
        if info["created_stack"]:
            role = self.stack_outputs().get("RoleArn", "")
            logger.warning(
                "Grant the notification Lambda access to your EKS cluster, e.g.: aws eks create-access-entry "
                "--cluster-name %s --principal-arn %s && aws eks associate-access-policy --cluster-name %s "
                "--principal-arn %s --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy "
                "--access-scope type=cluster",
                self._eks_name(),
                role,
                self._eks_name(),
                role,
            )
        return info

    # ---- detection --------------------------------------------------------------------------
    def _eks_name(self) -> str:
        return (self.eks_cluster_arn or "").rsplit("/", 1)[-1]

    def _stack_parameters(self) -> dict[str, str]:
        from botocore.exceptions import ClientError

        if not self.kubectl_layer_arn:
            raise ConfigError(
                "kubectl_layer_arn is required to create the HyperPod notification stack: deploy the "
                "'lambda-layer-kubectl' application from the AWS Serverless Application Repository and pass "
                "its layer ARN."
            )
        try:
            self._detect_network()
            eks = client("eks", self.region).describe_cluster(name=self._eks_name())["cluster"]
            route_tables = self.route_table_ids or self._route_tables()
            existing = self._existing_endpoints()
        except ClientError as e:
            raise self._infra_error("detect cluster network", e) from e
        return {
            "ClusterName": self.suffix,
            "HyperPodClusterName": self.cluster_name,
            "EksClusterName": self._eks_name(),
            "EksClusterArn": str(self.eks_cluster_arn),
            "EksClusterEndpoint": str(eks.get("endpoint") or ""),
            "EksCertificateAuthority": str((eks.get("certificateAuthority") or {}).get("data") or ""),
            "VpcId": str(self.vpc_id),
            "SubnetIds": ",".join(self.subnet_ids or []),
            "SecurityGroupId": str(self.security_group_id),
            "RouteTableIds": ",".join(route_tables),
            "CreateDynamoDBEndpoint": _flag(self.create_dynamodb_endpoint and "dynamodb" not in existing),
            "CreateS3Endpoint": _flag(self.create_s3_endpoint and "s3" not in existing),
            "CreateSNSEndpoint": "false" if "sns" in existing else "true",
            "KubectlLayerArn": self.kubectl_layer_arn,
            "PollingIntervalMinutes": str(self.polling_interval_minutes),
            "KmsKeyId": self.kms_key_id or "",
        }

    def _detect_network(self) -> None:
        """Fill eks_cluster_arn, subnet_ids, security_group_id and vpc_id from the cluster."""
        if self.eks_cluster_arn is None or self.subnet_ids is None or self.security_group_id is None:
            from botocore.exceptions import ClientError

            try:
                desc = client("sagemaker", self.region).describe_cluster(ClusterName=self.cluster_name)
            except ClientError as e:
                raise NotificationManagerInfraError(
                    f"Could not describe HyperPod cluster {self.cluster_name!r} in {self.region} ({e}). "
                    "Pass eks_cluster_arn, subnet_ids and security_group_id explicitly."
                ) from e
            self.eks_cluster_arn = self.eks_cluster_arn or ((desc.get("Orchestrator") or {}).get("Eks") or {}).get(
                "ClusterArn"
            )
            vpc = desc.get("VpcConfig") or {}
            self.subnet_ids = self.subnet_ids or list(vpc.get("Subnets") or [])
            self.security_group_id = self.security_group_id or next(iter(vpc.get("SecurityGroupIds") or []), None)
        if not self.eks_cluster_arn:
            raise ConfigError(
                f"HyperPod cluster {self.cluster_name!r} has no EKS orchestrator; pass eks_cluster_arn explicitly."
            )
        if not self.subnet_ids or not self.security_group_id:
            eks = client("eks", self.region).describe_cluster(name=self._eks_name())["cluster"]
            cfg = eks.get("resourcesVpcConfig") or {}
            self.subnet_ids = self.subnet_ids or list(cfg.get("subnetIds") or [])
            self.security_group_id = (
                self.security_group_id
                or cfg.get("clusterSecurityGroupId")
                or next(iter(cfg.get("securityGroupIds") or []), None)
            )
        if not self.subnet_ids or not self.security_group_id:
            raise ConfigError(
                f"Could not detect the subnets and security group of {self.cluster_name!r}; "
                "pass subnet_ids and security_group_id."
            )
        if self.vpc_id is None:
            subnets = client("ec2", self.region).describe_subnets(SubnetIds=self.subnet_ids)["Subnets"]
            self.vpc_id = subnets[0]["VpcId"]

    def _route_tables(self) -> list[str]:
        ec2 = client("ec2", self.region)
        found: list[str] = []
        unassociated = False
        for subnet in self.subnet_ids or []:
            tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])
            ids = [t["RouteTableId"] for t in tables.get("RouteTables", [])]
            unassociated = unassociated or not ids
            found.extend(i for i in ids if i not in found)
        if unassociated:
            main = ec2.describe_route_tables(
                Filters=[
                    {"Name": "vpc-id", "Values": [str(self.vpc_id)]},
                    {"Name": "association.main", "Values": ["true"]},
                ]
            )
            found.extend(t["RouteTableId"] for t in main.get("RouteTables", []) if t["RouteTableId"] not in found)
        return found

    def _existing_endpoints(self) -> set[str]:
        """Which of dynamodb, s3 and sns already have an endpoint in the VPC."""
        ec2 = client("ec2", self.region)
        have: set[str] = set()
        for svc in ("dynamodb", "s3", "sns"):
            resp = ec2.describe_vpc_endpoints(
                Filters=[
                    {"Name": "vpc-id", "Values": [str(self.vpc_id)]},
                    {"Name": "service-name", "Values": [f"com.amazonaws.{self.region}.{svc}"]},
                ]
            )
            if any(
                ep.get("State", "available").lower() not in ("deleted", "deleting", "failed")
                for ep in resp.get("VpcEndpoints", [])
            ):
                have.add(svc)
        return have
