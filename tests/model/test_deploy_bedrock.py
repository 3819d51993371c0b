"""customizer.deploy to Bedrock on-demand (OD) and provisioned throughput (PT).

moto implements IAM but none of the Bedrock custom-model import, deployment or
provisioned-throughput operations (see reference/moto-coverage.md: "create_custom_model
(import), create/get/list_custom_model_deployment, create/get/update/list_provisioned_model_throughput
❌"). So the *bedrock* client only is driven by botocore's Stubber (which also checks every
request and response against the service model); IAM role creation runs against moto.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import ANY, Stubber

from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge.core.enums import DeploymentMode, DeployPlatform, JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, DeploymentError, JobFailedError
from amzn_nova_forge.manager._base import JobInfo, RuntimeManager
from amzn_nova_forge.model import NovaModelCustomizer
from amzn_nova_forge.model.result import DeploymentResult

ACCT = "123456789012"
MODEL_ARN = f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/imported/abc123"
OD_ARN = f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model-deployment/dep123"
PT_ARN = f"arn:aws:bedrock:us-east-1:{ACCT}:provisioned-model/pt123"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


# Verbatim from api-spec.txt ("deploy()" example, Bedrock part).
SPEC_BEDROCK_OD = """
from amzn_nova_forge.model import *

bedrock_deployment = customizer.deploy(
 model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
 deploy_platform=DeployPlatform.BEDROCK_OD,
 endpoint_name="my-custom-nova-model-bedrock"
)
print(f"Model deployed: {bedrock_deployment.endpoint.uri}")
print(f"Endpoint: {bedrock_deployment.endpoint.endpoint_name}")
print(f"Status: {bedrock_deployment.status}")
"""

# Verbatim from readme.txt ("3. Deployment").
README_PT = """
from amzn_nova_customization_sdk.model import *

deployment = customizer.deploy(
    model_artifact_path="s3://bucket/model-artifacts/", # Checkpoint s3 path
    deploy_platform=DeployPlatform.BEDROCK_PT,  # or DeployPlatform.BEDROCK_OD
    pt_units=10,                   # For Provisioned Throughput only
    endpoint_name="my-nova-model",
    bedrock_execution_role_name="BedrockDeployModelExecutionRole" # Optional IAM role name for Bedrock deployment
)
"""


class FakeInfra(RuntimeManager):
    """A runtime that only carries a region (deploy never starts jobs)."""

    platform = Platform.SMTJ
    region = "us-east-1"

    def execute(self, job_config):  # pragma: no cover - never called
        raise AssertionError("deploy must not start jobs")

    def cleanup(self, job_name):  # pragma: no cover
        pass

    @classmethod
    def job_info(cls, ref):  # pragma: no cover
        return JobInfo(JobStatus.COMPLETED, "Completed")


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def clock(self) -> float:
        return self.now


@pytest.fixture
def customizer(aws):
    return NovaModelCustomizer(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=FakeInfra())


@pytest.fixture
def bedrock(aws):
    client = aws_factory.client("bedrock", "us-east-1")
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _model_steps(stub: Stubber, s3_uri: str, statuses=("Creating", "Active")) -> None:
    stub.add_response(
        "create_custom_model",
        {"modelArn": MODEL_ARN},
        {"modelName": ANY, "modelSourceConfig": {"s3DataSource": {"s3Uri": s3_uri}}, "modelTags": ANY, "roleArn": ANY},
    )
    for st in statuses:
        resp = {"modelArn": MODEL_ARN, "modelName": "m", "creationTime": NOW, "modelStatus": st}
        if st == "Failed":
            resp["failureMessage"] = "checkpoint is not a Nova checkpoint"
        stub.add_response("get_custom_model", resp, {"modelIdentifier": MODEL_ARN})


def _od_get(stub: Stubber, status: str, msg: str | None = None) -> None:
    resp = {
        "customModelDeploymentArn": OD_ARN,
        "modelDeploymentName": "n",
        "modelArn": MODEL_ARN,
        "createdAt": NOW,
        "status": status,
    }
    if msg:
        resp["failureMessage"] = msg
    stub.add_response("get_custom_model_deployment", resp, {"customModelDeploymentIdentifier": OD_ARN})


def _pt_summary(name: str, units: int = 2) -> dict:
    return {
        "provisionedModelName": name,
        "provisionedModelArn": PT_ARN,
        "modelArn": "arn:aws:bedrock:us-east-1:123456789012:custom-model/imported/old",
        "desiredModelArn": "arn:aws:bedrock:us-east-1:123456789012:custom-model/imported/old",
        "foundationModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-lite-v1:0",
        "modelUnits": units,
        "desiredModelUnits": units,
        "status": "InService",
        "creationTime": NOW,
        "lastModifiedTime": NOW,
    }


def _pt_get(stub: Stubber, status: str) -> None:
    summary = _pt_summary("x")
    summary.pop("provisionedModelName")
    resp = {**summary, "provisionedModelName": "my-nova-model", "status": status}
    stub.add_response("get_provisioned_model_throughput", resp, {"provisionedModelId": PT_ARN})


def test_spec_example_bedrock_od_verbatim(customizer, bedrock, aws, capsys):
    bedrock.add_response(
        "list_custom_model_deployments",
        {"modelDeploymentSummaries": []},
        {"nameContains": "my-custom-nova-model-bedrock"},
    )
    _model_steps(bedrock, "s3://escrow-bucket/my-model-artifacts/", statuses=("Active",))
    bedrock.add_response(
        "create_custom_model_deployment",
        {"customModelDeploymentArn": OD_ARN},
        {"modelDeploymentName": "my-custom-nova-model-bedrock", "modelArn": MODEL_ARN, "description": ANY},
    )
    _od_get(bedrock, "Active")  # the wait
    _od_get(bedrock, "Active")  # .status in the example

    ns = {"customizer": customizer}
    exec(SPEC_BEDROCK_OD, ns)  # the spec's example, verbatim
    bedrock_deployment = ns["bedrock_deployment"]

    out = capsys.readouterr().out
    assert f"Model deployed: {OD_ARN}" in out
    assert "Endpoint: my-custom-nova-model-bedrock" in out
    assert "Status: Active" in out
    assert customizer.last_deployment is bedrock_deployment
    assert bedrock_deployment.endpoint.platform is DeployPlatform.BEDROCK_OD
    assert bedrock_deployment.endpoint.region == "us-east-1"
    assert bedrock_deployment.endpoint.endpoint_arn == OD_ARN
    assert bedrock_deployment.model_arn == MODEL_ARN
    # the default role was created in moto, scoped to the artifact bucket
    iam = aws.client("iam")
    role = iam.get_role(RoleName="BedrockDeployModelExecutionRole")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "bedrock.amazonaws.com"}
    pol_arn = f"arn:aws:iam::{ACCT}:policy/BedrockDeployModelExecutionRoleDeployPolicy"
    doc = iam.get_policy_version(PolicyArn=pol_arn, VersionId="v1")["PolicyVersion"]["Document"]
    s3 = next(s for s in doc["Statement"] if s["Sid"] == "ReadModelArtifacts")
    assert s3["Resource"] == ["arn:aws:s3:::escrow-bucket", "arn:aws:s3:::escrow-bucket/my-model-artifacts/*"]


def test_od_waits_with_progress_and_reports_failure(customizer, bedrock):
    t = FakeTime()
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
    _model_steps(bedrock, "s3://b/ckpt/", statuses=("Creating", "Creating", "Active"))
    bedrock.add_response("create_custom_model_deployment", {"customModelDeploymentArn": OD_ARN})
    _od_get(bedrock, "Creating")
    _od_get(bedrock, "Failed", "insufficient capacity")
    with pytest.raises(DeploymentError) as ei:
        customizer.deploy(
            model_artifact_path="s3://b/ckpt/", endpoint_name="ep1", sleep=t.sleep, clock=t.clock, poll_interval=5
        )
    err = ei.value
    assert "Failed: insufficient capacity" in str(err)
    assert any(MODEL_ARN in c for c in err.created) and any(OD_ARN in c for c in err.created)
    assert any("IAM role" in c for c in err.created)
    assert t.sleeps == [5, 5, 5]  # two model polls + one deployment poll before the failure
    assert customizer.last_deployment is None


def test_model_import_failure_lists_created_model(customizer, bedrock):
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
    _model_steps(bedrock, "s3://b/ckpt/", statuses=("Failed",))
    with pytest.raises(DeploymentError, match="not a Nova checkpoint") as ei:
        customizer.deploy(model_artifact_path="s3://b/ckpt/", endpoint_name="ep1")
    assert f"Bedrock custom model {MODEL_ARN}" in ei.value.created


def test_timeout_raises_with_created(customizer, bedrock):
    t = FakeTime()
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
    _model_steps(bedrock, "s3://b/ckpt/", statuses=("Creating",) * 3)
    with pytest.raises(DeploymentError, match="Timed out after 60s") as ei:
        customizer.deploy(
            model_artifact_path="s3://b/ckpt/",
            endpoint_name="ep1",
            sleep=t.sleep,
            clock=t.clock,
            poll_interval=30,
            timeout=60,
        )
    assert f"Bedrock custom model {MODEL_ARN}" in ei.value.created


@pytest.mark.parametrize("mode", [DeploymentMode.FAIL_IF_EXISTS, DeploymentMode.UPDATE_IF_EXISTS])
def test_od_name_exists_fails_under_both_modes_before_creating(aws, bedrock, mode):
    c = NovaModelCustomizer(
        model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=FakeInfra(), deployment_mode=mode
    )
    bedrock.add_response(
        "list_custom_model_deployments",
        {
            "modelDeploymentSummaries": [
                {
                    "customModelDeploymentArn": OD_ARN + "x",
                    "customModelDeploymentName": "ep1-old",
                    "modelArn": MODEL_ARN,
                    "createdAt": NOW,
                    "status": "Active",
                },
                {
                    "customModelDeploymentArn": OD_ARN,
                    "customModelDeploymentName": "ep1",
                    "modelArn": MODEL_ARN,
                    "createdAt": NOW,
                    "status": "Active",
                },
            ]
        },
    )
    with pytest.raises(DeploymentError, match="already exists") as ei:
        c.deploy(model_artifact_path="s3://b/ckpt/", endpoint_name="ep1")
    assert ei.value.created == []
    assert ("BEDROCK_PT" in str(ei.value)) and (OD_ARN in str(ei.value))
    # nothing was created: no role either
    assert [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]] == []


def test_pt_requires_unit_count(customizer):
    with pytest.raises(ConfigError, match="unit_count"):
        customizer.deploy(model_artifact_path="s3://b/ckpt/", deploy_platform=DeployPlatform.BEDROCK_PT)


def test_readme_pt_example_with_older_argument_names(customizer, bedrock, aws):
    aws.client("iam").create_role(RoleName="BedrockDeployModelExecutionRole", AssumeRolePolicyDocument="{}")
    bedrock.add_response(
        "list_provisioned_model_throughputs", {"provisionedModelSummaries": []}, {"nameContains": "my-nova-model"}
    )
    _model_steps(bedrock, "s3://bucket/model-artifacts/", statuses=("Active",))
    bedrock.add_response(
        "create_provisioned_model_throughput",
        {"provisionedModelArn": PT_ARN},
        {"modelUnits": 10, "provisionedModelName": "my-nova-model", "modelId": MODEL_ARN},
    )
    _pt_get(bedrock, "InService")

    ns = {"customizer": customizer}
    exec(README_PT, ns)  # the README's example, verbatim (older package name and argument names)
    deployment = ns["deployment"]
    assert deployment.endpoint.uri == PT_ARN
    assert deployment.endpoint.platform is DeployPlatform.BEDROCK_PT
    # an existing role the SDK did not create is used as is (no policy attached to it)
    assert (
        aws.client("iam").list_attached_role_policies(RoleName="BedrockDeployModelExecutionRole")["AttachedPolicies"]
        == []
    )


def test_pt_name_exists_fail_if_exists(customizer, bedrock):
    bedrock.add_response("list_provisioned_model_throughputs", {"provisionedModelSummaries": [_pt_summary("my-pt")]})
    with pytest.raises(DeploymentError, match="UPDATE_IF_EXISTS to point it at the new model") as ei:
        customizer.deploy(
            model_artifact_path="s3://b/ckpt/",
            deploy_platform=DeployPlatform.BEDROCK_PT,
            unit_count=2,
            endpoint_name="my-pt",
        )
    assert ei.value.created == []


def test_pt_update_if_exists_updates_in_place(aws, bedrock, caplog):
    t = FakeTime()
    c = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=FakeInfra(),
        deployment_mode=DeploymentMode.UPDATE_IF_EXISTS,
    )
    bedrock.add_response("list_provisioned_model_throughputs", {"provisionedModelSummaries": [_pt_summary("my-pt")]})
    _model_steps(bedrock, "s3://b/new-ckpt/", statuses=("Active",))
    bedrock.add_response(
        "update_provisioned_model_throughput", {}, {"provisionedModelId": PT_ARN, "desiredModelId": MODEL_ARN}
    )
    _pt_get(bedrock, "Updating")
    _pt_get(bedrock, "InService")
    with caplog.at_level("WARNING"):
        result = c.deploy(
            model_artifact_path="s3://b/new-ckpt/",
            deploy_platform=DeployPlatform.BEDROCK_PT,
            unit_count=5,
            endpoint_name="my-pt",
            sleep=t.sleep,
            clock=t.clock,
        )
    assert result.endpoint.uri == PT_ARN
    assert result.model_arn == MODEL_ARN
    assert any("updated to" in r for r in result.resources)
    assert "keeps its 2 model units" in caplog.text
    assert t.sleeps == [30.0]


def test_bedrock_custom_model_arn_is_deployed_without_import(customizer, bedrock, aws):
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
    bedrock.add_response(
        "get_custom_model",
        {"modelArn": MODEL_ARN, "modelName": "m", "creationTime": NOW, "modelStatus": "Active"},
        {"modelIdentifier": MODEL_ARN},
    )
    bedrock.add_response("create_custom_model_deployment", {"customModelDeploymentArn": OD_ARN})
    _od_get(bedrock, "Active")
    result = customizer.deploy(model_artifact_path=MODEL_ARN, endpoint_name="from-arn")
    assert result.endpoint.uri == OD_ARN and result.resources == [f"Bedrock custom model deployment {OD_ARN}"]


def test_bad_inputs_are_config_errors(customizer):
    with pytest.raises(ConfigError, match="S3 checkpoint"):
        customizer.deploy(model_artifact_path="/tmp/ckpt")
    with pytest.raises(ConfigError, match="not a valid Bedrock name"):
        customizer.deploy(model_artifact_path="s3://b/c/", endpoint_name="bad name!")
    with pytest.raises(TypeError, match="unexpected arguments"):
        customizer.deploy(model_artifact_path="s3://b/c/", colour="blue")
    with pytest.raises(ValueError, match="No model to deploy"):
        customizer.deploy()


# ---- artifact resolution from a training result ----------------------------------------------
class _Artifacts:
    def __init__(self, ckpt=None, arn=None):
        self.checkpoint_s3_path, self.output_s3_path, self.output_model_arn = ckpt, None, arn


class _Result:
    def __init__(self, status, ckpt=None, arn=None, platform=Platform.SMTJ):
        self.job_id, self._status, self.platform = "job-1", status, platform
        self.model_artifacts = _Artifacts(ckpt, arn)

    def get_job_status(self):
        return self._status, self._status.value


def test_resolve_from_job_result_and_last_training(customizer):
    from amzn_nova_forge.model._deploy import resolve_artifact_path

    done = _Result(JobStatus.COMPLETED, ckpt="s3://esc/job-1/ckpt/")
    assert resolve_artifact_path(customizer, None, done) == "s3://esc/job-1/ckpt/"
    assert resolve_artifact_path(customizer, "s3://given/", done) == "s3://given/"
    customizer.last_training_result = done
    assert resolve_artifact_path(customizer, None, None) == "s3://esc/job-1/ckpt/"
    bedrock_done = _Result(JobStatus.COMPLETED, ckpt="s3://out/", arn=MODEL_ARN, platform=Platform.BEDROCK)
    assert resolve_artifact_path(customizer, None, bedrock_done) == MODEL_ARN
    with pytest.raises(ConfigError, match="InProgress, not Completed"):
        resolve_artifact_path(customizer, None, _Result(JobStatus.IN_PROGRESS))
    with pytest.raises(JobFailedError, match="'job-1' is Failed; there is no trained model to deploy") as failed:
        resolve_artifact_path(customizer, None, _Result(JobStatus.FAILED))
    assert failed.value.job_id == "job-1"
    with pytest.raises(ConfigError, match="checkpoint location is unknown"):
        resolve_artifact_path(customizer, None, _Result(JobStatus.COMPLETED))


def test_deployment_result_round_trip_and_status_after_load(customizer, bedrock, tmp_path):
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
    _model_steps(bedrock, "s3://b/ckpt/", statuses=("Active",))
    bedrock.add_response("create_custom_model_deployment", {"customModelDeploymentArn": OD_ARN})
    _od_get(bedrock, "Active")
    result = customizer.deploy(model_artifact_path="s3://b/ckpt/", endpoint_name="ep-dump")
    path = result.dump(str(tmp_path))
    data = json.loads(path.read_text())
    assert data["endpoint"] == {
        "platform": "bedrock_od",
        "endpoint_name": "ep-dump",
        "uri": OD_ARN,
        "model_artifact_path": "s3://b/ckpt/",
        "region": "us-east-1",
    }
    loaded = DeploymentResult.load(str(path))
    assert loaded.endpoint == result.endpoint and loaded.created_at == result.created_at
    _od_get(bedrock, "Creating")
    assert loaded.status == "Creating"


# Verbatim from readme.txt (quick start, step 9).
README_DEPLOY_FROM_TRAINING = """
# 9. Deploy model to Bedrock for inference
# Note: Defaults to on-demand deployment when `deploy_platform` is not provided
deployment = customizer.deploy(job_result=training_result)
"""


def test_readme_deploy_from_training_result_loaded_from_disk(customizer, bedrock, aws, tmp_path):
    from amzn_nova_forge.model.result import BaseJobResult, ModelArtifacts, SMTJTrainingResult

    aws.client("sagemaker").create_training_job(  # moto: the job is Completed at once
        TrainingJobName="my-nova-training",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        RoleArn=f"arn:aws:iam::{ACCT}:role/r",
        OutputDataConfig={"S3OutputPath": "s3://out/"},
        ResourceConfig={"InstanceType": "ml.p5.48xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    ckpt = "s3://customer-escrow-123/my-nova-training/checkpoints/"
    SMTJTrainingResult(
        "my-nova-training",
        TrainingMethod.SFT_LORA,
        model_type=Model.NOVA_LITE_2,
        region="us-east-1",
        model_artifacts=ModelArtifacts(checkpoint_s3_path=ckpt),
    ).dump(str(tmp_path), "job.json")
    training_result = BaseJobResult.load(str(tmp_path / "job.json"))

    name = "nova-lite-2-sft-lora-bedrock-od"  # the default endpoint name
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []}, {"nameContains": name})
    _model_steps(bedrock, ckpt, statuses=("Active",))
    bedrock.add_response(
        "create_custom_model_deployment",
        {"customModelDeploymentArn": OD_ARN},
        {"modelDeploymentName": name, "modelArn": MODEL_ARN, "description": ANY},
    )
    _od_get(bedrock, "Active")
    ns = {"customizer": customizer, "training_result": training_result}
    exec(README_DEPLOY_FROM_TRAINING, ns)
    deployment = ns["deployment"]
    assert deployment.endpoint.model_artifact_path == ckpt
    assert deployment.endpoint.platform is DeployPlatform.BEDROCK_OD and deployment.endpoint.uri == OD_ARN


def test_customizer_job_result_is_used_only_when_it_is_a_training_job(customizer):
    from amzn_nova_forge.model._deploy import resolve_artifact_path

    class _Eval:
        job_id = "eval-1"

    customizer.job_result = _Eval()
    with pytest.raises(ConfigError, match="No model to deploy"):
        resolve_artifact_path(customizer, None, None)
    customizer.job_result = _Result(JobStatus.COMPLETED, ckpt="s3://esc/t/ckpt/")
    assert resolve_artifact_path(customizer, None, None) == "s3://esc/t/ckpt/"


def test_model_package_arn_is_imported_through_custom_model_data_source(customizer, bedrock, aws):
    pkg = f"arn:aws:sagemaker:us-east-1:{ACCT}:model-package/my-group/3"
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
    bedrock.add_response(
        "create_custom_model",
        {"modelArn": MODEL_ARN},
        {
            "modelName": ANY,
            "modelTags": ANY,
            "roleArn": ANY,
            "customModelDataSource": {"modelPackageArnDataSource": {"modelPackageArn": pkg}},
        },
    )
    bedrock.add_response(
        "get_custom_model", {"modelArn": MODEL_ARN, "modelName": "m", "creationTime": NOW, "modelStatus": "Active"}
    )
    bedrock.add_response("create_custom_model_deployment", {"customModelDeploymentArn": OD_ARN})
    _od_get(bedrock, "Active")
    assert customizer.deploy(model_artifact_path=pkg, endpoint_name="from-pkg").endpoint.uri == OD_ARN
    iam = aws.client("iam")
    arn = f"arn:aws:iam::{ACCT}:policy/BedrockDeployModelExecutionRoleDeployPolicy"
    doc = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    pkg_stmt = next(s for s in doc["Statement"] if s["Sid"] == "ReadSageMakerModelPackages")
    assert pkg_stmt["Resource"] == pkg  # the one package being imported
    assert pkg_stmt["Action"] == ["sagemaker:AccessModelPackageData", "sagemaker:DescribeModelPackage"]


def test_custom_model_name_is_valid_for_names_ending_in_a_separator(customizer, bedrock):
    import re

    seen: list = []
    client = aws_factory.client("bedrock", "us-east-1")
    client.meta.events.register(
        "before-parameter-build.bedrock.CreateCustomModel", lambda params, **kw: seen.append(params["modelName"])
    )
    bedrock.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
    _model_steps(bedrock, "s3://b/ckpt/", statuses=("Active",))
    bedrock.add_response("create_custom_model_deployment", {"customModelDeploymentArn": OD_ARN})
    _od_get(bedrock, "Active")
    customizer.deploy(model_artifact_path="s3://b/ckpt/", endpoint_name="my_model-")
    assert re.fullmatch(r"([0-9a-zA-Z][_-]?)+", seen[0]) and seen[0].startswith("my_model-") and len(seen[0]) <= 63


# Verbatim from api-spec-older.txt ("deploy()" example; older package name).
OLDER_SPEC_OD = """
from amzn_nova_customization_sdk.model import *

deployment = customizer.deploy(
 model_artifact_path="s3://escrow-bucket/my-model-artifacts/",
 deploy_platform=DeployPlatform.BEDROCK_OD,
 endpoint_name="my-custom-nova-model"
)
print(f"Model deployed: {deployment.endpoint.uri}")
print(f"Endpoint: {deployment.endpoint.endpoint_name}")
print(f"Status: {deployment.status}")
"""


def test_older_spec_example_verbatim(customizer, bedrock, capsys):
    bedrock.add_response(
        "list_custom_model_deployments", {"modelDeploymentSummaries": []}, {"nameContains": "my-custom-nova-model"}
    )
    _model_steps(bedrock, "s3://escrow-bucket/my-model-artifacts/", statuses=("Active",))
    bedrock.add_response("create_custom_model_deployment", {"customModelDeploymentArn": OD_ARN})
    _od_get(bedrock, "Active")
    _od_get(bedrock, "Creating")  # .status is a live call: it reports what the service says now
    exec(OLDER_SPEC_OD, {"customizer": customizer})
    out = capsys.readouterr().out
    assert f"Model deployed: {OD_ARN}" in out and "Endpoint: my-custom-nova-model\n" in out
    assert "Status: Creating" in out
