"""SMHP notifications end to end against moto: the spec's examples, verbatim.

moto's ``sagemaker:DescribeCluster`` drops the ``Orchestrator`` field, so an ``after-call``
hook on the SDK's own client adds it back (as AWS returns it); everything else is moto.
"""

from __future__ import annotations

import ast
import time

import boto3
import pytest

from amzn_nova_forge import SMHPNotificationManager
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.notifications._smhp import cluster_suffix

from .conftest import cached_client

EKS_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/hp-eks"
STACK = "NovaForgeSDK-SMHP-JobNotifications-my-hp-cluster"


@pytest.fixture
def cluster(aws):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    sg = ec2.create_security_group(GroupName="hp", Description="hp", VpcId=vpc)["GroupId"]
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rt, SubnetId=subnets[0])
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks = boto3.client("eks", region_name="us-east-1")
    for name in ("hp-eks", "my-cluster"):
        eks.create_cluster(name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subnets, "securityGroupIds": [sg]})
    boto3.client("sagemaker", region_name="us-east-1").create_cluster(
        ClusterName="my-hp-cluster",
        InstanceGroups=[
            {
                "InstanceGroupName": "workers",
                "InstanceType": "ml.p5.48xlarge",
                "InstanceCount": 1,
                "ThreadsPerCore": 1,
                "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/scripts", "OnCreate": "on_create.sh"},
                "ExecutionRole": role,
            }
        ],
        VpcConfig={"SecurityGroupIds": [sg], "Subnets": subnets},
    )

    def add_orchestrator(parsed, **kwargs):  # moto drops this field
        parsed["Orchestrator"] = {"Eks": {"ClusterArn": EKS_ARN}}

    cached_client("sagemaker").meta.events.register("after-call.sagemaker.DescribeCluster", add_orchestrator)
    return {"vpc": vpc, "subnets": subnets, "sg": sg, "route_table": rt}


def _params() -> dict[str, str]:
    stack = boto3.client("cloudformation", region_name="us-east-1").describe_stacks(StackName=STACK)["Stacks"][0]
    out = {}
    for p in stack["Parameters"]:
        value = p["ParameterValue"]
        if value.startswith("["):  # moto echoes list parameters as a Python list repr
            value = ",".join(ast.literal_eval(value))
        out[p["ParameterKey"]] = value
    return out


def test_spec_basic_usage_with_auto_detection(cluster, smhp_result) -> None:
    result = smhp_result
    # --- spec example, verbatim ---
    result.enable_job_notifications(
        emails=["user@example.com"],
        namespace="kubeflow",  # Required
        kubectl_layer_arn="arn:aws:lambda:<region>:123456789012:layer:kubectl:1",  # Required
    )
    params = _params()
    assert params["EksClusterArn"] == EKS_ARN and params["EksClusterName"] == "hp-eks"
    assert params["VpcId"] == cluster["vpc"]
    assert params["SubnetIds"] == ",".join(cluster["subnets"])
    assert params["SecurityGroupId"] == cluster["sg"]
    assert cluster["route_table"] in params["RouteTableIds"]
    assert params["CreateDynamoDBEndpoint"] == params["CreateS3Endpoint"] == "true"
    assert params["EksClusterEndpoint"].startswith("https://")
    assert params["PollingIntervalMinutes"] == "5"

    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="NovaForgeSDK-SMHP-JobNotifications-my-hp-cluster", Key={"job_id": {"S": "my-job-hp1"}}
    )["Item"]
    assert item["namespace"]["S"] == "kubeflow"
    assert item["output_s3_path"]["S"] == "s3://my-bucket/output"
    ttl_days = (int(item["ttl"]["N"]) - time.time()) / 86400
    assert 29.9 < ttl_days <= 30.0  # registrations expire 30 days after the job was registered
    fn = boto3.client("lambda", region_name="us-east-1").get_function_configuration(
        FunctionName="NovaForgeSDK-SMHP-NotificationHandler-my-hp-cluster"
    )
    assert (fn["Timeout"], fn["MemorySize"]) == (300, 512)
    assert fn["VpcConfig"]["SubnetIds"] == cluster["subnets"]
    assert fn["Environment"]["Variables"]["CLUSTER_NAME"] == "my-hp-cluster"
    rule = boto3.client("events", region_name="us-east-1").describe_rule(
        Name="NovaForgeSDK-SMHP-Job-Check-my-hp-cluster"
    )
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    subs = boto3.client("sns", region_name="us-east-1").list_subscriptions_by_topic(
        TopicArn="arn:aws:sns:us-east-1:123456789012:NovaForgeSDK-SMHP-Notifications-my-hp-cluster"
    )["Subscriptions"]
    assert [s["Endpoint"] for s in subs] == ["user@example.com"]


def test_spec_polling_interval(cluster, smhp_result) -> None:
    result = smhp_result
    # --- spec example, verbatim ---
    result.enable_job_notifications(
        emails=["user@example.com"],
        namespace="kubeflow",
        kubectl_layer_arn="arn:aws:lambda:<region>:123456789012:layer:kubectl:1",
        polling_interval_minutes=10,  # Check every 10 minutes instead of default 5
    )
    rule = boto3.client("events", region_name="us-east-1").describe_rule(
        Name="NovaForgeSDK-SMHP-Job-Check-my-hp-cluster"
    )
    assert rule["ScheduleExpression"] == "rate(10 minutes)"


def test_spec_explicit_vpc(cluster, smhp_result, monkeypatch) -> None:
    # The example's ids must exist for the VPC endpoint to be created (as on AWS): give moto's
    # next VPC, subnets and security group those ids (moto internals, patched for this test only).
    import moto.ec2.models.security_groups as moto_sgs
    import moto.ec2.models.subnets as moto_subnets
    import moto.ec2.models.vpcs as moto_vpcs

    ec2 = boto3.client("ec2", region_name="us-east-1")
    with monkeypatch.context() as m:
        m.setattr(moto_vpcs, "random_vpc_id", lambda: "vpc-12345")
        ec2.create_vpc(CidrBlock="10.1.0.0/16")
    for sid, cidr in (("subnet-1", "10.1.1.0/24"), ("subnet-2", "10.1.2.0/24")):
        with monkeypatch.context() as m:
            m.setattr(moto_subnets, "random_subnet_id", lambda sid=sid: sid)
            ec2.create_subnet(VpcId="vpc-12345", CidrBlock=cidr)
    with monkeypatch.context() as m:
        m.setattr(moto_sgs, "random_security_group_id", lambda: "sg-12345")
        ec2.create_security_group(GroupName="lambda", Description="lambda", VpcId="vpc-12345")
    result = smhp_result
    # --- spec example, verbatim ---
    result.enable_job_notifications(
        emails=["user@example.com"],
        namespace="kubeflow",
        kubectl_layer_arn="arn:aws:lambda:<region>:123456789012:layer:kubectl:1",
        eks_cluster_arn="arn:aws:eks:<region>:123456789012:cluster/my-cluster",
        vpc_id="vpc-12345",
        subnet_ids=["subnet-1", "subnet-2"],
        security_group_id="sg-12345",
    )
    params = _params()
    assert params["VpcId"] == "vpc-12345"
    assert params["SubnetIds"] == "subnet-1,subnet-2"
    assert params["SecurityGroupId"] == "sg-12345"
    assert params["EksClusterName"] == "my-cluster"
    # The new VPC's main route table serves the unassociated subnets.
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": ["vpc-12345"]}])["RouteTables"]
    assert params["RouteTableIds"] == main[0]["RouteTableId"]


def test_existing_gateway_endpoints_not_recreated(cluster) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.create_vpc_endpoint(
        VpcId=cluster["vpc"],
        ServiceName="com.amazonaws.us-east-1.dynamodb",
        VpcEndpointType="Gateway",
        RouteTableIds=[cluster["route_table"]],
    )
    SMHPNotificationManager(
        "my-hp-cluster", kubectl_layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1"
    ).enable_notifications("j", ["user@example.com"], "s3://b/o", namespace="kubeflow")
    params = _params()
    assert params["CreateDynamoDBEndpoint"] == "false" and params["CreateS3Endpoint"] == "true"


def test_stack_per_cluster_reused(cluster) -> None:
    mgr = SMHPNotificationManager(
        "my-hp-cluster", kubectl_layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1"
    )
    assert mgr.enable_notifications("j1", ["a@example.com"], "s3://b/o", namespace="ns")["created_stack"] is True
    # The layer is only needed to create the stack.
    again = SMHPNotificationManager("my-hp-cluster").enable_notifications(
        "j2", ["a@example.com"], "s3://b/o", namespace="ns"
    )
    assert again["created_stack"] is False and again["subscribed"] == []
    mgr.delete_notification_stack()
    assert mgr.stack_status() is None


def test_missing_required_parameters(cluster, smhp_result) -> None:
    with pytest.raises(ConfigError, match="kubectl_layer_arn is required"):
        smhp_result.enable_job_notifications(emails=["user@example.com"], namespace="kubeflow")
    with pytest.raises(ConfigError, match="polling_interval_minutes"):
        smhp_result.enable_job_notifications(
            emails=["user@example.com"],
            kubectl_layer_arn="arn:aws:lambda:us-east-1:1:layer:k:1",
            polling_interval_minutes=0,
        )
    with pytest.raises(ConfigError, match="namespace is required"):
        SMHPNotificationManager("c", kubectl_layer_arn="arn:aws:lambda:us-east-1:1:layer:k:1").enable_notifications(
            "j", ["user@example.com"], "s3://b/o"
        )
    assert boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"] == []


def test_namespace_defaults_to_the_results(cluster, smhp_result) -> None:
    smhp_result.extras["namespace"] = "team-b"
    smhp_result.enable_job_notifications(
        emails=["user@example.com"], kubectl_layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1"
    )
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="NovaForgeSDK-SMHP-JobNotifications-my-hp-cluster", Key={"job_id": {"S": "my-job-hp1"}}
    )["Item"]
    assert item["namespace"]["S"] == "team-b"


def test_long_cluster_names_are_shortened_stably() -> None:
    long = "a-very-long-hyperpod-cluster-name-for-prod"
    s = cluster_suffix(long)
    assert len(s) <= 26 and s == cluster_suffix(long) and s != cluster_suffix(long + "x")
    assert cluster_suffix("short") == "short"
    assert len(f"NovaForgeSDK-SMHP-NotificationHandler-{s}") <= 64
