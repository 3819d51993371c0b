"""IAM role creators against moto: the spec's examples, least privilege, idempotency."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from amzn_nova_forge.errors import AWSServiceError
from amzn_nova_forge.iam import iam_role_creator as roles

ACCT = "123456789012"

# Verbatim from api-spec.txt ("deploy()" section) and readme.txt (older package name).
SPEC_UTIL_BEDROCK = """
from amzn_nova_forge.util.bedrock import create_bedrock_execution_role

iam_client = boto3.client("iam")

create_bedrock_execution_role(
    iam_client=iam_client, 
    role_name="BedrockDeployModelExecutionRole",
    bedrock_resource="your-model-name", # Optional: Name of the bedrock resources that IAM role should have restricted create and get access to
    s3_resource="s3-bucket" # Optional: S3 resource that IAM role should have restricted read access to such as the training output bucket
)
"""
README_UTIL_BEDROCK = SPEC_UTIL_BEDROCK.replace(
    "amzn_nova_forge.util.bedrock", "amzn_nova_customization_sdk.util.bedrock"
)

# Verbatim from api-spec.txt ("IAM Role Creation SDK").
SPEC_BEDROCK = """
import boto3
from amzn_nova_forge.iam.iam_role_creator import create_bedrock_execution_role

iam_client = boto3.client("iam")
create_bedrock_execution_role(iam_client, "role-name", "bedrock_resource", "s3_resource")
"""

# Verbatim from api-spec.txt, except the closing parenthesis the spec's example leaves out.
SPEC_SAGEMAKER = '''
import boto3
from amzn_nova_forge.iam.iam_role_creator import create_sagemaker_execution_role

iam_client = boto3.client("iam")
create_sagemaker_execution_role(
        iam_client,
        role_name="role-name",
        s3_resource="example-bucket""",
        kms_resource="encryption-key",
        ec2_condition={
            "ArnLike": {
                "ec2:Vpc": "arn:aws:ec2:*:*:vpc/example"
            }
        },
        cloudwatch_metric_condition={
            "StringEquals": {
                "cloudwatch:namespace": ["example-namespace"]
            }
        },
        cloudwatch_loggroup_resource="example-loggroup",
        cloudwatch_logstream_resource="example-logstream"
)
'''

#: Statements whose actions have no resource-level permissions in IAM: "*" is the only valid resource.
UNSCOPABLE = {
    "EcrLoginHasNoResourceLevelPermissions",
    "DescribeNetworkHasNoResourceLevelPermissions",
    "ManageEndpointNetworkInterfaces",
    "PublishEndpointMetrics",
}


def _policy(iam, role_name: str) -> dict:
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == [f"{role_name}DeployPolicy"]
    arn = attached[0]["PolicyArn"]
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]


def _assert_least_privilege(doc: dict) -> None:
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all("*" not in a for a in actions), f"wildcard action in {st['Sid']}: {actions}"
        assert st["Effect"] == "Allow"
        if st["Sid"] not in UNSCOPABLE:
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            assert "*" not in res, f"{st['Sid']} is not scoped: {res}"


@pytest.fixture
def iam(aws):
    return boto3.client("iam", region_name="us-east-1")


def test_spec_util_bedrock_example_verbatim(iam):
    exec(SPEC_UTIL_BEDROCK, {"boto3": boto3})
    role = iam.get_role(RoleName="BedrockDeployModelExecutionRole")["Role"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCT}}
    doc = _policy(iam, "BedrockDeployModelExecutionRole")
    _assert_least_privilege(doc)
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ReadModelArtifacts"]["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert by_sid["ReadModelArtifacts"]["Resource"] == ["arn:aws:s3:::s3-bucket", "arn:aws:s3:::s3-bucket/*"]
    assert by_sid["CreateAndGetCustomModel"]["Resource"] == f"arn:aws:bedrock:*:{ACCT}:custom-model/your-model-name*"
    assert (
        f"arn:aws:bedrock:*:{ACCT}:provisioned-model/your-model-name*" in by_sid["CreateAndGetDeployments"]["Resource"]
    )


def test_readme_util_bedrock_example_verbatim(iam):
    exec(README_UTIL_BEDROCK, {"boto3": boto3})
    assert iam.get_role(RoleName="BedrockDeployModelExecutionRole")["Role"]["Arn"].endswith(
        "role/BedrockDeployModelExecutionRole"
    )


def test_spec_bedrock_positional_example_verbatim(iam):
    ns: dict = {}
    exec(SPEC_BEDROCK, ns)
    doc = _policy(iam, "role-name")
    _assert_least_privilege(doc)
    assert doc["Statement"][0]["Resource"] == ["arn:aws:s3:::s3_resource", "arn:aws:s3:::s3_resource/*"]


def test_spec_sagemaker_example(iam):
    exec(SPEC_SAGEMAKER, {})
    role = iam.get_role(RoleName="role-name")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    doc = _policy(iam, "role-name")
    _assert_least_privilege(doc)
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ReadModelArtifacts"]["Resource"] == ["arn:aws:s3:::example-bucket", "arn:aws:s3:::example-bucket/*"]
    assert by_sid["DecryptWithKey"]["Resource"] == f"arn:aws:kms:*:{ACCT}:key/encryption-key"
    assert by_sid["ManageEndpointNetworkInterfaces"]["Condition"] == {
        "ArnLike": {"ec2:Vpc": "arn:aws:ec2:*:*:vpc/example"}
    }
    assert by_sid["PublishEndpointMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["example-namespace"]}
    }
    assert by_sid["WriteEndpointLogGroups"]["Resource"] == [
        f"arn:aws:logs:*:{ACCT}:log-group:example-loggroup",
        f"arn:aws:logs:*:{ACCT}:log-group:example-loggroup:*",
    ]
    assert by_sid["WriteEndpointLogStreams"]["Resource"] == (
        f"arn:aws:logs:*:{ACCT}:log-group:example-loggroup:log-stream:example-logstream"
    )
    assert all(":repository/nova-inference-repo" in r for r in by_sid["PullNovaInferenceImage"]["Resource"])


def test_defaults_are_all_resources_without_conditions(iam):
    roles.create_sagemaker_execution_role(iam, "open-role")
    doc = _policy(iam, "open-role")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ReadModelArtifacts"]["Resource"] == "*"
    assert "Condition" not in by_sid["ManageEndpointNetworkInterfaces"]
    # no wildcard actions even when every resource is "*"
    assert all("*" not in a for s in doc["Statement"] for a in s["Action"])


def test_idempotent_and_versioned(iam):
    first = roles.create_bedrock_execution_role(iam, "r1", "m", "bucket-1")
    again = roles.create_bedrock_execution_role(iam, "r1", "m", "bucket-1")
    assert first["Role"]["Arn"] == again["Role"]["Arn"]
    arn = f"arn:aws:iam::{ACCT}:policy/r1DeployPolicy"
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 1  # same document: no new version
    for i in range(2, 8):
        roles.create_bedrock_execution_role(iam, "r1", "m", f"bucket-{i}")
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5  # the oldest was deleted each time the limit was reached
    assert _policy(iam, "r1")["Statement"][0]["Resource"][0] == "arn:aws:s3:::bucket-7"
    assert len(iam.list_attached_role_policies(RoleName="r1")["AttachedPolicies"]) == 1


def test_existing_role_keeps_its_trust_policy(iam):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="mine", AssumeRolePolicyDocument=json.dumps(trust))
    out = roles.create_bedrock_execution_role(iam, "mine", s3_resource="s3://b/prefix/")
    assert out["Role"]["AssumeRolePolicyDocument"] == trust
    assert _policy(iam, "mine")["Statement"][0]["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/prefix/*"]
    assert roles.managed_s3_resources(iam, out["Role"]) is None  # not SDK-managed: deploy won't touch it


def test_managed_s3_resources_reads_back_scope(iam):
    out = roles.create_sagemaker_execution_role(iam, "ours", s3_resource=["s3://a/x/", "b"])
    assert roles.managed_s3_resources(iam, out["Role"]) == ["s3://a/x/", "s3://b/"]


def test_access_denied_is_typed(aws):
    iam = boto3.client("iam", region_name="us-east-1")
    with Stubber(iam) as stub:  # moto does not enforce IAM permissions; stub the denial
        stub.add_client_error("get_role", "NoSuchEntity", http_status_code=404)
        stub.add_client_error("create_role", "AccessDenied", "not allowed to iam:CreateRole", 403)
        with pytest.raises(AWSServiceError) as ei:
            roles.create_bedrock_execution_role(iam, "denied")
    assert ei.value.code == "AccessDenied" and "iam:CreateRole" in str(ei.value)


def test_policy_documents_are_pure():
    doc = roles.bedrock_policy_document(ACCT, bedrock_resource=f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/x")
    assert doc["Statement"][1]["Resource"] == f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/x"
    sm = roles.sagemaker_policy_document(ACCT, kms_resource="alias/k", cloudwatch_loggroup_resource="g")
    by_sid = {s["Sid"]: s for s in sm["Statement"]}
    assert by_sid["DecryptWithKey"]["Resource"] == f"arn:aws:kms:*:{ACCT}:alias/k"
    assert by_sid["WriteEndpointLogStreams"]["Resource"] == f"arn:aws:logs:*:{ACCT}:log-group:g:log-stream:*"
