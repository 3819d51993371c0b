"""Fault injection: every AWS call a deploy makes, failing in each way.

For each scenario (Bedrock on-demand, Bedrock provisioned throughput, SageMaker endpoint,
SageMaker inference components), the calls a clean deploy makes are pinned in
``CALLS`` (a test fails when a deploy starts making a call the list does not have).
Then, for every one of those calls and every fault (AccessDenied, throttling, a 5xx,
a success whose response is lost), the deploy must end either

* done, exactly once (one model, one endpoint: nothing duplicated), or
* with a typed error whose ``created`` lists exactly the resources that exist;

and running the same deploy again must finish it without duplicating anything, while
``rollback=True`` must leave no resource at all. moto answers IAM, STS, SageMaker and the
tagging API; :class:`deployfakes.FakeAWS` answers what moto lacks (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from deployfakes import FAULT_KINDS, FakeAWS

from amzn_nova_forge.core.enums import DeployPlatform, Model, TrainingMethod
from amzn_nova_forge.deployer import ForgeDeployer, InferenceComponentConfig
from amzn_nova_forge.errors import DeploymentError, NovaForgeError
from amzn_nova_forge.model.result._deployment import DeploymentResult

S3 = "s3://escrow-bucket/run-1/checkpoint/"

CALLS: dict[str, list[tuple[str, str]]] = {
    "sagemaker_second": [  # the default role exists: its policy gets a new version (bucket + endpoint)
        ("sagemaker", "DescribeEndpoint"),
        ("resourcegroupstaggingapi", "GetResources"),
        ("sagemaker", "DescribeModel"),
        ("iam", "GetRole"),
        ("iam", "GetPolicy"),
        ("iam", "GetPolicyVersion"),
        ("sts", "GetCallerIdentity"),
        ("iam", "ListPolicyVersions"),
        ("iam", "CreatePolicyVersion"),
        ("iam", "AttachRolePolicy"),
        ("sagemaker", "CreateModel"),
        ("sagemaker", "DescribeEndpointConfig"),
        ("sagemaker", "CreateEndpointConfig"),
        ("sagemaker", "CreateEndpoint"),
    ],
    "bedrock_od": [
        ("bedrock", "ListCustomModelDeployments"),
        ("resourcegroupstaggingapi", "GetResources"),
        ("iam", "GetRole"),
        ("sts", "GetCallerIdentity"),
        ("iam", "CreateRole"),
        ("iam", "GetPolicy"),
        ("iam", "CreatePolicy"),
        ("iam", "AttachRolePolicy"),
        ("bedrock", "CreateCustomModel"),
        ("bedrock", "GetCustomModel"),
        ("bedrock", "CreateCustomModelDeployment"),
        ("bedrock", "GetCustomModelDeployment"),
    ],
    "bedrock_pt": [
        ("bedrock", "ListProvisionedModelThroughputs"),
        ("resourcegroupstaggingapi", "GetResources"),
        ("iam", "GetRole"),
        ("sts", "GetCallerIdentity"),
        ("iam", "CreateRole"),
        ("iam", "GetPolicy"),
        ("iam", "CreatePolicy"),
        ("iam", "AttachRolePolicy"),
        ("bedrock", "CreateCustomModel"),
        ("bedrock", "GetCustomModel"),
        ("bedrock", "CreateProvisionedModelThroughput"),
        ("bedrock", "GetProvisionedModelThroughput"),
    ],
    "sagemaker": [
        ("sagemaker", "DescribeEndpoint"),
        ("resourcegroupstaggingapi", "GetResources"),
        ("sagemaker", "DescribeModel"),
        ("iam", "GetRole"),
        ("sts", "GetCallerIdentity"),
        ("iam", "CreateRole"),
        ("iam", "GetPolicy"),
        ("iam", "CreatePolicy"),
        ("iam", "AttachRolePolicy"),
        ("sagemaker", "CreateModel"),
        ("sagemaker", "DescribeEndpointConfig"),
        ("sagemaker", "CreateEndpointConfig"),
        ("sagemaker", "CreateEndpoint"),
    ],
    "sagemaker_ic": [
        ("sagemaker", "DescribeEndpoint"),
        ("resourcegroupstaggingapi", "GetResources"),
        ("sagemaker", "DescribeModel"),
        ("iam", "GetRole"),
        ("sts", "GetCallerIdentity"),
        ("iam", "CreateRole"),
        ("iam", "GetPolicy"),
        ("iam", "CreatePolicy"),
        ("iam", "AttachRolePolicy"),
        ("sagemaker", "CreateModel"),
        ("sagemaker", "DescribeEndpointConfig"),
        ("sagemaker", "CreateEndpointConfig"),
        ("sagemaker", "CreateEndpoint"),
        ("sagemaker", "DescribeInferenceComponent"),
        ("sagemaker", "CreateInferenceComponent"),
    ],
}
#: What a finished deploy of each scenario leaves (with what its setup made): resource kind -> how many.
EXPECTED = {
    "sagemaker_second": {
        "IAM role": 1,
        "IAM policy": 1,
        "SageMaker model": 2,
        "SageMaker endpoint config": 2,
        "SageMaker endpoint": 2,
    },
    "bedrock_od": {"IAM role": 1, "IAM policy": 1, "Bedrock custom model": 1, "Bedrock custom model deployment": 1},
    "bedrock_pt": {"IAM role": 1, "IAM policy": 1, "Bedrock custom model": 1, "Bedrock provisioned model": 1},
    "sagemaker": {
        "IAM role": 1,
        "IAM policy": 1,
        "SageMaker model": 1,
        "SageMaker endpoint config": 1,
        "SageMaker endpoint": 1,
    },
    "sagemaker_ic": {
        "IAM role": 1,
        "IAM policy": 1,
        "SageMaker model": 1,
        "SageMaker endpoint config": 1,
        "SageMaker endpoint": 1,
        "SageMaker inference component": 1,
    },
}
_KINDS = sorted({k for e in EXPECTED.values() for k in e}, key=len, reverse=True)


def _kind(resource: str) -> str:
    return next(k for k in _KINDS if resource.startswith(k + " "))


def _counts(resources: set[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in resources:
        out[_kind(r)] = out.get(_kind(r), 0) + 1
    return out


def _prepare(fake: FakeAWS, scenario: str) -> set[str]:
    """Run the scenario's setup (if any); return what exists before the deploy under test."""
    if scenario == "sagemaker_second":  # the default role exists and must be widened to a new bucket/endpoint
        deployer = ForgeDeployer(region="us-east-1", model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA)
        deployer.deploy("s3://other-bucket/first/", DeployPlatform.SAGEMAKER, endpoint_name="ep-first")
        fake.calls.clear()
    return fake.inventory()


def _deploy(scenario: str, rollback: bool = False) -> DeploymentResult:
    deployer = ForgeDeployer(region="us-east-1", model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA)
    common: dict[str, Any] = {"rollback": rollback, "poll_interval": 0.0, "timeout": 60.0}
    if scenario == "sagemaker_second":
        return deployer.deploy(S3, DeployPlatform.SAGEMAKER, endpoint_name="ep-sm2", **common)
    if scenario == "bedrock_od":
        return deployer.deploy(S3, DeployPlatform.BEDROCK_OD, endpoint_name="ep-od", **common)
    if scenario == "bedrock_pt":
        return deployer.deploy(S3, DeployPlatform.BEDROCK_PT, endpoint_name="ep-pt", unit_count=2, **common)
    if scenario == "sagemaker":
        return deployer.deploy(S3, DeployPlatform.SAGEMAKER, endpoint_name="ep-sm", **common)
    ic = InferenceComponentConfig("lite2-a", num_cpus=20, num_accelerators=4, min_memory_in_mb=100000)
    return deployer.deploy(
        S3, DeployPlatform.SAGEMAKER, endpoint_name="ep-ic", inference_component_configs=[ic], **common
    )


@pytest.fixture
def fake(aws, monkeypatch) -> FakeAWS:
    return FakeAWS().install(monkeypatch)


def _distinct(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(calls))


@pytest.mark.parametrize("scenario", sorted(CALLS))
def test_clean_deploy_makes_exactly_the_pinned_calls(fake, scenario):
    before = _prepare(fake, scenario)
    result = _deploy(scenario)
    assert _distinct(fake.calls) == CALLS[scenario]
    assert _counts(fake.inventory()) == EXPECTED[scenario]
    assert sorted(result.resources) == sorted(fake.inventory() - before)  # everything it made is on the result


def _cases() -> list[Any]:
    return [
        pytest.param(scenario, service, op, kind, id=f"{scenario}-{op}-{kind}")
        for scenario, calls in sorted(CALLS.items())
        for service, op in calls
        for kind in FAULT_KINDS
    ]


def _outcome(fake: FakeAWS, run: Callable[[], DeploymentResult]) -> tuple[DeploymentResult | None, Exception | None]:
    try:
        return run(), None
    except NovaForgeError as e:
        return None, e


@pytest.mark.parametrize("scenario, service, op, kind", _cases())
def test_fault_ends_done_once_or_with_every_resource_listed_and_a_retry_finishes(fake, scenario, service, op, kind):
    before = _prepare(fake, scenario)
    fake.fail(service, op, kind)
    result, error = _outcome(fake, lambda: _deploy(scenario))
    assert fake.fired == (service, op, kind), "the fault was not injected: the call list is stale"
    existing = fake.inventory()
    if error is None:
        assert result is not None
        assert _counts(existing) == EXPECTED[scenario]  # done, exactly once
    else:
        assert isinstance(error, NovaForgeError)
        listed = set(error.created) if isinstance(error, DeploymentError) else set()
        assert listed == existing - before, f"{type(error).__name__}: {error}"
        if kind != "lost_response":
            assert f"injected {kind} on {op}" in str(error)
        # The same deploy again (no fault) finishes what was started, without a second copy.
        _deploy(scenario)
        assert _counts(fake.inventory()) == EXPECTED[scenario]


@pytest.mark.parametrize("scenario, service, op, kind", _cases())
def test_fault_with_rollback_leaves_nothing(fake, scenario, service, op, kind):
    before = _prepare(fake, scenario)
    fake.fail(service, op, kind)
    _, error = _outcome(fake, lambda: _deploy(scenario, rollback=True))
    if error is None:  # the fault was absorbed (e.g. a lost response adopted): a complete deploy
        assert _counts(fake.inventory()) == EXPECTED[scenario]
        return
    assert fake.inventory() == before, str(error)
    if isinstance(error, DeploymentError):
        assert error.created == []
        if "Rolled back:" in str(error):
            assert "Could not roll back" not in str(error)


def test_failed_endpoint_with_rollback_removes_everything_it_created(fake):
    """A deployment that comes up Failed (not an API error) is rolled back too, newest first."""
    fake.model_statuses = ["Creating"]
    original = fake._bedrock_GetCustomModelDeployment

    def failed(p):
        return {**original(p), "status": "Failed", "failureMessage": "insufficient capacity"}

    fake._bedrock_GetCustomModelDeployment = failed
    with pytest.raises(DeploymentError, match="insufficient capacity") as ei:
        _deploy("bedrock_od", rollback=True)
    message = str(ei.value)
    assert "Rolled back: Bedrock custom model deployment" in message
    order = [
        message.index(k) for k in ("custom model deployment", "Bedrock custom model arn", "IAM policy", "IAM role")
    ]
    assert order == sorted(order)  # newest first
    assert fake.inventory() == set() and ei.value.created == []


def test_existing_role_is_not_rolled_back(fake):
    """Rollback removes only what this call created: a role that was already there stays."""
    _deploy("bedrock_od")
    fake.deployments.clear()
    fake.models.clear()
    fake.fail("bedrock", "CreateCustomModelDeployment", "access_denied")
    with pytest.raises(DeploymentError) as ei:
        _deploy("bedrock_od", rollback=True)
    left = fake.inventory()
    assert _counts(left) == {"IAM role": 1, "IAM policy": 1}
    assert "Rolled back: Bedrock custom model arn" in str(ei.value)


def test_access_denied_on_deployment_lists_role_policy_and_model_exactly(fake):
    fake.fail("bedrock", "CreateCustomModelDeployment", "access_denied")
    with pytest.raises(DeploymentError, match="AccessDeniedException") as ei:
        _deploy("bedrock_od")
    (model_arn,) = fake.models
    assert ei.value.created == [
        "IAM role arn:aws:iam::123456789012:role/BedrockDeployModelExecutionRole",
        "IAM policy arn:aws:iam::123456789012:policy/BedrockDeployModelExecutionRoleDeployPolicy",
        f"Bedrock custom model {model_arn}",
    ]
    assert "req-access_denied" in str(ei.value)  # the AWS request id is quoted


def test_lost_create_custom_model_response_is_adopted_not_duplicated(fake):
    fake.fail("bedrock", "CreateCustomModel", "lost_response")
    result = _deploy("bedrock_od")
    (model_arn,) = fake.models  # created once, although its response never arrived
    assert result.model_arn == model_arn
    assert f"Bedrock custom model {model_arn}" in result.resources
    assert result.model_publish is not None and result.model_publish.escrow_uri == S3


def test_failed_create_policy_reports_the_role_it_leaves(fake):
    fake.fail("iam", "CreatePolicy", "access_denied")
    with pytest.raises(DeploymentError) as ei:
        _deploy("sagemaker")
    assert ei.value.created == ["IAM role arn:aws:iam::123456789012:role/SageMakerDeployModelExecutionRole"]
    assert fake.inventory() == set(ei.value.created)
