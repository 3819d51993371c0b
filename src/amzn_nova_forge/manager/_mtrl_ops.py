"""``execute_mtrl`` / ``execute_mtrl_eval``: multi-turn RFT verbs of ``SMTJServerlessRuntimeManager``.

The mixin turns the manager's settings (agent, model package groups, KMS key, VPC, role) into
an ``AgentRFT`` or ``AgentRFTEvaluation`` job (documents in ``_mtrl``, calls in ``_mtrl_jobs``),
and answers status, stop and outputs of those jobs from a :class:`JobRef` whose
``extras["job_category"]`` names the category, so a result loaded in a fresh process works.

Example:
    >>> infra = SMTJServerlessRuntimeManager(  # doctest: +SKIP
    ...     model_package_group_name="my-mtrl-models",
    ...     agent_core_arn="arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my_agent-a1b2c3d4e5",
    ... )
    >>> infra.execute_mtrl(model=Model.NOVA_LITE_2, job_name="mtrl",  # doctest: +SKIP
    ...                    data_s3_path="s3://bucket/train/", output_s3_path="s3://bucket/out/")
    'mtrl-1a2b3c4d'
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amzn_nova_forge.core.enums import Model
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager import _mtrl, _mtrl_jobs
from amzn_nova_forge.manager._base import JobInfo, JobOutputs, JobRef

__all__ = ["MTRLEvaluationJobs", "MTRLOperations", "checkpoint_group_name", "mtrl_category"]

logger = logging.getLogger(__name__)

_HUB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_VERSION = re.compile(r"^\d{1,10}\.\d{1,10}\.\d{1,10}$")
_GROUP_DESCRIPTION = "Created by amzn_nova_forge for multi-turn RFT"


def checkpoint_group_name(output_group: str, intermediate: str | None) -> str:
    """The intermediate-checkpoint group: ``intermediate``, else ``<output_group>-checkpoints`` (63 chars)."""
    return _check_group(intermediate or f"{output_group}-checkpoints"[:63].rstrip("-"))


def _check_group(name: str) -> str:
    try:
        return _mtrl.check_job_name(name)
    except ConfigError:
        raise ConfigError(
            f"intermediate_model_package_group_name must be 1-63 letters, digits or '-', got {name!r}."
        ) from None


def _unique(base: str) -> str:
    """``<base>-<8 hex>``, within SageMaker's 63 characters."""
    _mtrl.check_job_name(base)
    return f"{base[:54].rstrip('-')}-{uuid.uuid4().hex[:8]}"


def mtrl_category(ref: JobRef) -> str | None:
    """The MTRL job category of ``ref`` (None for other serverless jobs)."""
    category = ref.extras.get("job_category")
    return str(category) if category else None


@dataclass(frozen=True)
class MTRLEvaluationJobs:
    """The ``AgentRFTEvaluation`` job(s) ``execute_mtrl_eval`` started.

    Attributes:
        job_name: The job evaluating the requested model (fine-tuned, or base when none is given).
        base_job_name: The job evaluating the base model next to it (``evaluate_base_model=True``).
        region: AWS region of the jobs.
    """

    job_name: str
    base_job_name: str | None = None
    region: str | None = None

    @property
    def job_names(self) -> tuple[str, ...]:
        """Every job started, the requested model's first."""
        return (self.job_name,) if self.base_job_name is None else (self.job_name, self.base_job_name)


class MTRLOperations:
    """Multi-turn RFT jobs for ``SMTJServerlessRuntimeManager`` (mixin; the manager holds the settings)."""

    region: str | None
    intermediate_model_package_group_name: str | None
    agent_core_arn: str | None
    rft_lambda: str | None
    hub_content_version: str | None
    evaluator_name: str | None
    kms_key_id: str | None
    subnets: list[str] | None
    security_group_ids: list[str] | None
    max_job_runtime: int

    @property
    def model_package_group_name(self) -> str:  # provided by the manager
        raise NotImplementedError

    def resolve_execution_role(self) -> str:  # provided by the manager
        raise NotImplementedError

    def _init_mtrl(
        self,
        agent_core_arn: str | None,
        evaluator_name: str | None,
        hub_content_version: str | None,
        intermediate_model_package_group_name: str | None,
    ) -> None:
        """Check and keep the multi-turn RFT settings (called by the manager's ``__init__``)."""
        if agent_core_arn is not None:
            _mtrl.agent_config(agent_core_arn)
        if evaluator_name is not None and not _HUB_NAME.match(evaluator_name):
            raise ConfigError(f"evaluator_name must be 1-63 letters, digits or '-', got {evaluator_name!r}.")
        if hub_content_version is not None and not _VERSION.match(hub_content_version):
            raise ConfigError(f"hub_content_version must be a version such as '1.2.0', got {hub_content_version!r}.")
        if intermediate_model_package_group_name is not None:
            _check_group(intermediate_model_package_group_name)
            if intermediate_model_package_group_name == self.model_package_group_name:
                raise ConfigError(
                    "intermediate_model_package_group_name must differ from model_package_group_name "
                    f"(both are {intermediate_model_package_group_name!r})."
                )
        self.agent_core_arn = agent_core_arn
        self.evaluator_name = evaluator_name
        self.hub_content_version = hub_content_version
        self.intermediate_model_package_group_name = intermediate_model_package_group_name

    def _mtrl_settings(self) -> _mtrl.MTRLSettings:
        agent = self.agent_core_arn or self.rft_lambda
        _mtrl.agent_config(agent)  # a bad ARN fails before any AWS call
        output = _mtrl_jobs.model_package_group_arn(
            self.model_package_group_name, self.region, description=_GROUP_DESCRIPTION
        )
        checkpoints = _mtrl_jobs.model_package_group_arn(
            checkpoint_group_name(self.model_package_group_name, self.intermediate_model_package_group_name),
            self.region,
            description=_GROUP_DESCRIPTION + " (intermediate checkpoints)",
        )
        return _mtrl.MTRLSettings(
            agent_arn=str(agent),
            output_group_arn=output,
            checkpoint_group_arn=checkpoints,
            kms_key_arn=self.kms_key_id,
            subnets=tuple(self.subnets or ()),
            security_group_ids=tuple(self.security_group_ids or ()),
        )

    def execute_mtrl(
        self,
        model: Model,
        job_name: str,
        data_s3_path: str | None = None,
        output_s3_path: str | None = None,
        mlflow_tracking_uri: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        model_path: str | None = None,
    ) -> str:
        """Start a multi-turn RFT training job (``CreateJob``, category ``AgentRFT``).

        Args:
            model: The Nova model to train.
            job_name: Base job name; a random suffix is added (the returned name is the job id).
            data_s3_path: S3 prefix (or hub DataSet ARN) of the training prompts.
            output_s3_path: S3 output prefix.
            mlflow_tracking_uri: SageMaker MLflow app or tracking server ARN.
            overrides: Hyperparameter overrides (at most 50; numbers, bools or strings).
            model_path: Model package ARN of an earlier job, to continue training from it.

        Returns:
            The job name.

        Raises:
            ConfigError: A missing agent, data or output path, or a malformed value.
            JobSubmissionError: The job name is taken, or the outcome of the call is unknown.
            AWSServiceError: SageMaker refused a call.

        Example:
            >>> name = infra.execute_mtrl(Model.NOVA_LITE_2, "mtrl", "s3://b/train/", "s3://b/out/")  # doctest: +SKIP
        """
        if not isinstance(model, Model):
            raise ConfigError(f"model must be a Model, got {model!r}.")
        if model_path and not _mtrl.is_model_package_arn(model_path):
            raise ConfigError(
                "model_path for multi-turn RFT must be the model package ARN of an earlier job "
                f"(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>), got {model_path!r}."
            )
        name = _unique(job_name)
        settings = self._mtrl_settings()
        document = _mtrl.training_document(
            settings,
            base_model_arn=_mtrl_jobs.base_model_arn(model, self.region, self.hub_content_version),
            data_s3_path=data_s3_path,
            output_s3_path=output_s3_path,
            mlflow_tracking_uri=mlflow_tracking_uri,
            overrides=overrides,
            input_model_package_arn=model_path,
        )
        return _mtrl_jobs.create_job_once(
            name,
            _mtrl.TRAIN_CATEGORY,
            self.resolve_execution_role(),
            document,
            self.region,
            token=uuid.uuid4().hex,
        )

    def execute_mtrl_eval(
        self,
        model: Model,
        data_s3_path: str | None = None,
        output_s3_path: str | None = None,
        mlflow_tracking_uri: str | None = None,
        model_path: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        training_job_name: str | None = None,
        evaluate_base_model: bool = False,
        *,
        job_name: str | None = None,
    ) -> MTRLEvaluationJobs:
        """Start a multi-turn RFT evaluation (``CreateJob``, category ``AgentRFTEvaluation``).

        The model evaluated is ``model_path`` (a model package ARN), else the output model of
        ``training_job_name``, else the base model. ``evaluate_base_model=True`` also starts a
        job on the base model for comparison.

        Args:
            model: The Nova model (the base of the evaluated model).
            data_s3_path: S3 prefix (or hub DataSet ARN) of the evaluation prompts.
            output_s3_path: S3 output prefix.
            mlflow_tracking_uri: SageMaker MLflow app or tracking server ARN.
            model_path: Model package ARN of the fine-tuned model.
            overrides: Evaluation hyperparameters (``eval_group_size``, ``sampling_temperature``,
                ``top_p``, ``max_tokens``, ``pass_k_values``, ``success_threshold``).
            training_job_name: A completed ``AgentRFT`` job whose output model is evaluated.
            evaluate_base_model: Also evaluate the base model.
            job_name: Base name of the jobs (default ``<model>-mtrl-eval``); a random suffix is added.

        Returns:
            The started job(s).

        Raises:
            ConfigError: A bad value, or ``training_job_name`` has no output model yet.
            JobSubmissionError: A job name is taken, or the outcome of a call is unknown.
            AWSServiceError: SageMaker refused a call.

        Example:
            >>> jobs = infra.execute_mtrl_eval(Model.NOVA_LITE_2, "s3://b/eval/", "s3://b/out/")  # doctest: +SKIP
            >>> jobs.job_name  # doctest: +SKIP
            'nova-textgeneration-lite-v2-mtrl-eval-1a2b3c4d'
        """
        if not isinstance(model, Model):
            raise ConfigError(f"model must be a Model, got {model!r}.")
        if model_path and not _mtrl.is_model_package_arn(model_path):
            raise ConfigError(
                "model_path for multi-turn RFT evaluation must be a model package ARN "
                f"(the output of an AgentRFT job), got {model_path!r}."
            )
        package = model_path
        if not package and training_job_name:
            out = _mtrl_jobs.service_output(
                _mtrl_jobs.describe_job(training_job_name, _mtrl.TRAIN_CATEGORY, self.region)
            )
            package = out.get("OutputModelPackageArn")
            if not package:
                raise ConfigError(
                    f"Training job {training_job_name!r} has no output model package yet; wait until it completes."
                )
        base = job_name or f"{model.hub_content_name}-mtrl-eval"
        settings = self._mtrl_settings()
        base_arn = _mtrl_jobs.base_model_arn(model, self.region, self.hub_content_version)
        role = self.resolve_execution_role()

        def start(input_package: str | None, run_name: str) -> str:
            document = _mtrl.evaluation_document(
                settings,
                base_model_arn=base_arn,
                data_s3_path=data_s3_path,
                output_s3_path=output_s3_path,
                mlflow_tracking_uri=mlflow_tracking_uri,
                mlflow_experiment_name=f"mtrl-eval-{model.hub_content_name}" if mlflow_tracking_uri else None,
                mlflow_run_name=run_name if mlflow_tracking_uri else None,
                overrides=overrides,
                input_model_package_arn=input_package,
                max_runtime_s=self.max_job_runtime,
            )
            return _mtrl_jobs.create_job_once(
                _unique(base), _mtrl.EVAL_CATEGORY, role, document, self.region, token=uuid.uuid4().hex
            )

        primary = start(package, "fine-tuned-model-eval" if package else "base-model-eval")
        base_job = start(None, "base-model-eval") if evaluate_base_model and package else None
        return MTRLEvaluationJobs(job_name=primary, base_job_name=base_job, region=self.region)

    def mtrl_iam_requirements(self, job_config: Any, account: str) -> list[tuple[str, str]]:
        """(action, resource) pairs the caller needs for an MTRL job (``job_config.extra["job_category"]``)."""
        from amzn_nova_forge.manager._checks_aws import AWSChecksMixin

        category = str(job_config.extra["job_category"])
        arn = f"arn:aws:sagemaker:{self.region}:{account}"
        job = f"{arn}:job/{category}/{job_config.job_name}-*"
        groups = [self.model_package_group_name]
        if category == _mtrl.TRAIN_CATEGORY:
            groups.append(
                checkpoint_group_name(self.model_package_group_name, self.intermediate_model_package_group_name)
            )
        reqs: list[tuple[str, str]] = AWSChecksMixin.iam_requirements(self, job_config, account)  # type: ignore[arg-type]
        reqs += [("sagemaker:CreateJob", job), ("sagemaker:DescribeJob", job), ("sagemaker:StopJob", job)]
        reqs += [("sagemaker:DescribeModelPackageGroup", f"{arn}:model-package-group/{g}") for g in groups]
        reqs.append(
            (
                "sagemaker:DescribeHubContent",
                f"arn:aws:sagemaker:{self.region}:aws:hub-content/SageMakerPublicHub/Model/"
                f"{job_config.model.hub_content_name}/*",
            )
        )
        return reqs

    def mtrl_job_ref(self, job_id: str, category: str = _mtrl.TRAIN_CATEGORY) -> JobRef:
        """The JSON-safe reference of an MTRL job (status, stop and outputs work from it alone)."""
        from amzn_nova_forge.core.enums import Platform

        return JobRef(
            platform=Platform.SMTJServerless, job_id=job_id, region=self.region, extras={"job_category": category}
        )

    def cleanup(self, job_name: str, is_mtrl: bool = False) -> None:
        """Stop a job: an ``AgentRFT`` job when ``is_mtrl``, else the serverless training job."""
        if is_mtrl:
            _mtrl_jobs.stop_job(job_name, _mtrl.TRAIN_CATEGORY, self.region)
            return
        super().cleanup(job_name)  # type: ignore[misc]

    @classmethod
    def job_info(cls, ref: JobRef) -> JobInfo:
        """Status of an MTRL job (``DescribeJob``), else of the serverless training job."""
        category = mtrl_category(ref)
        if category:
            return _mtrl_jobs.job_info(ref.job_id, category, ref.region)
        info: JobInfo = super().job_info(ref)  # type: ignore[misc]
        return info

    @classmethod
    def stop_job(cls, ref: JobRef) -> None:
        """Stop the MTRL job ``ref`` (a job that already ended is left as is)."""
        category = mtrl_category(ref)
        if not category:
            raise ConfigError(f"Job {ref.job_id!r} is not a multi-turn RFT job (no job_category in its reference).")
        _mtrl_jobs.stop_job(ref.job_id, category, ref.region)

    @classmethod
    def log_source(cls, ref: JobRef) -> dict[str, Any]:
        """CloudWatch log group and stream prefix of the job."""
        category = mtrl_category(ref)
        if category:
            group = _mtrl.MTRL_EVAL_LOG_GROUP if category == _mtrl.EVAL_CATEGORY else _mtrl.MTRL_TRAIN_LOG_GROUP
            return {"log_group": group, "stream_prefix": ref.job_id}
        source: dict[str, Any] = super().log_source(ref)  # type: ignore[misc]
        return source

    @classmethod
    def mtrl_outputs(cls, ref: JobRef) -> JobOutputs:
        """Outputs of an MTRL job: the S3 output path and the output model package."""
        job = _mtrl_jobs.describe_job(ref.job_id, mtrl_category(ref) or _mtrl.TRAIN_CATEGORY, ref.region)
        try:
            doc = json.loads(job.get("JobConfigDocument") or "{}")
        except ValueError:
            doc = {}
        output = ((doc.get("OutputDataConfig") or {}) if isinstance(doc, dict) else {}).get("S3OutputPath")
        return JobOutputs(
            output_s3_path=output,
            output_model_arn=_mtrl_jobs.service_output(job).get("OutputModelPackageArn"),
        )
