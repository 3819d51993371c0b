"""The official SDK's deployment and inference examples, run verbatim against moto.

Sources (aws/nova-forge-sdk): ``docs/spec/service-classes.md`` (ForgeDeployer, ForgeInference),
``docs/spec/model-customizer.md`` (``deploy``), ``docs/spec/job-results.md`` (``ModelDeployResult``).
Each snippet runs in one notebook-like namespace (``from amzn_nova_forge import *`` first).

moto lacks Bedrock's custom-model import, deployments and provisioned throughput, SageMaker
inference components and bedrock-runtime ``Converse`` (reference/moto-coverage.md): the first
three are answered by ``deployfakes.FakeAWS`` (botocore ``before-call`` hooks, stateful), and
``Converse`` by one hook below. Everything else (IAM, STS, SageMaker, S3, CloudWatch Logs,
training jobs) is moto.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from acceptance_support import star
from botocore.awsrequest import AWSResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))  # the shared deploy test double
from deployfakes import ACCT, FakeAWS

from amzn_nova_forge.core import aws as aws_factory

# ---- service-classes.md: ForgeDeployer -------------------------------------------------------
DEPLOYER_CONSTRUCTOR = """
from amzn_nova_forge.deployer import ForgeDeployer
from amzn_nova_forge.model.model_enums import Model, DeploymentMode

deployer = ForgeDeployer(
    region="us-east-1",
    model=Model.NOVA_MICRO,
    deployment_mode=DeploymentMode.FAIL_IF_EXISTS
)
"""
DEPLOYER_DEPLOY = """
deployment = deployer.deploy(
    model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
    deploy_platform=DeployPlatform.BEDROCK_OD,
    endpoint_name="my-custom-nova-model"
)
print(f"Model deployed: {deployment.endpoint.uri}")
"""
CREATE_CUSTOM_MODEL = """
publish_result = deployer.create_custom_model(
    model_artifact_path="s3://escrow-bucket/my-model-artifacts/"
)
print(f"Model ARN: {publish_result.model_arn}")
publish_result.dump(file_path="./results/")
"""
TWO_STEP = """
# Two-step deploy: create model, then deploy
publish_result = deployer.create_custom_model(
    model_artifact_path="s3://escrow-bucket/my-model-artifacts/"
)
deployment = deployer.deploy_to_bedrock(
    model_deploy_result=publish_result,
    endpoint_name="my-endpoint"
)

# Or deploy from an existing model ARN
deployment = deployer.deploy_to_bedrock(
    model_arn="arn:aws:bedrock:us-east-1:123456789012:custom-model/my-model"
)
"""
FIND_PUBLISHED = """
existing_arn = deployer.find_published_model(
    platform="bedrock",
    escrow_path="s3://escrow-bucket/my-model-artifacts/"
)
if existing_arn:
    print(f"Reusing existing model: {existing_arn}")
"""
# ---- service-classes.md: ForgeInference ------------------------------------------------------
INFERENCE_CONSTRUCTOR = """
from amzn_nova_forge.inference import ForgeInference

# For single inference (minimal setup)
inference = ForgeInference(region="us-east-1")

# For batch inference
inference = ForgeInference(
    region="us-east-1",
    model=Model.NOVA_MICRO,
    infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=1),
    method=TrainingMethod.SFT_LORA
)
"""
INFERENCE_INVOKE = """
response = inference.invoke(
    endpoint_arn="arn:aws:bedrock:us-east-1:123456789012:endpoint/my-endpoint",
    request_body={
        "messages": [{"role": "user", "content": "Hello! How are you?"}],
        "max_tokens": 100,
        "stream": False
    }
)
"""
INVOKE_BATCH = """
inference_result = inference.invoke_batch(
    job_name="batch-inference-job",
    input_path="s3://my-bucket/inference-input",
    output_s3_path="s3://my-bucket/inference-output",
    model_path="s3://my-bucket/trained-model"
)
print(f"Batch inference started: {inference_result.job_id}")
"""
INFERENCE_LOGS = """
inference.get_logs(job_result=inference_result, limit=100)
"""
# ---- service-classes.md: end-to-end, steps 3 and 4 (steps 1-2 are ForgeTrainer/ForgeEvaluator) -----
E2E_DEPLOY_AND_INFER = """
# 3. Deploy
deployer = ForgeDeployer(region="us-east-1", model=Model.NOVA_MICRO)
deployment = deployer.deploy(
    model_artifact_path=train_result.model_artifacts.checkpoint_s3_path,
    deploy_platform=DeployPlatform.BEDROCK_OD,
    endpoint_name="my-nova-endpoint"
)

# 4. Inference
inference_client = ForgeInference(region="us-east-1")
response = inference_client.invoke(
    endpoint_arn=deployment.endpoint.uri,
    request_body={
        "messages": [{"role": "user", "content": "Hello!"}],
        "max_tokens": 100
    }
)
"""
# ---- model-customizer.md: deploy() ----------------------------------------------------------
CUSTOMIZER_DEPLOY = """
from amzn_nova_forge.model import *

bedrock_deployment = customizer.deploy(
 model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
 deploy_platform=DeployPlatform.BEDROCK_OD,
 endpoint_name="my-custom-nova-model-bedrock"
)
print(f"Model deployed: {bedrock_deployment.endpoint.uri}")
print(f"Endpoint: {bedrock_deployment.endpoint.endpoint_name}")
print(f"Status: {bedrock_deployment.status}")

sagemaker_deployment = customizer.deploy(
 model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
 deploy_platform=DeployPlatform.SAGEMAKER,
 unit_count=1,
 endpoint_name="my-custom-nova-model-sagemaker",
 sagemaker_environment=SageMakerEndpointEnvironment(
   context_length=8000,
   max_concurrency=4,
 )
)
print(f"Model deployed: {sagemaker_deployment.endpoint.uri}")
print(f"Endpoint: {sagemaker_deployment.endpoint.endpoint_name}")
print(f"Status: {sagemaker_deployment.status}")
"""
# ---- job-results.md: ModelDeployResult (its first line needs customizer.create_custom_model) ----
MODEL_DEPLOY_RESULT = """
# Load and check status
loaded = ModelDeployResult.load("./results/my-model_deploy_result.json")
print(loaded.platform)  # "bedrock" or "sagemaker"
print(loaded.status)     # ModelStatus.ACTIVE

# Reconstruct from ARN
result = ModelDeployResult.from_arn(
  "arn:aws:bedrock:us-east-1:123456789012:custom-model/my-model"
)
"""
MY_MODEL = f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/my-model"
ESCROW = "s3://escrow-bucket/my-model-artifacts/"


def _converse(params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    """bedrock-runtime Converse (moto lacks it): a fixed answer in Converse's response shape."""
    text = f"Hello from {params['modelId'].rsplit('/', 1)[-1]}!"
    return AWSResponse(None, 200, {}, None), {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
        "metrics": {"latencyMs": 12},
    }


@pytest.fixture
def fake(notebook, monkeypatch) -> FakeAWS:
    fake = FakeAWS().install(monkeypatch)
    fake.models[MY_MODEL] = {
        "modelArn": MY_MODEL,
        "modelName": "my-model",
        "creationTime": __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC),
        "statuses": [],
        "tags": [{"key": "sagemaker.amazonaws.com/forge/escrow-uri", "value": "s3://escrow-bucket/older/"}],
        "source": None,
        "roleArn": None,
        "kms": None,
    }
    # FakeAWS keeps each call's parameters in the botocore context ("fake_params").
    events = aws_factory.session("us-east-1").events
    events.register("before-call.bedrock-runtime.Converse", lambda context, **_: _converse(context["fake_params"]))
    return fake


def _run(ns: dict[str, Any], *snippets: str) -> dict[str, Any]:
    for snippet in snippets:
        exec(snippet, ns)
    return ns


def test_forge_deployer_examples(fake, capsys):
    ns = _run(star(), DEPLOYER_CONSTRUCTOR, DEPLOYER_DEPLOY)
    out = capsys.readouterr().out
    deployment = ns["deployment"]
    assert out == f"Model deployed: {deployment.endpoint.uri}\n"
    assert deployment.endpoint.uri in fake.deployments
    first_model = deployment.model_arn
    assert deployment.escrow_uri == ESCROW and deployment.model_publish.model_arn == first_model

    # create_custom_model on the same checkpoint reuses the model deploy() published (escrow tag)
    _run(ns, CREATE_CUSTOM_MODEL)
    publish = ns["publish_result"]
    assert publish.model_arn == first_model
    assert capsys.readouterr().out == f"Model ARN: {first_model}\n"
    saved = Path("results") / f"{publish.model_name}_deploy_result.json"
    assert saved.exists() and ns["ModelDeployResult"].load(str(saved)).model_arn == first_model

    _run(ns, TWO_STEP)
    endpoint = next(d for d in fake.deployments.values() if d["customModelDeploymentName"] == "my-endpoint")
    assert endpoint["modelArn"] == first_model
    last = ns["deployment"]
    assert last.endpoint.endpoint_name == "nova-micro-custom-bedrock-od"  # default name, no method given
    assert fake.deployments[last.endpoint.uri]["modelArn"] == MY_MODEL
    assert len(fake.models) == 2  # my-model and the one import: nothing imported twice

    _run(ns, FIND_PUBLISHED)
    assert capsys.readouterr().out == f"Reusing existing model: {first_model}\n"
    assert ns["deployer"].get_status(last) is ns["JobStatus"].COMPLETED
    assert (
        ns["deployer"].get_status_by_arn(last.endpoint.uri, ns["DeployPlatform"].BEDROCK_OD)
        is ns["JobStatus"].COMPLETED
    )


def test_forge_inference_examples(fake, notebook, capsys):
    ns = _run(star(), DEPLOYER_CONSTRUCTOR, INFERENCE_CONSTRUCTOR, INFERENCE_INVOKE)
    response = ns["response"]
    assert response.text == "Hello from my-endpoint!"
    assert response.usage["totalTokens"] == 13 and response.stop_reason == "end_turn"

    from deployfakes import plain_client

    row = b'{"messages": [{"role": "user", "content": "What is 2+2?"}]}\n'  # the user's input data
    plain_client("s3").put_object(Bucket="my-bucket", Key="inference-input/records.jsonl", Body=row)
    _run(ns, INVOKE_BATCH)
    result = ns["inference_result"]
    assert capsys.readouterr().out == f"Batch inference started: {result.job_id}\n"
    job = notebook["creates"][-1]
    assert job["TrainingJobName"] == result.job_id
    assert job["OutputDataConfig"]["S3OutputPath"].startswith("s3://my-bucket/inference-output")
    assert result.inference_output_path.endswith(f"{result.job_id}/output/output.tar.gz")

    _run(ns, INFERENCE_LOGS)
    logged = capsys.readouterr().out
    assert "reduced_train_loss=2.500" in logged and "global_step=19.000" in logged


def test_end_to_end_deploy_and_inference_steps(fake, capsys):
    ns = star()
    ns.update(
        _run(
            dict(ns),
            "from amzn_nova_forge.deployer import ForgeDeployer\n"
            "from amzn_nova_forge.inference import ForgeInference\n",
        )
    )

    class _TrainResult:  # step 1's result: only its checkpoint is used by steps 3-4
        class model_artifacts:
            checkpoint_s3_path = "s3://customer-escrow-123456789012-smtj-abc123/job-1/step-100"

    ns["train_result"] = _TrainResult
    _run(ns, E2E_DEPLOY_AND_INFER)
    deployment, response = ns["deployment"], ns["response"]
    assert fake.deployments[deployment.endpoint.uri]["customModelDeploymentName"] == "my-nova-endpoint"
    assert response.text == f"Hello from {deployment.endpoint.uri.rsplit('/', 1)[-1]}!"


def test_customizer_deploy_examples(fake, notebook, capsys):
    ns = star()
    ns["customizer"] = ns["NovaModelCustomizer"](
        model=ns["Model"].NOVA_MICRO,
        method=ns["TrainingMethod"].SFT_LORA,
        infra=ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=1),
    )
    _run(ns, CUSTOMIZER_DEPLOY)
    out = capsys.readouterr().out.splitlines()
    bedrock, sagemaker = ns["bedrock_deployment"], ns["sagemaker_deployment"]
    assert out[:3] == [
        f"Model deployed: {bedrock.endpoint.uri}",
        "Endpoint: my-custom-nova-model-bedrock",
        "Status: Active",
    ]
    assert out[3:] == [
        f"Model deployed: arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/my-custom-nova-model-sagemaker",
        "Endpoint: my-custom-nova-model-sagemaker",
        "Status: InService",
    ]
    from deployfakes import plain_client

    model = plain_client("sagemaker").describe_model(ModelName=sagemaker.model_arn)
    assert model["PrimaryContainer"]["Environment"] == {"CONTEXT_LENGTH": "8000", "MAX_CONCURRENCY": "4"}


def test_model_deploy_result_examples(fake, capsys):
    ns = star()
    ns["ModelDeployResult"].from_arn(MY_MODEL).dump(
        file_path="./results/"
    )  # in place of customizer.create_custom_model
    _run(ns, MODEL_DEPLOY_RESULT)
    assert capsys.readouterr().out == "bedrock\nACTIVE\n"
    result = ns["result"]
    assert (result.model_name, result.escrow_uri, result.platform) == (
        "my-model",
        "s3://escrow-bucket/older/",
        "bedrock",
    )


# ---- model-customizer.md / job-results.md: the two-step deploy on NovaModelCustomizer (verbatim) ----
CUSTOMIZER_CREATE = """
# Create a custom model from training artifacts
publish_result = customizer.create_custom_model(
  model_artifact_path="s3://escrow-bucket/my-model-artifacts/"
)
print(f"Model ARN: {publish_result.model_arn}")

# Save for later use
publish_result.dump(file_path="./results/")
"""
CUSTOMIZER_TWO_STEP = """
# Two-step deploy: create model, then deploy
publish_result = customizer.create_custom_model(
  model_artifact_path="s3://escrow-bucket/my-model-artifacts/"
)
deployment = customizer.deploy_to_bedrock(
  model_deploy_result=publish_result,
  endpoint_name="my-endpoint"
)

# Retry deployment if it fails (model already created)
deployment = customizer.deploy_to_bedrock(
  model_arn=publish_result.model_arn
)
"""
# The same example's alternative (run on its own: its auto-named endpoint would clash with the retry's).
CUSTOMIZER_FROM_ARN = """
# Or deploy directly from a model ARN
deployment = customizer.deploy_to_bedrock(
  model_arn="arn:aws:bedrock:us-east-1:123456789012:custom-model/my-model"
)
"""


def test_customizer_two_step_examples(fake, notebook, capsys):
    ns = star()
    ns["customizer"] = ns["NovaModelCustomizer"](
        model=ns["Model"].NOVA_MICRO,
        method=ns["TrainingMethod"].SFT_LORA,
        infra=ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=1),
    )
    _run(ns, CUSTOMIZER_CREATE)
    published = ns["publish_result"]
    assert capsys.readouterr().out == f"Model ARN: {published.model_arn}\n"
    assert published.escrow_uri == ESCROW
    _run(ns, CUSTOMIZER_TWO_STEP)
    # the same checkpoint was published once and reused by the second create_custom_model
    assert [m for m, v in fake.models.items() if any(t["value"] == ESCROW for t in v["tags"])] == [published.model_arn]
    assert ns["customizer"].last_deployment is ns["deployment"]
    assert ns["customizer"].find_published_model("bedrock", ESCROW) == published.model_arn


def test_customizer_deploy_from_arn_example(fake, notebook, capsys):
    ns = star()
    other = star()
    other["customizer"] = ns["NovaModelCustomizer"](
        model=ns["Model"].NOVA_MICRO,
        method=ns["TrainingMethod"].SFT_LORA,
        infra=ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=1),
    )
    _run(other, CUSTOMIZER_FROM_ARN)
    assert fake.deployments[other["deployment"].endpoint.uri]["modelArn"] == MY_MODEL
