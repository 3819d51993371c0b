"""``training_settings``: what ``train(..., rft_multiturn_infra=...)`` gets from the infrastructure."""

from __future__ import annotations

import pytest

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError
from amzn_nova_forge.rft_multiturn._integration import apply_to_recipe, training_settings

ARN = "arn:aws:lambda:us-east-1:123456789012:function:s-NovaForgeSDK-SageMaker-rollout"


class _Infra:
    def get_recipe_overrides(self) -> dict[str, str]:
        return {
            "rollout_request_arn": ARN,
            "rollout_response_sqs_url": "q1",
            "rollout_request_queue_url": "q2",
            "generate_request_sqs_url": "q3",
            "generate_response_sqs_url": "q4",
        }


def test_settings_for_smhp_nova2() -> None:
    mt = training_settings(
        _Infra(), model=Model.NOVA_LITE_2, method=TrainingMethod.RFT_MULTITURN_LORA, platform=Platform.SMHP
    )
    assert mt["rft_lambda_arn"] == ARN and mt["recipe_run"]["generate_response_sqs_url"] == "q4"
    recipe = apply_to_recipe({"run": {"name": "x", "reward_lambda_arn": ""}}, mt)
    assert recipe["run"]["reward_lambda_arn"] == ARN and recipe["run"]["rollout_request_queue_url"] == "q2"
    assert apply_to_recipe({"run": {}}, {}) == {"run": {}}


def test_rules() -> None:
    assert training_settings(None, model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA, platform=Platform.SMTJ) == {}
    with pytest.raises(ConfigError, match="only used by RFT_MULTITURN"):
        training_settings(_Infra(), model=Model.NOVA_LITE_2, method=TrainingMethod.RFT_LORA, platform=Platform.SMHP)
    with pytest.raises(ConfigError, match="needs rft_multiturn_infra"):
        training_settings(
            None, model=Model.NOVA_LITE_2, method=TrainingMethod.RFT_MULTITURN_LORA, platform=Platform.SMHP
        )
    with pytest.raises(UnsupportedFeatureError, match="SMHP only.*NOVA_LITE_2"):
        training_settings(
            _Infra(), model=Model.NOVA_LITE, method=TrainingMethod.RFT_MULTITURN_FULL, platform=Platform.SMTJ
        )
