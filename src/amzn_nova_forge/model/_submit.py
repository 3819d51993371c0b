"""The one submission pipeline shared by ``train``, ``evaluate`` and ``batch_inference``.

``submit`` runs the same steps for every kind of job, in this order, and stops at the
first failure so that nothing is created when a check fails:

1. pick the job's unique name (``<job_name>-<8 hex>``; the runtime creates exactly that name,
   so a retried submission can find and adopt it instead of creating a second job);
2. resolve the output location (the owner's ``output_s3_path`` or the default bucket, which is
   created only in step 8, right before the job starts);
3. build and validate the recipe (``amzn_nova_forge.recipe.RecipeBuilder``);
4. write the recipe YAML (``generated_recipe_dir`` or a temporary directory);
5. run the pre-submission checks that ``validation_config`` enables (``_checks.run_checks``);
6. ``dry_run``: stop here and return None;
7. job cache lookup (``enable_job_caching``);
8. create the default output bucket if it is used; ``infra.execute(JobConfig)`` → job id;
9. ``result_factory(job_id, job_config)`` → result; cache store; a :class:`Submission` back.

It reads one :class:`~amzn_nova_forge.model._context.JobContext` and writes nothing into its
caller: the owner (service class or customizer) records the returned submission. The verbs
only say *what* to run (builder arguments, run settings, result class); this module never
builds a provider request — runtimes do.

Example:
    >>> sub = submit(ctx, kind="training", job_name="my-job",  # doctest: +SKIP
    ...     builder_kwargs={}, run=RunSettings(data_s3_path="s3://b/d.jsonl"),
    ...     result_factory=make_result)
    >>> sub.result.job_id  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from amzn_nova_forge.core.enums import TrainingMethod
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._base import JobConfig
from amzn_nova_forge.model._context import JobContext, Submission

if TYPE_CHECKING:
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.recipe._recipe import BuiltRecipe

R = TypeVar("R", bound="BaseJobResult")

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


def resolve_output_path(ctx: JobContext, explicit: str | None, *, dry_run: bool) -> str | None:
    """The job's output location: ``explicit``, else the owner's, else the default bucket.

    The default is ``s3://sagemaker-nova-<account>-<region>/output``; ``submit`` creates it (with
    SSE-KMS when the runtime has a KMS key) only right before starting a real job. In a dry run
    with the AWS checks turned off no call is made: the recipe gets a placeholder account.
    """
    if explicit:
        return explicit
    if ctx.output_s3_path:
        return ctx.output_s3_path
    if not ctx.infra.capabilities.aws:
        return None
    from amzn_nova_forge.manager import _checks_aws

    offline = dry_run and not (ctx.validation.iam or ctx.validation.infra)
    if offline:
        path = _checks_aws.default_output_path(ctx.region, account="ACCOUNT_ID")
        logger.warning("Dry run without AWS checks: output path placeholder %s (resolved at submission).", path)
        return path
    return _checks_aws.default_output_path(ctx.region)


def base_result_kwargs(ctx: JobContext, job_id: str) -> dict[str, Any]:
    """``platform``, ``region`` and ``extras`` for a result of a job started by ``ctx.infra``.

    Result factories (training, evaluation, batch inference) pass these to ``BaseJobResult``.
    """
    ref = ctx.infra.job_ref(job_id)
    return {"platform": ref.platform, "region": ref.region, "extras": dict(ref.extras)}


def mlflow_settings(ctx: JobContext) -> dict[str, str] | None:
    """The one MLflow representation: ``MLflowMonitor.to_dict()`` (``mlflow_*`` keys), None when off."""
    if ctx.mlflow_monitor is None:
        return None
    return ctx.mlflow_monitor.to_dict() or None


def _job_config(
    ctx: JobContext,
    *,
    kind: str,
    method: TrainingMethod,
    unique_name: str,
    built: BuiltRecipe,
    recipe_file: str,
    run: Any,
    extra: Mapping[str, Any],
) -> JobConfig:
    mlflow = mlflow_settings(ctx) or {}
    cfg = JobConfig(
        job_name=unique_name,
        image_uri=ctx.image_uri or built.image_uri or "",
        recipe_path=recipe_file,
        output_s3_path=run_get(run, "output_s3_path"),
        data_s3_path=run_get(run, "data_s3_path"),
        input_s3_data_type=input_data_type(kind, method),
        mlflow_tracking_uri=mlflow.get("mlflow_tracking_uri"),
        mlflow_experiment_name=mlflow.get("mlflow_experiment_name"),
        mlflow_run_name=mlflow.get("mlflow_run_name"),
        validation_data_s3_path=run_get(run, "validation_data_s3_path"),
        method=method,
        model=ctx.model,
        job_kind=kind,
        rft_lambda_arn=run_get(run, "rft_lambda_arn"),
        model_name_or_path=run_get(run, "model_name_or_path"),
        hyperparameters=dict(built.hyperparameters or {}),
        data_mixing_config=run_get(run, "data_mixing"),
        recipe=built.recipe,
    )
    field_names = {f.name for f in dataclasses.fields(JobConfig)}
    for key, value in extra.items():
        if key in field_names:
            setattr(cfg, key, value)
        else:
            cfg.extra[key] = value
    return cfg


def submit(
    ctx: JobContext,
    *,
    kind: str,
    job_name: str,
    builder_kwargs: Mapping[str, Any] | None,
    run: Any,
    overrides: Mapping[str, Any] | None = None,
    recipe_path: str | None = None,
    job_config_extra: Mapping[str, Any] | None = None,
    result_factory: Callable[[str, JobConfig], R],
    cache_params: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    recipe_patch: Callable[[dict[str, Any]], Any] | None = None,
) -> Submission[R] | None:
    """Build, check and start one job; see the module docstring for the steps.

    Args:
        ctx: The model, runtime and settings that apply.
        kind: ``"training"``, ``"evaluation"`` or ``"batch_inference"``.
        job_name: The user's job name (sanitised; a unique suffix is added).
        builder_kwargs: Extra ``RecipeBuilder`` arguments (``eval_task``, ``subtask``,
            ``batch_inference``, ``method`` …). ``region``, ``instance_type`` and
            ``instance_count`` default to the runtime's.
        run: ``RunSettings`` (or a dict of its fields). ``job_name`` and ``output_s3_path``
            are filled in when absent; the MLflow settings come from ``ctx`` when absent.
        overrides: Recipe overrides.
        recipe_path: A user recipe (local or S3) merged under the overrides.
        job_config_extra: Values set on the ``JobConfig`` (known fields) or in ``JobConfig.extra``.
        result_factory: ``(job_id, job_config) -> result``.
        cache_params: Extra parameters that make two jobs different for the job cache.
        dry_run: Validate and write the recipe only; return None.
        recipe_patch: Called with the built recipe dict before it is written (values that come
            from provisioned infrastructure, e.g. RFT multiturn queue URLs).

    Returns:
        A :class:`Submission` (the job's result, or the cached result of an identical job), or
        None for a dry run.

    Raises:
        ConfigError: Bad input (recipe, override, instance, names).
        ValidationCheckError: An IAM or infrastructure check failed (nothing was created).
        AWSServiceError / JobSubmissionError: The platform refused the job.
    """
    from amzn_nova_forge.model import _cache, _checks, _submit_guard

    builder_kwargs = dict(builder_kwargs or {})
    method = builder_kwargs.pop("method", ctx.method)
    unique = make_job_name(job_name)
    default_output = not run_get(run, "output_s3_path") and not ctx.output_s3_path
    output = resolve_output_path(ctx, run_get(run, "output_s3_path"), dry_run=dry_run)
    fill: dict[str, Any] = {}
    if run_get(run, "job_name") is None:
        fill["job_name"] = unique
    if output is not None and run_get(run, "output_s3_path") is None:
        fill["output_s3_path"] = output
    if run_get(run, "mlflow") is None and mlflow_settings(ctx):
        fill["mlflow"] = mlflow_settings(ctx)
    run = run_with(run, **fill) if fill else run

    built = _build_recipe(ctx, method, builder_kwargs, run, overrides, recipe_path)
    pinned_image = _pinned_image(ctx, method)
    if recipe_patch is not None:
        recipe_patch(built.recipe)
    recipe_dir = _submit_guard.recipe_dir(ctx, dry_run=dry_run)
    recipe_file = str(built.write(recipe_dir))
    logger.info("Recipe for %s job %s written to %s", kind, unique, recipe_file)

    job_config = _job_config(
        ctx,
        kind=kind,
        method=method,
        unique_name=unique,
        built=built,
        recipe_file=recipe_file,
        run=run,
        extra=job_config_extra or {},
    )
    if pinned_image and not ctx.image_uri:
        job_config.image_uri = pinned_image
    if default_output and output is not None:
        job_config.default_output_path = True  # created on submission: not an infra problem
    _checks.run_checks(ctx, job_config, kind=kind)
    if dry_run:
        logger.info("Dry run: %s job %r validated; recipe at %s; nothing was started.", kind, job_name, recipe_file)
        return None

    cache_key = None
    params: dict[str, Any] = {}
    if ctx.cache is not None:
        params = _cache.job_parameters(
            ctx,
            kind=kind,
            method=method,
            job_config=job_config,
            overrides=overrides,
            recipe_path=recipe_path,
            job_name=job_name,
            extra=cache_params,
        )
        cache_key = _cache.cache_key(params)
        cached = _cache.lookup(ctx.cache, params)
        if cached is not None:
            logger.info("Reusing cached %s job %s (identical configuration).", kind, cached.job_id)
            return Submission(result=cached, output_s3_path=job_config.output_s3_path, cached=True)  # type: ignore[arg-type]

    if default_output and output is not None:
        from amzn_nova_forge.manager import _checks_aws

        _checks_aws.ensure_output_bucket(output, region=ctx.region, kms_key_id=ctx.infra.kms_key_id)
    job_id = _submit_guard.execute(ctx, job_config, recipe_dir)
    result = result_factory(job_id, job_config)
    if ctx.cache is not None and cache_key is not None:
        _cache.store(ctx.cache, cache_key, result, job_name=job_name, kind=kind, parameters=params)
    logger.info("Started %s job %s on %s.", kind, job_id, ctx.platform.value)
    return Submission(result=result, output_s3_path=output)


def _pinned_image(ctx: JobContext, method: TrainingMethod) -> str | None:
    """With ``hub_content_version``: the image of the pinned hub recipe (checks its instance types)."""
    if not ctx.hub_content_version:
        return None
    from amzn_nova_forge.recipe._hub import hub_recipe

    pinned = hub_recipe(
        ctx.model,
        method,
        ctx.platform,
        version=ctx.hub_content_version,
        region=ctx.region,
        instance_type=ctx.infra.instance_type,
    )
    logger.info(
        "Recipe pinned to hub content %s version %s (%s).", ctx.model.hub_content_name, pinned.version, pinned.name
    )
    return pinned.image_uri


def _build_recipe(
    ctx: JobContext,
    method: TrainingMethod,
    builder_kwargs: dict[str, Any],
    run: Any,
    overrides: Mapping[str, Any] | None,
    recipe_path: str | None,
) -> BuiltRecipe:
    from amzn_nova_forge.recipe._builder import RecipeBuilder

    infra = ctx.infra
    kwargs: dict[str, Any] = {
        "region": ctx.region,
        "instance_type": infra.instance_type,
        "instance_count": infra.instance_count,
    }
    kwargs.update(builder_kwargs)
    builder = RecipeBuilder(ctx.model, method, ctx.platform, **kwargs)
    return builder.build(
        run=run,
        overrides=dict(overrides) if overrides else None,
        recipe_path=recipe_path,
        validate=ctx.validation.recipe,
    )
