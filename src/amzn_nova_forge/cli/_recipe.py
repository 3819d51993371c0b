"""``nova-forge recipe show|keys|validate|list``: inspect and check Nova recipes offline.

Examples::

    nova-forge recipe show --model NOVA_LITE_2 --method sft_lora --platform SMTJ \\
        --instance-type ml.p5.48xlarge --instance-count 4 --set max_steps=50 --set lr=5e-6
    nova-forge recipe keys --model NOVA_MICRO --method evaluation --eval-task mmlu
    nova-forge recipe validate my-recipe.yaml --method sft_lora --platform SMTJ
    nova-forge recipe list --platform BEDROCK
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``recipe`` command and its sub-commands."""
    parser = subparsers.add_parser("recipe", help="show, list keys of, or validate Nova recipes (offline)")
    sub = parser.add_subparsers(dest="recipe_command", metavar="SUBCOMMAND")
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])

    show = sub.add_parser("show", help="print the final recipe YAML for a model/method/platform")
    _common(show)
    show.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe key (repeatable), e.g. --set lr=5e-6",
    )
    show.add_argument("--recipe-path", help="your own recipe file (local or s3://) to merge")
    show.add_argument("--job-name", help="run.name")
    show.add_argument("--data-s3-path")
    show.add_argument("--output-s3-path")
    show.add_argument("--model-path", help="checkpoint to start from / evaluate (s3://...)")
    show.add_argument("--output-dir", help="also write the YAML into this directory")
    show.add_argument("--no-validate", action="store_true", help="build without validation")
    show.add_argument("--hyperparameters", action="store_true", help="print the flat hyperparameters as JSON")
    show.add_argument("--json", action="store_true", help="print recipe, template, image and hyperparameters as JSON")
    show.set_defaults(handler=_show)

    keys = sub.add_parser("keys", help="list the override keys a recipe accepts, with ranges and defaults")
    _common(keys)
    keys.add_argument("--json", action="store_true", help="machine-readable output")
    keys.add_argument("--all", action="store_true", help="include run-section keys (paths, names, replicas)")
    keys.set_defaults(handler=_keys)

    val = sub.add_parser("validate", help="validate a recipe file (local or s3://)")
    val.add_argument("path", help="recipe YAML")
    _common(val, model_required=False, method_required=False)
    val.add_argument("--json", action="store_true", help="print the verdict as JSON")
    val.set_defaults(handler=_validate)

    lst = sub.add_parser("list", help="list supported (model, method, platform) combinations")
    lst.add_argument("--platform")
    lst.add_argument("--model")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(handler=_list)


def _common(p: argparse.ArgumentParser, *, model_required: bool = True, method_required: bool = True) -> None:
    p.add_argument("--model", required=model_required, help="e.g. NOVA_LITE_2 (enum name or key)")
    p.add_argument("--method", required=method_required, help="e.g. sft_lora, dpo_full, cpt, rft_lora, evaluation")
    p.add_argument("--platform", default="SMTJ", help="SMTJ (default), SMTJServerless, SMHP, BEDROCK, LOCAL")
    p.add_argument("--eval-task", help="evaluation task, e.g. mmlu, gen_qa, llm_judge")
    p.add_argument("--subtask")
    p.add_argument("--batch-inference", action="store_true", help="batch inference (gen_qa) recipe")
    p.add_argument("--instance-type")
    p.add_argument("--instance-count", type=int)
    p.add_argument("--region")


def _builder(
    args: argparse.Namespace, *, model: str | None = None, method: str | None = None, eval_task: str | None = None
) -> Any:
    from amzn_nova_forge.core.enums import Model, TrainingMethod
    from amzn_nova_forge.recipe._builder import RecipeBuilder

    model_name = model or args.model
    method_name = method or args.method
    try:
        m = Model.from_model_name(model_name.upper()) if model_name else None
    except ValueError:
        m = Model.from_model_name(model_name)
    if m is None:
        raise ValueError("--model is required (e.g. --model NOVA_LITE_2).")
    try:
        tm = TrainingMethod(method_name.lower())
    except (ValueError, AttributeError):
        known = ", ".join(t.value for t in TrainingMethod)
        raise ValueError(f"Unknown --method {method_name!r}. Known: {known}.") from None
    return RecipeBuilder(
        m,
        tm,
        _platform(args.platform),
        eval_task=(eval_task or args.eval_task or None),
        subtask=args.subtask,
        batch_inference=args.batch_inference,
        region=args.region,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
    )


def _platform(name: str) -> Any:
    from amzn_nova_forge.core.enums import Platform

    for p in Platform:
        if name.lower() in (p.value.lower(), p.name.lower()):
            return p
    raise ValueError(f"Unknown --platform {name!r}. Known: {', '.join(p.value for p in Platform)}.")


def _parse_overrides(items: list[str]) -> dict[str, Any]:
    from amzn_nova_forge.recipe._recipe import _norm
    from amzn_nova_forge.recipe._yaml import load_yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}.")
        out[key.strip()] = _norm(load_yaml(raw, source=f"--set {key.strip()}")) if raw.strip() else ""
    return out


def _show(args: argparse.Namespace) -> int:
    from amzn_nova_forge.recipe._recipe import RunSettings

    run = RunSettings(
        job_name=args.job_name,
        data_s3_path=args.data_s3_path,
        output_s3_path=args.output_s3_path,
        model_name_or_path=args.model_path,
    )
    built = _builder(args).build(
        run=run, overrides=_parse_overrides(args.overrides), recipe_path=args.recipe_path, validate=not args.no_validate
    )
    if args.json:
        doc = {
            "template_id": built.template_id,
            "image_uri": built.image_uri,
            "recipe": built.recipe,
            "hyperparameters": built.hyperparameters,
        }
        if args.output_dir:
            doc["written"] = built.write(args.output_dir)
        print(json.dumps(doc, indent=2, default=str))
        return 0
    if args.hyperparameters:
        print(json.dumps(built.hyperparameters, indent=2, sort_keys=True))
    else:
        sys.stdout.write(built.to_yaml())
    if built.image_uri:
        print(f"# image: {built.image_uri}", file=sys.stderr)
    print(f"# recipe: {built.template_id}", file=sys.stderr)
    if args.output_dir:
        print(f"# written: {built.write(args.output_dir)}", file=sys.stderr)
    return 0


def _keys(args: argparse.Namespace) -> int:
    builder = _builder(args)
    keys = builder.keys()
    if not args.all:
        keys = {k: v for k, v in keys.items() if v.get("category") != "run"}
    if args.json:
        print(
            json.dumps(
                {
                    k: {
                        "type": v.get("type"),
                        "allowed": v["allowed"],
                        "default": v["default"],
                        "aliases": v.get("aliases", []),
                        "paths": v["paths"],
                    }
                    for k, v in keys.items()
                },
                indent=2,
                default=str,
            )
        )
        return 0
    rows = [
        (k, v["allowed"], "null" if v["default"] is None else str(v["default"]), ", ".join(v.get("aliases", [])))
        for k, v in keys.items()
    ]
    head = ("KEY", "ALLOWED", "DEFAULT", "ALIASES")
    widths = [max(len(r[i]) for r in [*rows, head]) for i in range(3)]
    print(f"{head[0]:<{widths[0]}}  {head[1]:<{widths[1]}}  {head[2]:<{widths[2]}}  {head[3]}".rstrip())
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip())
    print(f"# recipe: {builder._variant(False).template_id}", file=sys.stderr)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from amzn_nova_forge.core.enums import Model
    from amzn_nova_forge.recipe._recipe import load_recipe_file

    data = load_recipe_file(args.path)
    model = args.model
    if not model:
        run = data.get("run")
        mt = run.get("model_type") if isinstance(run, dict) else None
        if not mt or not isinstance(mt, str):
            raise ValueError("The recipe has no run.model_type; pass --model.")
        model = Model.from_model_type(mt).name
    eval_task = args.eval_task
    method = args.method
    if not eval_task and isinstance(data.get("evaluation"), dict) and not args.batch_inference:
        eval_task = data["evaluation"].get("task")
        if eval_task == "rft_eval" and isinstance(data.get("rl_env"), dict) and "multiturn" in str(data["rl_env"]):
            eval_task = "rft_multiturn_eval"
    if not method:
        if eval_task or args.batch_inference:
            method = "evaluation"
        else:
            raise ValueError("Pass --method (e.g. sft_lora) to say which recipe family the file belongs to.")
    built = _builder(args, model=model, method=method, eval_task=eval_task).build(recipe_path=args.path)
    if args.json:
        verdict = {
            "valid": True,
            "path": args.path,
            "template_id": built.template_id,
            "model": built.model.name,
            "method": "evaluation" if built.eval_task else built.method.value,
            "platform": built.platform.value,
        }
        print(json.dumps(verdict, indent=2))
        return 0
    print(
        f"OK: {args.path} is a valid {built.template_id} recipe for {built.model.name} "
        f"{'evaluation' if built.eval_task else built.method.name} on {built.platform.value}."
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from amzn_nova_forge.recipe._catalogue import catalogue

    rows = []
    for e in catalogue().entries():
        if args.platform and e.platform.lower() != args.platform.lower():
            continue
        if args.model and e.model.lower() != args.model.lower():
            continue
        rows.append(e)
    if args.json:
        out = [
            {
                "model": e.model,
                "method": e.method,
                "platform": e.platform,
                "template_id": e.variants[0].template_id,
                "instances": e.allowed_instances(),
            }
            for e in rows
        ]
        print(json.dumps(out, indent=2))
        return 0
    for e in rows:
        inst = e.allowed_instances()
        where = "; ".join(f"{t} ({', '.join(map(str, c))})" for t, c in inst.items()) or "managed"
        print(f"{e.model:<12} {e.method:<22} {e.platform:<15} {e.variants[0].template_id:<52} {where}")
    return 0
