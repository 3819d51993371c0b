"""Recipes: the bundled Nova recipe catalogue, the builder and override validation.

Example:
    >>> from amzn_nova_forge.recipe import RecipeBuilder
    >>> from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
    >>> RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.SFT_LORA, Platform.SMTJ).build().template_id
    'nova_micro_1_0_p5_p4d_gpu_lora_sft'
"""

from __future__ import annotations

from amzn_nova_forge import _exports, _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        **_exports.RECIPE,
        "EvaluationTask": "amzn_nova_forge.core.enums",
        "RunSettings": "amzn_nova_forge.recipe._builder",
        "load_recipe_file": "amzn_nova_forge.recipe._recipe",
        "validate_instance": "amzn_nova_forge.recipe._validate",
        "check_region": "amzn_nova_forge.recipe._validate",
        "validate_data_mixing": "amzn_nova_forge.recipe._validate",
        "bedrock_hyperparameters": "amzn_nova_forge.recipe._bedrock",
    },
)
