"""customizer.deploy to a SageMaker endpoint, against moto (model, endpoint config, endpoint, IAM).

moto brings endpoints to ``InService`` at once; to make one *fail to come up* the test
registers a ``before-call`` hook on DescribeEndpoint for that one operation (other
operations on the client still go to moto), as reference/moto-coverage.md describes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.awsrequest import AWSResponse

from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, DeploymentError, InstanceConfigError
from amzn_nova_forge.manager._base import JobInfo, RuntimeManager
from amzn_nova_forge.model import NovaModelCustomizer
from amzn_nova_forge.model._deploy_sagemaker import validate_environment

ACCT = "123456789012"

# Verbatim from api-spec.txt ("deploy()" example, SageMaker part).
SPEC_SAGEMAKER = """
from amzn_nova_forge.model import *

sagemaker_deployment = customizer.deploy(
 model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
 deploy_platform=DeployPlatform.SAGEMAKER,
 unit_count=1,
 endpoint_name="my-custom-nova-model-sagemaker",
 sagemaker_environment_variables={
   "CONTEXT_LENGTH": "12000",
   "MAX_CONCURRENCY": "16"
 }
)
print(f"Model deployed: {sagemaker_deployment.endpoint.uri}")
print(f"Endpoint: {sagemaker_deployment.endpoint.endpoint_name}")
print(f"Status: {sagemaker_deployment.status}")
"""


class FakeInfra(RuntimeManager):
    platform = Platform.SMTJ
    region = "us-east-1"

    def execute(self, job_config):  # pragma: no cover
        raise AssertionError

    def cleanup(self, job_name):  # pragma: no cover
        pass

    @classmethod
    def job_info(cls, ref):  # pragma: no cover
        return JobInfo(JobStatus.COMPLETED, "Completed")


@pytest.fixture(autouse=True)
def _moto_knows_nova_instances(monkeypatch):
    """moto's endpoint-config instance allow-list predates p5/g6/g6e (reference/moto-coverage.md):
    accept the Nova inference instance types, keep rejecting everything else it rejects."""
    from moto.sagemaker.models import FakeEndpointConfig

    from amzn_nova_forge.model._deploy_sagemaker import SMI_CONFIGS

    nova = {t for per_model in SMI_CONFIGS.values() for t in per_model}
    original = FakeEndpointConfig.validate_instance_type

    def validate(self, instance_type):
        if instance_type not in nova:
            original(self, instance_type)

    monkeypatch.setattr(FakeEndpointConfig, "validate_instance_type", validate)


@pytest.fixture
def customizer(aws):
    return NovaModelCustomizer(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=FakeInfra())


def test_spec_example_sagemaker_verbatim(customizer, aws, capsys):
    ns = {"customizer": customizer}
    exec(SPEC_SAGEMAKER, ns)
    out = capsys.readouterr().out
    arn = f"arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/my-custom-nova-model-sagemaker"
    assert f"Model deployed: {arn}" in out
    assert "Endpoint: my-custom-nova-model-sagemaker" in out
    assert "Status: InService" in out
    sm = aws.client("sagemaker")
    model = sm.describe_model(ModelName="my-custom-nova-model-sagemaker-model")
    container = model["PrimaryContainer"]
    assert container["Image"] == "708977205387.dkr.ecr.us-east-1.amazonaws.com/nova-inference-repo:SM-Inference-latest"
    assert container["Environment"] == {"CONTEXT_LENGTH": "12000", "MAX_CONCURRENCY": "16"}
    assert model["ExecutionRoleArn"] == f"arn:aws:iam::{ACCT}:role/SageMakerDeployModelExecutionRole"
    cfg = sm.describe_endpoint_config(EndpointConfigName="my-custom-nova-model-sagemaker-config")
    variant = cfg["ProductionVariants"][0]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.p5.48xlarge", 1)
    assert ns["sagemaker_deployment"].endpoint.platform is DeployPlatform.SAGEMAKER


def test_endpoint_that_fails_to_come_up_lists_what_is_left(customizer, aws):
    sm = aws_factory.client("sagemaker", "us-east-1")
    calls = {"n": 0}
    statuses = ["Creating", "Failed"]

    def describe(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            return None  # the pre-flight existence check goes to moto (not found)
        status = statuses.pop(0)
        parsed = {
            "EndpointName": "ep-fails",
            "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/ep-fails",
            "EndpointStatus": status,
            "CreationTime": datetime.now(UTC),
            "LastModifiedTime": datetime.now(UTC),
        }
        if status == "Failed":
            parsed["FailureReason"] = "CUDA out of memory while loading the model"
        return AWSResponse(None, 200, {}, None), parsed

    sm.meta.events.register("before-call.sagemaker.DescribeEndpoint", describe)
    sleeps: list[float] = []
    with pytest.raises(DeploymentError) as ei:
        customizer.deploy(
            model_artifact_path="s3://b/ckpt",
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=2,
            endpoint_name="ep-fails",
            sleep=sleeps.append,
        )
    err = ei.value
    assert "Failed: CUDA out of memory" in str(err)
    assert err.created == [
        f"IAM role arn:aws:iam::{ACCT}:role/SageMakerDeployModelExecutionRole",
        f"IAM policy arn:aws:iam::{ACCT}:policy/SageMakerDeployModelExecutionRoleDeployPolicy",
        "SageMaker model ep-fails-model",
        "SageMaker endpoint config ep-fails-config",
        "SageMaker endpoint ep-fails",
    ]
    assert "ep-fails-config" in str(err) and len(sleeps) == 1
    # the artifact path got its trailing slash (S3Prefix)
    model = aws.client("sagemaker").describe_model(ModelName="ep-fails-model")
    assert model["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"] == "s3://b/ckpt/"


@pytest.mark.parametrize("mode", [DeploymentMode.FAIL_IF_EXISTS, DeploymentMode.UPDATE_IF_EXISTS])
def test_existing_endpoint_fails_under_both_modes(aws, mode):
    c = NovaModelCustomizer(Model.NOVA_MICRO, TrainingMethod.SFT_LORA, FakeInfra(), deployment_mode=mode)
    c.deploy(
        model_artifact_path="s3://b/c/", deploy_platform=DeployPlatform.SAGEMAKER, unit_count=1, endpoint_name="dup"
    )
    with pytest.raises(DeploymentError, match="already exists") as ei:
        c.deploy(
            model_artifact_path="s3://b/other/",
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=1,
            endpoint_name="dup",
        )
    assert ei.value.created == []
    if mode is DeploymentMode.UPDATE_IF_EXISTS:
        assert "only Bedrock provisioned throughput" in str(ei.value)


def test_leftover_model_is_reported(customizer, aws):
    aws.client("sagemaker").create_model(
        ModelName="left-model", PrimaryContainer={"Image": "x"}, ExecutionRoleArn=f"arn:aws:iam::{ACCT}:role/r"
    )
    with pytest.raises(DeploymentError, match="model named 'left-model' already exists"):
        customizer.deploy(
            model_artifact_path="s3://b/c/",
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=1,
            endpoint_name="left",
        )


def test_default_role_widens_to_new_bucket_only_for_sdk_managed_roles(customizer, aws):
    customizer.deploy(
        model_artifact_path="s3://bucket-a/c/",
        deploy_platform=DeployPlatform.SAGEMAKER,
        unit_count=1,
        endpoint_name="ep-a",
    )
    customizer.deploy(
        model_artifact_path="s3://bucket-b/c/",
        deploy_platform=DeployPlatform.SAGEMAKER,
        unit_count=1,
        endpoint_name="ep-b",
    )
    iam = aws.client("iam")
    arn = f"arn:aws:iam::{ACCT}:policy/SageMakerDeployModelExecutionRoleDeployPolicy"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    s3 = next(s for s in doc["Statement"] if s["Sid"] == "ReadModelArtifacts")["Resource"]
    assert "arn:aws:s3:::bucket-a/c/*" in s3 and "arn:aws:s3:::bucket-b/c/*" in s3
    logs = next(s for s in doc["Statement"] if s["Sid"] == "WriteEndpointLogGroups")["Resource"]
    group = f"arn:aws:logs:us-east-1:{ACCT}:log-group:/aws/sagemaker/Endpoints"
    assert logs == [f"{group}/ep-a", f"{group}/ep-a:*", f"{group}/ep-b", f"{group}/ep-b:*"]  # each endpoint named


def test_unit_count_is_required_and_positive(customizer):
    with pytest.raises(ConfigError, match="needs unit_count"):
        customizer.deploy(model_artifact_path="s3://b/c/", deploy_platform=DeployPlatform.SAGEMAKER)
    with pytest.raises(ConfigError, match="positive integer"):
        customizer.deploy(model_artifact_path="s3://b/c/", deploy_platform=DeployPlatform.SAGEMAKER, unit_count=0)


def test_sagemaker_rejects_bedrock_arn_and_long_names(customizer):
    with pytest.raises(ConfigError, match="only be deployed to Bedrock"):
        customizer.deploy(
            model_artifact_path=f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/x",
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=1,
        )
    with pytest.raises(ConfigError, match="1–56"):
        customizer.deploy(
            model_artifact_path="s3://b/c/",
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=1,
            endpoint_name="x" * 60,
        )


def test_environment_matrix():
    assert validate_environment(
        Model.NOVA_LITE_2, "ml.p5.48xlarge", {"CONTEXT_LENGTH": 12000, "MAX_CONCURRENCY": 16}
    ) == {"CONTEXT_LENGTH": "12000", "MAX_CONCURRENCY": "16"}
    # 64k context on p5 allows at most 32 concurrent requests for Lite 2
    with pytest.raises(ConfigError, match=r"MAX_CONCURRENCY=64 .*\(max 32\)"):
        validate_environment(Model.NOVA_LITE_2, "ml.p5.48xlarge", {"CONTEXT_LENGTH": "64000", "MAX_CONCURRENCY": "64"})
    with pytest.raises(ConfigError, match="max 24000"):
        validate_environment(Model.NOVA_PRO, "ml.p5.48xlarge", {"CONTEXT_LENGTH": "32000"})
    with pytest.raises(InstanceConfigError, match="ml.g6.48xlarge") as ei:
        validate_environment(Model.NOVA_PRO, "ml.g6.48xlarge", {})
    assert ei.value.allowed == ["ml.p5.48xlarge"]
    with pytest.raises(ConfigError, match="DEFAULT_TEMPERATURE"):
        validate_environment(Model.NOVA_MICRO, "ml.g5.12xlarge", {"DEFAULT_TEMPERATURE": "3"})
    with pytest.raises(ConfigError, match="one of eagle3, suffix"):
        validate_environment(Model.NOVA_MICRO, "ml.g5.12xlarge", {"SPECULATIVE_DECODING_METHOD": "medusa"})
    assert validate_environment(Model.NOVA_MICRO, "ml.g5.12xlarge", {"DEFAULT_TOP_K": "-1"})["DEFAULT_TOP_K"] == "-1"


def test_invalid_environment_creates_nothing(customizer, aws):
    with pytest.raises(ConfigError, match="CONTEXT_LENGTH"):
        customizer.deploy(
            model_artifact_path="s3://b/c/",
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=1,
            sagemaker_environment_variables={"CONTEXT_LENGTH": "999999"},
        )
    assert aws.client("iam").list_roles()["Roles"] == []
    assert aws.client("sagemaker").list_models()["Models"] == []


def test_unsupported_region_is_rejected_before_anything(aws):
    from amzn_nova_forge.model._deploy import deploy_model

    with pytest.raises(ConfigError, match="ap-south-1"):
        deploy_model(
            "s3://b/c/",
            model=Model.NOVA_LITE_2,
            deploy_platform=DeployPlatform.SAGEMAKER,
            unit_count=1,
            region="ap-south-1",
        )
    assert aws.client("iam").list_roles()["Roles"] == []


def _moto_training_job(aws, name: str) -> None:
    aws.client("sagemaker").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        RoleArn=f"arn:aws:iam::{ACCT}:role/r",
        OutputDataConfig={"S3OutputPath": "s3://out/"},
        ResourceConfig={"InstanceType": "ml.p5.48xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )


def test_deploy_from_training_result_loaded_from_disk(customizer, aws, tmp_path):
    from amzn_nova_forge.model.result import BaseJobResult, ModelArtifacts, SMTJTrainingResult

    _moto_training_job(aws, "my-nova-training")  # moto: Completed at once
    saved = SMTJTrainingResult(
        "my-nova-training",
        TrainingMethod.SFT_LORA,
        model_artifacts=ModelArtifacts(
            checkpoint_s3_path="s3://customer-escrow/my-nova-training/ckpt/", output_s3_path="s3://out/"
        ),
        model_type=Model.NOVA_LITE_2,
        region="us-east-1",
    )
    path = saved.dump(str(tmp_path))
    training_result = BaseJobResult.load(str(path))  # as after a kernel restart
    assert json.loads(path.read_text())["__class_name__"] == "SMTJTrainingResult"

    deployment = customizer.deploy(job_result=training_result, deploy_platform=DeployPlatform.SAGEMAKER, unit_count=1)
    assert deployment.endpoint.model_artifact_path == "s3://customer-escrow/my-nova-training/ckpt/"
    assert deployment.endpoint.endpoint_name == "nova-lite-2-sft-lora-sagemaker"
    assert deployment.status == "InService"


def test_end_to_end_over_http_with_moto_server(moto_server):
    """Deploy, read the status, reload the result and invoke, all through real HTTP to a moto server."""
    from amzn_nova_forge.model.result import DeploymentResult

    c = NovaModelCustomizer(Model.NOVA_MICRO, TrainingMethod.SFT_LORA, FakeInfra())
    d = c.deploy(
        model_artifact_path="s3://b/ckpt/",
        deploy_platform=DeployPlatform.SAGEMAKER,
        unit_count=1,
        sagemaker_instance_type="ml.g5.12xlarge",
        endpoint_name="e2e",
    )
    assert d.status == "InService"
    again = DeploymentResult.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again.status == "InService"
    import requests

    requests.post(
        f"{moto_server}/moto-api/static/sagemaker/endpoint-results",
        json={"results": [{"Body": json.dumps({"choices": [{"message": {"content": "ok"}}]})}], "region": "us-east-1"},
        timeout=10,
    )
    r = c.invoke_inference({"messages": [{"role": "user", "content": "hi"}]})
    assert r.text == "ok" and r.endpoint_arn == d.endpoint.uri


def test_model_package_arn_on_sagemaker(customizer, aws):
    pkg = f"arn:aws:sagemaker:us-east-1:{ACCT}:model-package/my-group/1"
    customizer.deploy(
        model_artifact_path=pkg, deploy_platform=DeployPlatform.SAGEMAKER, unit_count=1, endpoint_name="from-pkg"
    )
    container = aws.client("sagemaker").describe_model(ModelName="from-pkg-model")["PrimaryContainer"]
    assert container["ModelPackageName"] == pkg and "Image" not in container
