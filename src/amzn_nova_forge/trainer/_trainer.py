"""``ForgeTrainer``: training jobs for one model, method and runtime (the official service class).

The trainer owns its settings and its last result; each ``train`` call hands the
submission pipeline one :class:`~amzn_nova_forge.model._context.JobContext` and keeps what
comes back. ``NovaModelCustomizer`` is a facade over a trainer and an evaluator.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.core.config import ForgeConfig, JobCachingConfig
from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import RuntimeManager
    from amzn_nova_forge.model._context import JobContext
    from amzn_nova_forge.model.result._training import TrainingResult
    from amzn_nova_forge.recipe._config import RecipeConfig

__all__ = ["ForgeTrainer"]

logger = logging.getLogger(__name__)

#: Methods whose jobs write the per-step training loss that ``generate_training_metrics_csv`` reads.
_CSV_METHODS = frozenset({TrainingMethod.SFT_LORA, TrainingMethod.SFT_FULL})


def _coerce_method(method: TrainingMethod | str) -> TrainingMethod:
    if isinstance(method, TrainingMethod):
        return method
    try:
        return TrainingMethod(method)
    except ValueError:
        raise ConfigError(
            f"method must be a TrainingMethod, got {method!r}. Choose from: {', '.join(m.name for m in TrainingMethod)}."
        ) from None


def _coerce_config(config: ForgeConfig | None) -> ForgeConfig:
    if config is None:
        return ForgeConfig()
    if not isinstance(config, ForgeConfig):
        raise ConfigError(f"config must be a ForgeConfig, got {type(config).__name__}.")
    return config


def check_region(region: str | None, infra: RuntimeManager) -> str | None:
    """The region of a service class: ``region`` must agree with the runtime's (which wins when absent).

    Raises:
        ConfigError: ``region`` differs from the runtime manager's region.
    """
    if region is not None and not isinstance(region, str):
        raise ConfigError(f"region must be a string such as 'us-east-1', got {region!r}.")
    if region and infra.region and region != infra.region:
        raise ConfigError(
            f"region={region!r} differs from the runtime manager's region {infra.region!r}; "
            "jobs run in the runtime's region. Pass the same region to both (or leave region out)."
        )
    return infra.region or region


class ForgeTrainer:
    """Train a Nova model: build the recipe, run the checks and start the job.

    Args:
        model: The Nova model, e.g. ``Model.NOVA_LITE_2``.
        method: The customization method, e.g. ``TrainingMethod.SFT_LORA``.
        infra: The runtime manager (``SMTJRuntimeManager``, ``SMTJServerlessRuntimeManager``,
            ``SMHPRuntimeManager``, ``BedrockRuntimeManager`` or ``LocalRuntimeManager``).
        training_data_s3_path: Training data (S3 URI; a local path on the local runtime).
        model_s3_path: A checkpoint to continue training from (iterative training).
        model_arn: A Bedrock custom model (or SageMaker model package) ARN to continue from.
        data_mixing_enabled: Mix Nova data into CPT / SFT training (HyperPod; SFT on serverless).
        holdout_data_s3_path: Validation (holdout) data.
        val_check_interval: Validate every this many training steps (with holdout data; the
            recipe's default, 2500 on Nova 2, otherwise).
        config: Shared settings (output path, KMS key, validation, MLflow, caching, image).
        region: The AWS region; must match the runtime manager's (default: the runtime's).
        is_multimodal: With data mixing: whether the data has images or video (None: detected
            from the first records of the data when asked).
        hub_content_version: A recipe version from the SageMaker Hub; the bundled offline
            catalogue is used when None (see ``recipe.hub_recipe``).
        enable_batch_sample_tracing: Have the training container log the hashes of each step's
            samples, so :meth:`trace_batch` can tell which data lines were in a step (SMHP, CPT).

    Raises:
        ConfigError: An invalid model, method, path, interval or configuration.
        UnsupportedFeatureError: The method is not offered for the model on the platform.

    Example:
        >>> from amzn_nova_forge.trainer import ForgeTrainer  # doctest: +SKIP
        >>> trainer = ForgeTrainer(model=Model.NOVA_MICRO, method=TrainingMethod.SFT_LORA,  # doctest: +SKIP
        ...     infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2),
        ...     training_data_s3_path="s3://my-bucket/training-data/data.jsonl",
        ...     config=ForgeConfig(output_s3_path="s3://my-bucket/output"))
        >>> result = trainer.train(job_name="my-training-job", overrides={"lr": 5e-6})  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Model,
        method: TrainingMethod,
        infra: RuntimeManager,
        training_data_s3_path: str | None = None,
        model_s3_path: str | None = None,
        model_arn: str | None = None,
        data_mixing_enabled: bool = False,
        holdout_data_s3_path: str | None = None,
        val_check_interval: int | None = None,
        config: ForgeConfig | None = None,
        region: str | None = None,
        is_multimodal: bool | None = None,
        hub_content_version: str | None = None,
        enable_batch_sample_tracing: bool = False,
    ) -> None:
        from amzn_nova_forge.model import _checks

        method = _coerce_method(method)
        if model_s3_path and model_arn:
            raise ConfigError("Pass model_s3_path or model_arn, not both: they name the model to continue from.")
        if val_check_interval is not None and (
            isinstance(val_check_interval, bool) or not isinstance(val_check_interval, int) or val_check_interval < 1
        ):
            raise ConfigError(
                f"val_check_interval must be an integer >= 1 (training steps), got {val_check_interval!r}."
            )
        if is_multimodal is not None and not isinstance(is_multimodal, bool):
            raise ConfigError(f"is_multimodal must be True, False or None, got {is_multimodal!r}.")
        if not isinstance(data_mixing_enabled, bool):
            raise ConfigError(f"data_mixing_enabled must be True or False, got {data_mixing_enabled!r}.")
        if not isinstance(enable_batch_sample_tracing, bool):
            raise ConfigError(
                f"enable_batch_sample_tracing must be True or False, got {enable_batch_sample_tracing!r}."
            )
        if enable_batch_sample_tracing:
            from amzn_nova_forge.trainer.utils.batch_trace import check_batch_tracing_supported

            check_batch_tracing_supported(infra.platform, _coerce_method(method))
        self._config = _coerce_config(config)
        self.model = model
        self.method = method
        self.infra = _checks.check_setup(
            model=model,
            method=method,
            infra=infra,
            data_mixing_enabled=data_mixing_enabled,
            mlflow_monitor=self._config.mlflow_monitor,
            model_path=model_s3_path,
            paths={
                "training_data_s3_path": training_data_s3_path,
                "holdout_data_s3_path": holdout_data_s3_path,
                "output_s3_path": self._config.output_s3_path,
            },
        )
        self.region = check_region(region, self.infra)
        self.training_data_s3_path = training_data_s3_path
        self.model_s3_path = model_s3_path
        self.model_arn = model_arn
        self.data_mixing_enabled = data_mixing_enabled
        self.holdout_data_s3_path = holdout_data_s3_path
        self.val_check_interval = val_check_interval
        self.hub_content_version = _check_version(hub_content_version)
        self.enable_batch_sample_tracing = enable_batch_sample_tracing
        self._is_multimodal = is_multimodal
        self._data_mixing_config: dict[str, Any] | None = None
        self._resolved_output: str | None = None
        #: The most recent training job started by this trainer.
        self.last_training_result: TrainingResult | None = None

    # ---- settings ----------------------------------------------------------------------------
    @property
    def config(self) -> ForgeConfig:
        """The shared settings (``ForgeConfig``)."""
        return self._config

    @property
    def platform(self) -> Platform:
        """The :class:`Platform` of ``infra``."""
        return Platform(self.infra.platform)

    @property
    def output_s3_path(self) -> str | None:
        """``config.output_s3_path``, else the default location used by the first job (None before it)."""
        return self._config.output_s3_path or self._resolved_output

    @property
    def is_multimodal(self) -> bool:
        """Whether the training data has images or video (detected from its first records when not given)."""
        if self._is_multimodal is None:
            from amzn_nova_forge.trainer._multimodal import is_multimodal_data

            self._is_multimodal = bool(self.training_data_s3_path) and is_multimodal_data(
                str(self.training_data_s3_path)
            )
        return self._is_multimodal

    @is_multimodal.setter
    def is_multimodal(self, value: bool | None) -> None:
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"is_multimodal must be True, False or None, got {value!r}.")
        self._is_multimodal = value

    def _context(self, method: TrainingMethod | None = None) -> JobContext:
        from amzn_nova_forge.model._context import CacheSettings, JobContext

        cfg = self._config
        cache = None
        if cfg.enable_job_caching:
            cache = CacheSettings(cfg.resolved_job_cache_dir, cfg.job_caching_config or JobCachingConfig())
        return JobContext(
            model=self.model,
            method=method or self.method,
            infra=self.infra,
            output_s3_path=self.output_s3_path,
            validation=cfg.validation,
            generated_recipe_dir=cfg.generated_recipe_dir,
            mlflow_monitor=cfg.mlflow_monitor,
            image_uri=cfg.image_uri,
            cache=cache,
            hub_content_version=self.hub_content_version,
        )

    # ---- data mixing -------------------------------------------------------------------------
    @property
    def data_mixing(self) -> DataMixing:
        """The data mixing settings as an object (``trainer.data_mixing.get_config()`` / ``.set_config(...)``).

        Raises:
            ConfigError: Data mixing is not enabled.
        """
        from amzn_nova_forge.model import _mixing

        _mixing.require_enabled(self.data_mixing_enabled)
        return DataMixing(self)

    def get_data_mixing_config(self) -> dict[str, Any]:
        """The data mixing configuration (a copy; 50% customer data, Nova 30% code / 70% general by default).

        Raises:
            ConfigError: Data mixing is not enabled.

        Example:
            >>> trainer.get_data_mixing_config()  # doctest: +SKIP
            {'customer_data_percent': 50, 'nova_code_percent': 30, 'nova_general_percent': 70}
        """
        from amzn_nova_forge.model import _mixing

        _mixing.require_enabled(self.data_mixing_enabled)
        current = self._data_mixing_config
        return dict(current if current is not None else _mixing.DEFAULT_CONFIG)

    def set_data_mixing_config(self, config: dict[str, Any]) -> None:
        """Set the data mixing configuration (percentages 0–100; Nova percentages sum to 100).

        Raises:
            ConfigError: Data mixing is not enabled, or the configuration is invalid.

        Example:
            >>> trainer.set_data_mixing_config({"customer_data_percent": 50, "nova_code_percent": 30,  # doctest: +SKIP
            ...     "nova_general_percent": 70})
        """
        from amzn_nova_forge.model import _mixing

        _mixing.require_enabled(self.data_mixing_enabled)
        self._data_mixing_config = _mixing.validated_config(config, self.platform, self.method)

    # ---- jobs --------------------------------------------------------------------------------
    def train(
        self,
        job_name: str,
        recipe_path: str | None = None,
        overrides: dict[str, Any] | None = None,
        rft_lambda_arn: str | None = None,
        dry_run: bool = False,
        rft_multiturn_infra: Any = None,
    ) -> TrainingResult | None:
        """Build the recipe, run the checks and start a training job (None when ``dry_run``).

        Args:
            job_name: Your name for the job (a unique 8-hex suffix is added).
            recipe_path: Your own recipe YAML (local or S3), merged under ``overrides``.
            overrides: Recipe overrides, e.g. ``{"lr": 5e-6, "max_steps": 100}``; list them with
                :meth:`get_config`.
            rft_lambda_arn: The reward Lambda of an RFT job; wins over the runtime's.
            dry_run: Build and check only; start nothing.
            rft_multiturn_infra: An ``RFTMultiturnInfrastructure`` (RFT multi-turn methods).

        Returns:
            The job's :class:`TrainingResult` (per platform), or None for a dry run.

        Raises:
            RecipeOverrideError: An unknown override key or a value out of range.
            ValidationCheckError: An IAM / infrastructure check failed (nothing was created).
            AWSServiceError: An AWS call failed.

        Example:
            >>> result = trainer.train(job_name="my-training-job",  # doctest: +SKIP
            ...     overrides={"max_epochs": 10, "lr": 5e-6, "warmup_steps": 20, "global_batch_size": 128})
            >>> result.model_artifacts.checkpoint_s3_path  # doctest: +SKIP
        """
        return self._train(
            job_name=job_name,
            recipe_path=recipe_path,
            overrides=overrides,
            rft_lambda_arn=rft_lambda_arn,
            dry_run=dry_run,
            rft_multiturn_infra=rft_multiturn_infra,
            validation_data_s3_path=self.holdout_data_s3_path,
            val_check_interval=self.val_check_interval,
        )

    def _train(
        self,
        *,
        job_name: str,
        recipe_path: str | None,
        overrides: dict[str, Any] | None,
        rft_lambda_arn: str | None,
        dry_run: bool | None,
        rft_multiturn_infra: Any,
        validation_data_s3_path: str | None,
        val_check_interval: int | None,
    ) -> TrainingResult | None:
        """``train`` with the holdout data and interval given per call (``NovaModelCustomizer.train``)."""
        from amzn_nova_forge.model import _train
        from amzn_nova_forge.trainer import _mtrl

        if _mtrl.is_mtrl_serverless(self.platform, self.method):  # AgentCore: no recipe, one CreateJob
            mtrl = _mtrl.train_mtrl(
                self, job_name=job_name, overrides=overrides, dry_run=bool(dry_run), recipe_path=recipe_path
            )
            self.last_training_result = mtrl or self.last_training_result
            return mtrl

        data_mixing = self.get_data_mixing_config() if self.data_mixing_enabled else None
        submission = _train.train(
            self._context(),
            job_name=job_name,
            data_s3_path=self.training_data_s3_path,
            model_path=self.model_s3_path or self.model_arn,
            data_mixing=data_mixing,
            recipe_path=recipe_path,
            overrides=overrides,
            rft_lambda_arn=rft_lambda_arn,
            validation_data_s3_path=validation_data_s3_path,
            val_check_interval=val_check_interval,
            dry_run=bool(dry_run),
            rft_multiturn_infra=rft_multiturn_infra,
            batch_sample_tracing=self.enable_batch_sample_tracing,
        )
        if submission is None:
            return None
        if self._config.output_s3_path is None:
            self._resolved_output = submission.output_s3_path
        self.last_training_result = submission.result
        return submission.result

    def trace_batch(
        self,
        training_result: TrainingResult,
        step: int,
        output_path: str | None = None,
        cache_dir: str = "~/.nova-forge/batch_trace_cache",
    ) -> Path | None:
        """Write the lines of the training data that were in training step ``step``; None if none matched.

        Needs a job started with ``enable_batch_sample_tracing=True``: its container logs each step's
        sample hashes under ``<output>/<job id>/batch_tracing/``.

        Args:
            training_result: The training job's result.
            step: The training step (e.g. the one where the loss spiked).
            output_path: Where to write the matched lines (default ``step_<step>_samples.jsonl``).
            cache_dir: Kept for the official signature; tracing streams both files.

        Raises:
            ConfigError: No training data or output path to read.
            BatchTraceError: The hash logs are missing or corrupt.

        Example:
            >>> trainer.trace_batch(result, step=120, output_path="step120.jsonl")  # doctest: +SKIP
            PosixPath('step120.jsonl')
        """
        from amzn_nova_forge.trainer.utils import batch_trace

        if not self.training_data_s3_path:
            raise ConfigError("trace_batch needs the trainer's training_data_s3_path (the data the job read).")
        output = training_result.model_artifacts.output_s3_path
        if not output:
            raise ConfigError(f"Training job {training_result.job_id} has no output path to read the hash logs from.")
        if not self.enable_batch_sample_tracing:
            logger.warning(
                "This trainer was built without enable_batch_sample_tracing=True; the job may have written no hash logs."
            )
        log_dir = batch_trace.log_dir_for(output, training_result.job_id)
        return batch_trace.run(self.training_data_s3_path, log_dir, step, output_path, cache_dir=cache_dir)

    def get_config(self, overrides: dict[str, Any] | None = None) -> RecipeConfig:
        """The overridable parameters of the recipe ``train`` builds, with type, default, range and enum.

        Args:
            overrides: Overrides to check (as ``train`` checks them) and show as the defaults.

        Raises:
            RecipeOverrideError: An unknown key (with the closest keys) or a value out of range.

        Example:
            >>> cfg = trainer.get_config(overrides={"lr": 5e-6})  # doctest: +SKIP
            >>> cfg["lr"].default, cfg["lr"].max  # doctest: +SKIP
            (5e-06, 1.0)
        """
        from amzn_nova_forge.recipe._config import recipe_config

        return recipe_config(
            self.model,
            self.method,
            self.platform,
            overrides=overrides,
            instance_type=self.infra.instance_type,
            instance_count=self.infra.instance_count,
            region=self.region,
        )

    def get_logs(
        self,
        job_result: TrainingResult | None = None,
        job_id: str | None = None,
        started_time: datetime | None = None,
        limit: int | None = None,
        start_from_head: bool = False,
        end_time: int | str | None = None,
        poll: float = 30,
        timeout: float = 7200,
    ) -> None:
        """Print the logs of a training job (``job_result``, else ``job_id``, else the last job).

        RFT multi-turn jobs are followed until they end (every ``poll`` seconds, at most
        ``timeout`` seconds); other jobs print what is there now.

        Raises:
            ConfigError: No job given and none started by this trainer.

        Example:
            >>> trainer.get_logs(job_result=result, limit=100, start_from_head=True)  # doctest: +SKIP
        """
        from amzn_nova_forge.model import _logs
        from amzn_nova_forge.monitor._mtrl import show_mtrl_logs

        if job_result is None and job_id is None:
            job_result = self.last_training_result
        if show_mtrl_logs(job_result, poll=poll, timeout=timeout, limit=limit):
            return
        _logs.show_logs(
            self.infra,
            job_result=job_result,
            job_id=job_id,
            started_time=started_time,
            limit=limit,
            start_from_head=start_from_head,
            end_time=end_time,
            follow=self.method.family == "rft_multiturn",
            poll=poll,
            timeout=timeout,
        )

    def generate_training_metrics_csv(
        self,
        job_result: TrainingResult | None = None,
        job_id: str | None = None,
        started_time: datetime | None = None,
        end_time: int | str | None = None,
        output_s3_path: str | None = None,
    ) -> str | None:
        """Write ``step_wise_training_metrics.csv`` (step, epoch, training loss) of an SFT job on HyperPod.

        The rows come from the job's CloudWatch logs; the file goes to
        ``<output_s3_path>/<job_id>/step_wise_training_metrics.csv`` (default: the job's output location).

        Returns:
            The CSV's location, or None when the logs hold no training step yet.

        Raises:
            UnsupportedFeatureError: Not an SFT job on SMHP.
            ConfigError: No job given, or no output location known.

        Example:
            >>> trainer.generate_training_metrics_csv(job_result=result)  # doctest: +SKIP
            's3://my-bucket/output/my-job-1a2b3c4d/step_wise_training_metrics.csv'
        """
        from amzn_nova_forge.core import storage
        from amzn_nova_forge.manager._registry import capabilities_of
        from amzn_nova_forge.model import _logs
        from amzn_nova_forge.monitor._metrics import step_metrics_csv

        if not capabilities_of(self.platform).training_metrics_csv or self.method not in _CSV_METHODS:
            raise UnsupportedFeatureError(
                f"Training metrics CSVs are made for SFT jobs on SMHP, not {self.method.name} on {self.platform.value}. "
                "Use CloudWatchLogMonitor(...).get_metrics() for the others.",
                runtime=self.platform.value,
                features=["training_metrics_csv"],
            )
        if job_result is None and job_id is None:
            job_result = self.last_training_result
        monitor = _logs.monitor_for(self.infra, job_result=job_result, job_id=job_id, started_time=started_time)
        events = monitor.get_logs(start_from_head=True, end_time=end_time)
        text = step_metrics_csv(events)
        if text.count("\n") < 2:
            logger.warning("No training steps in the logs of job %s yet; no CSV written.", monitor.job_id)
            return None
        base = output_s3_path or (job_result.model_artifacts.output_s3_path if job_result is not None else None)
        base = base or self.output_s3_path
        if not base:
            raise ConfigError("No output location for the CSV: pass output_s3_path='s3://bucket/prefix'.")
        path = storage.join(base.rstrip("/"), monitor.job_id, "step_wise_training_metrics.csv")
        storage.write_text(path, text, kms_key_id=self._config.kms_key_id or self.infra.kms_key_id)
        logger.info("Training metrics of %s written to %s", monitor.job_id, path)
        return path

    def __repr__(self) -> str:
        return f"ForgeTrainer(model={self.model.name}, method={self.method.name}, platform={self.platform.value})"


class DataMixing:
    """``ForgeTrainer.data_mixing``: read and set the trainer's data mixing configuration.

    Example:
        >>> trainer.data_mixing.set_config({"customer_data_percent": 50, "nova_code_percent": 3,  # doctest: +SKIP
        ...     "nova_general_percent": 7}, normalize=True)
        >>> trainer.data_mixing.get_config()["nova_code_percent"]  # doctest: +SKIP
        30
    """

    def __init__(self, trainer: ForgeTrainer) -> None:
        self._trainer = trainer

    def get_config(self) -> dict[str, Any]:
        """The configuration (a copy)."""
        return self._trainer.get_data_mixing_config()

    def set_config(self, config: dict[str, Any], normalize: bool = False) -> None:
        """Set the configuration; ``normalize=True`` scales the Nova percentages to sum to 100.

        Raises:
            ConfigError: The configuration is invalid, or there is nothing to normalize.
        """
        if normalize:
            from amzn_nova_forge.model._mixing import normalized

            config = normalized(config)
        self._trainer.set_data_mixing_config(config)


def _check_version(version: str | None) -> str | None:
    if version is None:
        return None
    if not isinstance(version, str) or not version.strip():
        raise ConfigError(f"hub_content_version must be a version string such as '1.2.0', got {version!r}.")
    return version.strip()
