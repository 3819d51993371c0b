"""Public names of ``amzn_nova_forge.recipe`` and the spec's import lines."""

from __future__ import annotations

import subprocess
import sys


def test_star_import_gives_the_spec_names() -> None:
    ns: dict[str, object] = {}
    exec("from amzn_nova_forge.recipe import *", ns)  # the api-spec evaluate() example's import line
    for name in (
        "EvaluationTask",
        "RecipeBuilder",
        "BuiltRecipe",
        "RunSettings",
        "validate_instance",
        "check_region",
        "bedrock_hyperparameters",
    ):
        assert name in ns, name
    assert ns["EvaluationTask"].MMLU.value == "mmlu"  # type: ignore[attr-defined]
    ns2: dict[str, object] = {}
    exec("from amzn_nova_customization_sdk.recipe import *", ns2)  # the README's older import name
    assert ns2["RecipeBuilder"] is ns["RecipeBuilder"]


def test_top_level_exports_the_builder() -> None:
    import amzn_nova_forge
    from amzn_nova_forge.recipe import BuiltRecipe, RecipeBuilder

    assert amzn_nova_forge.RecipeBuilder is RecipeBuilder and amzn_nova_forge.BuiltRecipe is BuiltRecipe


def test_importing_the_recipe_package_stays_light() -> None:
    code = (
        "import sys; from amzn_nova_forge.recipe import RecipeBuilder; "
        "from amzn_nova_forge.recipe import _builder; "
        "print(sorted(m for m in ('boto3', 'botocore', 'yaml', 'torch', 'orjson', 'transformers') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    assert out == "[]"


def test_docstring_examples_run() -> None:
    import doctest
    import importlib

    for name in ("_builder", "_recipe", "_validate", "_bedrock", "__init__"):
        mod = importlib.import_module("amzn_nova_forge.recipe" + ("" if name == "__init__" else f".{name}"))
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name
        assert result.attempted > 0, name
