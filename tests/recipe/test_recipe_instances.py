"""The instance tables of the README: every row is accepted, excluded neighbours are refused."""

from __future__ import annotations

import pytest

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import InstanceConfigError
from amzn_nova_forge.recipe import RecipeBuilder, validate_instance

M, L, L2, P = Model.NOVA_MICRO, Model.NOVA_LITE, Model.NOVA_LITE_2, Model.NOVA_PRO
LORA, FULL = TrainingMethod.SFT_LORA, TrainingMethod.SFT_FULL
G512, G548, G612, G648 = "ml.g5.12xlarge", "ml.g5.48xlarge", "ml.g6.12xlarge", "ml.g6.48xlarge"
P4D, P5, P5EN = "ml.p4d.24xlarge", "ml.p5.48xlarge", "ml.p5en.48xlarge"

# (platform, model, methods, {instance type: counts}) — transcribed from the README tables.
ROWS = [
    (Platform.SMTJ, M, [LORA], {G512: [1], G548: [1], G612: [1], G648: [1], P4D: [2, 4], P5: [2, 4]}),
    (Platform.SMTJ, M, [FULL], {G548: [1], G648: [1], P4D: [2, 4], P5: [2, 4]}),
    (Platform.SMTJ, L, [LORA], {G512: [1], G548: [1], G612: [1], G648: [1], P4D: [4, 8, 16], P5: [4, 8, 16]}),
    (Platform.SMTJ, L, [FULL], {P4D: [4, 8, 16], P5: [4, 8, 16]}),
    (Platform.SMTJ, L2, [LORA, FULL], {P5: [4, 8, 16], P5EN: [4, 8, 16]}),
    (Platform.SMTJ, P, [LORA], {P4D: [6, 12, 24], P5: [6, 12, 48]}),
    (Platform.SMTJ, P, [FULL], {P5: [3, 6, 12, 24]}),
    (Platform.SMTJ, L2, [TrainingMethod.RFT_LORA, TrainingMethod.RFT_FULL], {P5: [4], P5EN: [4]}),
    (Platform.SMHP, M, [TrainingMethod.CPT], {P5: [2, 4, 8, 16, 32]}),
    (Platform.SMHP, L, [TrainingMethod.CPT], {P5: [4, 8, 16, 32]}),
    (Platform.SMHP, L2, [TrainingMethod.CPT], {P5: [4, 8, 16, 32]}),
    (Platform.SMHP, P, [TrainingMethod.CPT], {P5: [6, 12, 24]}),
    (Platform.SMHP, M, [LORA, FULL], {P5: [2, 4, 8]}),
    (Platform.SMHP, L, [LORA, FULL], {P5: [4, 8, 16]}),
    (Platform.SMHP, L2, [LORA, FULL], {P5: [4, 8, 16], P5EN: [4, 8, 16]}),
    (Platform.SMHP, P, [LORA, FULL], {P5: [6, 12, 48]}),
    (Platform.SMHP, L2, [TrainingMethod.RFT_LORA, TrainingMethod.RFT_FULL], {P5: [2, 4, 8, 16]}),
]
EVAL_ROWS = {
    M: [
        "ml.g5.4xlarge",
        "ml.g5.8xlarge",
        G512,
        "ml.g5.16xlarge",
        "ml.g5.24xlarge",
        "ml.g6.4xlarge",
        "ml.g6.8xlarge",
        G612,
        "ml.g6.16xlarge",
        "ml.g6.24xlarge",
        G648,
        P5,
    ],
    L: [G512, "ml.g5.24xlarge", G612, "ml.g6.24xlarge", G648, P5],
    L2: [P4D, P5],
    P: [P5],
}
CANDIDATE_TYPES = [G512, G548, G612, G648, P4D, P5, P5EN, "ml.g5.4xlarge", "ml.g6.48xlarge", "ml.c5.xlarge"]

TRAIN_CASES = [(plat, model, method, table) for plat, model, methods, table in ROWS for method in methods]
TRAIN_IDS = [f"{p.value}-{m.name}-{t.name}" for p, m, t, _ in TRAIN_CASES]


@pytest.mark.parametrize(("platform", "model", "method", "table"), TRAIN_CASES, ids=TRAIN_IDS)
def test_training_rows_accepted_and_neighbours_refused(platform, model, method, table) -> None:  # type: ignore[no-untyped-def]
    for itype, counts in table.items():
        for count in counts:
            validate_instance(platform, model, method, itype, count)
            built = RecipeBuilder(model, method, platform, instance_type=itype, instance_count=count).build()
            assert built.recipe["run"]["replicas"] == count
            assert built.instance_count == count
        for bad in sorted({max(counts) * 2, max(counts) + 1, 3, 1} - set(counts)):
            with pytest.raises(InstanceConfigError, match=rf"Instance count {bad} is not allowed") as info:
                validate_instance(platform, model, method, itype, bad)
            assert info.value.allowed[itype] == counts
            assert ", ".join(map(str, counts)) in str(info.value)
            with pytest.raises(InstanceConfigError, match=rf"Instance count {bad} is not allowed"):
                RecipeBuilder(model, method, platform, instance_type=itype, instance_count=bad).build()
    excluded = [t for t in CANDIDATE_TYPES if t not in table]
    assert excluded
    for itype in excluded:
        count = next(iter(table.values()))[0]
        with pytest.raises(InstanceConfigError, match="Allowed types") as info:
            validate_instance(platform, model, method, itype, count)
        for allowed in table:
            assert allowed in str(info.value)
        with pytest.raises(InstanceConfigError, match="Allowed types"):
            RecipeBuilder(model, method, platform, instance_type=itype, instance_count=count).build()


@pytest.mark.parametrize("platform", [Platform.SMTJ, Platform.SMHP])
@pytest.mark.parametrize("model", list(EVAL_ROWS), ids=lambda m: m.name)
def test_evaluation_rows_accepted_and_neighbours_refused(platform: Platform, model: Model) -> None:
    types = EVAL_ROWS[model]
    for itype in types:
        for count in (1, 2, 4, 8, 16):
            validate_instance(platform, model, TrainingMethod.EVALUATION, itype, count, eval_task=EvaluationTask.MMLU)
        with pytest.raises(InstanceConfigError, match="Allowed counts: 1, 2, 4, 8, 16"):
            validate_instance(platform, model, TrainingMethod.EVALUATION, itype, 3, eval_task=EvaluationTask.GEN_QA)
    built = RecipeBuilder(
        model,
        TrainingMethod.EVALUATION,
        platform,
        eval_task=EvaluationTask.MMLU,
        instance_type=types[0],
        instance_count=8,
    ).build()
    assert built.recipe["run"]["replicas"] == 8
    for itype in [t for t in CANDIDATE_TYPES if t not in types][:3]:
        with pytest.raises(InstanceConfigError, match=f"Instance type '{itype}' is not allowed"):
            validate_instance(platform, model, TrainingMethod.EVALUATION, itype, 1, eval_task=EvaluationTask.MMLU)
    # batch inference uses the same evaluation matrix
    validate_instance(platform, model, TrainingMethod.SFT_LORA, types[-1], 1, batch_inference=True)


def test_instance_type_picks_the_matching_recipe_variant() -> None:
    assert (
        RecipeBuilder(M, LORA, Platform.SMTJ, instance_type=G512, instance_count=1).build().template_id
        == "nova_micro_1_0_g5_g6_12x_gpu_lora_sft"
    )
    assert (
        RecipeBuilder(M, LORA, Platform.SMTJ, instance_type=G648, instance_count=1).build().template_id
        == "nova_micro_1_0_g5_g6_48x_gpu_lora_sft"
    )
    assert (
        RecipeBuilder(M, LORA, Platform.SMTJ, instance_type=P4D, instance_count=2).build().template_id
        == "nova_micro_1_0_p5_p4d_gpu_lora_sft"
    )
    assert (
        RecipeBuilder(P, TrainingMethod.DPO_FULL, Platform.SMTJ, instance_type=P4D, instance_count=12)
        .build()
        .template_id
        == "nova_pro_1_0_p4d_gpu_dpo"
    )


def test_managed_platforms_take_any_instance() -> None:
    for platform in (Platform.BEDROCK, Platform.SMTJServerless, Platform.LOCAL):
        validate_instance(platform, L, LORA, "ml.anything", 99)
    built = RecipeBuilder(L, LORA, Platform.LOCAL, instance_type="ml.c5.xlarge", instance_count=7).build()
    assert built.recipe["run"]["replicas"] == 4  # the recipe default; local runs ignore cloud instances
