"""The spec's RFT multiturn example down to ``customizer.train(..., rft_multiturn_infra=rft_infra)``.

HyperPod jobs start through the runtime's Kubernetes seam, replaced here by a recorder; the
IAM/infra pre-checks are switched off on the customizer (they need IAM simulation, which moto
lacks, and a real cluster). The recipe the job would run is checked.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from amzn_nova_forge.errors import ConfigError


class _Recorder:
    def __init__(self) -> None:
        self.started: list[Any] = []

    def start(self, spec: Any) -> str:
        self.started.append(spec)
        return spec.job_name

    def cancel(self, **_: Any) -> None:  # pragma: no cover - not used
        pass

    def status(self, **_: Any) -> dict[str, Any]:
        return {"raw": "Running", "message": None, "started_at": None, "ended_at": None}


@pytest.fixture
def launcher():
    from amzn_nova_forge.manager import _hyperpod_k8s as K

    rec = _Recorder()
    previous = K.set_launcher(rec)
    yield rec
    K.set_launcher(previous)


@pytest.mark.timeout(180)
def test_spec_example_train_with_rft_multiturn_infra(aws, home, launcher) -> None:
    from amzn_nova_forge import (
        Model,
        NovaModelCustomizer,
        RFTMultiturnInfrastructure,
        SMHPRuntimeManager,
        TrainingMethod,
        VFEnvId,
    )

    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack", region="us-east-1", python_venv_name="my_rft_venv", vf_env_id=VFEnvId.WORDLE
    )
    rft_infra.setup()
    runtime = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=2, cluster_name="my-hp-cluster", namespace="kubeflow"
    )

    # Use with NovaModelCustomizer (spec example, verbatim)
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.RFT_MULTITURN_LORA,
        infra=runtime,
        data_s3_path="s3://bucket/data.jsonl",
    )
    customizer.validation_config = {"iam": False, "infra": False, "recipe": True}

    training_result = customizer.train(job_name="rft-training", rft_multiturn_infra=rft_infra)

    [spec] = launcher.started
    assert training_result.job_id == spec.job_name and spec.job_name.startswith("rft-training")
    recipe = yaml.safe_load(spec.recipe_yaml)
    overrides = rft_infra.get_recipe_overrides()
    assert (
        recipe["run"]["reward_lambda_arn"]
        == overrides["rollout_request_arn"]
        == ("arn:aws:lambda:us-east-1:123456789012:function:my-rft-stack-NovaForgeSDK-SageMaker-rollout")
    )
    for key in (
        "rollout_request_queue_url",
        "rollout_response_sqs_url",
        "generate_request_sqs_url",
        "generate_response_sqs_url",
    ):
        assert recipe["run"][key] == overrides[key]
    assert recipe["run"]["model_type"] == "amazon.nova-2-lite-v1:0:256k"


def test_multiturn_rules_in_train(aws, home, launcher) -> None:
    from amzn_nova_forge import Model, NovaModelCustomizer, SMHPRuntimeManager, TrainingMethod

    runtime = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=2, cluster_name="my-hp-cluster", namespace="kubeflow"
    )
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.RFT_MULTITURN_LORA,
        infra=runtime,
        data_s3_path="s3://bucket/data.jsonl",
        validation_config={"iam": False, "infra": False},
    )
    with pytest.raises(ConfigError, match="needs rft_multiturn_infra"):
        customizer.train(job_name="no-infra")
    assert launcher.started == []
    sft = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=runtime,
        data_s3_path="s3://bucket/data.jsonl",
        validation_config={"iam": False, "infra": False},
    )
    with pytest.raises(ConfigError, match="only used by RFT_MULTITURN"):
        sft.train(job_name="wrong", rft_multiturn_infra=object())
    assert launcher.started == []
