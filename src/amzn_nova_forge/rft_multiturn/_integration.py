"""How ``customizer.train(..., rft_multiturn_infra=...)`` connects a job to the RFT infrastructure.

``train`` calls :func:`training_settings` when it is given an infrastructure (or trains an
RFT multiturn method). The result says which reward Lambda the recipe points at (the
stack's rollout Lambda, ``run.reward_lambda_arn``) and which extra ``run.*`` keys the
recipe carries (the queue URLs of :meth:`RFTMultiturnInfrastructure.get_recipe_overrides`).
"""

from __future__ import annotations

from typing import Any

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError

__all__ = ["MULTITURN_METHODS", "apply_to_recipe", "training_settings"]

MULTITURN_METHODS = frozenset({TrainingMethod.RFT_MULTITURN_LORA, TrainingMethod.RFT_MULTITURN_FULL})


def training_settings(
    rft_multiturn_infra: Any, *, model: Model, method: TrainingMethod, platform: Platform
) -> dict[str, Any]:
    """Check the combination and return what the training job needs.

    Returns:
        ``{"rft_lambda_arn": <rollout Lambda ARN>, "recipe_run": {override key: value}}``.

    Raises:
        ConfigError: No infrastructure for a multiturn method, or one given for another method,
            or the infrastructure's stack is not deployed.
        UnsupportedFeatureError: Not SMHP, or not a Nova 2 model.
    """
    method = TrainingMethod(method)
    if method not in MULTITURN_METHODS:
        if rft_multiturn_infra is None:
            return {}
        raise ConfigError(
            f"rft_multiturn_infra is only used by RFT_MULTITURN_LORA / RFT_MULTITURN_FULL, not {method.name}."
        )
    problems = []
    from amzn_nova_forge.manager._registry import capabilities_of, runtime_platforms

    if Platform(platform) not in runtime_platforms() or not capabilities_of(platform).rft_multiturn:
        problems.append(
            f"RFT multiturn training with self-hosted environments runs on SMHP only, not {Platform(platform).value}"
        )
    if model is not Model.NOVA_LITE_2:
        problems.append(f"RFT multiturn supports Nova 2.0 models (NOVA_LITE_2) only, not {model.name}")
    if problems:
        raise UnsupportedFeatureError(
            "; ".join(problems) + ".", runtime=Platform(platform).value, features=["rft_multiturn"]
        )
    if rft_multiturn_infra is None:
        raise ConfigError(
            f"{method.name} needs rft_multiturn_infra=RFTMultiturnInfrastructure(...) (after setup() and "
            "start_training_environment())."
        )
    getter = getattr(rft_multiturn_infra, "get_recipe_overrides", None)
    if not callable(getter):
        raise ConfigError("rft_multiturn_infra must be an RFTMultiturnInfrastructure.")
    overrides = dict(getter())
    return {"rft_lambda_arn": overrides["rollout_request_arn"], "recipe_run": overrides}


def apply_to_recipe(recipe: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Write the settings into a recipe dict (``run.reward_lambda_arn`` and ``run.<key>``); returns it."""
    if not settings:
        return recipe
    run = recipe.setdefault("run", {})
    run["reward_lambda_arn"] = settings["rft_lambda_arn"]
    run.update(settings["recipe_run"])
    return recipe
