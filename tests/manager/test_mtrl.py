"""Multi-turn RFT on SMTJServerless: execute_mtrl / execute_mtrl_eval, status, stop, retries.

moto has no CreateJob/DescribeJob/StopJob/DescribeHubContent: ``mtrl_support.FakeJobs`` answers
those four calls (botocore still validates each request); model package groups and IAM are moto's.
"""

from __future__ import annotations

import json
from typing import Any

import aws_support as A
import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from mtrl_support import AGENT_ARN, LAMBDA_ARN, MLFLOW_ARN, FakeJobs

from amzn_nova_forge.core.enums import JobStatus, Model, Platform
from amzn_nova_forge.errors import AWSServiceError, ConfigError, JobSubmissionError
from amzn_nova_forge.manager import SMTJServerlessRuntimeManager
from amzn_nova_forge.manager._base import JobRef
from amzn_nova_forge.manager._mtrl_ops import MTRLEvaluationJobs

PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mtrl-models/1"


@pytest.fixture
def jobs(nova_aws: Any) -> FakeJobs:
    return FakeJobs()


def _group_arn(name: str) -> str:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    return str(sm.describe_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"])


def _infra(**kw: Any) -> SMTJServerlessRuntimeManager:
    args: dict[str, Any] = {"model_package_group_name": "mtrl-models", "agent_core_arn": AGENT_ARN}
    args.update(kw)
    return SMTJServerlessRuntimeManager(**args)


def test_execute_mtrl_training_document_field_by_field(jobs: FakeJobs, nova_aws: Any) -> None:
    infra = _infra(
        kms_key_id="arn:aws:kms:us-east-1:123456789012:key/k1", subnets=["subnet-1"], security_group_ids=["sg-1"]
    )
    name = infra.execute_mtrl(
        model=Model.NOVA_LITE_2,
        job_name="mtrl-run",
        data_s3_path="s3://my-bucket/rft/",
        output_s3_path="s3://my-bucket/out/",
        mlflow_tracking_uri=MLFLOW_ARN,
        overrides={"learning_rate": 1e-5, "max_steps": 20, "reasoning_enabled": True},
    )
    assert name.startswith("mtrl-run-") and len(name) == len("mtrl-run-") + 8
    (req,) = jobs.create_calls
    assert req["JobName"] == name
    assert req["JobCategory"] == "AgentRFT"
    assert req["JobConfigSchemaVersion"] == "1.0.0"
    assert req["RoleArn"] == nova_aws["role"]
    ((tag,),) = [req["Tags"]]
    assert tag["Key"] == "nova-forge:submission-token" and len(tag["Value"]) == 32
    doc = json.loads(req["JobConfigDocument"])
    assert doc["AgentConfig"] == {"BedrockAgentCoreConfig": {"AgentRuntimeArn": AGENT_ARN, "Qualifier": "DEFAULT"}}
    assert doc["InputDataConfig"] == [
        {
            "ChannelName": "train",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://my-bucket/rft/"}},
        }
    ]
    assert doc["OutputDataConfig"] == {
        "S3OutputPath": "s3://my-bucket/out/",
        "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k1",
    }
    # both groups were created on first use (get-or-create), the checkpoint one with the default name
    assert doc["ModelPackageConfig"] == {
        "OutputModelPackageGroupArn": _group_arn("mtrl-models"),
        "IntermediateCheckpointModelPackageGroupArn": _group_arn("mtrl-models-checkpoints"),
    }
    assert doc["TrainingConfig"] == {
        "BaseModelArn": "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/"
        "nova-textgeneration-lite-v2/1.0.0",
        "AcceptEula": True,
        "MlflowConfig": {"MlflowResourceArn": MLFLOW_ARN},
        "HyperParameters": {"learning_rate": 1e-5, "max_steps": 20, "reasoning_enabled": True},
    }
    assert doc["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
    assert jobs.hub_calls[0] == {
        "HubName": "SageMakerPublicHub",
        "HubContentType": "Model",
        "HubContentName": "nova-textgeneration-lite-v2",
    }


def test_lambda_agent_pinned_version_named_checkpoint_group_and_iterative_training(jobs: FakeJobs) -> None:
    infra = _infra(
        agent_core_arn=None,
        rft_lambda=LAMBDA_ARN,
        hub_content_version="2.1.0",
        intermediate_model_package_group_name="my-checkpoints",
    )
    name = infra.execute_mtrl(
        Model.NOVA_MICRO, "iter", "s3://my-bucket/rft/", "s3://my-bucket/out/", model_path=PACKAGE
    )
    doc = jobs.document(name)
    assert doc["AgentConfig"] == {"CustomAgentLambdaConfig": {"LambdaArn": LAMBDA_ARN}}
    assert doc["ModelPackageConfig"]["InputModelPackageArn"] == PACKAGE
    assert doc["ModelPackageConfig"]["IntermediateCheckpointModelPackageGroupArn"] == _group_arn("my-checkpoints")
    assert doc["TrainingConfig"]["BaseModelArn"].endswith("/nova-textgeneration-micro/2.1.0")
    assert jobs.hub_calls[0]["HubContentVersion"] == "2.1.0"
    assert "MlflowConfig" not in doc["TrainingConfig"] and "HyperParameters" not in doc["TrainingConfig"]
    assert "VpcConfig" not in doc


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:bedrock:us-east-1:123456789012:agent/ABC",  # a Bedrock agent, not an AgentCore runtime
        "arn:aws:lambda:us-east-1:12345:function:f",  # short account
        "my_agent-a1b2c3d4e5",  # a bare runtime id
        "",
    ],
)
def test_bad_agent_arn_is_refused_at_construction(arn: str, nova_aws: Any) -> None:
    if arn == "":
        infra = SMTJServerlessRuntimeManager(model_package_group_name="mtrl-models")
        with pytest.raises(ConfigError, match="needs an agent: pass agent_core_arn="):
            infra.execute_mtrl(Model.NOVA_LITE_2, "x", "s3://my-bucket/rft/", "s3://my-bucket/out/")
        return
    with pytest.raises(ConfigError, match="agent_core_arn must be an AgentCore runtime ARN") as e:
        _infra(agent_core_arn=arn)
    assert repr(arn) in str(e.value)


def test_bad_inputs_fail_before_any_job_is_created(jobs: FakeJobs) -> None:
    infra = _infra()
    with pytest.raises(ConfigError, match="needs data_s3_path"):
        infra.execute_mtrl(Model.NOVA_LITE_2, "x", None, "s3://my-bucket/out/")
    with pytest.raises(ConfigError, match="output_s3_path as s3://bucket/prefix, got 'out/'"):
        infra.execute_mtrl(Model.NOVA_LITE_2, "x", "s3://my-bucket/rft/", "out/")
    with pytest.raises(ConfigError, match="model package ARN of an earlier job"):
        infra.execute_mtrl(Model.NOVA_LITE_2, "x", "s3://my-bucket/rft/", "s3://b-1/o/", model_path="s3://b-1/ckpt/")
    with pytest.raises(ConfigError, match="Hyperparameter 'lr' must be a number"):
        infra.execute_mtrl(Model.NOVA_LITE_2, "x", "s3://my-bucket/rft/", "s3://b-1/o/", overrides={"lr": [1]})
    with pytest.raises(ConfigError, match="At most 50 hyperparameter"):
        infra.execute_mtrl(
            Model.NOVA_LITE_2, "x", "s3://my-bucket/rft/", "s3://b-1/o/", overrides={f"k{i}": i for i in range(51)}
        )
    with pytest.raises(ConfigError, match="job_name must be 1-63"):
        infra.execute_mtrl(Model.NOVA_LITE_2, "bad name", "s3://my-bucket/rft/", "s3://b-1/o/")
    with pytest.raises(ConfigError, match="tracking server ARN"):
        infra.execute_mtrl(
            Model.NOVA_LITE_2, "x", "s3://my-bucket/rft/", "s3://b-1/o/", mlflow_tracking_uri="http://localhost:5000"
        )
    assert jobs.create_calls == []


def test_constructor_checks_the_mtrl_settings(nova_aws: Any) -> None:
    with pytest.raises(ConfigError, match="must differ from model_package_group_name"):
        _infra(intermediate_model_package_group_name="mtrl-models")
    with pytest.raises(ConfigError, match="hub_content_version must be a version"):
        _infra(hub_content_version="latest")
    with pytest.raises(ConfigError, match="evaluator_name must be 1-63"):
        _infra(evaluator_name="bad name!")
    infra = _infra(evaluator_name="my-evaluator", hub_content_version="1.0.0")
    assert (infra.agent_core_arn, infra.evaluator_name, infra.hub_content_version) == (
        AGENT_ARN,
        "my-evaluator",
        "1.0.0",
    )
    assert infra.intermediate_model_package_group_name is None


def test_status_stop_and_outputs_from_a_job_ref_alone(jobs: FakeJobs) -> None:
    infra = _infra()
    name = infra.execute_mtrl(Model.NOVA_LITE_2, "st", "s3://my-bucket/rft/", "s3://my-bucket/out/")
    ref = JobRef.from_dict(json.loads(json.dumps(infra.mtrl_job_ref(name).to_dict())))  # as after a reload
    assert ref.platform is Platform.SMTJServerless and ref.extras == {"job_category": "AgentRFT"}
    info = SMTJServerlessRuntimeManager.job_info(ref)
    assert (info.status, info.raw_status, info.message) == (JobStatus.IN_PROGRESS, "InProgress", "Starting")
    assert SMTJServerlessRuntimeManager.log_source(ref) == {
        "log_group": "/aws/sagemaker/Job/AgentRFT",
        "stream_prefix": name,
    }

    infra.cleanup(name, is_mtrl=True)
    assert jobs.stop_calls == [{"JobName": name, "JobCategory": "AgentRFT"}]
    assert SMTJServerlessRuntimeManager.job_info(ref).raw_status == "Stopping"
    assert SMTJServerlessRuntimeManager.job_info(ref).status is JobStatus.IN_PROGRESS

    jobs.finish(name, "Stopped")
    SMTJServerlessRuntimeManager.stop_job(ref)  # an ended job: nothing to stop, no error
    assert SMTJServerlessRuntimeManager.job_info(ref).status is JobStatus.STOPPED

    jobs.progress(name, OutputModelPackageArn=PACKAGE)
    out = SMTJServerlessRuntimeManager.job_outputs(ref)
    assert (out.output_s3_path, out.output_model_arn) == ("s3://my-bucket/out/", PACKAGE)


def test_failed_job_reports_its_reason(jobs: FakeJobs) -> None:
    infra = _infra()
    name = infra.execute_mtrl(Model.NOVA_LITE_2, "f", "s3://my-bucket/rft/", "s3://my-bucket/out/")
    jobs.finish(name, "Failed", reason="AgentCore runtime returned 500")
    info = SMTJServerlessRuntimeManager.job_info(infra.mtrl_job_ref(name))
    assert (info.status, info.message) == (JobStatus.FAILED, "AgentCore runtime returned 500")
    assert info.ended_at is not None


def test_missing_job_is_a_typed_error_naming_the_operation(jobs: FakeJobs) -> None:
    ref = JobRef(Platform.SMTJServerless, "nope", "us-east-1", {"job_category": "AgentRFT"})
    with pytest.raises(AWSServiceError, match=r"DescribeJob failed \(ResourceNotFound\).*request id r-1") as e:
        SMTJServerlessRuntimeManager.job_info(ref)
    assert e.value.operation == "DescribeJob"
    with pytest.raises(ConfigError, match="not a multi-turn RFT job"):
        SMTJServerlessRuntimeManager.stop_job(JobRef(Platform.SMTJServerless, "sl-job", "us-east-1"))


def test_a_timed_out_create_adopts_the_job_it_started(jobs: FakeJobs) -> None:
    jobs.fail_after_create = ReadTimeoutError(endpoint_url="https://api.sagemaker")
    name = _infra().execute_mtrl(Model.NOVA_LITE_2, "retry", "s3://my-bucket/rft/", "s3://my-bucket/out/")
    assert list(jobs.jobs) == [name]
    assert jobs.describe_calls == [{"JobName": name, "JobCategory": "AgentRFT"}]


def test_a_name_taken_by_another_submission_is_refused(jobs: FakeJobs) -> None:
    from amzn_nova_forge.manager import _mtrl_jobs

    first = _mtrl_jobs.create_job_once("taken", "AgentRFT", A.create_role("R2"), "{}", "us-east-1", token="t1")
    assert first == "taken"
    # the same submission retried (same token): adopted, not duplicated
    assert (
        _mtrl_jobs.create_job_once("taken", "AgentRFT", A.create_role("R3"), "{}", "us-east-1", token="t1") == "taken"
    )
    with pytest.raises(JobSubmissionError, match="already exists and was not started by this submission"):
        _mtrl_jobs.create_job_once("taken", "AgentRFT", A.create_role("R4"), "{}", "us-east-1", token="t2")
    assert len(jobs.jobs) == 1


def test_execute_mtrl_eval_documents_fine_tuned_and_base(jobs: FakeJobs) -> None:
    infra = _infra()
    train = infra.execute_mtrl(Model.NOVA_LITE_2, "t", "s3://my-bucket/rft/", "s3://my-bucket/out/")
    jobs.progress(train, OutputModelPackageArn=PACKAGE)
    jobs.finish(train)
    result = infra.execute_mtrl_eval(
        model=Model.NOVA_LITE_2,
        data_s3_path="s3://my-bucket/eval/",
        output_s3_path="s3://my-bucket/eval-out/",
        mlflow_tracking_uri=MLFLOW_ARN,
        overrides={"eval_group_size": 4, "sampling_temperature": 0.7, "pass_k_values": [1, 4]},
        training_job_name=train,
        evaluate_base_model=True,
    )
    assert isinstance(result, MTRLEvaluationJobs) and result.base_job_name is not None
    assert result.job_names == (result.job_name, result.base_job_name)
    ft, base = jobs.document(result.job_name), jobs.document(result.base_job_name)
    assert jobs.jobs[result.job_name]["JobCategory"] == "AgentRFTEvaluation"
    assert ft["InputDataConfig"] == [
        {
            "ChannelName": "evaluation",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://my-bucket/eval/"}},
        }
    ]
    assert ft["OutputDataConfig"] == {
        "S3OutputPath": "s3://my-bucket/eval-out/",
        "MlflowConfig": {
            "MlflowResourceArn": MLFLOW_ARN,
            "MlflowExperimentName": "mtrl-eval-nova-textgeneration-lite-v2",
            "MlflowRunName": "fine-tuned-model-eval",
        },
    }
    assert ft["EvaluationConfig"]["HyperParameters"] == {
        "eval_group_size": "4",
        "sampling_temperature": "0.7",
        "pass_k_values": "[1, 4]",
    }
    assert ft["EvaluationConfig"]["AcceptEula"] is True
    assert ft["ModelPackageConfig"] == {"InputModelPackageArn": PACKAGE}
    assert ft["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert "ModelPackageConfig" not in base
    assert base["OutputDataConfig"]["MlflowConfig"]["MlflowRunName"] == "base-model-eval"
    info = SMTJServerlessRuntimeManager.job_info(infra.mtrl_job_ref(result.job_name, "AgentRFTEvaluation"))
    assert info.status is JobStatus.IN_PROGRESS


def test_execute_mtrl_eval_refusals(jobs: FakeJobs) -> None:
    infra = _infra()
    train = infra.execute_mtrl(Model.NOVA_LITE_2, "t", "s3://my-bucket/rft/", "s3://my-bucket/out/")
    with pytest.raises(ConfigError, match="has no output model package yet"):
        infra.execute_mtrl_eval(Model.NOVA_LITE_2, "s3://my-bucket/eval/", "s3://b-1/o/", training_job_name=train)
    with pytest.raises(
        ConfigError, match="Unknown multi-turn evaluation hyperparameter 'lr'; allowed: eval_group_size"
    ):
        infra.execute_mtrl_eval(Model.NOVA_LITE_2, "s3://my-bucket/eval/", "s3://b-1/o/", overrides={"lr": 1})
    with pytest.raises(ConfigError, match="must be a model package ARN"):
        infra.execute_mtrl_eval(Model.NOVA_LITE_2, "s3://my-bucket/eval/", "s3://b-1/o/", model_path="s3://b-1/m/")
    # the base model alone: no model package, one job
    only = infra.execute_mtrl_eval(Model.NOVA_LITE_2, "s3://my-bucket/eval/", "s3://b-1/o/", evaluate_base_model=True)
    assert only.base_job_name is None and "ModelPackageConfig" not in jobs.document(only.job_name)


def test_a_timed_out_create_that_started_nothing_and_a_refused_create(jobs: FakeJobs) -> None:
    from amzn_nova_forge.manager import _mtrl_jobs

    role = A.create_role("R5")
    seen: list[str] = []

    def lost(p: dict[str, Any]) -> dict[str, Any]:  # timed out before SageMaker recorded anything
        seen.append(p["JobName"])
        raise ReadTimeoutError(endpoint_url="https://api.sagemaker")

    jobs.refuse_create = lost
    with pytest.raises(JobSubmissionError, match="timed out and no such job exists; it was not started"):
        _mtrl_jobs.create_job_once("lost", "AgentRFT", role, "{}", "us-east-1", token="t1")
    assert seen == ["lost"] and jobs.jobs == {}
    jobs.refuse_create = lambda p: {
        "Error": {"Code": "ResourceLimitExceeded", "Message": "Too many AgentRFT jobs"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "r-9"},
    }
    with pytest.raises(AWSServiceError, match=r"CreateJob failed \(ResourceLimitExceeded\): Too many.*r-9") as e:
        _mtrl_jobs.create_job_once("limited", "AgentRFT", role, "{}", "us-east-1", token="t2")
    assert e.value.code == "ResourceLimitExceeded" and jobs.jobs == {}
