"""Each override is accepted within its range and refused outside it, with an explanation."""

from __future__ import annotations

from typing import Any

import pytest

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import RecipeOverrideError
from amzn_nova_forge.recipe import RecipeBuilder
from amzn_nova_forge.recipe._catalogue import catalogue
from amzn_nova_forge.recipe._validate import describe_allowed

from ._recipe_helpers import first_builder_for_template, get

BUILDERS = first_builder_for_template()
CASES = [
    (tid, key)
    for tid, b in BUILDERS.items()
    for key, spec in catalogue().template(tid)["params"].items()
    if spec.get("category") == "hyperparameter" and ("min" in spec or "max" in spec or "enum" in spec)
]


def _companions(key: str, value: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Overrides that keep cross-field rules satisfied while ``key`` is pushed to an edge."""
    extra: dict[str, Any] = {}
    if key == "save_steps" and "max_steps" in params and isinstance(value, int):
        extra["max_steps"] = max(value, params["max_steps"].get("min", 1))
    if key == "max_steps" and "save_steps" in params and isinstance(value, int):
        extra["save_steps"] = max(
            min(value, params["save_steps"].get("max", value)), params["save_steps"].get("min", 0)
        )
    if key == "min_lr" and "lr" in params:
        extra["lr"] = params["lr"].get("max", 1.0)
    if key == "lr" and "min_lr" in params:
        extra["min_lr"] = params["min_lr"].get("min", 0.0)
    return extra


def _inside(spec: dict[str, Any]) -> list[Any]:
    if "enum" in spec:
        return list(spec["enum"])
    lo, hi = spec.get("min"), spec.get("max")
    vals = [v for v in (lo, hi) if v is not None]
    if lo is not None and hi is not None:
        mid = (lo + hi) / 2
        vals.append(int(mid) if spec["type"] == "integer" else mid)
    if spec.get("multiple_of"):
        m = spec["multiple_of"]
        vals = [v - v % m if v % m else v for v in vals]
        vals = [v for v in vals if (lo is None or v >= lo)]
    return vals


def _outside(spec: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    integer = spec["type"] == "integer"
    if "enum" in spec:
        members = [v for v in spec["enum"] if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if members:
            out.append(max(members) + 1 if integer else max(members) * 2 + 1.0)
        else:
            out.append("not-a-member")
        return out
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None:
        out.append(lo - 1 if integer else lo - max(abs(lo) * 0.5, 1e-3))
    if hi is not None:
        out.append(hi + 1 if integer else hi + max(abs(hi) * 0.5, 1e-3))
    if spec.get("multiple_of") and lo is not None:
        out.append(lo + 1)
    return out


@pytest.mark.parametrize(("tid", "key"), CASES, ids=[f"{t}:{k}" for t, k in CASES])
def test_override_range(tid: str, key: str) -> None:
    builder = BUILDERS[tid]
    params = catalogue().template(tid)["params"]
    spec = params[key]
    for value in _inside(spec):
        if key == "lr" and "min_lr" in params and value < params["min_lr"].get("min", 0):
            continue  # lr below the smallest allowed min_lr is refused by the cross-field rule (tested below)
        built = builder.build(overrides={key: value, **_companions(key, value, params)})
        for path in spec["paths"]:
            assert get(built.recipe, path) == value
        if spec.get("category") == "hyperparameter":
            assert built.hyperparameters[key] == value
    for value in _outside(spec):
        with pytest.raises(RecipeOverrideError) as info:
            builder.build(overrides={key: value, **_companions(key, value, params)})
        err = info.value
        assert err.key == key and err.value == value
        msg = str(err)
        assert repr(key) in msg and repr(value) in msg
        assert describe_allowed(spec) in msg
        assert isinstance(err, ValueError)
    if spec["type"] in ("integer", "float"):
        with pytest.raises(RecipeOverrideError, match=repr(key)):
            builder.build(overrides={key: "lots"})
        if not spec.get("nullable"):
            with pytest.raises(RecipeOverrideError, match="required"):
                builder.build(overrides={key: None})


def test_unknown_override_suggests_the_closest_key() -> None:
    b = RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.SMTJ)
    with pytest.raises(RecipeOverrideError, match=r"Unknown override 'max_epoch'.*Did you mean 'max_epochs'") as info:
        b.build(overrides={"max_epoch": 3})
    assert info.value.key == "max_epoch"
    assert "max_epochs" in info.value.allowed and "lr" in info.value.allowed
    with pytest.raises(RecipeOverrideError, match="Did you mean 'warmup_steps'"):
        b.build(overrides={"warmup_step": 3})


def test_aliases_and_spelling_variants_reach_the_same_key() -> None:
    b1 = RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.SMTJ)
    built = b1.build(overrides={"learning_rate": 2e-5, "lora_alpha": 64, "lora_plus_lr_ratio": 8.0})
    assert built.hyperparameters["lr"] == 2e-5
    assert built.recipe["training_config"]["model"]["peft"]["lora_tuning"] == {
        "loraplus_lr_ratio": 8.0,
        "alpha": 64,
        "adapter_dropout": 0.01,
    }
    b2 = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMTJ)
    built = b2.build(overrides={"loraplus_lr_ratio": 32.0})
    assert built.recipe["training_config"]["peft"]["lora_tuning"]["lora_plus_lr_ratio"] == 32.0


def test_spec_training_example_overrides() -> None:
    # api-spec train() example: max_epochs, lr, warmup_steps, global_batch_size (Nova 1 DPO full takes 128)
    b = RecipeBuilder(
        Model.NOVA_LITE, TrainingMethod.DPO_FULL, Platform.SMTJ, instance_type="ml.p5.48xlarge", instance_count=4
    )
    built = b.build(overrides={"max_epochs": 10, "lr": 5e-6, "warmup_steps": 20, "global_batch_size": 128})
    hp = built.hyperparameters
    assert (hp["max_epochs"], hp["lr"], hp["warmup_steps"], hp["global_batch_size"]) == (10, 5e-6, 20, 128)
    assert hp["beta"] == 0.1


def test_fixed_keys_and_data_mixing_keys_are_refused_with_the_way_out() -> None:
    b = RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.SMTJ)
    with pytest.raises(RecipeOverrideError, match="TrainingMethod"):
        b.build(overrides={"peft_scheme": None})
    with pytest.raises(RecipeOverrideError, match="Model"):
        b.build(overrides={"model_type": "amazon.nova-pro-v1:0:300k"})
    with pytest.raises(RecipeOverrideError, match="set_data_mixing_config"):
        b.build(overrides={"nova_code_percent": 10})


def test_float_params_accept_ints_and_integer_params_refuse_floats() -> None:
    b = RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_FULL, Platform.SMTJ)
    built = b.build(overrides={"weight_decay": 1, "min_lr": 1e-7})
    assert built.hyperparameters["weight_decay"] == 1.0 and isinstance(built.hyperparameters["weight_decay"], float)
    with pytest.raises(RecipeOverrideError, match="without a decimal point"):
        b.build(overrides={"max_epochs": 2.0})
    with pytest.raises(RecipeOverrideError, match=r"Invalid value for 'max_epochs': True \(got bool\)"):
        b.build(overrides={"max_epochs": True})


def test_cross_field_rules() -> None:
    b = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMTJ)
    with pytest.raises(RecipeOverrideError, match=r"save_steps \(60\) must be <= max_steps \(50\)") as info:
        b.build(overrides={"max_steps": 50, "save_steps": 60})
    assert info.value.key == "save_steps"
    assert b.build(overrides={"max_steps": 50, "save_steps": 50}).hyperparameters["save_steps"] == 50
    # save_steps defaults to ${oc.select:training_config.max_steps}: follows max_steps
    assert b.build(overrides={"max_steps": 40}).hyperparameters["save_steps"] == 40
    b1 = RecipeBuilder(Model.NOVA_PRO, TrainingMethod.SFT_FULL, Platform.SMTJ)
    with pytest.raises(RecipeOverrideError, match="min_lr"):
        b1.build(overrides={"lr": 1e-7, "min_lr": 1e-6})


def test_validate_false_skips_checks() -> None:
    b = RecipeBuilder(
        Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.SMTJ, instance_type="ml.c5.xlarge", instance_count=99
    )
    built = b.build(overrides={"max_epochs": 1000, "nonsense": 1}, validate=False)
    assert built.hyperparameters["max_epochs"] == 1000
    assert "nonsense" not in built.hyperparameters
