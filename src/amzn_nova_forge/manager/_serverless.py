"""``SMTJServerlessRuntimeManager``: serverless SageMaker training (no instances to pick).

One ``CreateTrainingJob`` with ``ServerlessJobConfig`` (built only here):

* ``BaseModelArn``: the Nova model's hub content ARN (``DescribeHubContent`` in
  ``SageMakerPublicHub``); ``AcceptEula=True``; ``JobType`` ``FineTuning`` or ``Evaluation``;
  ``CustomizationTechnique`` (SFT / DPO / RLVR) and ``Peft="LORA"`` for LoRA methods;
  ``EvaluatorArn`` for RLVR (a plain Lambda ARN is registered once as a hub-content
  ``JsonDoc`` evaluator, as SageMaker requires).
* ``ModelPackageConfig``: the model package group (created when missing) and, for iterative
  training from a model package, ``SourceModelPackageArn``.
* ``HyperParameters``: the recipe's values under SageMaker's serverless names
  (``lr`` → ``learning_rate`` …), plus the data-mixing percentages.
* ``InputDataConfig`` ``train``/``validation`` (S3), ``OutputDataConfig`` (+ KMS),
  ``StoppingCondition.MaxRuntimeInSeconds`` = ``max_job_runtime``, ``VpcConfig``,
  ``EnableInterContainerTrafficEncryption``, ``MlflowConfig``.

Status, outputs and stop are the SMTJ ones (same API family); the created name is the id.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._base import Capabilities, JobConfig, JobOutputs, JobRef, RuntimeManager
from amzn_nova_forge.manager._checks_aws import AWSChecksMixin
from amzn_nova_forge.manager._lambda import RFTLambdaMixin
from amzn_nova_forge.manager._mtrl_ops import MTRLOperations, mtrl_category
from amzn_nova_forge.manager._smtj import (
    DEFAULT_MAX_RUNTIME_S,
    TOKEN_TAG,
    SageMakerTrainingJobMixin,
    _vpc,
    create_training_job_once,
    data_channels,
    sagemaker_job_outputs,
)

__all__ = ["HUB_CONTENT_NAMES", "SMTJServerlessRuntimeManager"]

logger = logging.getLogger(__name__)

PUBLIC_HUB = "SageMakerPublicHub"
HUB_CONTENT_NAMES = {
    Model.NOVA_MICRO: "nova-textgeneration-micro",
    Model.NOVA_LITE: "nova-textgeneration-lite",
    Model.NOVA_LITE_2: "nova-textgeneration-lite-v2",
    Model.NOVA_PRO: "nova-textgeneration-pro",
}
_TECHNIQUE = {
    TrainingMethod.SFT_LORA: ("SFT", True),
    TrainingMethod.SFT_FULL: ("SFT", False),
    TrainingMethod.DPO_LORA: ("DPO", True),
    TrainingMethod.DPO_FULL: ("DPO", False),
    TrainingMethod.RFT_LORA: ("RLVR", True),
}
#: flat recipe key -> serverless hyperparameter name
_HP_NAMES = {
    "global_batch_size": "global_batch_size",
    "warmup_steps": "warmup_steps",
    "reasoning_effort": "reasoning_effort",
    "top_logprobs": "top_logprobs",
    "lr": "learning_rate",
    "learning_rate": "learning_rate",
    "loraplus_lr_ratio": "learning_rate_ratio",
    "lora_plus_lr_ratio": "learning_rate_ratio",
    "alpha": "lora_alpha",
    "max_epochs": "max_epochs",
    "max_steps": "max_steps",
    "save_steps": "save_steps",
    "reasoning_enabled": "reasoning_enabled",
    "beta": "adam_beta",
    "val_check_interval": "val_check_interval",
    "fine_tuned_model": "fine_tuned_model",
}
_HUB_CONTENT_ARN = re.compile(r"^arn:aws[\w-]*:sagemaker:[a-z0-9-]+:\d{12}:hub-content/.+$")
_MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[\w-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+$")


def serverless_hyperparameters(job_config: JobConfig) -> dict[str, str]:
    """Recipe values under their serverless names (strings), plus data mixing."""
    hp: dict[str, str] = {}
    rft = job_config.method is not None and job_config.method.family == "rft"
    for key, value in (job_config.hyperparameters or {}).items():
        if value is None:
            continue
        if key == "max_length":
            hp["max_length" if rft else "max_context_length"] = str(value)
        elif key in _HP_NAMES:
            hp[_HP_NAMES[key]] = str(value).lower() if isinstance(value, bool) else str(value)
    for key, value in (job_config.data_mixing_config or {}).items():
        if value is not None:
            hp[str(key)] = str(value)
    return hp


class SMTJServerlessRuntimeManager(
    MTRLOperations, SageMakerTrainingJobMixin, RFTLambdaMixin, AWSChecksMixin, RuntimeManager
):
    """Runs Nova jobs on serverless SageMaker training.

    Args:
        model_package_group_name: Model registry group that receives the trained model.
        execution_role: Role SageMaker assumes (default: the caller's role).
        kms_key_id: KMS key for the output.
        encrypt_inter_container_traffic: Encrypt traffic between training containers.
        subnets: VPC subnets (with ``security_group_ids``).
        security_group_ids: VPC security groups (with ``subnets``).
        max_job_runtime: Maximum runtime in seconds (default one day).
        rft_lambda: Reward Lambda ARN, evaluator hub-content ARN, or local ``.py`` file.
        agent_core_arn: Amazon Bedrock AgentCore runtime ARN (or agent Lambda ARN) for multi-turn RFT.
        evaluator_name: Name of the hub-content evaluator a reward Lambda is registered as.
        hub_content_version: Version of the Nova model's hub content (None: the latest).
        intermediate_model_package_group_name: Group for multi-turn RFT checkpoints
            (default ``<model_package_group_name>-checkpoints``).
        region: AWS region (default: the environment's).

    Example:
        >>> infra = SMTJServerlessRuntimeManager(model_package_group_name="model-group")
        >>> infra.model_package_group_name
        'model-group'
    """

    platform: ClassVar[Platform] = Platform.SMTJServerless
    capabilities: ClassVar[Capabilities] = Capabilities(
        mlflow=True,
        data_mixing=True,
        agentcore_mtrl=True,
        reads_checkpoints_of=frozenset({Platform.SMTJ, Platform.SMTJServerless}),
        foreign_checkpoint_markers={"-hp-": "HyperPod"},
    )
    unsupported: ClassVar[Mapping[str, str]] = {
        "batch_inference": "Batch inference runs on SMTJ, SMHP and LOCAL, not SMTJServerless: use SMTJRuntimeManager "
        "or SMHPRuntimeManager (or LocalRuntimeManager to rehearse)",
    }

    @classmethod
    def eval_output_location(cls, output_s3_path: str | None, job_id: str, extras: Mapping[str, Any]) -> str:
        """Serverless jobs write uncompressed output: ``<output>/<job>/output/output/``."""
        return f"{(output_s3_path or '').rstrip('/')}/{job_id}/output/output/"

    trusted_service: ClassVar[str | None] = "sagemaker.amazonaws.com"

    def __init__(
        self,
        model_package_group_name: str,
        execution_role: str | None = None,
        kms_key_id: str | None = None,
        encrypt_inter_container_traffic: bool = False,
        subnets: list[str] | None = None,
        security_group_ids: list[str] | None = None,
        max_job_runtime: int | None = DEFAULT_MAX_RUNTIME_S,
        rft_lambda: str | None = None,
        agent_core_arn: str | None = None,
        evaluator_name: str | None = None,
        hub_content_version: str | None = None,
        intermediate_model_package_group_name: str | None = None,
        *,
        region: str | None = None,
    ) -> None:
        if not model_package_group_name or not re.fullmatch(
            r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", model_package_group_name
        ):
            raise ConfigError(
                f"model_package_group_name must be 1-63 letters, digits or '-', got {model_package_group_name!r}."
            )
        self._model_package_group_name = model_package_group_name
        self.execution_role = execution_role
        self.kms_key_id = kms_key_id
        self.encrypt_inter_container_traffic = bool(encrypt_inter_container_traffic)
        self.subnets = list(subnets) if subnets else None
        self.security_group_ids = list(security_group_ids) if security_group_ids else None
        _vpc(self.subnets, self.security_group_ids)
        runtime = DEFAULT_MAX_RUNTIME_S if max_job_runtime is None else max_job_runtime
        if isinstance(runtime, bool) or not isinstance(runtime, int) or runtime <= 0:
            raise ConfigError(f"max_job_runtime must be a positive number of seconds, got {max_job_runtime!r}.")
        self.max_job_runtime = runtime
        self.region = resolve_region(region)
        self.rft_lambda = rft_lambda
        self._init_mtrl(agent_core_arn, evaluator_name, hub_content_version, intermediate_model_package_group_name)

    @property
    def model_package_group_name(self) -> str:
        """The model package group name."""
        return self._model_package_group_name

    def resolve_execution_role(self) -> str:
        """``execution_role``, else the caller's own role."""
        if not self.execution_role:
            from amzn_nova_forge.manager._checks_aws import caller_role_arn

            self.execution_role = caller_role_arn(self.region)
        return self.execution_role

    def iam_requirements(self, job_config: JobConfig, account: str) -> list[tuple[str, str]]:
        if job_config.extra.get("job_category"):
            return self.mtrl_iam_requirements(job_config, account)
        job_arn = f"arn:aws:sagemaker:{self.region}:{account}:training-job/{job_config.job_name}"
        group_arn = f"arn:aws:sagemaker:{self.region}:{account}:model-package-group/{self.model_package_group_name}"
        return super().iam_requirements(job_config, account) + [
            ("sagemaker:CreateTrainingJob", job_arn),
            ("sagemaker:DescribeTrainingJob", job_arn),
            ("sagemaker:DescribeModelPackageGroup", group_arn),
        ]

    def _group_arn(self) -> str:
        from botocore.exceptions import ClientError

        sm = client("sagemaker", self.region)
        try:
            return str(
                sm.describe_model_package_group(ModelPackageGroupName=self.model_package_group_name)[
                    "ModelPackageGroupArn"
                ]
            )
        except ClientError as e:
            if "ValidationException" not in str((e.response.get("Error") or {}).get("Code")):
                raise
        with aws_errors("sagemaker", f"while creating model package group {self.model_package_group_name}"):
            resp = sm.create_model_package_group(
                ModelPackageGroupName=self.model_package_group_name,
                ModelPackageGroupDescription="Created by amzn_nova_forge for serverless Nova training",
            )
        return str(resp["ModelPackageGroupArn"])

    def _base_model_arn(self, model: Model) -> str:
        from amzn_nova_forge.manager._mtrl_jobs import base_model_arn

        return base_model_arn(model, self.region, self.hub_content_version)

    def _evaluator_arn(self, lambda_arn: str) -> str:
        """A hub-content evaluator ARN for ``lambda_arn`` (registered once, then reused)."""
        if _HUB_CONTENT_ARN.match(lambda_arn):
            return lambda_arn
        from botocore.exceptions import ClientError

        sm = client("sagemaker", self.region)
        hub = re.sub(r"[^a-zA-Z0-9-]", "-", self.model_package_group_name)[:63]
        try:
            sm.describe_hub(HubName=hub)
        except ClientError:
            with aws_errors("sagemaker", f"while creating hub {hub} for the reward evaluator"):
                sm.create_hub(HubName=hub, HubDescription="Nova Forge reward evaluators")
        name = self.evaluator_name or re.sub(r"[^a-zA-Z0-9-]", "-", lambda_arn.rsplit(":", 1)[-1])[:63]
        doc = {
            "SubType": "AWS/Evaluator",
            "JsonContent": json.dumps({"EvaluatorType": "RewardFunction", "Reference": lambda_arn}),
        }
        with aws_errors("sagemaker", f"while registering reward Lambda {lambda_arn} as an evaluator"):
            resp = sm.import_hub_content(
                HubContentName=name,
                HubContentType="JsonDoc",
                DocumentSchemaVersion="2.0.0",
                HubName=hub,
                HubContentDocument=json.dumps(doc),
                HubContentVersion="0.0.1",
            )
        return str(resp["HubContentArn"])

    def build_request(self, job_config: JobConfig) -> dict[str, Any]:
        """The serverless ``CreateTrainingJob`` request (looks up the hub content and group ARNs)."""
        method: TrainingMethod = job_config.method
        model: Model = job_config.model
        if model is None or method is None:
            raise ConfigError("JobConfig.model and JobConfig.method are needed for serverless jobs.")
        evaluation = job_config.job_kind != "training"
        serverless: dict[str, Any] = {
            "BaseModelArn": self._base_model_arn(model),
            "AcceptEula": True,
            "JobType": "Evaluation" if evaluation else "FineTuning",
        }
        if not evaluation:
            if method not in _TECHNIQUE:
                raise ConfigError(
                    f"Serverless training supports {', '.join(m.name for m in _TECHNIQUE)}; got {method.name}."
                )
            technique, lora = _TECHNIQUE[method]
            serverless["CustomizationTechnique"] = technique
            if lora:
                serverless["Peft"] = "LORA"
            if technique == "RLVR":
                lam = job_config.rft_lambda_arn or self.rft_lambda_arn
                if not lam:
                    raise ConfigError("RFT needs a reward Lambda: pass rft_lambda_arn= or set infra.rft_lambda.")
                serverless["EvaluatorArn"] = self._evaluator_arn(lam)
        else:
            serverless["EvaluationType"] = job_config.extra.get("evaluation_type", "BenchmarkEvaluation")
        package: dict[str, Any] = {"ModelPackageGroupArn": self._group_arn()}
        source = job_config.model_name_or_path
        if source and _MODEL_PACKAGE_ARN.match(str(source)):
            package["SourceModelPackageArn"] = source
        output: dict[str, Any] = {"S3OutputPath": job_config.output_s3_path, "CompressionType": "NONE"}
        if self.kms_key_id:
            output["KmsKeyId"] = self.kms_key_id
        request: dict[str, Any] = {
            "TrainingJobName": job_config.job_name,
            "RoleArn": self.resolve_execution_role(),
            "OutputDataConfig": output,
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_job_runtime},
            "HyperParameters": serverless_hyperparameters(job_config),
            "ServerlessJobConfig": serverless,
            "ModelPackageConfig": package,
            "EnableInterContainerTrafficEncryption": self.encrypt_inter_container_traffic,
            "Tags": [{"Key": TOKEN_TAG, "Value": uuid.uuid4().hex}]
            + [{"Key": k, "Value": v} for k, v in job_config.tags.items()],
        }
        channels = data_channels(job_config)
        if channels:
            request["InputDataConfig"] = channels
        vpc = _vpc(self.subnets, self.security_group_ids)
        if vpc:
            request["VpcConfig"] = vpc
        if job_config.mlflow_tracking_uri:
            mlflow = {"MlflowResourceArn": job_config.mlflow_tracking_uri}
            if job_config.mlflow_experiment_name:
                mlflow["MlflowExperimentName"] = job_config.mlflow_experiment_name
            if job_config.mlflow_run_name:
                mlflow["MlflowRunName"] = job_config.mlflow_run_name
            request["MlflowConfig"] = mlflow
        return request

    def execute(self, job_config: JobConfig) -> str:
        """Start the serverless training job; returns its name (the job id)."""
        if not job_config.output_s3_path:
            raise ConfigError("Serverless jobs need an output_s3_path (s3://bucket/prefix).")
        return create_training_job_once(self.build_request(job_config), self.region)

    @classmethod
    def job_outputs(cls, ref: JobRef) -> JobOutputs:
        """Serverless jobs register the model: the checkpoint is the output model package's data
        (else ``<output>/<job>/output/output/manifest.json``, else the SMTJ archive)."""
        from amzn_nova_forge.core import storage
        from amzn_nova_forge.manager._artifacts import checkpoint_from_manifest
        from amzn_nova_forge.manager._smtj import describe_training_job

        if mtrl_category(ref):
            return cls.mtrl_outputs(ref)
        job = describe_training_job(ref.job_id, ref.region)
        base = sagemaker_job_outputs(ref)
        checkpoint = base.checkpoint_s3_path
        package = job.get("OutputModelPackageArn")
        if not checkpoint and package:
            with aws_errors("sagemaker", f"while describing model package {package}"):
                pkg = client("sagemaker", ref.region).describe_model_package(ModelPackageName=package)
            containers = (pkg.get("InferenceSpecification") or {}).get("Containers") or [{}]
            source = ((containers[0].get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
            checkpoint = source or None
        if not checkpoint and base.output_s3_path:
            try:
                manifest = json.loads(
                    storage.read_text(
                        storage.join(base.output_s3_path, ref.job_id, "output", "output", "manifest.json")
                    )
                )
                checkpoint = checkpoint_from_manifest(manifest if isinstance(manifest, dict) else None)
            except (FileNotFoundError, ValueError):
                checkpoint = None
        return JobOutputs(
            output_s3_path=base.output_s3_path,
            checkpoint_s3_path=checkpoint,
            output_archive=base.output_archive,
            output_model_arn=package,
        )

    def __repr__(self) -> str:
        return f"SMTJServerlessRuntimeManager(model_package_group_name={self.model_package_group_name!r})"
