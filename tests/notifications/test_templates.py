"""The bundled CloudFormation templates: cfn-lint clean, and the resources the spec names."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import yaml

import amzn_nova_forge


class _Loader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags as plain data."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


_Loader.add_multi_constructor("!", _tag)

PKG = Path(amzn_nova_forge.__file__).parent
TEMPLATES = sorted([*PKG.glob("notifications/templates/*.yaml"), *PKG.glob("rft_multiturn/templates/*.yaml")])


def load(name: str) -> dict:
    text = resources.files("amzn_nova_forge.notifications").joinpath("templates", name).read_text()
    return yaml.load(text, Loader=_Loader)


def test_templates_are_package_data() -> None:
    names = {p.name for p in TEMPLATES}
    assert {"smtj_notifications.yaml", "smhp_notifications.yaml"} <= names


def test_cfn_lint_clean() -> None:
    """Every bundled template (notifications and RFT multiturn) passes cfn-lint (one run for all)."""
    exe = str(Path(sys.executable).parent / "cfn-lint")
    if not Path(exe).exists():
        exe = shutil.which("cfn-lint") or "cfn-lint"
    proc = subprocess.run(
        [exe, "--format", "parseable", *map(str, TEMPLATES)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_smtj_template_resources() -> None:
    res = load("smtj_notifications.yaml")["Resources"]
    table = res["JobTable"]["Properties"]
    assert table["TableName"] == "NovaForgeSDK-SMTJ-JobNotifications"
    assert table["KeySchema"] == [{"AttributeName": "job_id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert res["NotificationTopic"]["Properties"]["TopicName"] == "NovaForgeSDK-SMTJ-Notifications"
    fn = res["HandlerFunction"]["Properties"]
    assert (fn["FunctionName"], fn["Runtime"], fn["Timeout"]) == (
        "NovaForgeSDK-SMTJ-NotificationHandler",
        "python3.12",
        180,
    )
    rule = res["JobStateRule"]["Properties"]
    assert rule["Name"] == "NovaForgeSDK-SMTJ-Job-State-Change"
    assert rule["EventPattern"]["detail-type"] == ["SageMaker Training Job State Change"]
    assert rule["EventPattern"]["detail"]["TrainingJobStatus"] == ["Completed", "Failed", "Stopped"]


def test_smhp_template_resources() -> None:
    doc = load("smhp_notifications.yaml")
    res = doc["Resources"]
    table = res["JobTable"]["Properties"]
    assert table["TableName"] == {"Sub": "NovaForgeSDK-SMHP-JobNotifications-${ClusterName}"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert res["NotificationTopic"]["Properties"]["TopicName"] == {
        "Sub": "NovaForgeSDK-SMHP-Notifications-${ClusterName}"
    }
    fn = res["HandlerFunction"]["Properties"]
    assert fn["FunctionName"] == {"Sub": "NovaForgeSDK-SMHP-NotificationHandler-${ClusterName}"}
    assert (fn["Runtime"], fn["Timeout"], fn["MemorySize"]) == ("python3.12", 300, 512)
    assert fn["Layers"] == [{"Ref": "KubectlLayerArn"}]
    assert "VpcConfig" in fn
    assert res["JobCheckRule"]["Properties"]["Name"] == {"Sub": "NovaForgeSDK-SMHP-Job-Check-${ClusterName}"}
    assert doc["Parameters"]["PollingIntervalMinutes"]["Default"] == 5
    names = {k: v["Properties"]["Tags"][0]["Value"] for k, v in res.items() if v["Type"] == "AWS::EC2::VPCEndpoint"}
    assert names == {
        "DynamoDBEndpoint": {"Sub": "NovaForgeSDK-SMHP-DynamoDB-${ClusterName}"},
        "S3Endpoint": {"Sub": "NovaForgeSDK-SMHP-S3-${ClusterName}"},
        "SNSEndpoint": {"Sub": "NovaForgeSDK-SMHP-SNS-${ClusterName}"},
    }
    assert res["SNSEndpoint"]["Properties"]["VpcEndpointType"] == "Interface"
