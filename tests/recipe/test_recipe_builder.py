"""RecipeBuilder: run settings, recipe files, precedence, eval/batch recipes, errors, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import (
    RecipeOverrideError,
    RecipeValidationError,
    UnsupportedFeatureError,
    UnsupportedRegionError,
)
from amzn_nova_forge.recipe import BuiltRecipe, RecipeBuilder, RunSettings, check_region, validate_data_mixing

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:MySageMakerReward"


def _sft(platform: Platform = Platform.SMTJ, **kw: object) -> RecipeBuilder:
    return RecipeBuilder(
        Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, platform, instance_type="ml.p5.48xlarge", instance_count=4, **kw
    )  # type: ignore[arg-type]


def test_run_settings_fill_the_run_section() -> None:
    run = RunSettings(
        job_name="my-job",
        data_s3_path="s3://b/train.jsonl",
        output_s3_path="s3://b/out/",
        model_name_or_path="s3://escrow/job/checkpoints",
        validation_data_s3_path="s3://b/val.jsonl",
        mlflow={
            "tracking_uri": "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-1",
            "experiment_name": "exp",
            "mlflow_run_name": "r1",
        },
    )
    built = _sft().build(run=run)
    r = built.recipe["run"]
    assert r["name"] == "my-job" and r["data_s3_path"] == "s3://b/train.jsonl"
    assert r["output_s3_path"] == "s3://b/out/" and r["model_name_or_path"] == "s3://escrow/job/checkpoints"
    assert r["validation_data_s3_path"] == "s3://b/val.jsonl" and r["replicas"] == 4
    assert (r["mlflow_tracking_uri"], r["mlflow_experiment_name"], r["mlflow_run_name"]) == (
        "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-1",
        "exp",
        "r1",
    )
    assert r["model_type"] == "amazon.nova-2-lite-v1:0:256k"
    # dict form is equivalent; unknown run settings are refused
    assert _sft().build(run={"job_name": "my-job"}).recipe["run"]["name"] == "my-job"
    with pytest.raises(RecipeValidationError, match="Unknown run settings"):
        _sft().build(run={"jobname": "x"})
    with pytest.raises(RecipeValidationError, match="tracking_uri"):
        _sft().build(run={"mlflow": {"uri": "x"}})


def test_precedence_overrides_beat_file_beat_sdk_values_beat_defaults(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(
        yaml.safe_dump(
            {
                "run": {"name": "from-file", "model_type": "amazon.nova-pro-v1:0:300k"},
                "training_config": {
                    "max_steps": 80,
                    "global_batch_size": 64,
                    "optim_config": {"lr": "5e-6"},
                },  # sci-notation string → float
            }
        )
    )
    built = _sft().build(run={"job_name": "from-sdk"}, overrides={"max_steps": 90}, recipe_path=str(user))
    tc = built.recipe["training_config"]
    assert tc["max_steps"] == 90  # override > file
    assert tc["global_batch_size"] == 64  # file > default (32)
    assert tc["optim_config"]["lr"] == 5e-6
    assert built.recipe["run"]["name"] == "from-file"  # file > SDK-filled
    assert built.recipe["run"]["model_type"] == "amazon.nova-2-lite-v1:0:256k"  # never overridden
    assert tc["save_top_k"] == 5  # default kept


def test_user_recipe_file_is_validated_the_same_way(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"training_config": {"global_batch_size": 48}}))
    with pytest.raises(RecipeOverrideError, match=r"'global_batch_size': 48.*one of \{32, 64, 128, 256\}"):
        _sft().build(recipe_path=str(bad))
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump({"training_config": {"max_step": 10}}))
    with pytest.raises(
        RecipeValidationError, match=r"training_config.max_step \(did you mean training_config.max_steps"
    ):
        _sft().build(recipe_path=str(typo))
    notmap = tmp_path / "list.yaml"
    notmap.write_text("- 1\n- 2\n")
    with pytest.raises(RecipeValidationError, match="YAML mapping"):
        _sft().build(recipe_path=str(notmap))


def test_recipe_file_from_s3_and_write_to_s3(s3_bucket: str) -> None:
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=s3_bucket, Key="recipes/r.yaml", Body=b"training_config:\n  max_steps: 12\n")
    built = _sft().build(run={"job_name": "s3job"}, recipe_path=f"s3://{s3_bucket}/recipes/r.yaml")
    assert built.hyperparameters["max_steps"] == 12
    uri = built.write(f"s3://{s3_bucket}/generated")
    assert uri == f"s3://{s3_bucket}/generated/s3job.yaml"
    body = s3.get_object(Bucket=s3_bucket, Key="generated/s3job.yaml")["Body"].read().decode()
    assert yaml.safe_load(body) == built.recipe


def test_to_yaml_and_write_round_trip(tmp_path: Path) -> None:
    built = _sft().build(run={"job_name": "j1"}, overrides={"lr": 3e-5})
    assert isinstance(built, BuiltRecipe)
    text = built.to_yaml()
    assert text.index("run:") < text.index("training_config:")  # key order kept
    assert yaml.safe_load(text) == built.recipe
    path = built.write(str(tmp_path / "gen"))
    assert path == str(tmp_path / "gen" / "j1.yaml")
    assert yaml.safe_load(Path(path).read_text())["training_config"]["optim_config"]["lr"] == 3e-5
    assert built.write(str(tmp_path), file_name="x.yaml").endswith("x.yaml")


def test_local_uses_the_cloud_recipe_and_skips_cloud_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "mars-north-1")
    smtj = RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.SFT_FULL, Platform.SMTJ, region="us-east-1").build()
    local = RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.SFT_FULL, Platform.LOCAL).build(
        run={"model_name_or_path": "/models/tiny"}, overrides={"max_epochs": 1}
    )
    assert local.template_id == smtj.template_id
    assert local.image_uri is None and local.region is None
    assert local.recipe["run"]["model_name_or_path"] == "/models/tiny"
    assert local.hyperparameters["max_epochs"] == 1 and local.hyperparameters["lr"] == smtj.hyperparameters["lr"]
    # CPT and RFT multiturn exist only on HyperPod in the cloud: LOCAL rehearses those recipes
    assert (
        RecipeBuilder(Model.NOVA_LITE, TrainingMethod.CPT, Platform.LOCAL).build().template_id
        == "nova_lite_1_0_p5x16_gpu_pretrain"
    )
    mt = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_MULTITURN_LORA, Platform.LOCAL).build()
    assert mt.template_id == "nova_lite_2_0_p5_gpu_lora_rft_multiturn"
    with pytest.raises(UnsupportedRegionError, match="Region 'mars-north-1' is not supported"):
        RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.SFT_FULL, Platform.SMTJ).build()


def test_hyperparameters_are_flat_effective_values() -> None:
    hp = (
        RecipeBuilder(Model.NOVA_LITE, TrainingMethod.DPO_LORA, Platform.SMTJ)
        .build(overrides={"beta": 0.05, "alpha": 32})
        .hyperparameters
    )
    assert hp["beta"] == 0.05 and hp["alpha"] == 32 and hp["max_epochs"] == 2 and hp["lr"] == 1e-5
    assert hp["loraplus_lr_ratio"] == 20.0 and hp["adapter_dropout"] == 0.01 and hp["max_length"] == 16384
    assert "name" not in hp and "data_s3_path" not in hp and "replicas" not in hp
    rft = (
        RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, Platform.SMHP)
        .build(overrides={"max_steps": 30})
        .hyperparameters
    )
    assert rft["save_steps"] == 30 and rft["number_generation"] == 8 and rft["lr"] == 7e-7


def test_rft_lambda_is_written_everywhere_it_is_needed() -> None:
    built = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, Platform.SMTJ).build(
        run={"rft_lambda_arn": LAMBDA}
    )
    assert built.recipe["run"]["reward_lambda_arn"] == LAMBDA
    assert built.recipe["training_config"]["rollout"]["rewards"]["api_endpoint"]["lambda_arn"] == LAMBDA
    with pytest.raises(RecipeOverrideError, match="not a Lambda function ARN"):
        RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, Platform.SMTJ).build(
            run={"rft_lambda_arn": "my-function"}
        )
    hp = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, Platform.SMHP)
    assert hp.build(run={"rft_lambda_arn": LAMBDA}).recipe["run"]["reward_lambda_arn"] == LAMBDA
    with pytest.raises(RecipeOverrideError, match="must contain one of.*SMHP"):
        hp.build(run={"rft_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:reward"})


def test_evaluation_recipes() -> None:
    b = RecipeBuilder(
        Model.NOVA_LITE_2, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.BBH, subtask="navigate"
    )
    built = b.build(
        run={"model_name_or_path": "s3://my-bucket/checkpoints/my-model/"},
        overrides={"max_new_tokens": 2048, "temperature": 0, "top_p": 1.0},
    )
    ev = built.recipe["evaluation"]
    assert (ev["task"], ev["strategy"], ev["metric"], ev["subtask"]) == ("bbh", "fs_cot", "accuracy", "navigate")
    assert built.recipe["inference"]["max_new_tokens"] == 2048 and built.eval_task is EvaluationTask.BBH
    assert built.image_uri.endswith("nova-evaluation-repo:SM-TJ-Eval-V2-latest")
    with pytest.raises(RecipeOverrideError, match=r"Unknown subtask 'anatomyy'.*Did you mean 'anatomy'"):
        RecipeBuilder(
            Model.NOVA_PRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.MMLU, subtask="anatomyy"
        ).build()
    with pytest.raises(RecipeOverrideError, match="takes no subtask"):
        RecipeBuilder(
            Model.NOVA_PRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.GEN_QA, subtask="x"
        ).build()
    with pytest.raises(RecipeValidationError, match="only used by bring-your-own-data"):
        RecipeBuilder(Model.NOVA_PRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.MMLU).build(
            run={"data_s3_path": "s3://b/d.jsonl"}
        )
    with pytest.raises(RecipeValidationError, match="needs eval_task"):
        RecipeBuilder(Model.NOVA_PRO, TrainingMethod.EVALUATION, Platform.SMTJ)
    # the eval task's settings are fixed
    with pytest.raises(RecipeOverrideError, match="eval_task"):
        b.build(overrides={"task": "mmlu"})


def test_byod_processor_and_rft_eval_rl_env() -> None:
    b = RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.GEN_QA)
    built = b.build(
        run={
            "data_s3_path": "s3://bucket/data",
            "processor": {
                "lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:byom-lambda",
                "postprocessing": {"enabled": False},
            },
        }
    )
    proc = built.recipe["processor"]
    assert proc["lambda_arn"].endswith("byom-lambda") and proc["postprocessing"] == {"enabled": False}
    assert proc["lambda_type"] == "rft"
    with pytest.raises(RecipeOverrideError, match="Unknown processor key 'processor.lamda_arn'"):
        b.build(run={"processor": {"lamda_arn": "x"}})
    with pytest.raises(RecipeOverrideError, match="not a Lambda function ARN"):
        b.build(run={"processor": {"lambda_arn": "nope"}})
    rft = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.EVALUATION, Platform.SMHP, eval_task=EvaluationTask.RFT_EVAL)
    assert rft.build(run={"rl_env": {"reward_lambda_arn": LAMBDA}}).recipe["rl_env"]["reward_lambda_arn"] == LAMBDA
    assert rft.build(run={"rft_lambda_arn": LAMBDA}).recipe["rl_env"]["reward_lambda_arn"] == LAMBDA
    mmlu = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.MMLU)
    with pytest.raises(RecipeValidationError, match="processor is only accepted for EvaluationTask.GEN_QA"):
        mmlu.build(run={"processor": {"lambda_arn": LAMBDA}})


def test_judges_and_multimodal_tasks_per_model() -> None:
    assert (
        RecipeBuilder(
            Model.NOVA_LITE_2, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.RUBRIC_LLM_JUDGE
        )
        .build()
        .recipe["evaluation"]["task"]
        == "rubric_llm_judge"
    )
    mm = RecipeBuilder(
        Model.NOVA_PRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.MM_LLM_JUDGE
    ).build()
    assert mm.recipe["evaluation"]["task"] == "mm_llm_judge" and mm.recipe["evaluation"]["strategy"] == "judge"
    with pytest.raises(UnsupportedFeatureError, match=r"On SMTJ it is supported for: NOVA_LITE, NOVA_MICRO, NOVA_PRO"):
        RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.LLM_JUDGE)
    with pytest.raises(UnsupportedFeatureError, match="mm_benchmark"):
        RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.MMMU)
    with pytest.raises(RecipeValidationError, match="text-only"):
        RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.MM_LLM_JUDGE)
    with pytest.raises(RecipeValidationError, match="NOVA_LITE_2 only"):
        RecipeBuilder(
            Model.NOVA_LITE, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.RFT_MULTITURN_EVAL
        )


def test_batch_inference_is_a_gen_qa_job() -> None:
    built = RecipeBuilder(
        Model.NOVA_LITE_2,
        TrainingMethod.SFT_LORA,
        Platform.SMTJ,
        batch_inference=True,
        instance_type="ml.p5.48xlarge",
        instance_count=1,
    ).build(
        run={
            "job_name": "batch-inference-job",
            "data_s3_path": "s3://my-bucket/inference-input/",
            "output_s3_path": "s3://my-bucket/inference-output/",
            "model_name_or_path": "s3://my-bucket/trained-model/",
        },
        overrides={"top_logprobs": 5},
    )
    ev = built.recipe["evaluation"]
    assert (ev["task"], ev["strategy"], ev["metric"]) == ("gen_qa", "gen_qa", "all")
    assert built.recipe["run"]["data_s3_path"] == "s3://my-bucket/inference-input/"
    assert built.hyperparameters["top_logprobs"] == 5
    with pytest.raises(UnsupportedFeatureError, match="supported on: SMHP, SMTJ, SMTJServerless and LOCAL"):
        RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.BEDROCK, batch_inference=True)


def test_method_not_supported_says_where_it_is() -> None:
    with pytest.raises(UnsupportedFeatureError, match="For NOVA_PRO it is supported on: SMHP and LOCAL") as info:
        RecipeBuilder(Model.NOVA_PRO, TrainingMethod.CPT, Platform.SMTJ)
    assert isinstance(info.value, ValueError)
    with pytest.raises(UnsupportedFeatureError, match="supported on: SMHP, SMTJ, SMTJServerless and LOCAL"):
        RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.SFT_FULL, Platform.BEDROCK)
    with pytest.raises(UnsupportedFeatureError, match="On BEDROCK it is supported for: NOVA_LITE_2"):
        RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.RFT_LORA, Platform.BEDROCK)
    with pytest.raises(UnsupportedFeatureError, match="offered for NOVA_LITE, NOVA_MICRO, NOVA_PRO on SMHP, SMTJ"):
        RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.DPO_LORA, Platform.BEDROCK)
    with pytest.raises(UnsupportedFeatureError, match="RFT_FULL.*SMHP, SMTJ"):
        RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_FULL, Platform.SMTJServerless)


def test_regions() -> None:
    assert check_region("us-west-2", Platform.SMTJ) == "us-west-2"
    assert check_region("anywhere", Platform.LOCAL) == "anywhere"
    with pytest.raises(UnsupportedRegionError, match="Supported regions: us-east-1") as info:
        check_region("us-west-2", Platform.BEDROCK)
    assert isinstance(info.value, ValueError) and info.value.supported == ["us-east-1"]
    with pytest.raises(UnsupportedRegionError, match="us-east-1, us-west-2, eu-west-2, ap-northeast-1"):
        RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.SMTJ, region="sa-east-1").build()
    built = RecipeBuilder(
        Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.SMTJServerless, region="eu-central-1"
    ).build()
    assert built.region == "eu-central-1" and built.image_uri is None


def test_data_mixing_rules() -> None:
    assert validate_data_mixing(
        {"customer_data_percent": 50, "nova_code_percent": 30, "nova_general_percent": 70},
        Platform.SMHP,
        TrainingMethod.SFT_LORA,
    ) == {"customer_data_percent": 50.0, "nova_code_percent": 30.0, "nova_general_percent": 70.0}
    assert validate_data_mixing(
        {"customer_data_percent": 100, "dataset_catalog": "x"}, Platform.SMTJServerless, TrainingMethod.CPT
    ) == {"customer_data_percent": 100.0}
    with pytest.raises(RecipeValidationError, match="sum to 100; they sum to 90"):
        validate_data_mixing(
            {"customer_data_percent": 50, "nova_code_percent": 20, "nova_general_percent": 70},
            Platform.SMHP,
            TrainingMethod.CPT,
        )
    with pytest.raises(RecipeValidationError, match="must sum to 0"):
        validate_data_mixing({"customer_data_percent": 100, "nova_code_percent": 5}, Platform.SMHP, TrainingMethod.CPT)
    with pytest.raises(RecipeValidationError, match="out of range; allowed: 0 to 100"):
        validate_data_mixing({"nova_code_percent": 120}, Platform.SMHP, TrainingMethod.CPT)
    with pytest.raises(RecipeValidationError, match="supported on SMHP, SMTJServerless for CPT, SFT_LORA, SFT_FULL"):
        validate_data_mixing({"customer_data_percent": 100}, Platform.SMTJ, TrainingMethod.SFT_LORA)
    built = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMHP).build(
        run={"data_mixing": {"customer_data_percent": 50, "nova_code_percent": 30, "nova_general_percent": 70}}
    )
    assert built.recipe["training_config"]["data_mixing"] == {
        "sources": {"percent": 50.0, "code": 30.0, "general": 70.0}
    }


def test_building_makes_no_network_call(no_aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from amzn_nova_forge.core import aws

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("network call during build")

    monkeypatch.setattr(socket.socket, "connect", boom)
    monkeypatch.setattr(aws, "client", boom)  # any AWS client creation would fail the test
    monkeypatch.setattr(aws, "session", boom)
    for platform in (Platform.SMTJ, Platform.SMHP, Platform.BEDROCK, Platform.SMTJServerless, Platform.LOCAL):
        built = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, platform).build(run={"job_name": "x"})
        assert built.recipe["run"]["name"] == "x"
    RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task="mmlu").build()
