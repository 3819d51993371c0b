"""Bedrock model-customization hyperparameters: SDK override keys → Bedrock names, validated.

Bedrock takes hyperparameters, not a recipe. Users pass the same override keys as elsewhere
(``max_epochs``, ``lr``, ``warmup_steps``, ``global_batch_size``; RFT adds ``number_generation``,
``max_prompt_length``, ``max_new_tokens``, ``reasoning_effort``, ``eval_interval``) or the Bedrock
names themselves (``epochCount``, ``learningRate`` …); both are validated against Bedrock's ranges.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod

__all__ = ["BEDROCK_NAMES", "bedrock_hyperparameters"]

#: SDK override key -> Bedrock hyperparameter name.
BEDROCK_NAMES = {
    "max_epochs": "epochCount",
    "global_batch_size": "batchSize",
    "lr": "learningRate",
    "warmup_steps": "learningRateWarmupSteps",
    "max_prompt_length": "maxPromptLength",
    "number_generation": "trainingSamplePerPrompt",
    "max_new_tokens": "inferenceMaxTokens",
    "reasoning_effort": "reasoningEffort",
    "eval_interval": "evalInterval",
}


def bedrock_hyperparameters(
    model: Model, method: TrainingMethod, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return Bedrock's ``hyperParameters`` for a customization job.

    For SFT (``FINE_TUNING``) the values are strings, as ``CreateModelCustomizationJob`` expects;
    for RFT (``REINFORCEMENT_FINE_TUNING``, the ``rftConfig.hyperParameters`` block) they keep their
    native types. Unset optional values (e.g. SFT ``batchSize``) are left out.

    Raises:
        RecipeOverrideError: unknown key ("did you mean") or value outside Bedrock's range.
        UnsupportedFeatureError: Bedrock does not offer ``method`` for ``model``; says where it is offered.

    Example:
        >>> bedrock_hyperparameters(Model.NOVA_LITE, TrainingMethod.SFT_LORA, {"max_epochs": 3})
        {'epochCount': '3', 'learningRate': '1e-05', 'learningRateWarmupSteps': '10'}
    """
    from amzn_nova_forge.recipe._builder import RecipeBuilder

    built = RecipeBuilder(model, method, Platform.BEDROCK).build(overrides=overrides)
    rft = TrainingMethod(method).family == "rft"
    out: dict[str, Any] = {}
    for key, value in built.hyperparameters.items():
        if value is None or key not in BEDROCK_NAMES:
            continue
        out[BEDROCK_NAMES[key]] = value if rft else _to_str(value)
    return out


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if abs(value) >= 1e-4 or value == 0 else f"{value:g}"
    return str(value)
