"""``RFTMultiturnInfrastructure.get_recipe_path``: the RFT multiturn recipe as a local YAML file.

The recipe comes from the SDK's bundled catalogue (nothing is downloaded): Nova Lite 2 on
SageMaker HyperPod, ``RFT_MULTITURN_LORA`` / ``RFT_MULTITURN_FULL`` training or the
``RFT_MULTITURN_EVAL`` evaluation. When the stack's outputs are known, the rollout Lambda and
queue URLs are already filled in (``run.reward_lambda_arn`` and the ``run.*`` queue keys), so
the file can be given to ``recipe_path=`` or reviewed as is.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.core.storage import write_text
from amzn_nova_forge.errors import ConfigError

__all__ = ["RECIPE_METHODS", "write_recipe"]

#: What ``get_recipe_path`` accepts -> the catalogue's method key.
RECIPE_METHODS: dict[Any, str] = {
    TrainingMethod.RFT_MULTITURN_LORA: TrainingMethod.RFT_MULTITURN_LORA.value,
    TrainingMethod.RFT_MULTITURN_FULL: TrainingMethod.RFT_MULTITURN_FULL.value,
    EvaluationTask.RFT_MULTITURN_EVAL: "eval:rft_eval",
}


def write_recipe(method: Any, folder: Path, overrides: dict[str, str] | None) -> Path:
    """Write the catalogue recipe of ``method`` (with ``overrides`` in ``run``) under ``folder``; returns the file.

    Raises:
        ConfigError: ``method`` is not an RFT multiturn training method or evaluation task.
    """
    key = RECIPE_METHODS.get(method)
    if key is None:
        allowed = ", ".join(f"{type(m).__name__}.{m.name}" for m in RECIPE_METHODS)
        raise ConfigError(f"No RFT multiturn recipe for {method!r}; use one of: {allowed}.")
    import yaml

    from amzn_nova_forge.recipe._catalogue import catalogue

    cat = catalogue()
    entry = cat.require(Model.NOVA_LITE_2, key, Platform.SMHP)
    template_id = entry.variants[0].template_id
    recipe: dict[str, Any] = copy.deepcopy(cat.template(template_id)["recipe"])
    if overrides:
        run = recipe.setdefault("run", {})
        run["reward_lambda_arn"] = overrides["rollout_request_arn"]
        run.update(overrides)
    path = folder / f"{template_id}.yaml"
    write_text(str(path), yaml.safe_dump(recipe, sort_keys=False))  # atomic (temporary file, then rename)
    return path
