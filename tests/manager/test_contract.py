"""The runtime protocol, checked over every registry entry."""

from __future__ import annotations

import inspect

import pytest

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.manager._base import JobRef, RuntimeManager
from amzn_nova_forge.manager._registry import _RUNTIMES, get_runtime_class

AWS = [Platform.SMTJ, Platform.SMTJServerless, Platform.SMHP, Platform.BEDROCK]


@pytest.mark.parametrize("name", sorted(_RUNTIMES))
def test_every_registered_runtime_implements_the_protocol(name: str) -> None:
    cls = get_runtime_class(name)
    assert issubclass(cls, RuntimeManager)
    assert cls.platform == Platform(name)
    assert not inspect.isabstract(cls), f"{cls.__name__} leaves abstract methods unimplemented"
    for method in ("execute", "cleanup", "job_ref"):
        assert callable(getattr(cls, method))
    assert isinstance(inspect.getattr_static(cls, "job_info"), classmethod)


@pytest.mark.parametrize("platform", AWS)
def test_aws_runtimes_share_lambda_features_and_checks(platform: Platform) -> None:
    cls = get_runtime_class(platform)
    for attr in ("rft_lambda", "rft_lambda_arn", "deploy_lambda", "validate_lambda", "check_iam", "check_infra"):
        assert hasattr(cls, attr), f"{cls.__name__} lacks {attr}"


def test_published_constructor_signatures() -> None:
    from amzn_nova_forge.manager import (
        BedrockRuntimeManager,
        SMHPRuntimeManager,
        SMTJRuntimeManager,
        SMTJServerlessRuntimeManager,
    )

    def params(cls: type) -> list[tuple[str, object]]:
        sig = inspect.signature(cls.__init__)
        return [
            (p.name, p.default) for p in sig.parameters.values() if p.name != "self" and p.kind is not p.KEYWORD_ONLY
        ]

    empty = inspect.Parameter.empty
    assert params(SMTJRuntimeManager) == [
        ("instance_type", empty),
        ("instance_count", empty),
        ("execution_role", None),
        ("kms_key_id", None),
        ("encrypt_inter_container_traffic", False),
        ("subnets", None),
        ("security_group_ids", None),
        ("rft_lambda", None),
    ]
    assert params(SMHPRuntimeManager) == [
        ("instance_type", empty),
        ("instance_count", empty),
        ("cluster_name", empty),
        ("namespace", empty),
        ("kms_key_id", None),
        ("rft_lambda", None),
    ]
    assert params(BedrockRuntimeManager) == [
        ("execution_role", empty),
        ("base_model_identifier", None),
        ("kms_key_id", None),
        ("rft_lambda", None),
    ]
    assert params(SMTJServerlessRuntimeManager) == [
        ("model_package_group_name", empty),
        ("execution_role", None),
        ("kms_key_id", None),
        ("encrypt_inter_container_traffic", False),
        ("subnets", None),
        ("security_group_ids", None),
        ("max_job_runtime", 86400),
        ("rft_lambda", None),
        # official 1.4.10: multi-turn RFT through Amazon Bedrock AgentCore
        ("agent_core_arn", None),
        ("evaluator_name", None),
        ("hub_content_version", None),
        ("intermediate_model_package_group_name", None),
    ]


def test_job_ref_round_trips_through_json() -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager

    infra = SMHPRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="c1", namespace="ns")
    ref = infra.job_ref("job-1")
    assert JobRef.from_dict(ref.to_dict()) == ref
