"""Helpers shared by the recipe tests: map catalogue entries back to builder arguments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.recipe._builder import RecipeBuilder
from amzn_nova_forge.recipe._catalogue import Entry, Variant, catalogue

EXPECTATIONS: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "reference_expectations.json").read_text())

#: The evaluation task whose settings equal each eval recipe's own defaults.
KIND_TASK = {
    "text_benchmark": EvaluationTask.MMLU,
    "mm_benchmark": EvaluationTask.MMMU,
    "byod": EvaluationTask.GEN_QA,
    "llm_judge": EvaluationTask.LLM_JUDGE,
    "rubric_llm_judge": EvaluationTask.RUBRIC_LLM_JUDGE,
    "rft_eval": EvaluationTask.RFT_EVAL,
}


def builder_for(
    entry: Entry, variant: Variant | None = None, *, with_instance: bool = True, count: int | None = None
) -> RecipeBuilder:
    """A builder that selects ``variant`` of ``entry`` (its first instance type when it has any)."""
    variant = variant or entry.variants[0]
    itype = icount = None
    if with_instance and variant.instances:
        itype = next(iter(variant.instances))
        icount = count if count is not None else variant.instances[itype][0]
    model = Model[entry.model]
    platform = Platform(entry.platform)
    if entry.method.startswith("eval:"):
        return RecipeBuilder(
            model,
            TrainingMethod.EVALUATION,
            platform,
            eval_task=KIND_TASK[entry.method[5:]],
            instance_type=itype,
            instance_count=icount,
        )
    return RecipeBuilder(model, TrainingMethod(entry.method), platform, instance_type=itype, instance_count=icount)


def entry_variants() -> list[tuple[Entry, Variant]]:
    return [(e, v) for e in catalogue().entries() for v in e.variants]


def leaves(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        p = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            out.extend(leaves(v, p))
        else:
            out.append((p, v))
    return out


def get(d: dict[str, Any], path: str) -> Any:
    cur: Any = d
    for part in path.split("."):
        cur = cur[part]
    return cur


def first_builder_for_template() -> dict[str, RecipeBuilder]:
    """One validated-instance builder per template id (its first entry/variant)."""
    out: dict[str, RecipeBuilder] = {}
    for e, v in entry_variants():
        if v.template_id not in out:
            out[v.template_id] = builder_for(e, v)
    return out
