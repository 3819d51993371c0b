"""``JobContext``: what the submission pipeline reads, built by the owner of the settings.

The owners are the service classes (``ForgeTrainer``, ``ForgeEvaluator``) and, through them,
``NovaModelCustomizer``. They keep their own state; for each call they hand the verb modules
(``_train``, ``_evaluate``, ``_batch``) one frozen ``JobContext`` and get a
:class:`Submission` back. No verb module reads or writes an owner's attributes.

Example:
    >>> ctx = JobContext(model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=infra)  # doctest: +SKIP
    >>> ctx.platform  # doctest: +SKIP
    <Platform.SMTJ: 'SMTJ'>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from amzn_nova_forge.core.config import JobCachingConfig, ValidationConfig
from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model.result._base import BaseJobResult
    from amzn_nova_forge.monitor._mlflow import MLflowMonitor

__all__ = ["CacheSettings", "JobContext", "Submission"]

R = TypeVar("R", bound="BaseJobResult")


@dataclass(frozen=True)
class CacheSettings:
    """Where the job cache lives and what makes two jobs the same.

    Attributes:
        directory: The cache folder (``~`` already expanded).
        config: Which parameter groups are compared and which statuses are reused.
    """

    directory: str
    config: JobCachingConfig = field(default_factory=JobCachingConfig)


@dataclass(frozen=True)
class JobContext:
    """The settings one job submission reads (never written by the pipeline).

    Attributes:
        model: The Nova model.
        method: The method the recipe is built for (``EVALUATION`` for evaluation and batch jobs).
        infra: The runtime manager that starts the job.
        output_s3_path: The owner's output location (None: the default bucket is used).
        validation: Which pre-flight checks run.
        generated_recipe_dir: Where the recipe YAML is written (a temporary folder when None).
        mlflow_monitor: MLflow tracking for the job.
        image_uri: A container image replacing the catalogue's.
        cache: Job-cache settings; None when caching is off.
        hub_content_version: The recipe version pinned by the user (see ``recipe._hub``).
    """

    model: Model
    method: TrainingMethod
    infra: RuntimeManager
    output_s3_path: str | None = None
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    generated_recipe_dir: str | None = None
    mlflow_monitor: MLflowMonitor | None = None
    image_uri: str | None = None
    cache: CacheSettings | None = None
    hub_content_version: str | None = None

    @property
    def platform(self) -> Platform:
        """The :class:`Platform` of ``infra``."""
        return Platform(self.infra.platform)

    @property
    def region(self) -> str | None:
        """The AWS region of ``infra`` (None for the local runtime)."""
        return self.infra.region


@dataclass(frozen=True)
class Submission(Generic[R]):
    """What a verb hands back to its owner.

    Attributes:
        result: The started job's result (or the reused result of an identical cached job).
        output_s3_path: The output location the job used; the owner keeps it when it had none.
        cached: True when ``result`` came from the job cache.
    """

    result: R
    output_s3_path: str | None
    cached: bool = False
