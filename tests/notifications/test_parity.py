"""Official 1.4.10 notification signatures (rows NT3, NT4) next to the earlier forms, against moto."""

from __future__ import annotations

import inspect
from pathlib import Path

import boto3
import pytest

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError
from amzn_nova_forge.notifications import NotificationManager, SMHPNotificationManager, SMTJNotificationManager
from amzn_nova_forge.notifications._dispatch import PLATFORMS

from .test_smhp import _params, cluster  # noqa: F401 - the fixture is used by name

LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1"


def _item(table: str, job: str) -> dict:
    return boto3.client("dynamodb", region_name="us-east-1").get_item(TableName=table, Key={"job_id": {"S": job}})[
        "Item"
    ]


def test_base_signature_and_getters() -> None:
    params = list(inspect.signature(NotificationManager.__init__).parameters)
    assert params[:3] == ["self", "platform", "region"]
    smtj = SMTJNotificationManager("us-west-2")  # official positional form: (region)
    assert (smtj.region, smtj.platform) == ("us-west-2", Platform.SMTJ)
    assert smtj.get_stack_name() == "NovaForgeSDK-SMTJ-JobNotifications" == smtj.stack_name
    assert smtj.get_platform_name() == "SMTJ"
    path = smtj.get_template_path()
    assert (
        isinstance(path, Path) and path.name == "smtj_notifications.yaml" and path.read_text() == smtj.template_body()
    )
    smhp = SMHPNotificationManager("my-cluster", "us-east-1")
    assert smhp.get_stack_name() == "NovaForgeSDK-SMHP-JobNotifications-my-cluster"
    assert smhp.get_platform_name() == "SMHP" and smhp.get_template_path().name == "smhp_notifications.yaml"

    class Custom(NotificationManager):  # a subclass written against the official base
        template_file = "smtj_notifications.yaml"
        stack_name = table_name = topic_name = function_name = "custom"

        def _stack_parameters(self) -> dict[str, str]:
            return {}

    custom = Custom(Platform.SMTJ, "eu-west-2")
    assert (custom.platform, custom.region, custom.get_platform_name()) == (Platform.SMTJ, "eu-west-2", "SMTJ")
    with pytest.raises(ConfigError, match="platform must be Platform.SMTJ or Platform.SMHP"):
        Custom("ECS", "us-east-1")
    with pytest.raises(ConfigError, match="manages SMTJ notifications, not SMHP"):
        NotificationManager.__init__(smtj, Platform.SMHP)


def test_enable_notifications_job_name_and_job_id(aws) -> None:
    mgr = SMTJNotificationManager(region="us-east-1")
    # Official form (docs/user-guides/job_notifications.md)
    mgr.enable_notifications(
        job_name="existing-training-job", emails=["user@example.com"], output_s3_path="s3://bucket/output"
    )
    # Earlier form
    mgr.enable_notifications(job_id="older-job", emails=["user@example.com"], output_s3_path="s3://bucket/output")
    mgr.enable_notifications("positional-job", ["user@example.com"], "s3://bucket/output")
    table = "NovaForgeSDK-SMTJ-JobNotifications"
    for job in ("existing-training-job", "older-job", "positional-job"):
        assert _item(table, job)["output_s3_path"]["S"] == "s3://bucket/output"
    with pytest.raises(ConfigError, match="not both"):
        mgr.enable_notifications(job_name="a", job_id="b", emails=["user@example.com"])
    with pytest.raises(ConfigError, match="job_name is required"):
        mgr.enable_notifications(emails=["user@example.com"])
    with pytest.raises(ConfigError, match="Unknown SMTJ notification option"):
        mgr.enable_notifications("j", ["user@example.com"], "s3://b/o", route_table_ids=["rtb-1"])
    # kms_key_id as an enable_notifications option (official SMTJ signature)
    fresh = SMTJNotificationManager(region="us-west-2")
    fresh.enable_notifications("k", ["user@example.com"], "s3://b/o", kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab")
    assert fresh.kms_key_id == "1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(ConfigError, match="not an ARN"):
        fresh.enable_notifications("k", ["user@example.com"], "s3://b/o", kms_key_id="arn:aws:kms:x")


def test_smhp_official_form_with_route_tables_and_endpoint_switches(cluster) -> None:  # noqa: F811
    ec2 = boto3.client("ec2", region_name="us-east-1")
    extra = ec2.create_route_table(VpcId=cluster["vpc"])["RouteTable"]["RouteTableId"]
    smhp_manager = SMHPNotificationManager(cluster_name="my-hp-cluster", region="us-east-1")
    # Official form: platform options given to enable_notifications
    smhp_manager.enable_notifications(
        job_name="existing-pytorch-job",
        emails=["user@example.com"],
        output_s3_path="s3://bucket/output",
        namespace="kubeflow",
        kubectl_layer_arn=LAYER,
        route_table_ids=[cluster["route_table"], extra],
        create_dynamodb_endpoint=False,
    )
    params = _params()
    assert params["RouteTableIds"] == f"{cluster['route_table']},{extra}"
    assert (params["CreateDynamoDBEndpoint"], params["CreateS3Endpoint"]) == ("false", "true")
    item = _item("NovaForgeSDK-SMHP-JobNotifications-my-hp-cluster", "existing-pytorch-job")
    assert (item["namespace"]["S"], item["cluster_name"]["S"]) == ("kubeflow", "my-hp-cluster")
    # moto does not evaluate the template's list-parameter conditions, so which endpoints get
    # created is checked on the parameters above (the template itself: test_templates.py, cfn-lint).


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"route_table_ids": ["table-1"]}, r"route_table_ids must be a non-empty list of 'rtb-...' ids"),
        ({"route_table_ids": "rtb-1"}, "route_table_ids must be a non-empty list"),
        ({"create_s3_endpoint": "no"}, "create_s3_endpoint must be True or False"),
        ({"subnet_ids": []}, "subnet_ids must be a non-empty list"),
        ({"vpc_id": "10.0.0.0/16"}, r"vpc_id must be a VPC id"),
        ({"polling": 5}, "Unknown SMHP notification option"),
    ],
)
def test_smhp_options_are_checked(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SMHPNotificationManager("c").enable_notifications("j", ["user@example.com"], "s3://b/o", "ns", **options)
    if "polling" not in options:  # the constructor checks them the same way
        with pytest.raises(ConfigError, match=message):
            SMHPNotificationManager("c", **options)


def test_result_accepts_the_new_smhp_options(cluster, smhp_result) -> None:  # noqa: F811
    smhp_result.enable_job_notifications(
        emails=["user@example.com"],
        namespace="kubeflow",
        kubectl_layer_arn=LAYER,
        route_table_ids=[cluster["route_table"]],
        create_s3_endpoint=False,
    )
    params = _params()
    assert params["RouteTableIds"] == cluster["route_table"] and params["CreateS3Endpoint"] == "false"


def test_dispatch_is_a_table() -> None:
    from types import SimpleNamespace

    from amzn_nova_forge.notifications._dispatch import enable_for_result

    assert set(PLATFORMS) == {Platform.SMTJ, Platform.SMHP}
    assert "route_table_ids" in PLATFORMS[Platform.SMHP][0] and PLATFORMS[Platform.SMTJ][0] == {"kms_key_id"}
    bedrock = SimpleNamespace(platform="BEDROCK", job_id="j", region="us-east-1")
    with pytest.raises(UnsupportedFeatureError, match="SMTJ and SMHP jobs only, not BEDROCK"):
        enable_for_result(bedrock, ["user@example.com"])
