"""InspectLens evaluation: benchmark upload, task-name checks and the run itself.

``ForgeEvaluator.evaluate(task_config=..., inspect_lens_config=...)`` with
``EvaluationTask.INSPECT_LENS`` and ``ForgeEvaluator.upload_benchmarks`` call into here; the
SageMaker request lives in ``manager/_inspect_lens.py``.
"""

from __future__ import annotations

import ast
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.evaluator.inspect_lens_config import InspectLensConfig

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model.result._evaluation import SMTJEvaluationResult
    from amzn_nova_forge.model.result._training import TrainingResult

__all__ = ["run_inspect_lens", "task_names", "upload_benchmarks"]

#: Files of a benchmarks folder that the container uses.
_BENCHMARK_FILES = (".py",)
_BENCHMARK_NAMES = ("pyproject.toml", "requirements.txt")
_MAX_BENCHMARK_BYTES = 256 * 1024 * 1024
_MAX_SOURCE_BYTES = 4 * 1024 * 1024


def task_names(source: str) -> set[str]:
    """Names of the functions decorated with Inspect's ``@task`` (``@task``, ``@task(...)``, ``@inspect_ai.task``).

    Parsed with :mod:`ast`, so commented-out or string-embedded decorators do not count. Source
    that does not parse has no tasks.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if (isinstance(target, ast.Name) and target.id == "task") or (
                    isinstance(target, ast.Attribute) and target.attr == "task"
                ):
                    names.add(node.name)
    return names


def _benchmark_files(local_dir: Path) -> Iterable[Path]:
    for path in sorted(local_dir.rglob("*")):
        rel = path.relative_to(local_dir)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if path.is_file() and (path.suffix in _BENCHMARK_FILES or path.name in _BENCHMARK_NAMES):
            yield path


def upload_benchmarks(local_dir: str, s3_path: str, *, kms_key_id: str | None = None) -> str:
    """Upload a folder of Inspect benchmarks (``.py`` files, subfolders kept, plus ``pyproject.toml`` and
    ``requirements.txt``) to ``s3_path``; returns the prefix to use as ``benchmarks_path``.

    Raises:
        ConfigError: ``local_dir`` is not a folder, holds no ``@task`` function, is over 256 MiB, or
            ``s3_path`` is not an ``s3://`` URI.
    """
    root = Path(os.path.expanduser(local_dir))
    if not root.is_dir():
        raise ConfigError(f"local_dir {local_dir!r} is not an existing folder.")
    if not s3_path.startswith("s3://") or not storage.parse_s3(s3_path)[0]:
        raise ConfigError(f"s3_path must be an s3:// URI, got {s3_path!r}.")
    files = list(_benchmark_files(root))
    total = sum(f.stat().st_size for f in files)
    if total > _MAX_BENCHMARK_BYTES:
        raise ConfigError(f"{local_dir} holds {total} bytes of benchmark files, over the 256 MiB limit.")
    found = set()
    for f in files:
        if f.suffix == ".py" and f.stat().st_size <= _MAX_SOURCE_BYTES:
            found |= task_names(f.read_text(encoding="utf-8", errors="replace"))
    if not found:
        raise ConfigError(
            f"No @task function in the .py files of {local_dir}; InspectLens runs Inspect AI tasks "
            "(functions decorated with @task)."
        )
    prefix = s3_path.rstrip("/") + "/"
    for f in files:
        storage.write_bytes(prefix + f.relative_to(root).as_posix(), f.read_bytes(), kms_key_id=kms_key_id)
    return prefix


def _remote_task_names(benchmarks_path: str) -> set[str]:
    found: set[str] = set()
    for uri in storage.list_uris(benchmarks_path):
        if uri.endswith(".py"):
            found |= task_names(storage.read_bytes(uri)[:_MAX_SOURCE_BYTES].decode("utf-8", errors="replace"))
    return found


def check_task_names(config: InspectLensConfig) -> None:
    """Every task named in ``config.tasks`` matches a ``@task`` function under ``benchmarks_path``.

    The container matches names by substring, so this does too.

    Raises:
        ConfigError: A name that matches no ``@task`` (the available ones are listed), or no
            ``@task`` at all under ``benchmarks_path``.
    """
    assert config.benchmarks_path is not None  # checked by InspectLensConfig
    known = _remote_task_names(config.benchmarks_path)
    if not known:
        raise ConfigError(
            f"No @task function found under {config.benchmarks_path}; upload your benchmarks with "
            "evaluator.upload_benchmarks(local_dir, s3_path)."
        )
    missing = [t["name"] for t in config.tasks if not any(t["name"] in k for k in known)]
    if missing:
        raise ConfigError(
            f"InspectLens task(s) {missing} match no @task function under {config.benchmarks_path}; "
            f"available: {sorted(known)}."
        )


def run_inspect_lens(
    *,
    infra: RuntimeManager,
    model: Model,
    region: str,
    job_name: str,
    config: InspectLensConfig | None,
    output_s3_path: str,
    model_path: str | None = None,
    job_result: TrainingResult | None = None,
    overrides: Mapping[str, Any] | None = None,
    image_uri: str | None = None,
    generated_recipe_dir: str | None = None,
    mlflow_tracking_uri: str | None = None,
    mlflow_experiment_name: str | None = None,
    dry_run: bool = False,
) -> SMTJEvaluationResult | None:
    """Validate, write ``inspect_config.yaml`` locally, and (unless ``dry_run``) start the job.

    Returns:
        The evaluation result (its ``eval_output_path`` is where Inspect writes its logs), or None
        for a dry run.

    Raises:
        ConfigError: No config, invalid overrides, an S3 checkpoint with Bedrock inference, or
            task names that match no ``@task``.
        UnsupportedFeatureError: ``infra`` is not an ``SMTJRuntimeManager``.
    """
    from amzn_nova_forge.manager._inspect_lens import submit_inspect_lens_job
    from amzn_nova_forge.model.result._evaluation import SMTJEvaluationResult

    if config is None:
        raise ConfigError(
            "EvaluationTask.INSPECT_LENS needs inspect_lens_config=InspectLensConfig(benchmarks_path=..., tasks=[...])."
        )
    resolved = model_path
    if resolved is None and job_result is not None:
        artifacts = job_result.model_artifacts
        resolved = artifacts.output_model_arn or artifacts.checkpoint_s3_path
    provider = config.inference_provider(region=region, default_model_id=model.bedrock_model_id, model_path=resolved)
    results = config.output_s3_path or output_s3_path.rstrip("/") + "/inspectlens-results/"
    document = config.to_yaml_dict(provider, results, overrides)
    if mlflow_tracking_uri:
        document["tracking"] = {
            "mlflow_tracking_arn": mlflow_tracking_uri,
            "mlflow_experiment_name": mlflow_experiment_name or "nova-evals",
            "mlflow_tracing": True,
            "mlflow_log_artifacts": True,
        }
    text = yaml.safe_dump(document, default_flow_style=False, sort_keys=False)
    local_dir = Path(os.path.expanduser(generated_recipe_dir)) if generated_recipe_dir else None
    if local_dir is None:
        local_dir = Path(tempfile.mkdtemp(prefix="nova-forge-inspect-"))
    storage.write_bytes(str(local_dir / f"{job_name}_inspect_config.yaml"), text.encode("utf-8"))
    if dry_run:
        return None
    check_task_names(config)
    started = datetime.now(UTC)
    job_id = submit_inspect_lens_job(
        infra,
        job_name=job_name,
        config_yaml=text,
        output_s3_path=output_s3_path,
        image_uri=image_uri,
        environment=config.environment,
    )
    return SMTJEvaluationResult(
        job_id=job_id,
        started_time=started,
        eval_task=EvaluationTask.INSPECT_LENS,
        eval_output_path=results,
        platform=Platform.SMTJ,
        region=region,
    )
