"""``nova-forge data validate|transform|split|show``: the Dataset API from the shell.

Each command is a thin layer over :mod:`amzn_nova_forge.dataset`. The loader is picked
from the file extension (``.jsonl``, ``.json``, ``.csv``, ``.parquet``, ``.arrow``/``.feather``/``.ipc``)
unless ``--format`` is given; a directory, glob or ``s3://`` prefix loads every file of that
format in sorted order (give ``--format`` when the path has no extension);
``--map question=input`` passes column mappings. Long passes show a progress
bar on stderr (off with ``NOVA_FORGE_DISABLE_PROGRESS_BARS=1``). ``validate`` exits 1
when the data is invalid and lists every problem (capped by ``--max-problems``).

Example::

    nova-forge data transform raw.jsonl train.jsonl --method sft_lora --model nova_lite_2 \\
        --map question=input --map answer=output
    nova-forge data validate train.jsonl --method sft_lora --model nova_lite_2
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["register"]

_FORMATS = {
    ".jsonl": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}


def register(subparsers: Any) -> None:
    """Add the ``data`` command group to the ``nova-forge`` parser."""
    data = subparsers.add_parser(
        "data",
        help="prepare datasets: validate, transform, split, show",
        description="Prepare Nova datasets (works offline on local files).",
    )
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    data.set_defaults(handler=lambda args: (data.print_help(), 2)[1])

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--format", choices=sorted(set(_FORMATS.values())), help="input format (default: from the file extension)"
        )
        p.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="STANDARD=COLUMN",
            help="column mapping, e.g. --map question=input (repeatable)",
        )

    def target(p: argparse.ArgumentParser, required: bool = True) -> None:
        p.add_argument("--method", required=required, help="training method, e.g. sft_lora, rft_lora, cpt, evaluation")
        p.add_argument("--model", required=required, help="model, e.g. nova_lite_2, nova_micro, NOVA_PRO")
        p.add_argument("--eval-task", help="evaluation task for BYOD data, e.g. gen_qa, llm_judge")

    p = sub.add_parser("validate", help="check a dataset against the rules of a method and model (exit 1 if invalid)")
    p.add_argument("path", help="local path or s3:// URI")
    common(p)
    target(p)
    p.add_argument("--platform", help="SMTJ, SMHP, BEDROCK, SMTJServerless or LOCAL (enables row-count limits)")
    p.add_argument("--transform", action="store_true", help="transform (with --map) before validating")
    p.add_argument("--max-problems", type=int, default=50, help="problems to list (all are counted)")
    p.add_argument(
        "--check-media",
        action="store_true",
        help="also check referenced S3 media (exists, size, format, image size); calls AWS",
    )
    p.set_defaults(handler=_validate)

    p = sub.add_parser("transform", help="transform generic or OpenAI data to a method's format and save it")
    p.add_argument("path", help="input: local path or s3:// URI")
    p.add_argument("output", help="output .jsonl or .json (local or s3://)")
    common(p)
    target(p)
    p.add_argument("--no-validate", action="store_true", help="skip validating the result")
    p.set_defaults(handler=_transform)

    p = sub.add_parser("split", help="split into train/val/test files")
    p.add_argument("path", help="local path or s3:// URI")
    p.add_argument("--out-dir", required=True, help="directory (or s3:// prefix) for train/val/test.jsonl")
    p.add_argument("--ratios", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VAL", "TEST"))
    p.add_argument("--seed", type=int, default=42)
    common(p)
    p.set_defaults(handler=_split)

    p = sub.add_parser("show", help="print the first records")
    p.add_argument("path", help="local path or s3:// URI")
    p.add_argument("-n", type=int, default=10, help="number of records (default 10)")
    common(p)
    p.set_defaults(handler=_show)


def _loader(args: argparse.Namespace) -> Any:
    from amzn_nova_forge.dataset import _loaders
    from amzn_nova_forge.errors import ConfigError

    fmt = args.format or _FORMATS.get(os.path.splitext(args.path.rstrip("/"))[1].lower())
    if fmt is None:
        raise ConfigError(
            f"Cannot tell the format of {args.path!r} from its extension; pass --format "
            f"({', '.join(sorted(set(_FORMATS.values())))})."
        )
    mappings = {}
    for item in args.map:
        key, sep, col = item.partition("=")
        if not sep or not key or not col:
            raise ConfigError(f"--map expects STANDARD=COLUMN (e.g. question=input), got {item!r}.")
        mappings[key.strip()] = col.strip()
    cls = {
        "jsonl": _loaders.JSONLDatasetLoader,
        "json": _loaders.JSONDatasetLoader,
        "csv": _loaders.CSVDatasetLoader,
        "parquet": _loaders.ParquetDatasetLoader,
        "arrow": _loaders.ArrowDatasetLoader,
    }[fmt]
    return cls(**mappings).load(args.path)


def _target(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from amzn_nova_forge.core.enums import EvaluationTask, Model, TrainingMethod
    from amzn_nova_forge.errors import ConfigError

    try:
        method = TrainingMethod(args.method.lower())
    except ValueError:
        raise ConfigError(
            f"Unknown --method {args.method!r}; one of: {', '.join(m.value for m in TrainingMethod)}."
        ) from None
    name = args.model
    model = (
        Model.from_model_type(name)
        if name.startswith("amazon.")
        else Model.from_model_name(name.upper() if name.upper() in Model.__members__ else name)
    )
    task = None
    if args.eval_task:
        try:
            task = EvaluationTask(args.eval_task.lower())
        except ValueError:
            raise ConfigError(
                f"Unknown --eval-task {args.eval_task!r}; one of: {', '.join(t.value for t in EvaluationTask)}."
            ) from None
    return method, model, task


def _report(
    loader: Any, method: Any, model: Any, task: Any, platform: Any, max_problems: int, check_media: bool = False
) -> int:
    report = loader._validate_report(
        method, model, task, platform=platform, max_problems=max(max_problems, 1), check_media=check_media
    )
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(report.summary(limit=max_problems))
    return 0 if report.ok else 1


def _validate(args: argparse.Namespace) -> int:
    from amzn_nova_forge.core.enums import Platform
    from amzn_nova_forge.errors import ConfigError

    method, model, task = _target(args)
    try:
        platform = Platform(args.platform) if args.platform else None
    except ValueError:
        raise ConfigError(
            f"Unknown --platform {args.platform!r}; one of: {', '.join(p.value for p in Platform)}."
        ) from None
    loader = _loader(args)
    if args.transform:
        loader.transform(method, model, eval_task=task)
    return _report(loader, method, model, task, platform, args.max_problems, args.check_media)


def _transform(args: argparse.Namespace) -> int:
    method, model, task = _target(args)
    loader = _loader(args).transform(method, model, eval_task=task)
    if not args.no_validate and _report(loader, method, model, task, None, 50):
        print("Not saved: fix the problems above (or pass --no-validate).", file=sys.stderr)
        return 1
    path = loader.save_data(args.output)
    print(f"Saved {len(loader):,} records to {path}")
    return 0


def _split(args: argparse.Namespace) -> int:
    from amzn_nova_forge.core import storage

    loader = _loader(args)
    parts = loader.split_data(*args.ratios, seed=args.seed)
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        if len(part):
            path = part.save_data(storage.join(args.out_dir, f"{name}.jsonl"))
            print(f"{name}: {len(part):,} records -> {path}")
        else:
            print(f"{name}: 0 records (not written)")
    return 0


def _show(args: argparse.Namespace) -> int:
    _loader(args).show(args.n)
    return 0
