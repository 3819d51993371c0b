"""``nova-forge train`` and ``nova-forge status``.

``train`` reads a small YAML file and/or flags (flags win)::

    model: NOVA_LITE_2
    method: sft_lora
    job_name: my-job
    data_s3_path: s3://bucket/train.jsonl
    output_s3_path: s3://bucket/output/
    infra:
      platform: SMTJ            # SMTJ | SMTJServerless | SMHP | BEDROCK | LOCAL
      instance_type: ml.p5.48xlarge
      instance_count: 4
    overrides: {max_steps: 50, lr: 5.0e-6}
    validation: {iam: true, infra: true, recipe: true}

and writes the result JSON (``--save-dir``, default ``.``) for ``nova-forge status``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def _parse_value(text: str) -> Any:
    """``--override`` value: YAML scalar/list/mapping when it parses (within budget), else the text."""
    from amzn_nova_forge.errors import RecipeValidationError
    from amzn_nova_forge.recipe._recipe import _norm
    from amzn_nova_forge.recipe._yaml import load_yaml

    try:
        return _norm(load_yaml(text, source="--override"))
    except RecipeValidationError:
        return text


def _overrides(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--override expects KEY=VALUE, got {item!r}.")
        out[key.strip()] = _parse_value(value)
    return out


#: Top-level keys ``--config`` accepts (anything else is a typo that would be silently ignored).
CONFIG_KEYS = (
    "model",
    "method",
    "job_name",
    "data_s3_path",
    "output_s3_path",
    "validation_data_s3_path",
    "model_path",
    "infra",
    "overrides",
    "validation",
    "recipe_path",
    "generated_recipe_dir",
    "rft_lambda_arn",
    "dry_run",
)


def _load_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    from amzn_nova_forge.errors import ConfigError, RecipeValidationError
    from amzn_nova_forge.recipe._yaml import read_yaml_file

    try:
        data = read_yaml_file(path) or {}
    except RecipeValidationError as e:
        raise ConfigError(str(e)) from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a YAML mapping.")
    unknown = sorted(str(k) for k in data if k not in CONFIG_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(CONFIG_KEYS)}.")
    return data


def _method(name: str) -> Any:
    """``--method`` text → :class:`TrainingMethod`; an unknown name lists the known ones."""
    from amzn_nova_forge.core.enums import TrainingMethod
    from amzn_nova_forge.errors import ConfigError

    try:
        return TrainingMethod(str(name).lower())
    except ValueError:
        known = ", ".join(m.value for m in TrainingMethod)
        raise ConfigError(f"Unknown --method {name!r}; one of: {known}.") from None


def _build_infra(spec: dict[str, Any]) -> Any:
    from amzn_nova_forge.manager._registry import get_runtime_class

    spec = dict(spec)
    platform = spec.pop("platform", None) or spec.pop("type", None) or "SMTJ"
    cls = get_runtime_class(platform)
    try:
        return cls(**spec)
    except TypeError as e:  # a missing or unknown infra setting: say which flag / config key to use
        from amzn_nova_forge.errors import ConfigError

        raise ConfigError(
            f"Cannot set up the {platform} runtime: {e}. Pass the missing settings as flags "
            "(--instance-type, --instance-count) or under 'infra:' in --config; "
            f"see help({cls.__name__}) for the accepted arguments."
        ) from e


def _cmd_train(args: argparse.Namespace) -> int:
    from amzn_nova_forge.core.enums import Model
    from amzn_nova_forge.model._customizer import NovaModelCustomizer

    cfg = _load_config(args.config)
    infra_spec = dict(cfg.get("infra") or {})
    for flag, key in (
        ("platform", "platform"),
        ("instance_type", "instance_type"),
        ("instance_count", "instance_count"),
    ):
        value = getattr(args, flag)
        if value is not None:
            infra_spec[key] = value
    model_name = args.model or cfg.get("model")
    method_name = args.method or cfg.get("method")
    job_name = args.job_name or cfg.get("job_name")
    if not model_name or not method_name or not job_name:
        raise ValueError("train needs a model, a method and a job name (--model, --method, --job-name or --config).")
    for key in ("infra", "overrides", "validation"):
        if cfg.get(key) is not None and not isinstance(cfg[key], dict):
            raise ValueError(f"{args.config}: '{key}' must be a mapping, got {type(cfg[key]).__name__}.")
    validation = dict(cfg.get("validation") or {})
    if args.no_iam_check:
        validation["iam"] = False
    if args.no_infra_check:
        validation["infra"] = False
    dry_run = bool(args.dry_run or cfg.get("dry_run"))
    recipe_dir = args.recipe_dir or cfg.get("generated_recipe_dir")
    if dry_run and not recipe_dir:  # keep the recipe where we can name it
        import tempfile

        recipe_dir = tempfile.mkdtemp(prefix="nova-forge-recipe-")
    customizer = NovaModelCustomizer(
        model=Model.from_model_name(str(model_name)),
        method=_method(str(method_name)),
        infra=_build_infra(infra_spec),
        data_s3_path=args.data or cfg.get("data_s3_path"),
        output_s3_path=args.output or cfg.get("output_s3_path"),
        model_path=args.model_path or cfg.get("model_path"),
        validation_config=validation or None,
        generated_recipe_dir=recipe_dir,
    )
    overrides = {**(cfg.get("overrides") or {}), **_overrides(args.override)}
    result = customizer.train(
        job_name=str(job_name),
        recipe_path=args.recipe or cfg.get("recipe_path"),
        overrides=overrides or None,
        rft_lambda_arn=args.rft_lambda_arn or cfg.get("rft_lambda_arn"),
        validation_data_s3_path=args.validation_data or cfg.get("validation_data_s3_path"),
        dry_run=dry_run,
    )
    if result is None:
        recipe = _newest_yaml(recipe_dir)
        if args.json:
            print(json.dumps({"dry_run": True, "recipe_path": recipe}, indent=2))
        else:
            print(f"Dry run: recipe built and checks passed; recipe written to {recipe}; no job was started.")
        return 0
    path = result.dump(file_path=args.save_dir)
    if args.json:
        out = {"job_id": result.job_id, "platform": result.platform.value, "result_path": str(path)}
        print(json.dumps(out, indent=2))
        return 0
    print(f"Started {result.platform.value} training job {result.job_id}")
    print(f"Result saved to {path} (check it with: nova-forge status {path})")
    return 0


def _newest_yaml(folder: str | None) -> str | None:
    """The recipe just written into ``folder`` (its newest ``*.yaml``)."""
    from pathlib import Path

    if not folder or str(folder).startswith("s3://"):
        return folder
    files = sorted(Path(folder).expanduser().glob("*.yaml"), key=lambda p: p.stat().st_mtime)
    return str(files[-1]) if files else str(folder)


def _cmd_status(args: argparse.Namespace) -> int:
    from amzn_nova_forge.model.result._base import BaseJobResult

    result = BaseJobResult.load(args.result)
    info = result.wait(timeout=args.timeout, poll_every=args.poll) if args.wait else result.status()
    out: dict[str, Any] = {
        "job_id": result.job_id,
        "platform": result.platform.value,
        "status": info.status.name,
        "raw_status": info.raw_status,
    }
    if info.message:
        out["message"] = info.message
    artifacts = getattr(result, "model_artifacts", None)
    if artifacts is not None:
        out["checkpoint_s3_path"] = artifacts.checkpoint_s3_path
        out["output_s3_path"] = artifacts.output_s3_path
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        for key, value in out.items():
            if value is not None:
                print(f"{key}: {value}")
    if args.update and artifacts is not None and artifacts.checkpoint_s3_path:
        from pathlib import Path

        p = Path(args.result)
        result.dump(file_path=str(p.parent), file_name=p.name)
    return 0 if info.status.name != "FAILED" else 3


def register(subparsers: Any) -> None:
    """Add ``train`` and ``status`` to the ``nova-forge`` parser."""
    p = subparsers.add_parser("train", help="start a training job (from a YAML config and/or flags)")
    p.add_argument("--config", help="YAML file with model, method, job_name, data_s3_path, infra, overrides ...")
    p.add_argument("--model", help="e.g. NOVA_LITE_2")
    p.add_argument("--method", help="e.g. sft_lora")
    p.add_argument("--job-name", dest="job_name")
    p.add_argument("--platform", help="SMTJ, SMTJServerless, SMHP, BEDROCK or LOCAL")
    p.add_argument("--instance-type", dest="instance_type")
    p.add_argument("--instance-count", dest="instance_count", type=int)
    p.add_argument("--data", help="training data (S3 URI; local path for LOCAL)")
    p.add_argument("--validation-data", dest="validation_data")
    p.add_argument("--output", help="output location")
    p.add_argument("--model-path", dest="model_path", help="checkpoint to continue from")
    p.add_argument("--recipe", help="your own recipe YAML (local or S3)")
    p.add_argument("--recipe-dir", dest="recipe_dir", help="where to write the generated recipe")
    p.add_argument("--override", action="append", metavar="KEY=VALUE", help="recipe override (repeatable)")
    p.add_argument("--rft-lambda-arn", dest="rft_lambda_arn")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="validate and write the recipe only")
    p.add_argument("--no-iam-check", dest="no_iam_check", action="store_true")
    p.add_argument("--no-infra-check", dest="no_infra_check", action="store_true")
    p.add_argument("--save-dir", dest="save_dir", default=None, help="directory for the result JSON (default .)")
    p.add_argument(
        "--json", action="store_true", help="print the job id and result path (or the dry-run recipe) as JSON"
    )
    p.set_defaults(handler=_cmd_train)

    s = subparsers.add_parser("status", help="show the status of a job from its saved result JSON")
    s.add_argument("result", help="a file written by result.dump() or 'nova-forge train'")
    s.add_argument("--wait", action="store_true", help="poll until the job ends")
    s.add_argument("--timeout", type=float, default=None, help="with --wait: give up after N seconds")
    s.add_argument(
        "--poll", type=float, default=None, help="with --wait: seconds between polls (default 30; 1 for local jobs)"
    )
    s.add_argument("--json", action="store_true", help="print JSON")
    s.epilog = "exit codes: 0 the job is not failed, 3 it FAILED, 1 error, 2 usage error"
    s.add_argument("--update", action="store_true", help="save the resolved checkpoint path back into the file")
    s.set_defaults(handler=_cmd_status)
