"""The RFT execution role names the resources it uses: no ``*`` where a narrower ARN is known."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from amzn_nova_forge.core.enums import VFEnvId
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.rft_multiturn._role import STAR_ONLY_ACTIONS, create_rft_execution_role, rft_policy_document

ACCOUNT = "123456789012"


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **st,
            "Action": [st["Action"]] if isinstance(st["Action"], str) else st["Action"],
            "Resource": [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"],
        }
        for st in doc["Statement"]
    ]


def assert_scoped(doc: dict[str, Any]) -> None:
    """Reject ``*`` resources except for actions that have no resource-level permissions."""
    for st in _statements(doc):
        for res in st["Resource"]:
            if res == "*":
                assert set(st["Action"]) <= STAR_ONLY_ACTIONS, f"{st['Sid']}: '*' for {st['Action']}"
                continue
            service, rest = res.split(":")[2], res.split(":", 5)[-1]
            assert res.split(":")[4] in ("", ACCOUNT), f"{res}: another account"
            if service == "s3":
                assert not rest.startswith("*") and "/" in rest, f"{st['Sid']}: every bucket ({res})"
            if service == "logs":
                assert not rest.startswith("log-group:*"), f"{st['Sid']}: every log group ({res})"
            if service == "ecr":
                assert not rest.endswith("repository/*"), f"{st['Sid']}: every repository ({res})"


def test_default_policy_is_scoped() -> None:
    doc = rft_policy_document("us-east-1", ACCOUNT)
    assert_scoped(doc)
    assert {st["Sid"] for st in doc["Statement"]} == {"Queues", "Tasks", "Logs"}  # LOCAL: no S3, no ECR
    logs = next(st for st in doc["Statement"] if st["Sid"] == "Logs")
    assert logs["Resource"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/*-NovaForgeSDK-SageMaker-rollout:*",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/nova-forge/rft/*-NovaForgeSDK:*",
    ]


def test_s3_and_ecr_statements_name_their_buckets_prefixes_and_repositories() -> None:
    doc = rft_policy_document(
        "us-west-2",
        ACCOUNT,
        s3_locations=["s3://my-bucket/nova-rft-sdk", "s3://my-bucket/envs/", "s3://kits"],
        ecr_repositories=["rft-worker", f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/other"],
    )
    assert_scoped(doc)
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    assert by_sid["WorkerCode"]["Action"] == "s3:GetObject"
    assert by_sid["WorkerCode"]["Resource"] == [
        "arn:aws:s3:::kits/*",
        "arn:aws:s3:::my-bucket/envs/*",
        "arn:aws:s3:::my-bucket/nova-rft-sdk/*",
    ]
    assert by_sid["ImagePull"]["Resource"] == [
        f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/other",
        f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/rft-worker",
    ]
    assert by_sid["RegistryLogin"] == {
        "Sid": "RegistryLogin",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }
    for bad in (["s3://*/x"], ["bucket/x"]):
        with pytest.raises(ConfigError, match="S3 location"):
            rft_policy_document("us-west-2", ACCOUNT, s3_locations=bad)
    with pytest.raises(ConfigError, match="ECR repository"):
        rft_policy_document("us-west-2", ACCOUNT, ecr_repositories=["*"])


def test_the_checker_rejects_the_old_wildcards() -> None:
    old = {
        "Statement": [
            {"Sid": "EnvironmentPackages", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::*"]},
        ]
    }
    with pytest.raises(AssertionError, match="every bucket"):
        assert_scoped(old)
    with pytest.raises(AssertionError, match="every log group"):
        assert_scoped(
            {"Statement": [{"Sid": "L", "Action": "logs:*", "Resource": "arn:aws:logs:r:123456789012:log-group:*"}]}
        )
    with pytest.raises(AssertionError, match="'\\*' for"):
        assert_scoped({"Statement": [{"Sid": "E", "Action": ["ecr:BatchGetImage"], "Resource": "*"}]})


def test_role_trust_is_conditioned_and_locations_accumulate(aws) -> None:
    create_rft_execution_role(region="us-east-1", s3_locations=["s3://b1/nova-rft-sdk"])
    create_rft_execution_role(region="us-east-1", s3_locations=["s3://b2/envs"])
    iam = boto3.client("iam")
    role = iam.get_role(RoleName="RFTExecutionRoleNovaSDK")["Role"]
    for st in role["AssumeRolePolicyDocument"]["Statement"]:
        assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        assert isinstance(st["Principal"]["Service"], str)  # one principal per statement
    doc = iam.get_role_policy(RoleName="RFTExecutionRoleNovaSDK", PolicyName="NovaForgeSDK-RFTMultiturn")
    policy = doc["PolicyDocument"] if isinstance(doc["PolicyDocument"], dict) else json.loads(doc["PolicyDocument"])
    assert_scoped(policy)
    code = next(st for st in policy["Statement"] if st["Sid"] == "WorkerCode")
    assert code["Resource"] == ["arn:aws:s3:::b1/nova-rft-sdk/*", "arn:aws:s3:::b2/envs/*"]


def test_ecs_setup_scopes_the_role_to_its_bucket_and_image(aws, home) -> None:
    from amzn_nova_forge import RFTMultiturnInfrastructure

    boto3.client("ecs", region_name="us-east-1").create_cluster(clusterName="c")
    boto3.client("s3").create_bucket(Bucket="team-bucket")
    infra = RFTMultiturnInfrastructure(
        stack_name="scoped",
        vf_env_id=VFEnvId.WORDLE,
        infrastructure_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
        vpc_config={"subnets": ["subnet-1"]},
        container_image=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/rft-worker:v3",
    )
    infra.setup(s3_bucket="team-bucket")
    policy = boto3.client("iam").get_role_policy(
        RoleName="RFTExecutionRoleNovaSDK", PolicyName="NovaForgeSDK-RFTMultiturn"
    )
    doc = (
        policy["PolicyDocument"] if isinstance(policy["PolicyDocument"], dict) else json.loads(policy["PolicyDocument"])
    )
    assert_scoped(doc)
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    assert by_sid["WorkerCode"]["Resource"] == [
        "arn:aws:s3:::team-bucket/nova-rft-custom-envs/*",
        "arn:aws:s3:::team-bucket/nova-rft-sdk/*",
    ]
    assert by_sid["ImagePull"]["Resource"] == [f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/rft-worker"]
    assert infra.sdk_s3_uri is not None and infra.sdk_s3_uri.startswith("s3://team-bucket/nova-rft-sdk/")
    with pytest.raises(ConfigError, match="s3_bucket must be a bucket name"):
        infra.setup(s3_bucket="s3://team-bucket")


def test_setup_rescopes_an_sdk_role_and_leaves_other_roles_alone(aws, home) -> None:
    from amzn_nova_forge import RFTMultiturnInfrastructure

    iam = boto3.client("iam")
    broad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "EnvironmentPackages", "Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::*"]}
        ],
    }
    for name in ("RFTExecutionRoleNovaSDK", "TeamRole"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    # A role made by an earlier SDK version (its inline policy) and a role the team manages.
    iam.put_role_policy(
        RoleName="RFTExecutionRoleNovaSDK", PolicyName="NovaForgeSDK-RFTMultiturn", PolicyDocument=json.dumps(broad)
    )
    iam.put_role_policy(RoleName="TeamRole", PolicyName="team", PolicyDocument=json.dumps(broad))
    RFTMultiturnInfrastructure(stack_name="old", python_venv_name="venv", vf_env_id=VFEnvId.WORDLE).setup()
    doc = iam.get_role_policy(RoleName="RFTExecutionRoleNovaSDK", PolicyName="NovaForgeSDK-RFTMultiturn")[
        "PolicyDocument"
    ]
    assert_scoped(doc)
    assert {st["Sid"] for st in doc["Statement"]} == {"Queues", "Tasks", "Logs"}
    RFTMultiturnInfrastructure(
        stack_name="team", python_venv_name="venv", vf_env_id=VFEnvId.WORDLE, rft_role_name="TeamRole"
    ).setup()
    assert iam.get_role_policy(RoleName="TeamRole", PolicyName="team")["PolicyDocument"] == broad
    assert iam.list_role_policies(RoleName="TeamRole")["PolicyNames"] == ["team"]
