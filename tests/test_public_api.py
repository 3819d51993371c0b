"""Each public namespace's ``__all__`` resolves (cf. httpx tests/test_exported_members.py).

Every name must resolve: a missing implementing module is a failure, not a skip.
"""

from __future__ import annotations

import importlib
import importlib.util

import pytest

NAMESPACES = (
    "amzn_nova_forge",
    "amzn_nova_forge.dataset",
    "amzn_nova_forge.model",
    "amzn_nova_forge.model.result",
    "amzn_nova_forge.manager",
    "amzn_nova_forge.monitor",
    "amzn_nova_forge.recipe",
    "amzn_nova_forge.util",
    "amzn_nova_forge.iam",
    "amzn_nova_forge.notifications",
    "amzn_nova_forge.rft_multiturn",
    "amzn_nova_forge.deployer",
    "amzn_nova_forge.inference",
)
#: Module paths the spec and README import directly.
SPEC_MODULES = (
    "amzn_nova_forge.model.model_enums",
    "amzn_nova_forge.util.bedrock",
    "amzn_nova_forge.iam.iam_role_creator",
    "amzn_nova_customization_sdk",
    "amzn_nova_customization_sdk.dataset",
    "amzn_nova_customization_sdk.model",
)


def _names() -> list[tuple[str, str]]:
    out = []
    for ns in NAMESPACES:
        mod = importlib.import_module(ns)
        out += [(ns, name) for name in mod.__all__]
    return out


@pytest.mark.parametrize("ns, name", _names(), ids=[f"{n}:{a}" for n, a in _names()])
def test_name_in_all_resolves(ns, name):
    mod = importlib.import_module(ns)
    value = getattr(mod, name)
    assert value is not None
    assert name in dir(mod)
    if isinstance(value, type) or callable(value):
        assert getattr(value, "__name__", name) == name


@pytest.mark.parametrize("ns", NAMESPACES)
def test_all_is_unique(ns):
    names = importlib.import_module(ns).__all__
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("path", SPEC_MODULES)
def test_spec_module_paths_import(path):
    assert importlib.util.find_spec(path) is not None, f"{path} is imported by the spec but missing"
    assert importlib.import_module(path).__all__, f"{path} exports nothing"


def test_alias_package_is_the_same_module():
    import amzn_nova_customization_sdk.dataset as alias

    import amzn_nova_forge.dataset as real

    assert alias is real
    assert alias.JSONLDatasetLoader is real.JSONLDatasetLoader
    # Importing through the alias must not replace the real module's spec: package
    # resources (the bundled samples) are found through it.
    assert real.__spec__.name == "amzn_nova_forge.dataset"
    assert real.__spec__.submodule_search_locations
    from amzn_nova_forge.dataset import sample_path

    assert sample_path("qa").endswith("qa.jsonl")


@pytest.mark.parametrize("alias_name", ["amzn_nova_customization_sdk", "amzn_nova_forge_sdk"])
def test_every_alias_exports_the_same_public_names(alias_name):
    import amzn_nova_forge

    ns: dict = {}
    exec(f"from {alias_name}.model.model_enums import Model", ns)
    assert ns["Model"] is amzn_nova_forge.Model
    alias = importlib.import_module(alias_name)
    assert alias is amzn_nova_forge


def test_dataset_star_import_has_the_spec_names():
    ns: dict = {}
    exec("from amzn_nova_forge.dataset import *", ns)
    for name in (
        "JSONLDatasetLoader",
        "JSONDatasetLoader",
        "CSVDatasetLoader",
        "DatasetLoader",
        "TrainingMethod",
        "Model",
        "EvaluationTask",
        "DataPrepError",
    ):
        assert name in ns
