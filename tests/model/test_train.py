"""NovaModelCustomizer.train: the spec's training examples run verbatim against moto (in-process).

Placeholders of the examples (account 123456789012, buckets, ARNs) are made to exist in moto.
Operations moto lacks are answered for that one call (SimulatePrincipalPolicy, see aws_support).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import RecipeOverrideError, ValidationCheckError


def star(module: str = "amzn_nova_forge") -> dict[str, Any]:
    """``from <module> import *`` into a namespace (a missing module is a failure)."""
    ns: dict[str, Any] = {}
    exec(f"from {module} import *", ns)
    return ns


@pytest.fixture
def nova_aws(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    role = A.assume_role(monkeypatch)
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    A.put("s3://bucket/data.jsonl", A.SFT_JSONL)
    denied: set[str] = set()
    sims = A.allow_simulation(denied)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOVA_FORGE_JOB_CACHE_DIR", str(tmp_path / ".cached-nova-jobs"))
    return {"role": role, "simulations": sims, "denied": denied, "creates": A.capture("sagemaker", "CreateTrainingJob")}


def _jobs() -> list[str]:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    return [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]]


def test_api_spec_constructor_and_train_examples(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    # --- api-spec: NovaModelCustomizer example (SMTJ) ---
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)

    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    assert (customizer.platform, customizer.region, customizer.output_s3_path) == (
        Platform.SMTJ,
        "us-east-1",
        "s3://my-bucket/output/",
    )
    assert customizer.validation_config == {"iam": True, "infra": True, "recipe": True}
    # The train() example's overrides (global_batch_size=128, max_epochs) fit a Nova 1 DPO recipe on
    # p5 (SFT LoRA allows 16/32/64 only: see the next test), so the example runs on such a customizer.
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE,
        method=TrainingMethod.DPO_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4),
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    # --- api-spec: train() example ---
    result = customizer.train(
        job_name="my-training-job",
        overrides={"max_epochs": 10, "lr": 5e-6, "warmup_steps": 20, "global_batch_size": 128},
    )
    print(f"Training job started: {result.job_id}")
    print(f"Checkpoint path: {result.model_artifacts.checkpoint_s3_path}")

    assert result.job_id.startswith("my-training-job-") and _jobs() == [result.job_id]
    assert type(result).__name__ == "SMTJTrainingResult"
    assert result.method is TrainingMethod.DPO_LORA and result.model_type is Model.NOVA_LITE
    assert result.model_artifacts.output_s3_path == "s3://my-bucket/output/"
    assert customizer.job_result is result and customizer.last_training_result is result
    (req,) = nova_aws["creates"]
    recipe = yaml.safe_load(A.get(req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] + "recipe.yaml"))
    assert recipe["training_config"]["trainer"]["max_epochs"] == 10
    assert recipe["training_config"]["global_batch_size"] == 128
    assert recipe["training_config"]["model"]["optim"]["lr"] == 5e-6
    assert recipe["run"]["replicas"] == 4
    assert req["AlgorithmSpecification"]["TrainingImage"].endswith("nova-fine-tune-repo:SM-TJ-DPO-latest")
    assert req["RoleArn"] == nova_aws["role"]  # no execution_role given: the caller's role
    # all three checks ran: IAM simulation (caller may create the job and pass the role)
    simulated = {a for call in nova_aws["simulations"] for a in call["ActionNames"]}
    assert {"sagemaker:CreateTrainingJob", "iam:PassRole", "s3:GetObject", "s3:PutObject"} <= simulated


def test_invalid_override_fails_before_anything_is_created(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2),
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    with pytest.raises(RecipeOverrideError, match="global_batch_size") as e:
        customizer.train(job_name="my-training-job", overrides={"global_batch_size": 128})
    assert "64" in str(e.value.allowed) and e.value.key == "global_batch_size"
    assert _jobs() == [] and nova_aws["simulations"] == []


def test_readme_training_example_with_recipe_file_and_overrides(nova_aws: Any, tmp_path: Path) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    Path("custom-recipe.yaml").write_text("training_config:\n  model:\n    hidden_dropout: 0.1\n")
    runtime_manager = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4)
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE,
        method=TrainingMethod.SFT_LORA,
        infra=runtime_manager,
        data_s3_path="s3://bucket/data.jsonl",
        output_s3_path="s3://bucket/output/",
    )
    result = customizer.train(
        job_name="my-training-job",
        recipe_path="custom-recipe.yaml",  # Optional if you bring your own recipe YAML
        overrides={  # Optional overrides
            "max_epochs": 3,
            "lr": 5e-6,
            "warmup_steps": 100,
            "loraplus_lr_ratio": 16.0,
            "global_batch_size": 64,
            "max_length": 8192,
        },
        rft_lambda_arn="arn:aws:lambda:...",  # For RFT only
    )
    req = nova_aws["creates"][0]
    recipe = yaml.safe_load(A.get(req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] + "recipe.yaml"))
    assert recipe["training_config"]["model"]["hidden_dropout"] == 0.1  # from the recipe file
    assert recipe["training_config"]["max_length"] == 8192  # from overrides
    assert "reward_lambda_arn" not in req["HyperParameters"]  # SFT ignores the RFT Lambda
    assert result.job_id in _jobs()


def test_quick_start_steps_2_to_6(nova_aws: Any, tmp_path: Path) -> None:
    """Quick start (readme) steps 2-6 verbatim; step 1's prepared data is put in place by the test."""
    ns = star("amzn_nova_customization_sdk")
    A.put("s3://your-bucket/prepared-data.jsonl", A.SFT_JSONL)
    code = """
# 2. Setup runtime
runtime = SMTJRuntimeManager(
    instance_type="ml.p5.48xlarge",
    instance_count=4
)

# 3. Setup MLflow monitoring (optional)
mlflow_monitor = MLflowMonitor(
    tracking_uri="arn:aws:sagemaker:us-east-1:123456:mlflow-app/app-xxx",  # Optional, uses default if not provided
    experiment_name="nova-customization",
    run_name="my-training-run"
)

# 4. Initialize customizer
customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE,
    method=TrainingMethod.SFT_LORA,
    infra=runtime,
    data_s3_path="s3://your-bucket/prepared-data.jsonl",
    mlflow_monitor=mlflow_monitor  # Enable MLflow tracking
)

# 5. Start training
training_result = customizer.train(job_name="my-nova-training")
print(f"Training started: {training_result.job_id}")
training_result.dump() # Save job result as local file so it can be reloaded after python env shutdown

# 6. Check training job results
training_result.get_job_status()  # InProgress, Completed, Failed
"""
    exec(code, ns)
    result = ns["training_result"]
    assert result.get_job_status() == (JobStatus.COMPLETED, "Completed")  # moto completes jobs at once
    # no output_s3_path: the default bucket of the account and region was created and used
    assert ns["customizer"].output_s3_path == "s3://sagemaker-nova-123456789012-us-east-1/output"
    boto3.client("s3", region_name="us-east-1").head_bucket(Bucket="sagemaker-nova-123456789012-us-east-1")
    req = nova_aws["creates"][0]
    recipe = yaml.safe_load(A.get(req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] + "recipe.yaml"))
    assert recipe["run"]["mlflow_tracking_uri"] == "arn:aws:sagemaker:us-east-1:123456:mlflow-app/app-xxx"
    assert recipe["run"]["mlflow_run_name"] == "my-training-run"
    saved = tmp_path / f"{result.job_id}_SMTJ.json"
    assert json.loads(saved.read_text())["model_type"] == "NOVA_LITE"


def test_quick_start_step_1_prepares_the_data(nova_aws: Any) -> None:
    ns = star("amzn_nova_customization_sdk")
    A.put("s3://your-bucket/training-data.jsonl", '{"input": "What is 2+2?", "output": "4"}\n' * 3)
    code = """
# 1. Load and prepare your dataset
loader = JSONLDatasetLoader(question="input", answer="output")
loader.load("s3://your-bucket/training-data.jsonl")
loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE)
loader.save_data("s3://your-bucket/prepared-data.jsonl")
"""
    exec(code, ns)
    first = json.loads(A.get("s3://your-bucket/prepared-data.jsonl").splitlines()[0])
    assert first["messages"][0]["role"] == "user"


def test_iterative_training_continues_from_stage1_checkpoint(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    A.put("s3://bucket/stage1-data.jsonl", A.SFT_JSONL)
    A.put("s3://bucket/stage2-data.jsonl", A.SFT_JSONL)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4)
    # Stage 1: Initial training on base model
    stage1_customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path="s3://bucket/stage1-data.jsonl",
        output_s3_path="s3://bucket/stage1-output",
    )

    stage1_result = stage1_customizer.train(job_name="stage1-training")
    # Wait for completion... (moto: Completed at once); the job wrote its output archive
    ckpt = "s3://customer-escrow-123456789012-smtj-a1b2c3/stage1-training/checkpoints/"
    A.put(
        f"s3://bucket/stage1-output/{stage1_result.job_id}/output/output.tar.gz",
        A.tar_gz({"manifest.json": json.dumps({"checkpoint_s3_bucket": ckpt}).encode()}),
    )
    stage1_checkpoint = stage1_result.model_artifacts.checkpoint_s3_path
    assert stage1_checkpoint == ckpt

    # Stage 2: Continue training from Stage 1 checkpoint
    stage2_customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path="s3://bucket/stage2-data.jsonl",
        output_s3_path="s3://bucket/stage2-output",
        model_path=stage1_checkpoint,  # Use previous checkpoint
    )

    stage2_result = stage2_customizer.train(job_name="stage2-training")
    req = nova_aws["creates"][1]
    assert req["TrainingJobName"] == stage2_result.job_id
    assert req["HyperParameters"]["base_model_location"] == ckpt
    recipe = yaml.safe_load(A.get(req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] + "recipe.yaml"))
    assert recipe["run"]["model_name_or_path"] == ckpt
    # an SMTJ checkpoint cannot continue on HyperPod
    from amzn_nova_forge.manager import SMHPRuntimeManager

    with pytest.raises(ValueError, match="SageMaker Training Jobs checkpoint"):
        NovaModelCustomizer(
            model=Model.NOVA_LITE,
            method=TrainingMethod.SFT_LORA,
            infra=SMHPRuntimeManager(
                instance_type="ml.p5.48xlarge",
                instance_count=4,
                cluster_name="my-hyperpod-cluster",
                namespace="kubeflow",
            ),
            data_s3_path="s3://bucket/stage2-data.jsonl",
            model_path=stage1_checkpoint,
        )


def test_failed_iam_check_stops_before_anything_is_created(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    nova_aws["denied"].add("iam:PassRole")
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2, execution_role=nova_aws["role"]),
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    with pytest.raises(ValidationCheckError, match="iam:PassRole") as e:
        customizer.train(job_name="denied")
    assert e.value.check == "iam" and "validation_config={'iam': False}" in str(e.value)
    assert _jobs() == [] and nova_aws["creates"] == []
    keys = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="my-bucket", Prefix="output/")
    assert keys.get("KeyCount", 0) == 0  # not even the recipe was uploaded


def test_failed_infra_check_reports_missing_data_and_untrusting_role(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    bad_role = A.create_role(
        "LambdaOnly",
        trust={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
    )
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2, execution_role=bad_role),
        data_s3_path="s3://my-bucket/missing-data/",
        output_s3_path="s3://no-such-bucket/output/",
        validation_config={"iam": False},
    )
    with pytest.raises(ValidationCheckError) as e:
        customizer.train(job_name="bad-infra")
    msg = str(e.value)
    assert e.value.check == "infra"
    assert "s3://my-bucket/missing-data/ does not exist" in msg and "no-such-bucket" in msg
    assert _jobs() == []
    customizer.validation_config["infra"] = True
    customizer.validation_config["iam"] = True
    customizer.data_s3_path = "s3://my-bucket/training-data/"
    customizer.output_s3_path = "s3://my-bucket/output/"
    with pytest.raises(ValidationCheckError, match="does not trust sagemaker.amazonaws.com"):
        customizer.train(job_name="bad-role")
    assert _jobs() == []


def test_job_caching_returns_the_cached_result_for_identical_config(nova_aws: Any, tmp_path: Path) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    def make() -> Any:
        return NovaModelCustomizer(
            model=Model.NOVA_MICRO,
            method=TrainingMethod.SFT_LORA,
            infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2),
            data_s3_path="s3://my-bucket/training-data/",
            output_s3_path="s3://my-bucket/output/",
            enable_job_caching=True,
        )

    first = make().train(job_name="cached-job", overrides={"max_epochs": 3})
    again = make().train(job_name="cached-job", overrides={"max_epochs": 3})
    assert again.job_id == first.job_id and type(again) is type(first)
    assert len(_jobs()) == 1
    files = list((tmp_path / ".cached-nova-jobs").glob("cached-job_training_*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["_all_parameters"]["overrides"] == {"max_epochs": 3}
    different = make().train(job_name="cached-job", overrides={"max_epochs": 4})
    assert different.job_id != first.job_id and len(_jobs()) == 2
    # a failed job is not reused
    A.set_training_status(first.job_id, "Failed", reason="boom")
    retried = make().train(job_name="cached-job", overrides={"max_epochs": 3})
    assert retried.job_id != first.job_id and len(_jobs()) == 3


def test_cache_dir_expands_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from amzn_nova_forge._config import job_cache_dir

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NOVA_FORGE_JOB_CACHE_DIR", "~/.nova-forge/cache")
    assert job_cache_dir() == str(tmp_path / ".nova-forge" / "cache")


def test_rft_needs_a_deployed_reward_lambda(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    A.put("s3://my-bucket/rft/train.jsonl", A.RFT_JSONL)
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, rft_lambda="reward.py")
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.RFT_LORA,
        infra=infra,
        data_s3_path="s3://my-bucket/rft/train.jsonl",
        output_s3_path="s3://my-bucket/output/",
    )
    with pytest.raises(ValueError, match="deploy_lambda"):
        customizer.train(job_name="rft")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:my-reward-fn"
    result = customizer.train(job_name="rft", rft_lambda_arn=arn)
    req = nova_aws["creates"][0]
    assert req["HyperParameters"]["reward_lambda_arn"] == arn
    assert req["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3DataType"] == "S3Prefix"
    assert req["AlgorithmSpecification"]["TrainingImage"].endswith(":SM-TJ-RFT-V2-latest")
    assert result.method is TrainingMethod.RFT_LORA


def test_train_rejects_evaluation_method_and_missing_data(nova_aws: Any) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    c = NovaModelCustomizer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra=infra)
    with pytest.raises(ValueError, match="data_s3_path is required"):
        c.train(job_name="x")
    with pytest.raises(ValueError, match="no letter or digit"):
        NovaModelCustomizer(
            model=Model.NOVA_MICRO,
            method=TrainingMethod.SFT_LORA,
            infra=infra,
            data_s3_path="s3://my-bucket/training-data/",
        ).train(job_name="__")
    assert _jobs() == []


def test_customizer_construction_checks(aws: Any) -> None:
    from amzn_nova_forge.manager import BedrockRuntimeManager, SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    smtj = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4)
    with pytest.raises(ValueError, match="CPT"):  # CPT is HyperPod-only
        NovaModelCustomizer(model=Model.NOVA_LITE, method=TrainingMethod.CPT, infra=smtj)
    with pytest.raises(ValueError, match="Data mixing"):
        NovaModelCustomizer(model=Model.NOVA_LITE, method=TrainingMethod.SFT_LORA, infra=smtj, data_mixing_enabled=True)
    with pytest.raises(ValueError, match="Region 'ap-south-1'"):
        NovaModelCustomizer(
            model=Model.NOVA_LITE,
            method=TrainingMethod.SFT_LORA,
            infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, region="ap-south-1"),
        )
    bedrock = BedrockRuntimeManager(execution_role="arn:aws:iam::123456789012:role/BedrockRole")
    with pytest.raises(ValueError, match="DPO_LORA"):
        NovaModelCustomizer(model=Model.NOVA_MICRO, method=TrainingMethod.DPO_LORA, infra=bedrock)
    with pytest.raises(ValueError, match="infra must be a runtime manager"):
        NovaModelCustomizer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra="SMTJ")  # type: ignore[arg-type]
    assert smtj.platform == Platform.SMTJ


def test_readme_explicit_execution_role_example_and_instance_matrix(nova_aws: Any) -> None:
    from amzn_nova_forge.errors import InstanceConfigError
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    A.put("s3://input-bucket/input.jsonl", A.SFT_JSONL)
    role = A.create_role("MyExecutionRole")
    # readme example (the readme omits the comma after execution_role=...; added here)
    customizer = NovaModelCustomizer(
        infra=SMTJRuntimeManager(
            execution_role="arn:aws:iam::123456789012:role/MyExecutionRole",  # Explicitly set execution role
            instance_count=1,
            instance_type="ml.g5.12xlarge",
        ),
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        data_s3_path="s3://input-bucket/input.jsonl",
    )
    # Nova 2 Lite SFT on SMTJ runs on p5/p5en only: the recipe check says so before anything is created
    with pytest.raises(InstanceConfigError, match="ml.p5.48xlarge") as e:
        customizer.train(job_name="role-example")
    assert "ml.g5.12xlarge" in str(e.value) and _jobs() == []
    customizer.infra.instance_type = "ml.p5.48xlarge"
    customizer.infra.instance_count = 4
    customizer.output_s3_path = "s3://input-bucket/output/"
    customizer.train(job_name="role-example")
    assert nova_aws["creates"][0]["RoleArn"] == role == "arn:aws:iam::123456789012:role/MyExecutionRole"
    assert nova_aws["creates"][0]["ResourceConfig"]["InstanceCount"] == 4


def test_api_spec_constructor_block_verbatim(nova_aws: Any) -> None:
    ns = star("amzn_nova_forge")
    code = """
from amzn_nova_forge import *

# SageMaker Training Jobs (SMTJ)
infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)

customizer = NovaModelCustomizer(
 model=Model.NOVA_MICRO,
 method=TrainingMethod.SFT_LORA,
 infra=infra,
 data_s3_path="s3://my-bucket/training-data/",
 output_s3_path="s3://my-bucket/output/"
)

# Amazon Bedrock (fully managed)
bedrock_infra = BedrockRuntimeManager(
 execution_role="arn:aws:iam::123456789012:role/BedrockRole",
 base_model_identifier="arn:aws:bedrock:us-east-1::custom-model/amazon.nova-2-lite-v1:0:256k:abcdefghijk"
)

bedrock_customizer = NovaModelCustomizer(
 model=Model.NOVA_MICRO,
 method=TrainingMethod.SFT_LORA,
 infra=bedrock_infra,
 data_s3_path="s3://my-bucket/training-data/",
 output_s3_path="s3://my-bucket/output/"
)

# With MLflow monitoring (SageMaker only)
mlflow_monitor = MLflowMonitor(
 tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx",
 experiment_name="nova-customization",
 run_name="sft-run-1"
)

customizer_with_mlflow = NovaModelCustomizer(
 model=Model.NOVA_MICRO,
 method=TrainingMethod.SFT_LORA,
 infra=infra,
 data_s3_path="s3://my-bucket/training-data/",
 output_s3_path="s3://my-bucket/output/",
 mlflow_monitor=mlflow_monitor
)
"""
    exec(code, ns)
    assert ns["bedrock_customizer"].platform is Platform.BEDROCK
    assert ns["customizer_with_mlflow"].mlflow_monitor is ns["mlflow_monitor"]
    from amzn_nova_forge.manager import BedrockRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    with pytest.raises(ValueError, match="MLflow"):  # not supported on Bedrock
        NovaModelCustomizer(
            model=Model.NOVA_MICRO,
            method=TrainingMethod.SFT_LORA,
            infra=BedrockRuntimeManager(execution_role="arn:aws:iam::123456789012:role/BedrockRole"),
            mlflow_monitor=ns["mlflow_monitor"],
        )
    result = ns["customizer_with_mlflow"].train(job_name="with-mlflow", overrides={"max_epochs": 1})
    recipe = yaml.safe_load(A.get(f"s3://my-bucket/output/{result.job_id}/input/recipe/recipe.yaml"))
    assert recipe["run"]["mlflow_experiment_name"] == "nova-customization"
