"""The IAM the SDK creates: no "*" resource where a narrower ARN is known; trust always carries aws:SourceAccount.

Every role the SDK creates (the deploy roles created by a deploy, and the public helpers)
is checked on the *CreateRole request itself* — its first trust-policy version — and no
``UpdateAssumeRolePolicy`` is ever sent. The policy check allows ``"*"`` only for actions
that have no resource-level permissions in IAM.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest

from amzn_nova_forge.core.enums import DeployPlatform, Model, TrainingMethod
from amzn_nova_forge.deployer import ForgeDeployer, InferenceComponentConfig
from amzn_nova_forge.iam import (
    create_bedrock_batch_inference_execution_role,
    create_bedrock_execution_role,
    create_sagemaker_execution_role,
    create_sagemaker_invoke_role,
    create_smtj_dataprep_execution_role,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "model"))  # the shared deploy test double
from deployfakes import ACCT, FakeAWS

#: Actions IAM cannot scope to a resource: "*" is the only valid resource for them.
NO_RESOURCE_LEVEL = {
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
}


class Recorder:
    """Captures CreateRole / CreatePolicy / UpdateAssumeRolePolicy requests (moto still answers them)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []

    def __call__(self, params, model, **_):
        if model.service_model.service_name == "iam":
            self.requests.append((model.name, dict(params)))

    def roles(self) -> list[dict]:
        return [p for op, p in self.requests if op == "CreateRole"]

    def policies(self) -> list[dict]:
        docs = [
            json.loads(p["PolicyDocument"]) for op, p in self.requests if op in ("CreatePolicy", "CreatePolicyVersion")
        ]
        assert docs, "no policy was created"
        return docs


def assert_scoped(doc: dict, *, must_name: tuple[str, ...] = ()) -> None:
    """No wildcard action; "*" resources only for actions without resource-level permissions."""
    text = json.dumps(doc)
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all("*" not in a for a in actions), st
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if "*" in resources:
            assert set(actions) <= NO_RESOURCE_LEVEL, f"{st.get('Sid')} grants {actions} on '*'"
        for r in resources:
            assert r == "*" or r.startswith("arn:"), r
            if r.startswith(("arn:aws:bedrock", "arn:aws:logs", "arn:aws:kms", "arn:aws:sagemaker")):
                assert f":{ACCT}:" in r, f"{r} is not limited to the account"
    for name in must_name:
        assert name in text, f"{name} not named in the policy"


def assert_trust_first_version(recorder: Recorder, principals: set[str]) -> None:
    created = recorder.roles()
    assert created, "no role was created"
    for params in created:
        trust = json.loads(params["AssumeRolePolicyDocument"])
        for st in trust["Statement"]:
            assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCT}}, params["RoleName"]
            assert st["Principal"]["Service"] in principals
    assert not [op for op, _ in recorder.requests if op == "UpdateAssumeRolePolicy"]


@pytest.fixture
def fake(aws, monkeypatch):
    return FakeAWS().install(monkeypatch)


@pytest.fixture
def recorder(fake):
    from amzn_nova_forge.core import aws as aws_factory

    rec = Recorder()
    aws_factory.session("us-east-1").events.register("before-parameter-build.iam", rec)
    return rec


@pytest.mark.parametrize("platform", [DeployPlatform.BEDROCK_OD, DeployPlatform.SAGEMAKER])
def test_roles_a_deploy_creates_are_scoped_and_trust_this_account_from_the_start(fake, recorder, platform):
    deployer = ForgeDeployer(region="us-east-1", model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA)
    deployer.deploy("s3://escrow-bucket/run-7/ckpt/", platform, endpoint_name="scoped", poll_interval=0.0)
    principal = "bedrock.amazonaws.com" if platform is DeployPlatform.BEDROCK_OD else "sagemaker.amazonaws.com"
    assert_trust_first_version(recorder, {principal})
    (doc,) = recorder.policies()
    assert_scoped(doc, must_name=("arn:aws:s3:::escrow-bucket/run-7/ckpt/*",))
    sids = {s["Sid"] for s in doc["Statement"]}
    if platform is DeployPlatform.SAGEMAKER:
        # deploy configures no VPC and no key: no network-interface or KMS grants at all
        assert not sids & {"ManageEndpointNetworkInterfaces", "DecryptWithKey"}
        logs = next(s for s in doc["Statement"] if s["Sid"] == "WriteEndpointLogGroups")["Resource"]
        assert logs == [
            f"arn:aws:logs:us-east-1:{ACCT}:log-group:/aws/sagemaker/Endpoints/scoped",
            f"arn:aws:logs:us-east-1:{ACCT}:log-group:/aws/sagemaker/Endpoints/scoped:*",
        ]
    else:
        models = next(s for s in doc["Statement"] if s["Sid"] == "CreateAndGetCustomModel")["Resource"]
        assert f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/*" in models


def test_kms_key_from_forge_config_is_the_only_key_granted(fake, recorder):
    from amzn_nova_forge.core import ForgeConfig

    deployer = ForgeDeployer(
        region="us-east-1",
        model=Model.NOVA_LITE_2,
        config=ForgeConfig(kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab"),
    )
    ic = InferenceComponentConfig("ic-a", num_cpus=20, num_accelerators=4, min_memory_in_mb=100000)
    deployer.deploy("s3://b/ckpt/", DeployPlatform.SAGEMAKER, endpoint_name="kms", inference_component_configs=[ic])
    (doc,) = recorder.policies()
    kms = next(s for s in doc["Statement"] if s["Sid"] == "DecryptWithKey")["Resource"]
    assert kms == f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert_scoped(doc)


def _user_iam_client(recorder: Recorder):
    """The IAM client a user would pass, with the recorder listening to it."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.meta.events.register("before-parameter-build.iam", recorder)
    return iam


@pytest.mark.parametrize(
    "create, kwargs, principal, must_name",
    [
        (
            create_bedrock_execution_role,
            {"bedrock_resource": "my-model", "s3_resource": "s3://b/p/"},
            "bedrock.amazonaws.com",
            ("custom-model/my-model*",),
        ),
        (
            create_sagemaker_execution_role,
            {
                "s3_resource": "b",
                "kms_resource": "alias/k",
                "cloudwatch_loggroup_resource": "g",
                "ec2_condition": {"ArnLike": {"ec2:Vpc": "arn:aws:ec2:*:*:vpc/v"}},
            },
            "sagemaker.amazonaws.com",
            ("alias/k",),
        ),
        (
            create_bedrock_batch_inference_execution_role,
            {"s3_resource": "s3://b/batch/"},
            "bedrock.amazonaws.com",
            ("model-invocation-job/*", "arn:aws:s3:::b/batch/*"),
        ),
        (
            create_sagemaker_invoke_role,
            {"s3_resource": "b", "glue_job_resource": "prep"},
            "glue.amazonaws.com",
            ("job/prep", "/aws-glue/*"),
        ),
        (
            create_smtj_dataprep_execution_role,
            {"s3_resource": "b", "ecr_resource": "prep-image"},
            "sagemaker.amazonaws.com",
            ("repository/prep-image", "/aws/sagemaker/TrainingJobs"),
        ),
    ],
)
def test_public_role_helpers_with_named_resources(recorder, create, kwargs, principal, must_name):
    iam = _user_iam_client(recorder)
    out = create(iam, "HelperRole", region="us-east-1", **kwargs)
    assert out["Role"]["RoleName"] == "HelperRole"
    assert_trust_first_version(recorder, {principal})
    (doc,) = recorder.policies()
    ec2_scoped = create is create_sagemaker_execution_role  # the VPC condition scopes ENI actions
    if ec2_scoped:
        doc = {**doc, "Statement": [s for s in doc["Statement"] if s["Sid"] != "ManageEndpointNetworkInterfaces"]}
    assert_scoped(doc, must_name=must_name)
    # idempotent: the second call changes nothing and creates nothing
    before = len(recorder.requests)
    create(iam, "HelperRole", region="us-east-1", **kwargs)
    assert not [op for op, _ in recorder.requests[before:] if op.startswith("Create")]


def test_helper_trust_principal_override_keeps_source_account(recorder):
    iam = _user_iam_client(recorder)
    create_sagemaker_invoke_role(iam, "GlueRole", trust_principal={"Service": "sagemaker.amazonaws.com"})
    assert_trust_first_version(recorder, {"sagemaker.amazonaws.com"})


def test_checker_rejects_star_where_an_arn_is_known():
    bad = {"Statement": [{"Sid": "X", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
    with pytest.raises(AssertionError, match="grants"):
        assert_scoped(bad)
    other_account = {
        "Statement": [{"Sid": "Y", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "arn:aws:kms:*:*:key/k"}]
    }
    with pytest.raises(AssertionError, match="not limited to the account"):
        assert_scoped(other_account)
