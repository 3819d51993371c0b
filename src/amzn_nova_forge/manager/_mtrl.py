"""Multi-turn RFT on serverless SageMaker through Amazon Bedrock AgentCore: the job documents.

A multi-turn RFT job is a SageMaker ``CreateJob`` (not ``CreateTrainingJob``) whose settings are one
JSON string, the ``JobConfigDocument`` (schema ``1.0.0``). Training jobs are in the
``AgentRFT`` category, evaluation jobs in ``AgentRFTEvaluation``. This module builds those
documents and checks what goes into them; the service calls live in ``_mtrl_jobs``.

Training document::

    {"AgentConfig": {"BedrockAgentCoreConfig": {"AgentRuntimeArn": ..., "Qualifier": "DEFAULT"}}
                    | {"CustomAgentLambdaConfig": {"LambdaArn": ...}},
     "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {...}}}],
     "OutputDataConfig": {"S3OutputPath": ..., "KmsKeyArn": ...},
     "ModelPackageConfig": {"OutputModelPackageGroupArn": ..., "InputModelPackageArn": ...,
                            "IntermediateCheckpointModelPackageGroupArn": ...},
     "TrainingConfig": {"BaseModelArn": ..., "AcceptEula": true, "MlflowConfig": {...},
                        "HyperParameters": {...}},
     "VpcConfig": {"SecurityGroupIds": [...], "Subnets": [...]}}

The evaluation document has an ``evaluation`` channel, ``EvaluationConfig`` (base model, EULA,
string hyperparameters), ``MlflowConfig`` inside ``OutputDataConfig``, an optional
``ModelPackageConfig.InputModelPackageArn`` (the fine-tuned model) and a ``StoppingCondition``.

Example:
    >>> agent_config("arn:aws:lambda:us-east-1:123456789012:function:my-agent")
    {'CustomAgentLambdaConfig': {'LambdaArn': 'arn:aws:lambda:us-east-1:123456789012:function:my-agent'}}
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from amzn_nova_forge.errors import ConfigError

__all__ = [
    "EVAL_CATEGORY",
    "EVAL_HYPERPARAMETERS",
    "MTRL_EVAL_LOG_GROUP",
    "MTRL_TRAIN_LOG_GROUP",
    "SCHEMA_VERSION",
    "TRAIN_CATEGORY",
    "MTRLSettings",
    "agent_config",
    "check_job_name",
    "evaluation_document",
    "is_model_package_arn",
    "training_document",
]

TRAIN_CATEGORY = "AgentRFT"
EVAL_CATEGORY = "AgentRFTEvaluation"
SCHEMA_VERSION = "1.0.0"
MTRL_TRAIN_LOG_GROUP = "/aws/sagemaker/Job/AgentRFT"
MTRL_EVAL_LOG_GROUP = "/aws/sagemaker/Job/AgentRFTEvaluation"
#: The evaluation hyperparameters the AgentRFTEvaluation recipe accepts.
EVAL_HYPERPARAMETERS = (
    "eval_group_size",
    "sampling_temperature",
    "top_p",
    "max_tokens",
    "pass_k_values",
    "success_threshold",
)
MAX_HYPERPARAMETERS = 50
#: The service's limit on ``JobConfigDocument`` (characters).
MAX_DOCUMENT_CHARS = 262_144
DEFAULT_EVAL_MAX_RUNTIME_S = 86_400

_AGENTCORE_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:runtime/[a-zA-Z0-9_-]+$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_.-]+(:\$LATEST|:[a-zA-Z0-9_-]+)?$"
)
_MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+$")
_DATASET_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:(\d{12}|aws):hub-content/.+/DataSet/.+$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_HP_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,127}$")


@dataclass(frozen=True)
class MTRLSettings:
    """What the runtime manager contributes to every MTRL document.

    Attributes:
        agent_arn: The AgentCore runtime ARN or agent Lambda ARN.
        output_group_arn: Model package group receiving the trained model.
        checkpoint_group_arn: Model package group receiving the intermediate checkpoints.
        kms_key_arn: KMS key for the output (None: the bucket's default).
        subnets: VPC subnets (with ``security_group_ids``).
        security_group_ids: VPC security groups (with ``subnets``).
        qualifier: AgentCore endpoint qualifier.
    """

    agent_arn: str
    output_group_arn: str
    checkpoint_group_arn: str
    kms_key_arn: str | None = None
    subnets: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    qualifier: str = "DEFAULT"


def agent_config(agent_arn: str | None, qualifier: str = "DEFAULT") -> dict[str, Any]:
    """The ``AgentConfig`` of an AgentCore runtime ARN or a Lambda ARN.

    Raises:
        ConfigError: ``agent_arn`` is missing or is neither kind of ARN.
    """
    if not agent_arn:
        raise ConfigError(
            "Multi-turn RFT on SMTJServerless needs an agent: pass agent_core_arn= (an Amazon Bedrock "
            "AgentCore runtime ARN) or rft_lambda= (an agent Lambda ARN) to SMTJServerlessRuntimeManager."
        )
    if _AGENTCORE_ARN.match(agent_arn):
        return {"BedrockAgentCoreConfig": {"AgentRuntimeArn": agent_arn, "Qualifier": qualifier}}
    if _LAMBDA_ARN.match(agent_arn):
        return {"CustomAgentLambdaConfig": {"LambdaArn": agent_arn}}
    raise ConfigError(
        f"agent_core_arn must be an AgentCore runtime ARN "
        f"(arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>) or a Lambda ARN "
        f"(arn:aws:lambda:<region>:<account>:function:<name>), got {agent_arn!r}."
    )


def is_model_package_arn(value: str | None) -> bool:
    """True for a SageMaker model package ARN (the output of an earlier MTRL job)."""
    return bool(value and _MODEL_PACKAGE_ARN.match(value))


def check_job_name(name: str) -> str:
    """``name`` when SageMaker accepts it as a job name (1-63 letters, digits, '-')."""
    if not isinstance(name, str) or not _JOB_NAME.match(name):
        raise ConfigError(
            f"job_name must be 1-63 letters, digits or '-' (starting with a letter or digit), got {name!r}."
        )
    return name


def _channel(name: str, data: str | None, field: str) -> dict[str, Any]:
    if not data:
        raise ConfigError(f"Multi-turn RFT needs {field} (s3://bucket/prefix of the prompts).")
    if _S3_URI.match(data):
        return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": data}}}
    if _DATASET_ARN.match(data):
        return {"ChannelName": name, "DataSource": {"DatasetSource": {"DatasetArn": data}}}
    raise ConfigError(f"{field} must be an s3:// URI or a SageMaker hub DataSet ARN, got {data!r}.")


def _output(output_s3_path: str | None, kms_key_arn: str | None) -> dict[str, Any]:
    if not output_s3_path or not _S3_URI.match(output_s3_path):
        raise ConfigError(f"Multi-turn RFT needs output_s3_path as s3://bucket/prefix, got {output_s3_path!r}.")
    out: dict[str, Any] = {"S3OutputPath": output_s3_path}
    if kms_key_arn:
        out["KmsKeyArn"] = kms_key_arn
    return out


def _scalar(key: str, value: Any) -> str | int | float | bool:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ConfigError(f"Hyperparameter {key!r} must be a number, bool or string, got {value!r}.")


def _hyperparameters(overrides: Mapping[str, Any] | None) -> dict[str, str | int | float | bool]:
    if not overrides:
        return {}
    if len(overrides) > MAX_HYPERPARAMETERS:
        raise ConfigError(f"At most {MAX_HYPERPARAMETERS} hyperparameter overrides are allowed, got {len(overrides)}.")
    out: dict[str, str | int | float | bool] = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or not _HP_KEY.match(key):
            raise ConfigError(f"Hyperparameter names are identifiers such as 'learning_rate', got {key!r}.")
        if value is not None:
            out[key] = _scalar(key, value)
    return out


def _mlflow(tracking_uri: str | None, experiment: str | None, run: str | None) -> dict[str, str] | None:
    if not tracking_uri:
        return None
    if not tracking_uri.startswith("arn:"):
        raise ConfigError(
            f"mlflow_tracking_uri must be a SageMaker MLflow app or tracking server ARN for multi-turn RFT, "
            f"got {tracking_uri!r}."
        )
    cfg = {"MlflowResourceArn": tracking_uri}
    if experiment:
        cfg["MlflowExperimentName"] = experiment
    if run:
        cfg["MlflowRunName"] = run
    return cfg


def _vpc(settings: MTRLSettings) -> dict[str, list[str]] | None:
    if not settings.subnets and not settings.security_group_ids:
        return None
    if not settings.subnets or not settings.security_group_ids:
        raise ConfigError("A VPC needs both subnets and security_group_ids (got only one).")
    return {"SecurityGroupIds": list(settings.security_group_ids), "Subnets": list(settings.subnets)}


def _dumps(doc: Mapping[str, Any]) -> str:
    text = json.dumps(doc, separators=(",", ":"))
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ConfigError(f"The JobConfigDocument is {len(text)} characters; SageMaker accepts {MAX_DOCUMENT_CHARS}.")
    return text


def training_document(
    settings: MTRLSettings,
    *,
    base_model_arn: str,
    data_s3_path: str | None,
    output_s3_path: str | None,
    mlflow_tracking_uri: str | None = None,
    mlflow_experiment_name: str | None = None,
    mlflow_run_name: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    input_model_package_arn: str | None = None,
    validation_s3_path: str | None = None,
) -> str:
    """The ``JobConfigDocument`` (JSON) of an ``AgentRFT`` training job.

    Raises:
        ConfigError: A missing or malformed value (data, output, agent, MLflow, hyperparameter, VPC).
    """
    if settings.output_group_arn == settings.checkpoint_group_arn:
        raise ConfigError(
            "intermediate_model_package_group_name must differ from model_package_group_name "
            f"(both resolve to {settings.output_group_arn})."
        )
    channels = [_channel("train", data_s3_path, "data_s3_path")]
    if validation_s3_path:
        channels.append(_channel("validation", validation_s3_path, "validation_data_s3_path"))
    package: dict[str, str] = {"OutputModelPackageGroupArn": settings.output_group_arn}
    if input_model_package_arn:
        package["InputModelPackageArn"] = input_model_package_arn
    package["IntermediateCheckpointModelPackageGroupArn"] = settings.checkpoint_group_arn
    training: dict[str, Any] = {"BaseModelArn": base_model_arn, "AcceptEula": True}
    mlflow = _mlflow(mlflow_tracking_uri, mlflow_experiment_name, mlflow_run_name)
    if mlflow:
        training["MlflowConfig"] = mlflow
    hp = _hyperparameters(overrides)
    if hp:
        training["HyperParameters"] = hp
    doc: dict[str, Any] = {
        "AgentConfig": agent_config(settings.agent_arn, settings.qualifier),
        "InputDataConfig": channels,
        "OutputDataConfig": _output(output_s3_path, settings.kms_key_arn),
        "ModelPackageConfig": package,
        "TrainingConfig": training,
    }
    vpc = _vpc(settings)
    if vpc:
        doc["VpcConfig"] = vpc
    return _dumps(doc)


def _eval_hyperparameters(overrides: Mapping[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (overrides or {}).items():
        if key not in EVAL_HYPERPARAMETERS:
            raise ConfigError(
                f"Unknown multi-turn evaluation hyperparameter {key!r}; allowed: {', '.join(EVAL_HYPERPARAMETERS)}."
            )
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out[key] = json.dumps([_scalar(key, v) for v in value])
        else:
            out[key] = str(_scalar(key, value)).lower() if isinstance(value, bool) else str(_scalar(key, value))
    return out


def evaluation_document(
    settings: MTRLSettings,
    *,
    base_model_arn: str,
    data_s3_path: str | None,
    output_s3_path: str | None,
    mlflow_tracking_uri: str | None = None,
    mlflow_experiment_name: str | None = None,
    mlflow_run_name: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    input_model_package_arn: str | None = None,
    max_runtime_s: int = DEFAULT_EVAL_MAX_RUNTIME_S,
) -> str:
    """The ``JobConfigDocument`` (JSON) of an ``AgentRFTEvaluation`` job.

    ``input_model_package_arn`` is the fine-tuned model to evaluate; without it the base model is.

    Raises:
        ConfigError: A missing or malformed value, or an unknown evaluation hyperparameter.
    """
    output = _output(output_s3_path, settings.kms_key_arn)
    mlflow = _mlflow(mlflow_tracking_uri, mlflow_experiment_name, mlflow_run_name)
    if mlflow:
        output["MlflowConfig"] = mlflow
    evaluation: dict[str, Any] = {"BaseModelArn": base_model_arn, "AcceptEula": True}
    hp = _eval_hyperparameters(overrides)
    if hp:
        evaluation["HyperParameters"] = hp
    doc: dict[str, Any] = {
        "AgentConfig": agent_config(settings.agent_arn, settings.qualifier),
        "InputDataConfig": [_channel("evaluation", data_s3_path, "data_s3_path")],
        "OutputDataConfig": output,
        "EvaluationConfig": evaluation,
    }
    if input_model_package_arn:
        doc["ModelPackageConfig"] = {"InputModelPackageArn": input_model_package_arn}
    doc["StoppingCondition"] = {"MaxRuntimeInSeconds": int(max_runtime_s)}
    vpc = _vpc(settings)
    if vpc:
        doc["VpcConfig"] = vpc
    return _dumps(doc)
