"""The one submission pipeline shared by ``train``, ``evaluate`` and ``batch_inference``.

``submit`` runs the same steps for every kind of job, in this order, and stops at the
first failure so that nothing is created when a check fails:

1. pick the job's unique name (``<job_name>-<8 hex>``; the runtime creates exactly that name,
   so a retried submission can find and adopt it instead of creating a second job);
2. resolve the output location (``customizer.output_s3_path`` or the default bucket, which is
   created only in step 8, right before the job starts);
3. build and validate the recipe (``amzn_nova_forge.recipe.RecipeBuilder``);
4. write the recipe YAML (``generated_recipe_dir`` or a temporary directory);
5. run the pre-submission checks that ``validation_config`` enables (``_checks.run_checks``);
6. ``dry_run``: stop here and return None;
7. job cache lookup (``enable_job_caching``);
8. create the default output bucket if it is used; ``infra.execute(JobConfig)`` → job id;
9. ``result_factory(job_id, job_config)`` → result; cache store; ``customizer.job_result = result``.

The customizer's verbs only say *what* to run (builder arguments, run settings, result
class); this module never builds a provider request — runtimes do.

Example:
    >>> result = submit(customizer, kind="training", job_name="my-job",  # doctest: +SKIP
    ...     builder_kwargs={}, run={"data_s3_path": "s3://b/d.jsonl"}, overrides=None,
    ...     recipe_path=None, job_config_extra={}, result_factory=make_result,
    ...     cache_params={}, dry_run=False)
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._base import JobConfig

if TYPE_CHECKING:
    from amzn_nova_forge.model._customizer import NovaModelCustomizer
    from amzn_nova_forge.model.result._base import BaseJobResult

__all__ = [
    "base_result_kwargs",
    "input_data_type",
    "make_job_name",
    "resolve_output_path",
    "run_get",
    "run_with",
    "submit",
]

logger = logging.getLogger(__name__)

_JOB_NAME_MAX = 63
_SUFFIX_LEN = 8
_INVALID = re.compile(r"[^a-zA-Z0-9-]+")

#: Platforms whose jobs read and write S3 (an output location is required).
AWS_PLATFORMS = frozenset({Platform.SMTJ, Platform.SMTJServerless, Platform.SMHP, Platform.BEDROCK})


def make_job_name(job_name: str, *, suffix: str | None = None) -> str:
    """Return a unique platform job name: ``job_name`` sanitised plus ``-<8 hex>``.

    Characters other than letters, digits and ``-`` become ``-`` (so ``"train_dry_run"``
    is accepted), and the result fits the 63-character limit shared by SageMaker,
    Bedrock and Kubernetes names.

    Raises:
        ConfigError: ``job_name`` has no letter or digit.

    Example:
        >>> make_job_name("my_job", suffix="0123abcd")
        'my-job-0123abcd'
    """
    if not isinstance(job_name, str):
        raise ConfigError(f"job_name must be a string, got {type(job_name).__name__}.")
    base = _INVALID.sub("-", job_name).strip("-")
    base = re.sub("-{2,}", "-", base)
    if not base:
        raise ConfigError(
            f"job_name {job_name!r} has no letter or digit. Use letters, digits and '-' (e.g. 'my-training-job')."
        )
    suffix = suffix or uuid.uuid4().hex[:_SUFFIX_LEN]
    base = base[: _JOB_NAME_MAX - len(suffix) - 1].rstrip("-")
    return f"{base}-{suffix}"


def run_get(run: Any, key: str, default: Any = None) -> Any:
    """Read one field of a ``RunSettings`` dataclass or a plain dict."""
    if isinstance(run, Mapping):
        return run.get(key, default)
    return getattr(run, key, default)


def run_with(run: Any, **changes: Any) -> Any:
    """Return a copy of ``run`` (dataclass or dict) with ``changes`` applied."""
    if run is None:
        return dict(changes)
    if isinstance(run, Mapping):
        out = dict(run)
        out.update(changes)
        return out
    if dataclasses.is_dataclass(run) and not isinstance(run, type):
        names = {f.name for f in dataclasses.fields(run)}
        return dataclasses.replace(run, **{k: v for k, v in changes.items() if k in names})
    raise ConfigError(f"run settings must be a RunSettings or a dict, got {type(run).__name__}.")


def input_data_type(kind: str, method: TrainingMethod | None) -> str:
    """S3 data type of the data channels: ``Converse`` for SFT/DPO/CPT training, else ``S3Prefix``."""
    if kind == "training" and method is not None and method.family in ("sft", "dpo", "cpt"):
        return "Converse"
    return "S3Prefix"


def resolve_output_path(customizer: NovaModelCustomizer, explicit: str | None, *, dry_run: bool) -> str | None:
    """The job's output location: ``explicit``, else the customizer's, else the default bucket.

    The default is ``s3://sagemaker-nova-<account>-<region>/output``; ``submit`` creates it (with
    SSE-KMS when the runtime has a KMS key) only right before starting a real job. In a dry run
    with the AWS checks turned off no call is made: the recipe gets a placeholder account.
    """
    if explicit:
        return explicit
    if customizer.output_s3_path:
        return customizer.output_s3_path
    if customizer.platform not in AWS_PLATFORMS:
        return None
    from amzn_nova_forge.manager import _checks_aws

    region = customizer.region
    offline = dry_run and not (customizer.validation_config.get("iam") or customizer.validation_config.get("infra"))
    if offline:
        path = _checks_aws.default_output_path(region, account="ACCOUNT_ID")
        logger.warning("Dry run without AWS checks: output path placeholder %s (resolved at submission).", path)
        return path
    return _checks_aws.default_output_path(region)


def base_result_kwargs(customizer: NovaModelCustomizer, job_id: str) -> dict[str, Any]:
    """``platform``, ``region`` and ``extras`` for a result of a job started by ``customizer.infra``.

    Result factories (training, evaluation, batch inference) pass these to ``BaseJobResult``.
    """
    ref = customizer.infra.job_ref(job_id)
    return {"platform": ref.platform, "region": ref.region, "extras": dict(ref.extras)}


def _job_config(
    customizer: NovaModelCustomizer,
    *,
    kind: str,
    method: TrainingMethod,
    unique_name: str,
    built: Any,
    recipe_file: str,
    run: Any,
    extra: Mapping[str, Any],
) -> JobConfig:
    mlflow = customizer.mlflow_monitor
    cfg = JobConfig(
        job_name=unique_name,
        image_uri=getattr(built, "image_uri", None) or "",
        recipe_path=recipe_file,
        output_s3_path=run_get(run, "output_s3_path"),
        data_s3_path=run_get(run, "data_s3_path"),
        input_s3_data_type=input_data_type(kind, method),
        mlflow_tracking_uri=getattr(mlflow, "tracking_uri", None) if mlflow else None,
        mlflow_experiment_name=getattr(mlflow, "experiment_name", None) if mlflow else None,
        mlflow_run_name=getattr(mlflow, "run_name", None) if mlflow else None,
        validation_data_s3_path=run_get(run, "validation_data_s3_path"),
        method=method,
        model=customizer.model,
        job_kind=kind,
        rft_lambda_arn=run_get(run, "rft_lambda_arn"),
        model_name_or_path=run_get(run, "model_name_or_path"),
        hyperparameters=dict(getattr(built, "hyperparameters", None) or {}),
        data_mixing_config=run_get(run, "data_mixing"),
    )
    field_names = {f.name for f in dataclasses.fields(JobConfig)}
    for key, value in extra.items():
        if key in field_names:
            setattr(cfg, key, value)
        else:
            cfg.extra[key] = value
    return cfg


def submit(
    customizer: NovaModelCustomizer,
    *,
    kind: str,
    job_name: str,
    builder_kwargs: Mapping[str, Any] | None,
    run: Any,
    overrides: Mapping[str, Any] | None = None,
    recipe_path: str | None = None,
    job_config_extra: Mapping[str, Any] | None = None,
    result_factory: Callable[[str, JobConfig], BaseJobResult],
    cache_params: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    recipe_patch: Callable[[dict[str, Any]], Any] | None = None,
) -> BaseJobResult | None:
    """Build, check and start one job; see the module docstring for the steps.

    Args:
        customizer: The customizer whose model, infra and settings apply.
        kind: ``"training"``, ``"evaluation"`` or ``"batch_inference"``.
        job_name: The user's job name (sanitised; a unique suffix is added).
        builder_kwargs: Extra ``RecipeBuilder`` arguments (``eval_task``, ``subtask``,
            ``batch_inference``, ``method`` …). ``region``, ``instance_type`` and
            ``instance_count`` default to the runtime's.
        run: ``RunSettings`` (or a dict of its fields). ``job_name`` and ``output_s3_path``
            are filled in when absent.
        overrides: Recipe overrides.
        recipe_path: A user recipe (local or S3) merged under the overrides.
        job_config_extra: Values set on the ``JobConfig`` (known fields) or in ``JobConfig.extra``.
        result_factory: ``(job_id, job_config) -> result``.
        cache_params: Extra parameters that make two jobs different for the job cache.
        dry_run: Validate and write the recipe only; return None.
        recipe_patch: Called with the built recipe dict before it is written (values that come
            from provisioned infrastructure, e.g. RFT multiturn queue URLs).

    Returns:
        The job's result, the cached result of an identical job, or None for a dry run.

    Raises:
        ConfigError: Bad input (recipe, override, instance, names).
        ValidationCheckError: An IAM or infrastructure check failed (nothing was created).
        AWSServiceError / JobSubmissionError: The platform refused the job.
    """
    from amzn_nova_forge.model import _cache, _checks, _submit_guard

    builder_kwargs = dict(builder_kwargs or {})
    method = builder_kwargs.pop("method", customizer.method)
    unique = make_job_name(job_name)
    default_output = not run_get(run, "output_s3_path") and not customizer.output_s3_path
    output = resolve_output_path(customizer, run_get(run, "output_s3_path"), dry_run=dry_run)
    fill: dict[str, Any] = {}
    if run_get(run, "job_name") is None:
        fill["job_name"] = unique
    if output is not None and run_get(run, "output_s3_path") is None:
        fill["output_s3_path"] = output
    run = run_with(run, **fill) if fill else run

    built = _build_recipe(customizer, method, builder_kwargs, run, overrides, recipe_path)
    if recipe_patch is not None:
        recipe_patch(built.recipe)
    recipe_dir = _submit_guard.recipe_dir(customizer, dry_run=dry_run)
    recipe_file = str(built.write(recipe_dir))
    logger.info("Recipe for %s job %s written to %s", kind, unique, recipe_file)

    job_config = _job_config(
        customizer,
        kind=kind,
        method=method,
        unique_name=unique,
        built=built,
        recipe_file=recipe_file,
        run=run,
        extra=job_config_extra or {},
    )
    if default_output and output is not None:
        job_config.extra["default_output_path"] = True  # created on submission: not an infra problem
    _checks.run_checks(customizer, job_config, kind=kind)
    if dry_run:
        logger.info("Dry run: %s job %r validated; recipe at %s; nothing was started.", kind, job_name, recipe_file)
        return None

    cache_key = None
    if customizer.enable_job_caching:
        params = _cache.job_parameters(
            customizer,
            kind=kind,
            method=method,
            job_config=job_config,
            overrides=overrides,
            recipe_path=recipe_path,
            extra=cache_params,
        )
        cache_key = _cache.cache_key(params)
        cached = _cache.lookup(cache_key)
        if cached is not None:
            logger.info("Reusing cached %s job %s (identical configuration).", kind, cached.job_id)
            customizer.job_result = cached
            return cached

    if default_output and output is not None:
        from amzn_nova_forge.manager import _checks_aws

        kms = getattr(customizer.infra, "kms_key_id", None)
        _checks_aws.ensure_output_bucket(output, region=customizer.region, kms_key_id=kms)
        customizer.output_s3_path = output
    job_id = _submit_guard.execute(customizer, job_config, recipe_dir)
    result = result_factory(job_id, job_config)
    if cache_key is not None:
        _cache.store(cache_key, result, job_name=job_name, kind=kind, parameters=params)
    customizer.job_result = result
    logger.info("Started %s job %s on %s.", kind, job_id, customizer.platform.value)
    return result


def _build_recipe(
    customizer: NovaModelCustomizer,
    method: TrainingMethod,
    builder_kwargs: dict[str, Any],
    run: Any,
    overrides: Mapping[str, Any] | None,
    recipe_path: str | None,
) -> Any:
    from amzn_nova_forge.recipe import RecipeBuilder

    infra = customizer.infra
    kwargs: dict[str, Any] = {
        "region": customizer.region,
        "instance_type": getattr(infra, "instance_type", None),
        "instance_count": getattr(infra, "instance_count", None),
    }
    kwargs.update(builder_kwargs)
    builder = RecipeBuilder(customizer.model, method, customizer.platform, **kwargs)
    return builder.build(
        run=run,
        overrides=dict(overrides) if overrides else None,
        recipe_path=recipe_path,
        validate=bool(customizer.validation_config.get("recipe", True)),
    )
