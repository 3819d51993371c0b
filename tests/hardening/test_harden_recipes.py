"""Hostile and careless recipe input: every case a typed error naming what to fix, or correct acceptance.

Covers non-finite numbers in overrides and recipe files, ``${...}`` references, data-mixing keys,
recipe YAML syntax, tags, encodings and shapes, and the YAML budget (alias bomb: < 1 s, < 100 MB).
"""

from __future__ import annotations

import math
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, RecipeOverrideError, RecipeValidationError
from amzn_nova_forge.recipe._builder import RecipeBuilder
from amzn_nova_forge.recipe._validate import DATA_MIXING_KEYS, check_value, validate_data_mixing
from amzn_nova_forge.recipe._yaml import load_yaml, read_yaml_file


def _builder() -> RecipeBuilder:
    return RecipeBuilder(
        Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMTJ, instance_type="ml.p5.48xlarge", instance_count=4
    )


# ---------------------------------------------------------------- non-finite numbers in overrides
NON_FINITE = [
    ("lr", float("nan")),
    ("lr", float("inf")),
    ("lr", float("-inf")),
    ("lr", "nan"),
    ("lr", "NaN"),
    ("lr", "inf"),
    ("lr", "-Infinity"),
    ("lr", "1e400"),
    ("lr", 10**400),
    ("min_lr", float("nan")),
    ("weight_decay", float("inf")),
    ("adam_beta1", "nan"),
    ("lora_plus_lr_ratio", float("nan")),
    ("fine_tuned_model", "Infinity"),
    ("max_steps", float("nan")),
    ("warmup_steps", float("inf")),
    ("validation_data_s3_path_list", {"a": float("nan")}),
    ("validation_data_s3_path_list", {"a": [1.0, float("-inf")]}),
]


@pytest.mark.parametrize(("key", "value"), NON_FINITE, ids=[f"{k}={v!r}"[:40] for k, v in NON_FINITE])
def test_non_finite_override_is_refused(key: str, value: Any) -> None:
    with pytest.raises(RecipeValidationError) as e:
        _builder().build(run={"job_name": "j"}, overrides={key: value})
    assert key in str(e.value)
    assert any(w in str(e.value) for w in ("NaN", "nan", "inf", "too large", "an integer")), str(e.value)


@pytest.mark.parametrize(
    ("value", "expected"), [("5e-6", 5e-06), ("1E-5", 1e-05), (1, 1.0), ("0.5", 0.5), (2e-7, 2e-7)]
)
def test_finite_float_overrides_are_accepted_and_coerced(value: Any, expected: float) -> None:
    built = _builder().build(run={"job_name": "j"}, overrides={"lr": value, "min_lr": 1e-7})
    assert built.hyperparameters["lr"] == expected and math.isfinite(built.hyperparameters["lr"])


def test_check_value_refuses_nan_for_an_untyped_spec_too() -> None:
    with pytest.raises(RecipeOverrideError, match="NaN"):
        check_value("x", float("nan"), {"type": "any"}, template_id="t")
    assert check_value("x", 1.5, {"type": "any"}, template_id="t") == 1.5


# ---------------------------------------------------------------- ${...} references
def test_unresolvable_reference_override_is_refused() -> None:
    with pytest.raises(RecipeOverrideError, match=r"cannot be resolved.*'training_config\.nope'"):
        _builder().build(run={"job_name": "j"}, overrides={"save_steps": "${training_config.nope}"})


@pytest.mark.parametrize(
    "ref",
    [
        "${oc.env:HOME}",
        "${training_config.max_steps.extra}",
        "${recipes.nothing.here}",
        "${}",
        "${ a b }",
    ],
)
def test_references_the_sdk_cannot_check_are_refused(ref: str) -> None:
    with pytest.raises(RecipeOverrideError, match="cannot be resolved"):
        _builder().build(run={"job_name": "j"}, overrides={"save_steps": ref})


def test_a_reference_loop_is_refused() -> None:
    with pytest.raises(RecipeOverrideError, match="loop"):
        _builder().build(
            run={"job_name": "j"},
            overrides={
                "save_steps": "${training_config.val_check_interval}",
                "val_check_interval": "${training_config.save_steps}",
            },
        )


def test_a_resolved_reference_is_range_checked() -> None:
    # save_steps -> warmup_steps = 0: a valid warmup, but below save_steps' minimum of 1
    with pytest.raises(RecipeOverrideError, match=r"Invalid value for 'save_steps': 0 \(out of range\)"):
        _builder().build(
            run={"job_name": "j"},
            overrides={"save_steps": "${training_config.lr_scheduler.warmup_steps}", "warmup_steps": 0},
        )


def test_a_reference_to_a_string_is_type_checked() -> None:
    with pytest.raises(RecipeOverrideError, match="save_steps"):
        _builder().build(run={"job_name": "j"}, overrides={"save_steps": "${run.name}"})


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("${oc.select:training_config.max_steps}", 100),
        ("${training_config.max_steps}", 100),
        ("${oc.select:training_config.missing,7}", 7),
        ("${recipes.training_config.max_steps}", 100),
    ],
)
def test_resolvable_references_are_accepted_and_kept(ref: str, expected: int) -> None:
    built = _builder().build(run={"job_name": "j"}, overrides={"save_steps": ref, "max_steps": 100})
    assert built.recipe["training_config"]["save_steps"] == ref  # written as given; OmegaConf resolves it
    assert built.hyperparameters["save_steps"] in (expected, ref)


def test_the_catalogue_default_reference_still_validates() -> None:
    built = _builder().build(run={"job_name": "j"})
    assert built.recipe["training_config"]["save_steps"] == "${oc.select:training_config.max_steps}"


# ---------------------------------------------------------------- data mixing keys
MIX_TYPOS = [
    "nova_cod_percent",
    "nova_generl_percent",
    "nova_science_percent",
    "customer_percent",
    "nova__percent",
    "percent",
    "NOVA_CODE_PERCENT",
]


@pytest.mark.parametrize("key", MIX_TYPOS)
def test_data_mixing_unknown_keys_are_refused_with_did_you_mean(key: str) -> None:
    config = {"customer_data_percent": 50, "nova_general_percent": 70, key: 30}
    with pytest.raises(RecipeValidationError) as e:
        validate_data_mixing(config, Platform.SMHP, TrainingMethod.SFT_LORA)
    assert f"Unknown data mixing key {key!r}" in str(e.value)
    assert "nova_code_percent" in str(e.value)


def test_data_mixing_typo_suggests_the_right_key() -> None:
    with pytest.raises(RecipeValidationError, match="Did you mean 'nova_code_percent'"):
        validate_data_mixing({"nova_cod_percent": 30, "nova_general_percent": 70}, Platform.SMHP, TrainingMethod.CPT)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "50", True, "fifty", [50]])
def test_data_mixing_non_finite_or_non_numeric_values_are_refused(value: Any) -> None:
    with pytest.raises(RecipeValidationError, match="finite number"):
        validate_data_mixing(
            {"customer_data_percent": value, "nova_code_percent": 30, "nova_general_percent": 70},
            Platform.SMHP,
            TrainingMethod.SFT_LORA,
        )


def test_every_known_data_mixing_key_is_accepted() -> None:
    config = {k: 0 for k in DATA_MIXING_KEYS}
    config.update(customer_data_percent=40, nova_code_percent=25, nova_general_percent=25, nova_math_percent=50)
    out = validate_data_mixing(config, Platform.SMTJServerless, TrainingMethod.SFT_FULL)
    assert out["nova_math_percent"] == 50.0 and set(out) == set(DATA_MIXING_KEYS)


def test_data_mixing_typo_through_the_customizer_is_refused(aws: object) -> None:
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-cluster", namespace="kubeflow"
    )
    c = NovaModelCustomizer(
        model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=infra, data_mixing_enabled=True
    )
    with pytest.raises(ConfigError, match="Did you mean 'nova_code_percent'"):
        c.set_data_mixing_config({"customer_data_percent": 50, "nova_cod_percent": 30, "nova_general_percent": 70})


# ---------------------------------------------------------------- recipe files
BAD_YAML = {
    "unclosed_flow": ("training_config: {max_steps: 10\n", "not valid YAML at line"),
    "unclosed_list": ("a: [1, 2\n", "not valid YAML at line"),
    "tab_indent": ("run:\n\tname: x\n", "not valid YAML at line"),
    "bad_mapping": ("a: b: c\n", "not valid YAML at line 1"),
    "unclosed_quote": ('run:\n  name: "x\n', "not valid YAML"),
    "dup_anchor_alias": ("a: *missing\n", "not valid YAML"),
    "bad_indent": ("run:\n  name: x\n bad: 1\n", "not valid YAML at line"),
    "directive_only": ("%YAML 9.9\n---\na: 1\n", "YAML"),
    "two_docs": ("a: 1\n---\nb: 2\n", "not valid YAML"),
    "python_object": ("a: !!python/object/apply:os.system ['echo hi']\n", "remove the tag"),
    "python_name": ("a: !!python/name:os.system\n", "remove the tag"),
    "python_module": ("a: !!python/module:os\n", "remove the tag"),
    "python_tuple": ("a: !!python/tuple [1, 2]\n", "remove the tag"),
    "python_new": ("a: !!python/object/new:subprocess.Popen [['ls']]\n", "remove the tag"),
    "custom_tag": ("a: !Ref Something\n", "remove the tag"),
    "binary": ("a: !!binary aGVsbG8=\n", "remove the tag"),
    "set": ("a: !!set {x: null}\n", "remove the tag"),
    "omap": ("a: !!omap [x: 1]\n", "remove the tag"),
    "too_deep": ("a: " + "[" * 100 + "]" * 100 + "\n", "nested more than"),
    "too_deep_block": ("".join("  " * i + f"k{i}:\n" for i in range(80)) + "  " * 80 + "v: 1\n", "nested more than"),
    "recursive_alias": ("a: &x [*x]\n", "inside the value it names"),
    "recursive_alias_map": ("a: &x {b: *x}\n", "inside the value it names"),
}


@pytest.mark.parametrize("name", sorted(BAD_YAML))
def test_malformed_recipe_yaml_is_a_typed_error_naming_the_file(name: str, tmp_path: Path) -> None:
    text, message = BAD_YAML[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(RecipeValidationError) as e:
        _builder().build(run={"job_name": "j"}, recipe_path=str(path))
    assert str(path) in str(e.value)
    assert message in str(e.value), str(e.value)


NOT_A_MAPPING = {
    "list": "- a\n- b\n",
    "scalar": "hello\n",
    "number": "42\n",
    "empty": "",
    "null": "~\n",
    "comment": "# x\n",
}


@pytest.mark.parametrize("name", sorted(NOT_A_MAPPING))
def test_recipe_file_that_is_not_a_mapping_is_refused(name: str, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(NOT_A_MAPPING[name])
    with pytest.raises(RecipeValidationError, match="must hold a YAML mapping"):
        _builder().build(run={"job_name": "j"}, recipe_path=str(path))


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00a: 1", b"run:\n  name: \xc3\x28\n", b"a: \xed\xa0\x80\n", b"\x80"],
    ids=["utf16-bom", "bad-continuation", "surrogate", "lone-continuation"],
)
def test_recipe_file_that_is_not_utf8_is_refused(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(raw)
    with pytest.raises(RecipeValidationError, match="not UTF-8"):
        _builder().build(run={"job_name": "j"}, recipe_path=str(path))


@pytest.mark.parametrize(
    "text",
    [
        "training_config:\n  optim_config:\n    lr: .nan\n",
        "training_config:\n  optim_config:\n    lr: .inf\n",
        "training_config:\n  optim_config:\n    lr: -.Inf\n",
        "training_config:\n  optim_config:\n    lr: 1e400\n",
        "training_config:\n  lr_scheduler:\n    min_lr: .NaN\n",
        "run:\n  replicas: .nan\n",
        "training_config:\n  peft:\n    lora_tuning:\n      lora_plus_lr_ratio: .inf\n",
    ],
)
def test_non_finite_numbers_in_a_recipe_file_are_refused(text: str, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(RecipeValidationError, match=r"NaN|nan|inf|an integer"):
        _builder().build(run={"job_name": "j"}, recipe_path=str(path))


def test_recipe_path_that_is_a_folder_or_missing(tmp_path: Path) -> None:
    with pytest.raises(RecipeValidationError, match="is a folder"):
        _builder().build(run={"job_name": "j"}, recipe_path=str(tmp_path))
    with pytest.raises(FileNotFoundError):
        _builder().build(run={"job_name": "j"}, recipe_path=str(tmp_path / "nope.yaml"))


def test_oversized_recipe_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * (2 << 20) + "\n")
    with pytest.raises(RecipeValidationError, match="bytes; YAML files up to"):
        read_yaml_file(str(path))


def test_valid_recipe_with_anchors_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("training_config:\n  max_steps: &n 40\n  save_steps: *n\n  optim_config:\n    lr: 2.0e-6\n")
    built = _builder().build(run={"job_name": "j"}, recipe_path=str(path))
    assert built.recipe["training_config"]["save_steps"] == 40 and built.hyperparameters["lr"] == 2e-06


# ---------------------------------------------------------------- YAML budget
def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ",".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_stops_fast_and_small(tmp_path: Path) -> None:
    bomb = _alias_bomb()
    assert len(bomb.encode()) <= 480  # the 480-byte case
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb)
    start = time.perf_counter()
    with pytest.raises(RecipeValidationError, match="expands to more than"):
        _builder().build(run={"job_name": "j"}, recipe_path=str(path))
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    try:
        with pytest.raises(RecipeValidationError):
            _builder().build(run={"job_name": "j"}, recipe_path=str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0, f"took {elapsed:.2f}s"
    assert peak < 100 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize(("levels", "width"), [(4, 20), (6, 10), (30, 2), (3, 100)])
def test_other_alias_shapes_hit_the_budget(levels: int, width: int) -> None:
    with pytest.raises(RecipeValidationError, match="expands to more than"):
        load_yaml(_alias_bomb(levels, width), source="b.yaml", max_nodes=10_000)


def test_budget_is_per_document_not_per_alias_use() -> None:
    # a handful of aliases of a small anchor stays well within budget
    text = "base: &b {lr: 1.0e-5, steps: 10}\n" + "".join(f"c{i}: *b\n" for i in range(50))
    assert load_yaml(text, source="ok.yaml")["c49"] == {"lr": 1e-05, "steps": 10}
