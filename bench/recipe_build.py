"""Benchmark: build + validate one Nova recipe (target < 20 ms, so ``dry_run=True`` feels instant).

Measures, in a fresh interpreter:

* ``cold``: a fresh interpreter — importing the SDK and the recipe package, parsing the bundled
  catalogue, then the first build + validation (what a one-off ``dry_run`` adds).
* ``warm``: median / p95 of further builds + validations (catalogue cached), for the recipe kinds
  the SDK builds most: SFT LoRA (Nova 2, SMTJ), DPO full (Nova 1), an MMLU evaluation, Bedrock SFT.
* ``yaml``: ``BuiltRecipe.to_yaml()``.

Run::

    .venv/bin/python bench/recipe_build.py [--repeat 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

COLD = r"""
import time
t0 = time.perf_counter()
from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.recipe import RecipeBuilder
from amzn_nova_forge.recipe import _builder
t1 = time.perf_counter()
from amzn_nova_forge.recipe._catalogue import catalogue
catalogue()
t2 = time.perf_counter()
b = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMTJ, instance_type="ml.p5.48xlarge",
                  instance_count=4)
b.build(run={"job_name": "bench"}, overrides={"max_steps": 50, "lr": 5e-6})
t3 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000)
"""


def _cases():  # type: ignore[no-untyped-def]
    from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
    from amzn_nova_forge.recipe import RecipeBuilder

    return {
        "sft_lora_nova2_smtj": (
            RecipeBuilder(
                Model.NOVA_LITE_2,
                TrainingMethod.SFT_LORA,
                Platform.SMTJ,
                instance_type="ml.p5.48xlarge",
                instance_count=4,
            ),
            {"max_steps": 50, "lr": 5e-6, "global_batch_size": 64},
        ),
        "dpo_full_nova1_smhp": (
            RecipeBuilder(
                Model.NOVA_LITE,
                TrainingMethod.DPO_FULL,
                Platform.SMHP,
                instance_type="ml.p5.48xlarge",
                instance_count=8,
            ),
            {"max_epochs": 3, "beta": 0.05},
        ),
        "eval_mmlu_smtj": (
            RecipeBuilder(
                Model.NOVA_PRO,
                TrainingMethod.EVALUATION,
                Platform.SMTJ,
                eval_task=EvaluationTask.MMLU,
                subtask="anatomy",
                instance_type="ml.p5.48xlarge",
                instance_count=1,
            ),
            {"max_new_tokens": 2048, "temperature": 0},
        ),
        "bedrock_sft_lora": (
            RecipeBuilder(Model.NOVA_LITE, TrainingMethod.SFT_LORA, Platform.BEDROCK),
            {"max_epochs": 3},
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    colds = [
        [
            float(x)
            for x in subprocess.run(
                [sys.executable, "-c", COLD], check=True, capture_output=True, text=True
            ).stdout.split()
        ]
        for _ in range(7)
    ]
    results: dict[str, object] = {
        f"cold_{name}_ms_median_of_7": round(statistics.median(c[i] for c in colds), 2)
        for i, name in enumerate(("import_sdk_and_recipe", "parse_catalogue", "first_build_validate"))
    }
    for name, (builder, overrides) in _cases().items():
        run = {"job_name": "bench", "output_s3_path": "s3://bucket/out/"}
        builder.build(run=run, overrides=overrides)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            built = builder.build(run=run, overrides=overrides)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        results[name] = {
            "median_ms": round(statistics.median(times), 4),
            "p95_ms": round(times[int(len(times) * 0.95)], 4),
        }
    t0 = time.perf_counter()
    for _ in range(200):
        built.to_yaml()
    results["to_yaml_ms"] = round((time.perf_counter() - t0) * 1000 / 200, 4)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for k, v in results.items():
            print(f"{k:34} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
