"""ForgeTrainer / ForgeEvaluator / EvalTaskConfig / ForgeConfig against moto, and the facade around them."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

from amzn_nova_forge.core import ForgeConfig, JobCachingConfig, ValidationConfig
from amzn_nova_forge.core.enums import EvaluationTask, JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, RecipeOverrideError, UnsupportedFeatureError

ROLE_OUT = "s3://my-bucket/output/"


@pytest.fixture
def env(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    role = A.assume_role(monkeypatch)
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    A.put("s3://my-bucket/holdout/val.jsonl", A.SFT_JSONL)
    A.put("s3://my-bucket/eval/gen_qa.jsonl", '{"query": "q", "response": "r"}\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOVA_FORGE_JOB_CACHE_DIR", str(tmp_path / ".cached-nova-jobs"))
    return {
        "role": role,
        "simulations": A.allow_simulation(),
        "creates": A.capture("sagemaker", "CreateTrainingJob"),
        "tmp": tmp_path,
    }


def _infra(**kw: Any) -> Any:
    from amzn_nova_forge.manager import SMTJRuntimeManager

    return SMTJRuntimeManager(instance_type=kw.pop("instance_type", "ml.p5.48xlarge"), instance_count=4, **kw)


def _recipe(req: dict[str, Any]) -> dict[str, Any]:
    bucket, _, key = req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"][5:].partition("/")
    body = A.get(f"s3://{bucket}/{key.rstrip('/')}/recipe.yaml")
    return dict(yaml.safe_load(body))


def _jobs() -> list[str]:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    return [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]]


def test_forge_trainer_trains_with_holdout_interval_and_config(env: dict[str, Any]) -> None:
    from amzn_nova_forge.trainer import ForgeTrainer

    trainer = ForgeTrainer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=_infra(),
        training_data_s3_path="s3://my-bucket/training-data/train.jsonl",
        holdout_data_s3_path="s3://my-bucket/holdout/val.jsonl",
        val_check_interval=50,
        config=ForgeConfig(output_s3_path=ROLE_OUT, image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/my:1"),
    )
    result = trainer.train(job_name="svc-train", overrides={"lr": 5e-6, "max_steps": 100})
    assert type(result).__name__ == "SMTJTrainingResult" and result is trainer.last_training_result
    (req,) = env["creates"]
    assert req["AlgorithmSpecification"]["TrainingImage"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/my:1"
    recipe = _recipe(req)
    assert recipe["training_config"]["val_check_interval"] == 50
    assert recipe["run"]["validation_data_s3_path"] == "s3://my-bucket/holdout/val.jsonl"
    assert recipe["training_config"]["optim_config"]["lr"] == 5e-6
    assert result.model_artifacts.output_s3_path == ROLE_OUT
    assert (trainer.platform, trainer.region, trainer.output_s3_path) == (Platform.SMTJ, "us-east-1", ROLE_OUT)


def test_forge_trainer_rejects_bad_settings(env: dict[str, Any]) -> None:
    from amzn_nova_forge.trainer import ForgeTrainer

    base = {"model": Model.NOVA_LITE_2, "method": TrainingMethod.SFT_LORA, "infra": _infra()}
    with pytest.raises(ConfigError, match="val_check_interval must be an integer >= 1"):
        ForgeTrainer(**base, val_check_interval=0)
    with pytest.raises(ConfigError, match="model_s3_path or model_arn, not both"):
        ForgeTrainer(**base, model_s3_path="s3://b/ckpt/", model_arn="arn:aws:bedrock:us-east-1:1:custom-model/x")
    with pytest.raises(ConfigError, match="differs from the runtime manager's region 'us-east-1'"):
        ForgeTrainer(**base, region="eu-west-1")
    with pytest.raises(ConfigError, match="enable_batch_sample_tracing is supported on SageMaker HyperPod"):
        ForgeTrainer(**base, enable_batch_sample_tracing=True)
    with pytest.raises(ConfigError, match="must be an S3 URI"):
        ForgeTrainer(**base, training_data_s3_path="/tmp/local.jsonl")
    with pytest.raises(ConfigError, match="config must be a ForgeConfig"):
        ForgeTrainer(**base, config={"output_s3_path": ROLE_OUT})  # type: ignore[arg-type]
    trainer = ForgeTrainer(**base)
    with pytest.raises(ValueError, match="data_s3_path is required"):
        trainer.train(job_name="no-data")
    assert _jobs() == []


def test_get_config_lists_parameters_and_checks_overrides(env: dict[str, Any]) -> None:
    from amzn_nova_forge import ConfigParameter, RecipeConfig
    from amzn_nova_forge.model import NovaModelCustomizer
    from amzn_nova_forge.trainer import ForgeTrainer

    trainer = ForgeTrainer(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=_infra())
    cfg = trainer.get_config(overrides={"learning_rate": 5e-6})
    assert isinstance(cfg, RecipeConfig) and all(isinstance(p, ConfigParameter) for p in cfg)
    lr = cfg["lr"]
    assert (lr.type, lr.default, lr.min, lr.max, lr.aliases) == ("float", 5e-6, 0.0, 1.0, ("learning_rate",))
    assert cfg["global_batch_size"].enum == (32, 64, 128, 256)
    assert cfg["max_steps"].default == 100 and "data_s3_path" not in cfg
    with pytest.raises(RecipeOverrideError, match="Did you mean 'max_steps'"):
        trainer.get_config(overrides={"max_epochs": 2})
    with pytest.raises(RecipeOverrideError, match="lr"):
        trainer.get_config(overrides={"lr": 5.0})
    micro = NovaModelCustomizer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra=_infra())
    assert "max_epochs" in micro.get_config().names


def test_forge_config_caching_uses_its_dir_and_groups(env: dict[str, Any]) -> None:
    from amzn_nova_forge.trainer import ForgeTrainer

    cache = env["tmp"] / "forge-cache"

    def trainer(count: int, caching: JobCachingConfig) -> Any:
        from amzn_nova_forge.manager import SMTJRuntimeManager

        return ForgeTrainer(
            model=Model.NOVA_MICRO,
            method=TrainingMethod.SFT_LORA,
            infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=count),
            training_data_s3_path="s3://my-bucket/training-data/train.jsonl",
            config=ForgeConfig(
                output_s3_path=ROLE_OUT, enable_job_caching=True, job_cache_dir=str(cache), job_caching_config=caching
            ),
        )

    first = trainer(2, JobCachingConfig()).train(job_name="cached", overrides={"max_epochs": 2})
    (entry,) = list(cache.glob("cached_training_*.json"))
    assert json.loads(entry.read_text())["_all_parameters"]["instance_count"] == 2
    # infra is not compared by default: another instance count reuses the job
    assert trainer(4, JobCachingConfig()).train(job_name="cached", overrides={"max_epochs": 2}).job_id == first.job_id
    # ... unless include_infra
    other = trainer(4, JobCachingConfig(include_infra=True)).train(job_name="cached", overrides={"max_epochs": 2})
    assert other.job_id != first.job_id
    # overrides excluded: a different max_epochs reuses the newest matching job
    loose = JobCachingConfig(include_infra=True, exclude_params=["override_max_epochs"])
    assert trainer(2, loose).train(job_name="cached", overrides={"max_epochs": 3}).job_id == first.job_id
    # only COMPLETED allowed: the in-progress job is not reused
    A.set_training_status(first.job_id, "InProgress")
    done_only = JobCachingConfig(include_infra=True, allowed_statuses=[JobStatus.COMPLETED])
    assert trainer(2, done_only).train(job_name="cached", overrides={"max_epochs": 2}).job_id != first.job_id
    assert len(_jobs()) == 3
    assert not (env["tmp"] / ".cached-nova-jobs").exists()


def test_bad_cache_entry_is_skipped_with_a_warning(env: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    from amzn_nova_forge.trainer import ForgeTrainer

    cache = env["tmp"] / "c"
    cache.mkdir()
    (cache / "broken_training_1.json").write_text("{not json")
    (cache / "list_training_2.json").write_text("[1, 2]")
    trainer = ForgeTrainer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=_infra(),
        training_data_s3_path="s3://my-bucket/training-data/train.jsonl",
        config=ForgeConfig(output_s3_path=ROLE_OUT, enable_job_caching=True, job_cache_dir=str(cache)),
    )
    with caplog.at_level("WARNING"):
        trainer.train(job_name="fresh")
    assert "broken_training_1.json" in caplog.text and "list_training_2.json" in caplog.text
    assert len(_jobs()) == 1


def test_forge_evaluator_with_eval_task_config(env: dict[str, Any]) -> None:
    from amzn_nova_forge.evaluator import EvalTaskConfig, ForgeEvaluator
    from amzn_nova_forge.model.result import SMTJTrainingResult

    evaluator = ForgeEvaluator(
        model=Model.NOVA_MICRO,
        infra=_infra(),
        data_s3_path="s3://my-bucket/eval/gen_qa.jsonl",
        config=ForgeConfig(output_s3_path=ROLE_OUT, validation_config={"iam": False}),
    )
    mmlu = evaluator.evaluate(
        job_name="mmlu",
        eval_task=EvaluationTask.MMLU,
        task_config=EvalTaskConfig(subtask="abstract_algebra"),
        model_path="s3://customer-escrow-123456789012-smtj-abc/j/step-100",
        overrides={"max_new_tokens": 2048},
    )
    assert type(mmlu).__name__ == "SMTJEvaluationResult" and mmlu.eval_task is EvaluationTask.MMLU
    recipe = _recipe(env["creates"][0])
    assert recipe["evaluation"]["subtask"] == "abstract_algebra"
    assert recipe["run"]["model_name_or_path"] == "s3://customer-escrow-123456789012-smtj-abc/j/step-100"
    override = "s3://my-bucket/eval/other.jsonl"
    A.put(override, '{"query": "q2", "response": "r2"}\n')
    gen = evaluator.evaluate(
        job_name="genqa", eval_task=EvaluationTask.GEN_QA, task_config=EvalTaskConfig(override_data_s3_path=override)
    )
    assert _recipe(env["creates"][1])["run"]["data_s3_path"] == override
    assert evaluator.last_evaluation_result is gen
    done = SMTJTrainingResult("t-1", datetime.now(UTC), TrainingMethod.SFT_LORA, region="us-east-1")
    with pytest.raises(ConfigError, match=r"evaluate_base_model=True\) evaluates the base model"):
        evaluator.evaluate(
            job_name="base", eval_task=EvaluationTask.MMLU, job_result=done,
            task_config=EvalTaskConfig(evaluate_base_model=True),
        )  # fmt: skip
    with pytest.raises(ConfigError, match="EvalTaskConfig.processor must be a dict"):
        EvalTaskConfig(processor="arn")  # type: ignore[arg-type]


class FakeMultiturnInfra:
    """The two answers ``evaluate`` reads from an RFTMultiturnInfrastructure."""

    def get_recipe_overrides(self) -> dict[str, str]:
        return {
            "rollout_request_arn": "arn:aws:lambda:us-east-1:123456789012:function:rollout",
            "rollout_request_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/req",
            "rollout_response_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/resp",
        }


def test_rft_multiturn_infra_drives_rft_multiturn_eval(env: dict[str, Any], tmp_path: Path) -> None:
    from amzn_nova_forge.model import NovaModelCustomizer

    A.put("s3://my-bucket/eval/rft.jsonl", A.RFT_JSONL)
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=_infra(),
        output_s3_path=ROLE_OUT,
        validation_config={"iam": False, "infra": False},
        generated_recipe_dir=str(tmp_path / "recipes"),
    )
    out = customizer.evaluate(
        job_name="mt-eval",
        eval_task=EvaluationTask.RFT_MULTITURN_EVAL,
        data_s3_path="s3://my-bucket/eval/rft.jsonl",
        rft_multiturn_infra=FakeMultiturnInfra(),
        dry_run=True,
    )
    assert out is None
    (written,) = list((tmp_path / "recipes").glob("*.yaml"))
    recipe = yaml.safe_load(written.read_text())
    assert recipe["run"]["reward_lambda_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:rollout"
    assert recipe["run"]["rollout_request_queue_url"].endswith("/req")
    assert recipe["evaluation"]["task"] == "rft_eval"
    with pytest.raises(ConfigError, match="drives EvaluationTask.RFT_MULTITURN_EVAL only"):
        customizer.evaluate(job_name="x", eval_task=EvaluationTask.MMLU, rft_multiturn_infra=FakeMultiturnInfra())


def test_customizer_is_a_facade_over_the_service_classes(env: dict[str, Any]) -> None:
    import warnings

    from amzn_nova_forge.model import NovaModelCustomizer

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        customizer = NovaModelCustomizer(
            model=Model.NOVA_MICRO,
            method=TrainingMethod.SFT_LORA,
            infra=_infra(),
            data_s3_path="s3://my-bucket/training-data/train.jsonl",
            image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:2",
            is_multimodal=False,
            hub_content_version=None,
        )
        trainer, evaluator = customizer.trainer, customizer.evaluator
        assert trainer.config is evaluator.config is customizer.config
        customizer.validation_config["iam"] = False
        assert customizer.config.validation == ValidationConfig(iam=False)
        customizer.data_s3_path = "s3://my-bucket/holdout/val.jsonl"
        assert trainer.training_data_s3_path == "s3://my-bucket/holdout/val.jsonl"
        result = customizer.train(job_name="facade", val_check_interval=5)  # no holdout: interval ignored
    assert customizer.job_result is result is customizer.last_training_result is trainer.last_training_result
    assert customizer.output_s3_path == "s3://sagemaker-nova-123456789012-us-east-1/output"
    req = env["creates"][0]
    assert req["AlgorithmSpecification"]["TrainingImage"].endswith("/mine:2")
    assert customizer.is_multimodal is False


def test_is_multimodal_is_detected_from_the_data(env: dict[str, Any]) -> None:
    from amzn_nova_forge.trainer import ForgeTrainer

    image_row = {"messages": [{"role": "user", "content": [{"text": "?"}, {"image": {"format": "png"}}]}]}
    A.put("s3://my-bucket/mm/train.jsonl", json.dumps(image_row) + "\n")
    trainer = ForgeTrainer(
        model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=_infra(),
        training_data_s3_path="s3://my-bucket/mm/train.jsonl",
    )  # fmt: skip
    assert trainer.is_multimodal is True
    text = ForgeTrainer(
        model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=_infra(),
        training_data_s3_path="s3://my-bucket/training-data/train.jsonl",
    )  # fmt: skip
    assert text.is_multimodal is False


def test_batch_inference_takes_job_result(env: dict[str, Any], tmp_path: Path) -> None:
    from amzn_nova_forge.model import NovaModelCustomizer
    from amzn_nova_forge.model.result import ModelArtifacts, SMTJTrainingResult

    ckpt = "s3://customer-escrow-123456789012-smtj-abc/job/step-9"
    done = SMTJTrainingResult(
        "t-2",
        datetime.now(UTC),
        TrainingMethod.SFT_LORA,
        ModelArtifacts(checkpoint_s3_path=ckpt, output_s3_path=ROLE_OUT),
        Model.NOVA_MICRO,
        region="us-east-1",
    )
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=_infra(),
        validation_config={"iam": False, "infra": False},
        generated_recipe_dir=str(tmp_path / "r"),
    )
    customizer.batch_inference(
        job_name="bi",
        input_path="s3://my-bucket/eval/gen_qa.jsonl",
        output_s3_path="s3://my-bucket/bi-out/",
        job_result=done,
        dry_run=True,
    )
    (written,) = list((tmp_path / "r").glob("*.yaml"))
    assert yaml.safe_load(written.read_text())["run"]["model_name_or_path"] == ckpt


def test_get_logs_by_result_or_job_id(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from amzn_nova_forge.trainer import ForgeTrainer

    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="old-job-1/algo-1-1")
    now = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName="old-job-1/algo-1-1",
        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)],
    )
    trainer = ForgeTrainer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, infra=_infra())
    trainer.get_logs(job_id="old-job-1", limit=2, start_from_head=True)
    assert capsys.readouterr().out.splitlines() == ["line 0", "line 1"]
    with pytest.raises(ConfigError, match="No job to read logs of"):
        trainer.get_logs()
    with pytest.raises(ConfigError, match="poll must be a positive number"):
        trainer.get_logs(job_id="old-job-1", poll=0)


def test_generate_training_metrics_csv_for_smhp_sft(env: dict[str, Any]) -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.trainer import ForgeTrainer

    sm = boto3.client("sagemaker", region_name="us-east-1")
    arn = sm.create_cluster(
        ClusterName="my-cluster",
        InstanceGroups=[
            {
                "InstanceCount": 1,
                "InstanceGroupName": "workers",
                "InstanceType": "ml.p5.48xlarge",
                "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/", "OnCreate": "on_create.sh"},
                "ExecutionRole": "arn:aws:iam::123456789012:role/HP",
                "ThreadsPerCore": 1,
            }
        ],
    )["ClusterArn"]
    group = f"/aws/sagemaker/Clusters/my-cluster/{arn.rsplit('/', 1)[-1]}"
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName=group)
    stream = "SagemakerHyperPodTrainingJob/rig-1/i-0abc"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(datetime.now(UTC).timestamp() * 1000)
    lines = [
        f"Epoch {i // 3}: : {i}it [00:0{i}, reduced_train_loss={2.0 - i / 10:.2f}, global_step={i}.000]"
        for i in range(6)
    ]
    events = [
        {"timestamp": now + i, "message": json.dumps({"kubernetes": {"pod_name": "hp-sft-worker-0"}, "log": m})}
        for i, m in enumerate(lines)
    ]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=2, cluster_name="my-cluster", namespace="kubeflow"
    )
    trainer = ForgeTrainer(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=infra)
    path = trainer.generate_training_metrics_csv(job_id="hp-sft", output_s3_path="s3://my-bucket/metrics")
    assert path == "s3://my-bucket/metrics/hp-sft/step_wise_training_metrics.csv"
    rows = A.get(path).decode().splitlines()
    assert rows[0] == "step_number,epoch_number,training_loss"
    assert rows[1:3] == ["0,0,2.0", "1,0,1.9"] and rows[-1] == "5,1,1.5"
    smtj = ForgeTrainer(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=_infra())
    with pytest.raises(UnsupportedFeatureError, match="SFT jobs on SMHP"):
        smtj.generate_training_metrics_csv(job_id="x")


def _hub_document(image: str) -> str:
    return json.dumps(
        {
            "RecipeCollection": [
                {
                    "Name": "nova_micro_smtj_p5_gpu_lora_sft",
                    "CustomizationTechnique": "SFT",
                    "Type": "FineTuning",
                    "Peft": "LORA",
                    "SupportedInstanceTypes": ["ml.p5.48xlarge"],
                    "SmtjRecipeTemplateS3Uri": "s3://jumpstart-cache-prod-us-east-1/recipes/sft.yaml",
                    "SmtjImageUri": image,
                },
                {
                    "Name": "nova_micro_smtj_p5_gpu_sft",
                    "CustomizationTechnique": "SFT",
                    "Type": "FineTuning",
                    "SupportedInstanceTypes": ["ml.p5.48xlarge"],
                    "SmtjRecipeTemplateS3Uri": "s3://jumpstart-cache-prod-us-east-1/recipes/sft_full.yaml",
                    "SmtjImageUri": "unused-full-rank-image",
                },
            ]
        }
    )


def test_hub_content_version_pins_the_hub_recipe_image(env: dict[str, Any]) -> None:
    from amzn_nova_forge.errors import AWSServiceError, InstanceConfigError
    from amzn_nova_forge.trainer import ForgeTrainer

    image = "708977205387.dkr.ecr.us-east-1.amazonaws.com/nova-fine-tune-repo:SM-TJ-SFT-pinned"

    # moto does not implement DescribeHubContent: that one call is answered here.
    def answer(params: dict[str, Any]) -> dict[str, Any]:
        if params["HubContentVersion"] != "1.0.20":
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": "ResourceNotFound", "Message": "no such version"}}, "DescribeHubContent"
            )
        return {
            "HubContentName": params["HubContentName"],
            "HubContentArn": "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/x/1.0.20",
            "HubContentVersion": "1.0.20",
            "HubContentType": "Model",
            "DocumentSchemaVersion": "2.0.0",
            "HubName": "SageMakerPublicHub",
            "HubArn": "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub",
            "HubContentDocument": _hub_document(image),
            "HubContentStatus": "Available",
            "CreationTime": "2026-01-01T00:00:00Z",
        }

    calls = A.stub_one("sagemaker", "DescribeHubContent", answer)
    args = {
        "model": Model.NOVA_MICRO,
        "method": TrainingMethod.SFT_LORA,
        "training_data_s3_path": "s3://my-bucket/training-data/train.jsonl",
        "config": ForgeConfig(output_s3_path=ROLE_OUT),
    }
    default = ForgeTrainer(infra=_infra(), **args)
    default.train(job_name="catalogue")
    assert calls == []  # the offline catalogue is the default: no hub call
    assert env["creates"][0]["AlgorithmSpecification"]["TrainingImage"].endswith(":SM-TJ-SFT-latest")
    pinned = ForgeTrainer(infra=_infra(), hub_content_version="1.0.20", **args)
    pinned.train(job_name="pinned")
    assert calls[-1]["HubContentName"] == "nova-textgeneration-micro" and calls[-1]["HubName"] == "SageMakerPublicHub"
    assert env["creates"][1]["AlgorithmSpecification"]["TrainingImage"] == image
    with pytest.raises(AWSServiceError, match="ResourceNotFound"):
        ForgeTrainer(infra=_infra(), hub_content_version="9.9.9", **args).train(job_name="missing")
    with pytest.raises(InstanceConfigError, match="supported: ml.p5.48xlarge"):
        ForgeTrainer(infra=_infra(instance_type="ml.p4d.24xlarge"), hub_content_version="1.0.20", **args).train(
            job_name="wrong-instance"
        )
    assert len(_jobs()) == 2


def test_bedrock_runtime_accepts_the_official_positional_vpc_config(env: dict[str, Any]) -> None:
    from amzn_nova_forge.manager import BedrockRuntimeManager

    role = "arn:aws:iam::123456789012:role/BedrockRole"
    vpc = {"subnet_ids": ["subnet-1"], "security_group_ids": ["sg-1"]}
    official = BedrockRuntimeManager(role, None, "key-1", vpc)
    assert (official.vpc_config, official.rft_lambda, official.kms_key_id) == (vpc, None, "key-1")
    older = BedrockRuntimeManager(role, None, None, "reward.py")
    assert (older.vpc_config, older.rft_lambda) == (None, "reward.py")
    with pytest.raises(ConfigError, match="vpc_config was given twice"):
        BedrockRuntimeManager(role, None, None, vpc, vpc_config=vpc)


def test_runtime_capabilities_are_the_one_check(env: dict[str, Any]) -> None:
    from amzn_nova_forge.manager import (
        BedrockRuntimeManager,
        SMHPRuntimeManager,
        SMTJRuntimeManager,
        SMTJServerlessRuntimeManager,
    )

    SMTJRuntimeManager.require("batch_inference", "mlflow")
    with pytest.raises(UnsupportedFeatureError, match="BEDROCK cannot do: batch_inference .*mlflow") as e:
        BedrockRuntimeManager.require("batch_inference", "mlflow")
    assert e.value.features == ["batch_inference", "mlflow"]
    assert SMTJServerlessRuntimeManager.eval_output_location("s3://b/o/", "j", {}) == "s3://b/o/j/output/output/"
    assert SMHPRuntimeManager.eval_output_location("s3://b/o", "j", {}) == "s3://b/o/j/eval-result/"
    assert Platform.SMTJServerless in SMTJRuntimeManager.capabilities.reads_checkpoints_of


def test_trainer_data_mixing_object_with_normalize(env: dict[str, Any]) -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.trainer import ForgeTrainer

    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-cluster", namespace="kubeflow"
    )
    trainer = ForgeTrainer(
        model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=infra, data_mixing_enabled=True
    )
    assert trainer.data_mixing.get_config() == {
        "customer_data_percent": 50,
        "nova_code_percent": 30,
        "nova_general_percent": 70,
    }
    trainer.data_mixing.set_config(
        {"customer_data_percent": 40, "nova_code_percent": 1, "nova_general_percent": 3}, normalize=True
    )
    assert trainer.get_data_mixing_config() == {
        "customer_data_percent": 40,
        "nova_code_percent": 25,
        "nova_general_percent": 75,
    }
    with pytest.raises(ConfigError, match="sum"):
        trainer.data_mixing.set_config({"customer_data_percent": 40, "nova_code_percent": 1})
    with pytest.raises(ConfigError, match="Nothing to normalize"):
        trainer.data_mixing.set_config({"customer_data_percent": 40}, normalize=True)
    plain = ForgeTrainer(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=infra)
    with pytest.raises(ConfigError, match="Data mixing is not enabled"):
        plain.data_mixing  # noqa: B018 - the property raises
