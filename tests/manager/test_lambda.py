"""The shared RFT reward-Lambda features: rft_lambda / rft_lambda_arn, deploy_lambda, validate_lambda."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import aws_support as A
import pytest
from botocore.response import StreamingBody

from amzn_nova_forge.manager import BedrockRuntimeManager, SMHPRuntimeManager, SMTJRuntimeManager

REWARD = """
def lambda_handler(event, context):
    out = []
    for sample in event:
        answer = sample["messages"][-1]["content"]
        out.append({"id": sample["id"], "aggregate_reward_score": float(answer == sample.get("reference_answer")),
                    "metrics_list": [{"name": "exact", "value": 1.0, "type": "Metric"}]})
    return out
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reward.py").write_text(REWARD)
    (tmp_path / "rft_training_reward.py").write_text(REWARD)
    return tmp_path


def test_rft_lambda_property_semantics() -> None:
    runtime = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4)
    # Set an ARN directly — rft_lambda_arn is updated immediately
    runtime.rft_lambda = "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
    print(runtime.rft_lambda_arn)  # 'arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn'
    assert runtime.rft_lambda_arn == "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
    # Set a file path — rft_lambda_arn is cleared until deploy_lambda() is called
    runtime.rft_lambda = "reward.py"
    print(runtime.rft_lambda_arn)  # None
    assert runtime.rft_lambda_arn is None and runtime.rft_lambda == "reward.py"
    built = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, rft_lambda="arn:aws:lambda:us-east-1:123456789012:function:f"
    )
    assert built.rft_lambda_arn == "arn:aws:lambda:us-east-1:123456789012:function:f"


def test_deploy_lambda_creates_then_updates(nova_aws: Any, workdir: Path) -> None:
    creates = A.capture("lambda", "CreateFunction")
    updates = A.capture("lambda", "UpdateFunctionCode")
    runtime = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, execution_role=nova_aws["role"])
    runtime.rft_lambda = "reward.py"
    runtime.deploy_lambda(lambda_name="my-reward-fn")
    print(runtime.rft_lambda_arn)
    assert runtime.rft_lambda_arn == "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
    (req,) = creates
    assert (req["Runtime"], req["Handler"], req["Timeout"], req["Role"]) == (
        "python3.12",
        "lambda_function.lambda_handler",
        300,
        nova_aws["role"],
    )
    with zipfile.ZipFile(io.BytesIO(req["Code"]["ZipFile"])) as zf:
        assert zf.namelist() == ["lambda_function.py"]
        assert zf.read("lambda_function.py").decode() == REWARD
    # deploying again updates the code of the same function
    (workdir / "reward.py").write_text(REWARD + "\n# v2\n")
    lambda_arn = runtime.deploy_lambda(lambda_name="my-reward-fn")
    assert lambda_arn == runtime.rft_lambda_arn and len(creates) == 1
    with zipfile.ZipFile(io.BytesIO(updates[0]["ZipFile"])) as zf:
        assert zf.read("lambda_function.py").decode().endswith("# v2\n")


def test_deploy_lambda_default_name_and_role_argument(nova_aws: Any, workdir: Path) -> None:
    runtime = BedrockRuntimeManager(execution_role="arn:aws:iam::123456789012:role/DoesNotMatter")
    runtime.rft_lambda = "rft_training_reward.py"
    lambda_arn = runtime.deploy_lambda(execution_role_arn=nova_aws["role"])
    assert lambda_arn.endswith(":function:rft-training-reward")


def test_deploy_lambda_errors(aws: Any, workdir: Path) -> None:
    runtime = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, execution_role="arn:aws:iam::123456789012:role/R"
    )
    with pytest.raises(ValueError, match="not set"):
        runtime.deploy_lambda()
    runtime.rft_lambda = "arn:aws:lambda:us-east-1:123456789012:function:f"
    with pytest.raises(ValueError, match="nothing to deploy"):
        runtime.deploy_lambda()
    runtime.rft_lambda = "missing.py"
    with pytest.raises(ValueError, match="not found"):
        runtime.deploy_lambda()
    hp = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="c1", namespace="default", rft_lambda="reward.py"
    )
    with pytest.raises(ValueError, match="execution role"):
        hp.deploy_lambda()
    with pytest.raises(ValueError, match="must contain 'SageMaker'"):
        hp.deploy_lambda(lambda_name="my-reward-fn", execution_role_arn="arn:aws:iam::123456789012:role/R")


def test_validate_lambda_with_a_local_file(nova_aws: Any, workdir: Path) -> None:
    runtime = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4)
    # Validate a local file without deploying
    runtime.rft_lambda = "rft_training_reward.py"
    A.put("s3://bucket/data.jsonl", A.RFT_JSONL)
    runtime.validate_lambda(data_s3_path="s3://bucket/data.jsonl")
    (workdir / "bad.py").write_text("def lambda_handler(event, context):\n    return [{'id': 's0'}]\n")
    runtime.rft_lambda = "bad.py"
    with pytest.raises(ValueError, match="aggregate_reward_score"):
        runtime.validate_lambda(data_s3_path="s3://bucket/data.jsonl")
    runtime.rft_lambda = None
    with pytest.raises(ValueError, match="not set"):
        runtime.validate_lambda(data_s3_path="s3://bucket/data.jsonl")


def test_validate_a_deployed_lambda(nova_aws: Any) -> None:
    A.put("s3://bucket/data.jsonl", A.RFT_JSONL)

    def invoke(params: dict[str, Any]) -> dict[str, Any]:
        # moto runs Lambda code only with Docker: answer Invoke with what the function would return.
        samples = json.loads(params["Payload"])
        body = json.dumps([{"id": s["id"], "aggregate_reward_score": 1} for s in samples]).encode()
        return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}

    calls = A.stub_one("lambda", "Invoke", invoke)
    runtime = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4)
    # Validate a deployed lambda
    runtime.rft_lambda = "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
    runtime.validate_lambda(data_s3_path="s3://bucket/data.jsonl", validation_samples=20)
    (call,) = calls
    assert call["FunctionName"] == runtime.rft_lambda_arn
    assert [s["id"] for s in json.loads(call["Payload"])] == ["s0", "s1", "s2"]  # the file has 3 records
    runtime.validate_lambda(data_s3_path="s3://bucket/data.jsonl", validation_samples=2)
    assert len(json.loads(calls[1]["Payload"])) == 2
