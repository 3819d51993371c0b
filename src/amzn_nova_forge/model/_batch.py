"""Batch inference: run a model over a dataset and keep every answer.

A batch-inference job is a ``gen_qa`` evaluation recipe (``RecipeBuilder(...,
batch_inference=True)``) reading ``input_path`` and writing to ``output_s3_path``; its
result reads ``inference_output.jsonl`` back (see :mod:`.result._inference`). Supported on
SageMaker Training Jobs, HyperPod and the local runtime. Called by
``NovaModelCustomizer.batch_inference`` (and ``ForgeInference.invoke_batch``); returns a
:class:`~amzn_nova_forge.model._context.Submission`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.enums import TrainingMethod
from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model._context import JobContext, Submission
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.model.result._inference import InferenceResult

__all__ = ["batch_inference"]

logger = logging.getLogger(__name__)


def batch_inference(
    ctx: JobContext,
    *,
    job_name: str,
    input_path: str,
    output_s3_path: str,
    model_path: str | None = None,
    recipe_path: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    job_result: BaseJobResult | None = None,
    fallback_result: BaseJobResult | None = None,
) -> Submission[InferenceResult] | None:
    """Start a batch-inference job (see ``NovaModelCustomizer.batch_inference``); None when ``dry_run``.

    The model is ``model_path``, else ``job_result``'s checkpoint, else ``fallback_result``'s,
    else the base model.

    Raises:
        UnsupportedFeatureError: The platform runs no batch inference (Bedrock, SMTJ Serverless).
        ConfigError: Missing input/output, or a checkpoint from an incompatible platform.
    """
    from amzn_nova_forge.model._evaluate import output_location, resolve_model_path
    from amzn_nova_forge.model._submit import base_result_kwargs, submit
    from amzn_nova_forge.model.result._inference import BATCH_RESULT_CLASSES
    from amzn_nova_forge.recipe._recipe import RunSettings

    platform = ctx.platform
    runtime = type(ctx.infra)
    runtime.require("batch_inference")
    where = "an S3 URI or a local path" if runtime.capabilities.local_paths else "an S3 URI (s3://bucket/key)"
    for name, value in (("input_path", input_path), ("output_s3_path", output_s3_path)):
        if not value or not isinstance(value, str):
            raise ConfigError(f"batch_inference needs {name} ({where}).")
        if not runtime.capabilities.local_paths and not value.startswith("s3://"):
            raise ConfigError(f"{name} must be {where} on {platform.value}, got {value!r}.")
    checkpoint = resolve_model_path(platform, model_path, job_result, fallback_result)
    run = RunSettings(data_s3_path=input_path, output_s3_path=output_s3_path, model_name_or_path=checkpoint)
    result_cls = BATCH_RESULT_CLASSES[platform]

    def make_result(job_id: str, job_config: JobConfig) -> InferenceResult:
        kwargs = base_result_kwargs(ctx, job_id)
        path = output_location(platform, job_config.output_s3_path, job_id, kwargs["extras"])
        return result_cls(job_id, None, path, **kwargs)

    return submit(
        ctx,
        kind="batch_inference",
        job_name=job_name,
        builder_kwargs={"method": TrainingMethod.EVALUATION, "batch_inference": True},
        run=run,
        overrides=overrides,
        recipe_path=recipe_path,
        job_config_extra={"input_path": input_path},
        result_factory=make_result,
        cache_params={"input_path": input_path, "output_s3_path": output_s3_path, "model_path": checkpoint},
        dry_run=dry_run,
    )
