"""The SageMaker side of InspectLens: upload ``inspect_config.yaml`` and start the orchestrator job.

InspectLens runs as a SageMaker training job on a CPU instance (``ml.m5.large``): the
container reads its config from the ``config`` channel, calls the inference provider the
config names (Bedrock or a SageMaker endpoint) and writes Inspect's logs to S3. Only this
module knows that request's shape; the evaluator builds the config.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from amzn_nova_forge.core import storage
from amzn_nova_forge.errors import UnsupportedFeatureError
from amzn_nova_forge.manager._base import RuntimeManager
from amzn_nova_forge.manager._smtj import TOKEN_TAG, SMTJRuntimeManager, create_training_job_once

__all__ = ["INSPECT_LENS_IMAGE_REPO", "INSPECT_LENS_INSTANCE_TYPE", "default_image_uri", "submit_inspect_lens_job"]

#: The InspectLens container (AWS Deep Learning Containers account), per region.
INSPECT_LENS_IMAGE_REPO = "763104351884.dkr.ecr.{region}.amazonaws.com/sagemaker-inspect-ai"
#: The orchestrator needs no GPU.
INSPECT_LENS_INSTANCE_TYPE = "ml.m5.large"
_MAX_JOB_NAME = 63


def default_image_uri(region: str) -> str:
    """The InspectLens image of ``region``."""
    return INSPECT_LENS_IMAGE_REPO.format(region=region)


def submit_inspect_lens_job(
    infra: RuntimeManager,
    *,
    job_name: str,
    config_yaml: str,
    output_s3_path: str,
    image_uri: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> str:
    """Upload the config under a fresh run id and start the job; returns the job name.

    The job name is ``<job_name[:26]>-<run uuid>`` (63 characters at most). The request carries
    a submission token, so a retried or timed-out call never starts a second job.

    Raises:
        UnsupportedFeatureError: ``infra`` is not an ``SMTJRuntimeManager``.
        AWSServiceError: S3 or SageMaker refused a call.
    """
    if not isinstance(infra, SMTJRuntimeManager):
        raise UnsupportedFeatureError(
            f"InspectLens evaluation runs as a SageMaker training job: use SMTJRuntimeManager, not {type(infra).__name__}.",
            runtime=type(infra).__name__,
            features=["inspect_lens"],
        )
    run_id = str(uuid.uuid4())
    name = f"{job_name[: _MAX_JOB_NAME - len(run_id) - 1]}-{run_id}"
    base = output_s3_path.rstrip("/") + f"/{run_id}"
    config_prefix = f"{base}/config/"
    storage.write_bytes(config_prefix + "inspect_config.yaml", config_yaml.encode("utf-8"), kms_key_id=infra.kms_key_id)
    output: dict[str, str] = {"S3OutputPath": f"{base}/output/"}
    if infra.kms_key_id:
        output["KmsKeyId"] = infra.kms_key_id
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": image_uri or default_image_uri(infra.region or ""),
            "TrainingInputMode": "File",
        },
        "RoleArn": infra.resolve_execution_role(),
        "InputDataConfig": [
            {
                "ChannelName": "config",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": config_prefix,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "application/x-yaml",
            }
        ],
        "OutputDataConfig": output,
        "ResourceConfig": {"InstanceType": INSPECT_LENS_INSTANCE_TYPE, "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": int(infra.max_job_runtime or 86400)},
        "Tags": [{"Key": TOKEN_TAG, "Value": run_id}, {"Key": "nova-forge:job-kind", "Value": "inspect-lens"}],
    }
    if environment:
        request["Environment"] = dict(environment)
    return create_training_job_once(request, infra.region)
