"""Fixtures for notification tests: results like ``customizer.train`` returns them, moto AWS."""

from __future__ import annotations

import pytest

from amzn_nova_forge.core import aws as aws_factory


@pytest.fixture
def smtj_result():
    from amzn_nova_forge.model.result._training import ModelArtifacts, SMTJTrainingResult

    return SMTJTrainingResult(
        "my-job-abc123",
        "sft_lora",
        model_artifacts=ModelArtifacts(output_s3_path="s3://my-bucket/output"),
        model_type="NOVA_MICRO",
        region="us-east-1",
    )


@pytest.fixture
def smhp_result():
    from amzn_nova_forge.model.result._training import ModelArtifacts, SMHPTrainingResult

    return SMHPTrainingResult(
        "my-job-hp1",
        "sft_lora",
        model_artifacts=ModelArtifacts(output_s3_path="s3://my-bucket/output"),
        model_type="NOVA_LITE_2",
        cluster_name="my-hp-cluster",
        namespace="kubeflow",
        region="us-east-1",
    )


def cached_client(service: str, region: str = "us-east-1"):
    """The SDK's own (cached) client, so test hooks registered on it apply to SDK calls."""
    return aws_factory.client(service, region)
