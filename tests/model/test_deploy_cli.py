"""``nova-forge deploy`` / ``nova-forge invoke`` against moto (SageMaker) and a local HTTP endpoint."""

from __future__ import annotations

import json

import pytest
import requests

from amzn_nova_forge.cli._main import main

ACCT = "123456789012"


@pytest.fixture(autouse=True)
def _moto_knows_p5(monkeypatch):
    """moto's endpoint-config instance allow-list predates ml.p5 (reference/moto-coverage.md)."""
    from moto.sagemaker.models import FakeEndpointConfig

    original = FakeEndpointConfig.validate_instance_type
    monkeypatch.setattr(
        FakeEndpointConfig,
        "validate_instance_type",
        lambda self, t: None if t == "ml.p5.48xlarge" else original(self, t),
    )


def test_deploy_then_invoke_sagemaker(aws, tmp_path, capsys):
    rc = main(
        [
            "deploy",
            "s3://bucket/ckpt/",
            "--platform",
            "sagemaker",
            "--unit-count",
            "1",
            "--model",
            "NOVA_MICRO",
            "--method",
            "sft_lora",
            "--env",
            "CONTEXT_LENGTH=8000",
            "--env",
            "MAX_CONCURRENCY=4",
            "--save-dir",
            str(tmp_path),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert f"URI: arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/nova-micro-sft-lora-sagemaker" in out
    saved = tmp_path / "nova-micro-sft-lora-sagemaker_deployment.json"
    assert json.loads(saved.read_text())["endpoint"]["platform"] == "sagemaker"
    env = aws.client("sagemaker").describe_model(ModelName="nova-micro-sft-lora-sagemaker-model")
    assert env["PrimaryContainer"]["Environment"] == {"CONTEXT_LENGTH": "8000", "MAX_CONCURRENCY": "4"}

    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={
            "results": [{"Body": json.dumps({"id": "x1", "choices": [{"message": {"content": "pong"}}]})}],
            "region": "us-east-1",
        },
    )
    assert main(["invoke", str(saved), "--message", "ping", "--max-tokens", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"] == "pong" and result["deploy_platform"] == "sagemaker"


def test_deploy_errors_are_one_line(aws, capsys):
    rc = main(["deploy", "s3://bucket/ckpt/", "--platform", "bedrock_pt"])
    assert rc == 1
    assert "error: ConfigError: BEDROCK_PT needs unit_count" in capsys.readouterr().err
    assert main(["deploy"]) == 1
    assert main(["invoke", "arn:aws:sagemaker:us-east-1:1:endpoint/x"]) == 1  # no message/body
    assert "--message" in capsys.readouterr().err
    assert main(["invoke", "http://127.0.0.1:1", "--body", "{not json"]) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_deploy_from_saved_training_result(aws, tmp_path, capsys):
    from amzn_nova_forge.core.enums import Model, TrainingMethod
    from amzn_nova_forge.model.result import ModelArtifacts, SMTJTrainingResult

    aws.client("sagemaker").create_training_job(  # moto: Completed at once
        TrainingJobName="job-1",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        RoleArn=f"arn:aws:iam::{ACCT}:role/r",
        OutputDataConfig={"S3OutputPath": "s3://out/"},
        ResourceConfig={"InstanceType": "ml.p5.48xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    saved = SMTJTrainingResult(
        "job-1",
        TrainingMethod.SFT_LORA,
        model_type=Model.NOVA_LITE_2,
        region="us-east-1",
        model_artifacts=ModelArtifacts(checkpoint_s3_path="s3://escrow/job-1/ckpt/"),
    ).dump(str(tmp_path))
    argv = [
        "deploy",
        "--training-result",
        str(saved),
        "--platform",
        "sagemaker",
        "--unit-count",
        "1",
        "--save-dir",
        str(tmp_path),
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["endpoint"]["endpoint_name"] == "nova-lite-2-sft-lora-sagemaker"  # model and method from the result
    assert out["endpoint"]["model_artifact_path"] == "s3://escrow/job-1/ckpt/"
