"""``BedrockRuntimeManager``: Nova customization on Amazon Bedrock (``CreateModelCustomizationJob``).

Request (built only here): ``jobName`` = ``customModelName`` = the job's unique name,
``roleArn``, ``baseModelIdentifier`` (the constructor's ARN for iterative training, else the
foundation model ``arn:aws:bedrock:<region>::foundation-model/<model_type>``),
``customizationType`` (``FINE_TUNING`` for SFT_LORA, ``REINFORCEMENT_FINE_TUNING`` for
RFT_LORA), string ``hyperParameters`` for SFT (``epochCount``, ``batchSize``,
``learningRate``, ``learningRateWarmupSteps``), ``trainingDataConfig``,
``validationDataConfig`` (not for Nova 2 Lite), ``outputDataConfig``, ``customModelKmsKeyId`` (the KMS
key; Bedrock's output config has no key of its own),
``vpcConfig``, and for RFT ``customizationConfig.rftConfig`` (Lambda grader + typed
hyperparameters). ``clientRequestToken`` makes a retried create idempotent.

The job id is the job ARN; the job name is kept in the reference's extras because
``GetModelCustomizationJob`` accepts either.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from amzn_nova_forge.core import storage
from amzn_nova_forge.core.aws import aws_errors, client, resolve_region
from amzn_nova_forge.core.enums import JobStatus, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import AWSServiceError, ConfigError, JobSubmissionError
from amzn_nova_forge.manager._base import Capabilities, JobConfig, JobInfo, JobOutputs, JobRef, RuntimeManager
from amzn_nova_forge.manager._checks_aws import AWSChecksMixin
from amzn_nova_forge.manager._lambda import RFTLambdaMixin

__all__ = ["CUSTOMIZATION_TYPES", "BedrockRuntimeManager"]

logger = logging.getLogger(__name__)

CUSTOMIZATION_TYPES = {
    TrainingMethod.SFT_LORA: "FINE_TUNING",
    TrainingMethod.RFT_LORA: "REINFORCEMENT_FINE_TUNING",
}


def bedrock_hp(hp: Mapping[str, Any], *, rft: bool) -> dict[str, Any]:
    """Recipe values under Bedrock's names: strings for SFT, native types for RFT."""
    from amzn_nova_forge.recipe._bedrock import BEDROCK_NAMES, _to_str

    names = {**BEDROCK_NAMES, **{v: v for v in BEDROCK_NAMES.values()}}
    out: dict[str, Any] = {}
    for key, value in hp.items():
        if value is None or key not in names:
            continue
        out[names[key]] = value if rft else _to_str(value)
    return out


class BedrockRuntimeManager(RFTLambdaMixin, AWSChecksMixin, RuntimeManager):
    """Runs Nova customization jobs on Amazon Bedrock (fully managed; no instances to pick).

    Args:
        execution_role: IAM role ARN Bedrock assumes (trusts ``bedrock.amazonaws.com``).
        base_model_identifier: A custom model ARN to continue training from (iterative training).
        kms_key_id: KMS key for the custom model and the output.
        rft_lambda: Reward Lambda ARN or local ``.py`` file (RFT). A dict in this (fourth)
            position is taken as ``vpc_config``, the official current order.
        region: AWS region (Bedrock customization of Nova: us-east-1).
        vpc_config: ``{"subnet_ids": [...], "security_group_ids": [...]}``.

    Example:
        >>> infra = BedrockRuntimeManager(execution_role="arn:aws:iam::123456789012:role/BedrockRole")
        >>> infra.platform.value
        'BEDROCK'
    """

    platform: ClassVar[Platform] = Platform.BEDROCK
    capabilities: ClassVar[Capabilities] = Capabilities(
        reads_checkpoints_of=frozenset({Platform.BEDROCK}), deploys_model_arn=True
    )
    unsupported: ClassVar[Mapping[str, str]] = {
        "batch_inference": "Batch inference runs on SMTJ, SMHP and LOCAL, not BEDROCK: use SMTJRuntimeManager "
        "or SMHPRuntimeManager (or LocalRuntimeManager to rehearse)",
        "mlflow": "Bedrock jobs report no MLflow metrics; remove mlflow_monitor",
    }

    @classmethod
    def eval_output_location(cls, output_s3_path: str | None, job_id: str, extras: Mapping[str, Any]) -> str:
        """Bedrock evaluation results: ``<output>/<job name>/`` (the job id is the job ARN)."""
        return f"{(output_s3_path or '').rstrip('/')}/{job_id.rsplit('/', 1)[-1]}/"

    trusted_service: ClassVar[str | None] = "bedrock.amazonaws.com"

    def __init__(
        self,
        execution_role: str,
        base_model_identifier: str | None = None,
        kms_key_id: str | None = None,
        rft_lambda: str | Mapping[str, list[str]] | None = None,
        *,
        region: str | None = None,
        vpc_config: Mapping[str, list[str]] | None = None,
    ) -> None:
        if isinstance(rft_lambda, Mapping):
            # the official order has vpc_config fourth: a mapping there is the VPC configuration
            if vpc_config is not None:
                raise ConfigError("vpc_config was given twice (fourth positional argument and keyword); give it once.")
            vpc_config, rft_lambda = rft_lambda, None
        if not execution_role or not str(execution_role).startswith("arn:"):
            raise ConfigError(
                f"execution_role must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got {execution_role!r}."
            )
        self.execution_role = execution_role
        self.base_model_identifier = base_model_identifier
        self.kms_key_id = kms_key_id
        if vpc_config is not None and not (vpc_config.get("subnet_ids") and vpc_config.get("security_group_ids")):
            raise ConfigError("vpc_config needs both 'subnet_ids' and 'security_group_ids'.")
        self.vpc_config = dict(vpc_config) if vpc_config else None
        self.region = resolve_region(region)
        self.rft_lambda = rft_lambda

    def job_ref(self, job_id: str) -> JobRef:
        name = job_id.rsplit("/", 1)[-1]
        return JobRef(platform=self.platform, job_id=job_id, region=self.region, extras={"job_name": name})

    def iam_requirements(self, job_config: JobConfig, account: str) -> list[tuple[str, str]]:
        job_arn = f"arn:aws:bedrock:{self.region}:{account}:model-customization-job/*"
        return super().iam_requirements(job_config, account) + [
            ("bedrock:CreateModelCustomizationJob", job_arn),
            ("bedrock:GetModelCustomizationJob", job_arn),
        ]

    def build_request(self, job_config: JobConfig) -> dict[str, Any]:
        """The ``CreateModelCustomizationJob`` request for ``job_config`` (no call made)."""
        method = job_config.method
        ctype = CUSTOMIZATION_TYPES.get(method)
        if ctype is None:
            raise ConfigError(
                f"Bedrock customizes Nova with {', '.join(m.name for m in CUSTOMIZATION_TYPES)} only; got {method}."
            )
        if not job_config.data_s3_path or not storage.is_s3(job_config.data_s3_path):
            raise ConfigError(f"Bedrock needs the training data in S3 (data_s3_path), got {job_config.data_s3_path!r}.")
        if not job_config.output_s3_path:
            raise ConfigError("Bedrock needs an output_s3_path (s3://bucket/prefix).")
        model: Model | None = job_config.model
        base = (
            job_config.model_name_or_path
            if str(job_config.model_name_or_path or "").startswith("arn:")
            else self.base_model_identifier
        )
        if not base:
            if model is None:
                raise ConfigError("JobConfig.model is needed to pick the Bedrock base model.")
            base = f"arn:aws:bedrock:{self.region}::foundation-model/{model.model_type}"
        output: dict[str, Any] = {"s3Uri": job_config.output_s3_path}
        request: dict[str, Any] = {
            "jobName": job_config.job_name,
            "customModelName": job_config.job_name,
            "roleArn": self.execution_role,
            "clientRequestToken": uuid.uuid5(uuid.NAMESPACE_URL, job_config.job_name).hex,
            "baseModelIdentifier": base,
            "customizationType": ctype,
            "trainingDataConfig": {"s3Uri": job_config.data_s3_path},
            "outputDataConfig": output,
        }
        hp = job_config.hyperparameters or {}
        if method is TrainingMethod.SFT_LORA:
            request["hyperParameters"] = bedrock_hp(hp, rft=False)
        else:
            lambda_arn = job_config.rft_lambda_arn or self.rft_lambda_arn
            if not lambda_arn:
                raise ConfigError("RFT on Bedrock needs a reward Lambda: pass rft_lambda_arn= or set infra.rft_lambda.")
            rft: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": lambda_arn}}}
            typed = bedrock_hp(hp, rft=True)
            if typed:
                rft["hyperParameters"] = typed
            request["customizationConfig"] = {"rftConfig": rft}
        if job_config.validation_data_s3_path:
            if model is Model.NOVA_LITE_2:
                logger.warning("Bedrock does not take validation data for Nova 2 Lite; ignoring it.")
            else:
                request["validationDataConfig"] = {"validators": [{"s3Uri": job_config.validation_data_s3_path}]}
        if self.kms_key_id:
            request["customModelKmsKeyId"] = self.kms_key_id
        if self.vpc_config:
            request["vpcConfig"] = {
                "subnetIds": list(self.vpc_config["subnet_ids"]),
                "securityGroupIds": list(self.vpc_config["security_group_ids"]),
            }
        if job_config.tags:
            request["jobTags"] = [{"key": k, "value": v} for k, v in job_config.tags.items()]
        return request

    def execute(self, job_config: JobConfig) -> str:
        """Start the Bedrock customization job; returns the job ARN."""
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

        request = self.build_request(job_config)
        br = client("bedrock", self.region)
        try:
            return str(br.create_model_customization_job(**request)["jobArn"])
        except ClientError as e:
            code = str((e.response.get("Error") or {}).get("Code") or "")
            if code == "ResourceInUseException":
                try:
                    job = br.get_model_customization_job(jobIdentifier=job_config.job_name)
                except ClientError:
                    job = None
                if job and _same_job(job, request):
                    logger.info("Bedrock job %s already exists from this submission; adopting it.", job_config.job_name)
                    return str(job["jobArn"])
                raise JobSubmissionError(
                    f"A Bedrock job named {job_config.job_name!r} already exists. Use another job_name.",
                    job_id=job_config.job_name,
                ) from e
            raise AWSServiceError.from_client_error(
                e, service="bedrock", hint="while creating the customization job"
            ) from e
        except BotoCoreError as e:
            if isinstance(e, (ReadTimeoutError, ConnectionClosedError)):  # accepted but unanswered?
                try:
                    job = br.get_model_customization_job(jobIdentifier=job_config.job_name)
                except (ClientError, BotoCoreError):
                    job = None
                if job and _same_job(job, request):
                    logger.info("Bedrock create timed out but job %s exists; adopting it.", job_config.job_name)
                    return str(job["jobArn"])
            raise AWSServiceError(
                f"bedrock CreateModelCustomizationJob failed: {e}",
                service="bedrock",
                operation="CreateModelCustomizationJob",
            ) from e

    def cleanup(self, job_name: str) -> None:
        """Stop the customization job (a job that already ended is left as is)."""
        from botocore.exceptions import ClientError

        try:
            client("bedrock", self.region).stop_model_customization_job(jobIdentifier=job_name)
        except ClientError as e:
            code = str((e.response.get("Error") or {}).get("Code") or "")
            if code in ("ValidationException", "ConflictException"):
                logger.info("Bedrock job %s cannot be stopped now (%s); nothing to do.", job_name, code)
                return
            raise AWSServiceError.from_client_error(e, service="bedrock") from e

    @classmethod
    def _get(cls, ref: JobRef) -> dict[str, Any]:
        ident = ref.extras.get("job_name") or ref.job_id
        with aws_errors("bedrock", f"while reading customization job {ident}"):
            return dict(client("bedrock", ref.region).get_model_customization_job(jobIdentifier=ident))

    @classmethod
    def job_info(cls, ref: JobRef) -> JobInfo:
        job = cls._get(ref)
        raw = str(job.get("status") or "")
        status = JobStatus.from_raw(raw)
        return JobInfo(
            status=status,
            raw_status=raw,
            message=job.get("failureMessage") if status is JobStatus.FAILED else None,
            started_at=job.get("creationTime"),
            ended_at=job.get("endTime") if status.is_terminal else None,
        )

    @classmethod
    def job_outputs(cls, ref: JobRef) -> JobOutputs:
        job = cls._get(ref)
        return JobOutputs(
            output_s3_path=(job.get("outputDataConfig") or {}).get("s3Uri"),
            output_model_arn=job.get("outputModelArn"),
        )

    def __repr__(self) -> str:
        return f"BedrockRuntimeManager(execution_role={self.execution_role!r}, region={self.region!r})"


def _same_job(job: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """True when an existing job is the one ``request`` describes (same role, data and output)."""
    return bool(
        job.get("roleArn") == request["roleArn"]
        and (job.get("trainingDataConfig") or {}).get("s3Uri") == request["trainingDataConfig"]["s3Uri"]
        and (job.get("outputDataConfig") or {}).get("s3Uri") == request["outputDataConfig"]["s3Uri"]
    )
