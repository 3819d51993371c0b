"""Every catalogue entry builds the reference recipe (structure, keys and defaults), offline."""

from __future__ import annotations

import pytest

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.recipe._catalogue import catalogue

from ._recipe_helpers import EXPECTATIONS, builder_for, entry_variants, get, leaves

PAIRS = entry_variants()
IDS = [f"{e.model}-{e.method}-{e.platform}-{v.template_id}" for e, v in PAIRS]


def test_catalogue_covers_the_spec_matrix() -> None:
    keys = {(e.model, e.method, e.platform) for e in catalogue().entries()}
    for model in ("NOVA_MICRO", "NOVA_LITE", "NOVA_PRO", "NOVA_LITE_2"):
        for method in ("sft_lora", "sft_full"):
            assert (model, method, "SMTJ") in keys and (model, method, "SMHP") in keys
        assert (model, "cpt", "SMHP") in keys
        assert (model, "sft_lora", "BEDROCK") in keys
        for kind in ("text_benchmark", "byod", "rft_eval"):
            for platform in ("SMTJ", "SMHP", "SMTJServerless"):
                assert (model, f"eval:{kind}", platform) in keys
    for model in ("NOVA_MICRO", "NOVA_LITE", "NOVA_PRO"):
        for method in ("dpo_lora", "dpo_full"):
            assert (model, method, "SMTJ") in keys and (model, method, "SMHP") in keys
        assert (model, "eval:llm_judge", "SMTJ") in keys
    for method in ("rft_lora", "rft_full"):
        assert ("NOVA_LITE_2", method, "SMTJ") in keys and ("NOVA_LITE_2", method, "SMHP") in keys
    assert ("NOVA_LITE_2", "rft_lora", "BEDROCK") in keys
    assert ("NOVA_LITE_2", "rft_multiturn_lora", "SMHP") in keys
    assert ("NOVA_LITE_2", "rft_multiturn_lora", "SMTJServerless") in keys
    assert ("NOVA_LITE_2", "eval:rubric_llm_judge", "SMTJ") in keys
    # every reference recipe we ship has frozen expectations
    shipped = {v.template_id for _, v in PAIRS} - {"bedrock_sft_lora", "bedrock_rft_lora"}
    assert shipped <= set(EXPECTATIONS)


@pytest.mark.parametrize(("entry", "variant"), PAIRS, ids=IDS)
def test_entry_matches_reference_recipe(entry, variant) -> None:  # type: ignore[no-untyped-def]
    built = builder_for(entry, variant).build(validate=False)
    assert built.template_id == variant.template_id
    exp = EXPECTATIONS.get(variant.template_id)
    if exp is None:  # Bedrock: SDK-defined hyperparameter recipes
        assert entry.platform == "BEDROCK"
        assert built.recipe["run"]["model_type"] == Model[entry.model].model_type
        assert built.hyperparameters["max_epochs"] >= 1
        return
    got = leaves(built.recipe)
    assert [p for p, _ in got] == exp["leaves"]  # same structure, same keys, same order
    for path, value in exp["values"].items():
        actual = get(built.recipe, path)
        if path == "run.replicas" and built.instance_count is not None and variant.instances:
            assert actual == built.instance_count
            continue
        if isinstance(value, float) or isinstance(actual, float):
            assert actual == pytest.approx(value), path
        else:
            assert actual == value, path
    assert built.recipe["run"]["model_type"] == Model[entry.model].model_type


@pytest.mark.parametrize(("entry", "variant"), PAIRS, ids=IDS)
def test_entry_validates_with_allowed_instances_and_has_image(entry, variant) -> None:  # type: ignore[no-untyped-def]
    built = builder_for(entry, variant).build(run={"job_name": "job-1", "output_s3_path": "s3://b/out/"})
    assert built.recipe["run"]["name"] == "job-1"
    if entry.platform in ("SMTJ", "SMHP"):
        assert built.image_uri is not None
        assert built.image_uri.startswith("708977205387.dkr.ecr.us-east-1.amazonaws.com/nova-")
        assert (":SM-TJ-" in built.image_uri) == (entry.platform == "SMTJ")
    else:
        assert built.image_uri is None


def test_every_catalogue_default_passes_validation() -> None:
    from amzn_nova_forge.recipe._validate import check_value

    cat = catalogue()
    for tid, tpl in cat.templates.items():
        for key, spec in tpl["params"].items():
            for path in spec["paths"]:
                value = get(tpl["recipe"], path)
                check_value(key, value, spec, template_id=tid)  # raises if a default is refused


def test_images_per_region_and_platform() -> None:
    from amzn_nova_forge.recipe import RecipeBuilder

    b = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMHP, region="us-west-2")
    assert b.build().image_uri == "176779409107.dkr.ecr.us-west-2.amazonaws.com/nova-fine-tune-repo:SM-HP-SFT-V2-latest"
    b = RecipeBuilder(Model.NOVA_LITE, TrainingMethod.DPO_FULL, Platform.SMTJ, region="eu-west-2")
    assert b.build().image_uri == "470633809225.dkr.ecr.eu-west-2.amazonaws.com/nova-fine-tune-repo:SM-TJ-DPO-latest"
    b = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.RFT_LORA, Platform.SMTJ, region="ap-northeast-1")
    assert (
        b.build().image_uri
        == "878185805882.dkr.ecr.ap-northeast-1.amazonaws.com/nova-fine-tune-repo:SM-TJ-RFT-V2-latest"
    )
    b = RecipeBuilder(Model.NOVA_PRO, TrainingMethod.CPT, Platform.SMHP)
    assert b.build().image_uri.endswith("/nova-fine-tune-repo:HP-CPT-latest")
    assert RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.BEDROCK).build().image_uri is None
    assert RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.LOCAL).build().image_uri is None


def test_catalogue_is_loaded_once() -> None:
    # How long the load takes is measured by bench/recipe_build.py (docs/performance.md), not here.
    from amzn_nova_forge.recipe import _catalogue

    _catalogue.catalogue.cache_clear()
    first = _catalogue.catalogue()
    assert _catalogue.catalogue() is first
    assert _catalogue.catalogue.cache_info().hits >= 1
