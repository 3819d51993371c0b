"""train() on Bedrock, SMTJ Serverless and HyperPod (the spec's constructor examples), and data mixing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.manager import _hyperpod_k8s as K


@pytest.fixture
def nova_aws(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    role = A.assume_role(monkeypatch)
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    A.put("s3://bucket/data.jsonl", A.SFT_JSONL)
    monkeypatch.chdir(tmp_path)
    return {"role": role, "simulations": A.allow_simulation()}


class RecordingLauncher:
    def __init__(self) -> None:
        self.specs: list[K.HyperPodJobSpec] = []

    def start(self, spec: K.HyperPodJobSpec) -> str:
        self.specs.append(spec)
        return spec.job_name

    def cancel(self, **_: Any) -> None:
        return None

    def status(self, **_: Any) -> dict[str, Any]:
        return {"raw": "Running"}


@pytest.fixture
def launcher() -> Any:
    fake = RecordingLauncher()
    previous = K.set_launcher(fake)
    yield fake
    K.set_launcher(previous)


def _rigs(groups: list[dict[str, Any]]) -> None:
    # moto's DescribeCluster has no RestrictedInstanceGroups: answer that one call.
    A.stub_one(
        "sagemaker",
        "DescribeCluster",
        lambda p: {
            "ClusterArn": "arn:aws:sagemaker:us-east-1:123456789012:cluster/abc",
            "ClusterName": p["ClusterName"],
            "ClusterStatus": "InService",
            "CreationTime": "2026-01-01T00:00:00Z",
            "InstanceGroups": [],
            "RestrictedInstanceGroups": groups,
        },
    )


def test_bedrock_constructor_example_and_train(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import BedrockRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    A.create_role("BedrockRole")
    creates = A.capture("bedrock", "CreateModelCustomizationJob")
    bedrock_infra = BedrockRuntimeManager(
        execution_role="arn:aws:iam::123456789012:role/BedrockRole",
        base_model_identifier="arn:aws:bedrock:us-east-1::custom-model/amazon.nova-2-lite-v1:0:256k:abcdefghijk",
    )

    bedrock_customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=bedrock_infra,
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    result = bedrock_customizer.train(job_name="bedrock-job", overrides={"max_epochs": 2})
    (req,) = creates
    assert type(result).__name__ == "BedrockTrainingResult"
    assert result.job_id.startswith("arn:aws:bedrock:") and req["jobName"] in result.job_id
    assert req["hyperParameters"]["epochCount"] == "2"
    assert req["baseModelIdentifier"].endswith(":abcdefghijk")
    assert result.get_job_status() == (JobStatus.IN_PROGRESS, "InProgress")
    simulated = {a for call in nova_aws["simulations"] for a in call["ActionNames"]}
    assert "bedrock:CreateModelCustomizationJob" in simulated


def test_serverless_constructor_example_and_train(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJServerlessRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    # moto implements neither DescribeHubContent nor serverless CreateTrainingJob: answer those calls.
    A.stub_one(
        "sagemaker",
        "DescribeHubContent",
        lambda p: {
            "HubContentName": p["HubContentName"],
            "HubContentType": "Model",
            "DocumentSchemaVersion": "2.0.0",
            "HubContentArn": "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/x/1.0.0",
            "HubContentVersion": "1.0.0",
            "HubName": "SageMakerPublicHub",
            "HubContentDocument": "{}",
            "HubArn": "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub",
            "HubContentStatus": "Available",
            "CreationTime": "2025-01-01T00:00:00Z",
        },
    )
    creates = A.stub_one(
        "sagemaker",
        "CreateTrainingJob",
        lambda p: {"TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{p['TrainingJobName']}"},
    )
    infra = SMTJServerlessRuntimeManager(
        model_package_group_name="model-group",
    )
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_FULL,
        infra=infra,
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    result = customizer.train(job_name="serverless-job", overrides={"max_steps": 8})
    (req,) = creates
    assert type(result).__name__ == "SMTJServerlessTrainingResult" and result.job_id == req["TrainingJobName"]
    assert req["ServerlessJobConfig"]["CustomizationTechnique"] == "SFT" and "Peft" not in req["ServerlessJobConfig"]
    assert req["HyperParameters"]["max_steps"] == "8"


def test_hyperpod_constructor_example_and_train(nova_aws: Any, launcher: RecordingLauncher) -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    _rigs([{"InstanceGroupName": "rig", "InstanceType": "ml.p5.48xlarge", "CurrentCount": 4}])
    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="default"
    )
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE,
        method=TrainingMethod.CPT,
        infra=infra,
        data_s3_path="s3://bucket/data.jsonl",
        output_s3_path="s3://bucket/output/",
    )
    result = customizer.train(job_name="hp-cpt", validation_data_s3_path="s3://bucket/data.jsonl")
    (spec,) = launcher.specs
    assert type(result).__name__ == "SMHPTrainingResult"
    assert (result.cluster_name, result.namespace, result.job_id) == ("my-hyperpod-cluster", "default", spec.job_name)
    assert spec.image_uri.endswith("nova-fine-tune-repo:HP-CPT-latest")
    recipe = yaml.safe_load(spec.recipe_yaml)
    assert recipe["run"]["replicas"] == 4 and recipe["run"]["data_s3_path"] == "s3://bucket/data.jsonl"
    assert result.get_job_status() == (JobStatus.IN_PROGRESS, "Running")


def test_hyperpod_without_a_fitting_instance_group_creates_nothing(nova_aws: Any, launcher: RecordingLauncher) -> None:
    from amzn_nova_forge.errors import ValidationCheckError
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    _rigs([{"InstanceGroupName": "rig", "InstanceType": "ml.p5.48xlarge", "CurrentCount": 2}])
    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="default"
    )
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path="s3://bucket/data.jsonl",
        output_s3_path="s3://bucket/output/",
    )
    with pytest.raises(ValidationCheckError, match="4 x ml.p5.48xlarge.*scale_cluster"):
        customizer.train(job_name="too-big")
    assert launcher.specs == []


def test_data_mixing_examples(nova_aws: Any, launcher: RecordingLauncher) -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    _rigs([{"InstanceGroupName": "rig", "InstanceType": "ml.p5.48xlarge", "CurrentCount": 4}])
    # Must initialize with data_mixing_enabled=True
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=SMHPRuntimeManager(
            instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="kubeflow"
        ),
        data_s3_path="s3://bucket/data.jsonl",
        data_mixing_enabled=True,
    )
    config = customizer.get_data_mixing_config()
    print(config)
    assert config == {"customer_data_percent": 50, "nova_code_percent": 30, "nova_general_percent": 70}

    # Set data mixing configuration
    customizer.set_data_mixing_config(
        {"customer_data_percent": 50, "nova_code_percent": 30, "nova_general_percent": 70}
    )
    # Or use 100% customer data (no Nova mixing)
    customizer.set_data_mixing_config({"customer_data_percent": 100, "nova_code_percent": 0, "nova_general_percent": 0})
    assert customizer.get_data_mixing_config() == {
        "customer_data_percent": 100,
        "nova_code_percent": 0,
        "nova_general_percent": 0,
    }
    customizer.set_data_mixing_config(
        {"customer_data_percent": 40, "nova_code_percent": 20, "nova_general_percent": 80, "dataset_catalog": "ignored"}
    )
    assert "dataset_catalog" not in customizer.get_data_mixing_config()
    with pytest.raises(ValueError, match="sum to 100"):
        customizer.set_data_mixing_config({"customer_data_percent": 50, "nova_code_percent": 30})
    with pytest.raises(ValueError, match="0 to 100"):
        customizer.set_data_mixing_config({"customer_data_percent": 150, "nova_general_percent": 100})
    customizer.output_s3_path = "s3://bucket/output/"
    customizer.train(job_name="mix")
    recipe = yaml.safe_load(launcher.specs[0].recipe_yaml)
    assert recipe["training_config"]["data_mixing"]["sources"] == {"code": 20.0, "general": 80.0, "percent": 40.0}


def test_data_mixing_must_be_enabled(aws: Any) -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=SMHPRuntimeManager(
            instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="kubeflow"
        ),
        data_s3_path="s3://bucket/data.jsonl",
    )
    with pytest.raises(ValueError, match="data_mixing_enabled=True"):
        customizer.set_data_mixing_config({"customer_data_percent": 100})
    with pytest.raises(ValueError, match="data_mixing_enabled=True"):
        customizer.get_data_mixing_config()
    assert customizer.platform is Platform.SMHP


def test_local_rft_dry_run_passes_the_reward_file_on(tmp_path: Path, no_aws_credentials: None) -> None:
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    data = tmp_path / "rft.jsonl"
    data.write_text(A.RFT_JSONL)
    reward = tmp_path / "reward.py"
    reward.write_text("def lambda_handler(e, c):\n    return []\n")
    infra = LocalRuntimeManager(output_root=str(tmp_path / "jobs"), rft_lambda=str(reward))
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.RFT_LORA,
        infra=infra,
        data_s3_path=str(data),
        generated_recipe_dir=str(tmp_path / "recipes"),
    )
    assert customizer.train(job_name="local_rft", dry_run=True) is None
    (recipe_file,) = (tmp_path / "recipes").glob("local-rft-*.yaml")
    # the local runtime's reward file is passed on as the job's reward function (architecture.md)
    assert yaml.safe_load(recipe_file.read_text())["run"]["reward_lambda_arn"] == str(reward)
    assert not (tmp_path / "jobs").exists()  # nothing was started


def test_bedrock_iterative_training_from_a_custom_model(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import BedrockRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    A.create_role("BedrockRole")
    calls = A.capture("bedrock", "CreateModelCustomizationJob")
    previous = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k/abc"
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=BedrockRuntimeManager(execution_role="arn:aws:iam::123456789012:role/BedrockRole"),
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
        model_path=previous,
    )
    customizer.train(job_name="iter")
    assert calls[0]["baseModelIdentifier"] == previous


class FakeMultiturnInfra:
    """Stands in for a deployed RFTMultiturnInfrastructure (its stack outputs)."""

    def get_recipe_overrides(self) -> dict[str, str]:
        return {
            "rollout_request_arn": "arn:aws:lambda:us-east-1:123456789012:function:stack-SageMaker-rollout",
            "rollout_response_sqs_url": "https://sqs.us-east-1.amazonaws.com/123456789012/resp",
            "rollout_request_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/req",
            "generate_request_sqs_url": "https://sqs.us-east-1.amazonaws.com/123456789012/gen-req",
            "generate_response_sqs_url": "https://sqs.us-east-1.amazonaws.com/123456789012/gen-resp",
        }


def test_rft_multiturn_training_is_wired_to_its_infrastructure(nova_aws: Any, launcher: RecordingLauncher) -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    _rigs([{"InstanceGroupName": "rig", "InstanceType": "ml.p5.48xlarge", "CurrentCount": 4}])
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.RFT_MULTITURN_LORA,
        infra=SMHPRuntimeManager(
            instance_type="ml.p5.48xlarge", instance_count=2, cluster_name="my-hyperpod-cluster", namespace="kubeflow"
        ),
        data_s3_path="s3://bucket/data.jsonl",
        output_s3_path="s3://bucket/output/",
    )
    with pytest.raises(ValueError, match="rft_multiturn_infra"):
        customizer.train(job_name="mt")
    customizer.train(job_name="mt", rft_multiturn_infra=FakeMultiturnInfra())
    run = yaml.safe_load(launcher.specs[0].recipe_yaml)["run"]
    assert run["reward_lambda_arn"].endswith(":function:stack-SageMaker-rollout")
    assert run["generate_response_sqs_url"].endswith("/gen-resp")
