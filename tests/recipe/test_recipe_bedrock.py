"""Bedrock hyperparameters: override keys → Bedrock names, validated against Bedrock's ranges."""

from __future__ import annotations

import pytest

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import RecipeOverrideError, UnsupportedFeatureError
from amzn_nova_forge.recipe import RecipeBuilder, bedrock_hyperparameters


@pytest.mark.parametrize("model", [Model.NOVA_MICRO, Model.NOVA_LITE, Model.NOVA_PRO, Model.NOVA_LITE_2])
def test_sft_defaults_and_mapping(model: Model) -> None:
    assert bedrock_hyperparameters(model, TrainingMethod.SFT_LORA) == {
        "epochCount": "2",
        "learningRate": "1e-05",
        "learningRateWarmupSteps": "10",
    }
    hp = bedrock_hyperparameters(
        model, TrainingMethod.SFT_LORA, {"max_epochs": 5, "lr": 5e-5, "warmup_steps": 0, "global_batch_size": 8}
    )
    assert hp == {"epochCount": "5", "learningRate": "5e-05", "learningRateWarmupSteps": "0", "batchSize": "8"}
    # the Bedrock names are accepted as override keys too
    assert bedrock_hyperparameters(model, TrainingMethod.SFT_LORA, {"epochCount": 3})["epochCount"] == "3"


@pytest.mark.parametrize(
    ("key", "inside", "outside"),
    [
        ("max_epochs", [1, 5], [0, 6]),
        ("lr", [1e-6, 1e-4], [5e-7, 2e-4]),
        ("warmup_steps", [0, 100], [-1, 101]),
    ],
)
def test_sft_ranges(key: str, inside: list[float], outside: list[float]) -> None:
    for v in inside:
        bedrock_hyperparameters(Model.NOVA_LITE, TrainingMethod.SFT_LORA, {key: v})
    for v in outside:
        with pytest.raises(RecipeOverrideError, match=rf"'{key}': {v!r}.*Allowed") as info:
            bedrock_hyperparameters(Model.NOVA_LITE, TrainingMethod.SFT_LORA, {key: v})
        assert info.value.key == key


def test_rft_hyperparameters_keep_native_types() -> None:
    hp = bedrock_hyperparameters(
        Model.NOVA_LITE_2,
        TrainingMethod.RFT_LORA,
        {"max_epochs": 3, "number_generation": 4, "reasoning_effort": "medium"},
    )
    assert hp["epochCount"] == 3 and hp["trainingSamplePerPrompt"] == 4 and hp["reasoningEffort"] == "medium"
    assert set(hp) == {
        "epochCount",
        "batchSize",
        "learningRate",
        "maxPromptLength",
        "trainingSamplePerPrompt",
        "inferenceMaxTokens",
        "reasoningEffort",
        "evalInterval",
    }
    for key, bad in (
        ("global_batch_size", 8),
        ("global_batch_size", 1024),
        ("max_epochs", 51),
        ("lr", 1e-2),
        ("number_generation", 17),
        ("eval_interval", 0),
        ("reasoning_effort", "extreme"),
    ):
        with pytest.raises(RecipeOverrideError, match=repr(key)):
            bedrock_hyperparameters(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, {key: bad})
    with pytest.raises(RecipeOverrideError, match="Did you mean 'max_epochs'"):
        bedrock_hyperparameters(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, {"max_epoch": 2})


def test_bedrock_only_offers_sft_lora_and_rft_lora() -> None:
    with pytest.raises(UnsupportedFeatureError, match="BEDROCK"):
        bedrock_hyperparameters(Model.NOVA_LITE, TrainingMethod.DPO_LORA, {})
    with pytest.raises(UnsupportedFeatureError, match="NOVA_LITE_2"):
        bedrock_hyperparameters(Model.NOVA_PRO, TrainingMethod.RFT_LORA, {})


def test_bedrock_recipe_carries_run_settings() -> None:
    built = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, Platform.BEDROCK).build(
        run={
            "job_name": "br",
            "data_s3_path": "s3://b/train.jsonl",
            "output_s3_path": "s3://b/out/",
            "rft_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:grader",
        }
    )
    assert built.recipe["run"]["reward_lambda_arn"].endswith(":grader")
    assert built.recipe["run"]["model_type"] == "amazon.nova-2-lite-v1:0:256k"
    assert built.region == "us-east-1" and built.image_uri is None
