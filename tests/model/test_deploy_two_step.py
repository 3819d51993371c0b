"""Two-step deploy, model reuse, inference components, results and the deploy-target registry.

AWS through moto; what moto lacks (Bedrock import/deployments, inference components) through
``deployfakes.FakeAWS`` (see its docstring).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from deployfakes import ACCT, FakeAWS, plain_client

from amzn_nova_forge.core.enums import DeployPlatform, JobStatus, Model, ModelStatus, TrainingMethod
from amzn_nova_forge.deployer import ForgeDeployer, InferenceComponentConfig, SageMakerEndpointEnvironment
from amzn_nova_forge.errors import ConfigError, DeploymentError, UnsupportedRegionError
from amzn_nova_forge.inference import ForgeInference
from amzn_nova_forge.model._deploy_targets import TARGETS, get_target, target_key
from amzn_nova_forge.model.result import DeploymentResult, ModelDeployResult

S3 = "s3://escrow-bucket/job-9/checkpoint/"
FAST = {"poll_interval": 0.0, "timeout": 60.0}


@pytest.fixture
def fake(aws, monkeypatch) -> FakeAWS:
    return FakeAWS().install(monkeypatch)


@pytest.fixture
def deployer(fake) -> ForgeDeployer:
    return ForgeDeployer(region="us-east-1", model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA)


# ---- two-step Bedrock -------------------------------------------------------------------------
def test_create_then_deploy_then_retry_does_not_import_again(deployer, fake, tmp_path):
    fake.model_statuses = ["Creating", "Creating"]
    publish = deployer.create_custom_model(S3, endpoint_name="two-step", tags=[{"key": "team", "value": "nlp"}], **FAST)
    assert publish.model_name.startswith("two-step-") and publish.escrow_uri == S3
    model = fake.models[publish.model_arn]
    assert {"key": "team", "value": "nlp"} in model["tags"]
    assert {"key": "sagemaker.amazonaws.com/forge/escrow-uri", "value": S3} in model["tags"]
    assert model["roleArn"] == f"arn:aws:iam::{ACCT}:role/BedrockDeployModelExecutionRole"
    saved = publish.dump(str(tmp_path))
    loaded = ModelDeployResult.load(str(saved))
    assert (loaded.model_arn, loaded.escrow_uri, loaded.platform, loaded.status) == (
        publish.model_arn,
        S3,
        "bedrock",
        ModelStatus.ACTIVE,
    )

    fake.fail("bedrock", "CreateCustomModelDeployment", "server_error")
    with pytest.raises(DeploymentError, match="InternalServerException") as ei:
        deployer.deploy_to_bedrock(model_deploy_result=loaded, endpoint_name="two-step-ep", **FAST)
    assert ei.value.created == []  # the model was made by the first step, not by this call
    result = deployer.deploy_to_bedrock(model_deploy_result=loaded, endpoint_name="two-step-ep", **FAST)
    assert len(fake.models) == 1 and len(fake.deployments) == 1
    assert result.model_publish is loaded and result.escrow_uri == S3
    assert deployer.get_status(result) is JobStatus.COMPLETED
    # running it once more adopts the deployment instead of failing or duplicating
    again = deployer.deploy_to_bedrock(model_deploy_result=loaded, endpoint_name="two-step-ep", **FAST)
    assert again.endpoint.uri == result.endpoint.uri and len(fake.deployments) == 1


def test_deploy_to_bedrock_argument_errors(deployer, fake):
    with pytest.raises(ConfigError, match="not both"):
        deployer.deploy_to_bedrock(ModelDeployResult("arn:aws:bedrock:us-east-1:1:custom-model/x", "x", S3), "arn:x")
    with pytest.raises(ConfigError, match="No model to deploy"):
        deployer.deploy_to_bedrock()
    with pytest.raises(ConfigError, match="not a Bedrock custom model ARN"):
        deployer.deploy_to_bedrock(model_arn=f"arn:aws:sagemaker:us-east-1:{ACCT}:model/m")
    arn = deployer.create_custom_model(S3, **FAST).model_arn
    with pytest.raises(ConfigError, match="needs unit_count"):
        deployer.deploy_to_bedrock(model_arn=arn, deploy_platform=DeployPlatform.BEDROCK_PT)
    fake.models[arn]["statuses"] = ["Failed"]
    with pytest.raises(ConfigError, match="status is Failed"):
        deployer.deploy_to_bedrock(model_arn=arn, endpoint_name="on-failed")
    assert fake.deployments == {}


def test_deploy_to_bedrock_defaults_to_the_last_published_model(deployer, fake):
    publish = deployer.create_custom_model(S3, **FAST)
    result = deployer.deploy_to_bedrock(
        deploy_platform=DeployPlatform.BEDROCK_PT, pt_units=3, endpoint_name="pt", **FAST
    )
    (pt,) = fake.throughputs.values()
    assert (pt["modelArn"], pt["modelUnits"], result.model_arn) == (publish.model_arn, 3, publish.model_arn)


def test_model_reuse_and_skip_model_reuse(deployer, fake):
    first = deployer.deploy(S3, endpoint_name="reuse-a", **FAST)
    second = deployer.deploy(S3, endpoint_name="reuse-b", **FAST)
    assert second.model_arn == first.model_arn and len(fake.models) == 1
    third = deployer.deploy(S3, endpoint_name="reuse-c", skip_model_reuse=True, **FAST)
    assert third.model_arn != first.model_arn and len(fake.models) == 2
    assert deployer.find_published_model("bedrock", S3) in fake.models
    assert deployer.find_published_model("bedrock", S3, skip_model_reuse=True) is None
    assert deployer.find_published_model("bedrock", "s3://escrow-bucket/other/") is None
    with pytest.raises(ConfigError, match="'bedrock' or 'sagemaker'"):
        deployer.find_published_model("local", S3)


def test_a_failed_model_is_not_reused(deployer, fake):
    first = deployer.create_custom_model(S3, **FAST)
    fake.models[first.model_arn]["statuses"] = ["Failed"]
    second = deployer.create_custom_model(S3, **FAST)
    assert second.model_arn != first.model_arn


def test_name_taken_by_another_model_still_fails(deployer, fake):
    deployer.deploy(S3, endpoint_name="taken", **FAST)
    with pytest.raises(DeploymentError, match="already exists") as ei:
        deployer.deploy("s3://escrow-bucket/other-run/", endpoint_name="taken", **FAST)
    assert ei.value.created == [] and len(fake.models) == 1  # checked before anything was imported


def test_create_custom_model_rejects_bad_input(deployer):
    with pytest.raises(ConfigError, match="S3 checkpoint"):
        deployer.create_custom_model("/local/ckpt")
    with pytest.raises(ConfigError, match="key"):
        deployer.create_custom_model(S3, tags=[{"Key": "a", "Value": "b"}])
    with pytest.raises(ConfigError, match="valid Bedrock name"):
        deployer.create_custom_model(S3, endpoint_name="bad name!")


# ---- SageMaker ------------------------------------------------------------------------------
def test_deploy_to_sagemaker_retry_reuses_the_model(deployer, fake):
    fake.fail("sagemaker", "CreateEndpoint", "access_denied")
    with pytest.raises(DeploymentError) as ei:
        deployer.deploy_to_sagemaker(
            "ml.p5.48xlarge",
            model_artifact_path=S3,
            endpoint_name="sm-retry",
            sagemaker_environment=SageMakerEndpointEnvironment(context_length=16000, max_concurrency=8),
            **FAST,
        )
    assert "SageMaker model sm-retry-model" in ei.value.created
    publish = ModelDeployResult.from_arn(f"arn:aws:sagemaker:us-east-1:{ACCT}:model/sm-retry-model")
    assert publish.escrow_uri == S3 and publish.platform == "sagemaker"
    result = deployer.deploy_to_sagemaker("ml.p5.48xlarge", model_deploy_result=publish, endpoint_name="sm-retry")
    sm = plain_client("sagemaker")
    assert len(sm.list_models()["Models"]) == 1 and len(sm.list_endpoints()["Endpoints"]) == 1
    assert result.model_publish is publish and result.status == "InService"
    env = sm.describe_model(ModelName="sm-retry-model")["PrimaryContainer"]["Environment"]
    assert env == {"CONTEXT_LENGTH": "16000", "MAX_CONCURRENCY": "8"}


def test_deploy_to_sagemaker_argument_errors(deployer):
    with pytest.raises(ConfigError, match="exactly one"):
        deployer.deploy_to_sagemaker("ml.p5.48xlarge")
    with pytest.raises(ConfigError, match="needs instance_type"):
        deployer.deploy_to_sagemaker("", model_artifact_path=S3)
    bedrock_model = ModelDeployResult(f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/x", "x", S3)
    with pytest.raises(ConfigError, match="use deploy_to_bedrock"):
        deployer.deploy_to_sagemaker("ml.p5.48xlarge", model_deploy_result=bedrock_model)


def test_sagemaker_model_is_reused_only_with_the_same_environment(deployer, fake):
    deployer.deploy(S3, DeployPlatform.SAGEMAKER, endpoint_name="env-a", **FAST)
    deployer.deploy(S3, DeployPlatform.SAGEMAKER, endpoint_name="env-b", **FAST)  # same env: reused
    names = {m["ModelName"] for m in plain_client("sagemaker").list_models()["Models"]}
    assert names == {"env-a-model"}
    deployer.deploy(
        S3, DeployPlatform.SAGEMAKER, endpoint_name="env-c", sagemaker_environment={"CONTEXT_LENGTH": "8000"}, **FAST
    )
    names = {m["ModelName"] for m in plain_client("sagemaker").list_models()["Models"]}
    assert names == {"env-a-model", "env-c-model"}


def test_inference_components_deploy_invoke_status_delete(deployer, fake):
    configs = [
        InferenceComponentConfig("lite2-a", num_cpus=20, num_accelerators=4, min_memory_in_mb=100000),
        InferenceComponentConfig("lite2-b", num_cpus=24, num_accelerators=4, min_memory_in_mb=120000, copy_count=2),
    ]
    result = deployer.deploy(S3, DeployPlatform.SAGEMAKER, endpoint_name="ic-ep", inference_component_configs=configs)
    assert result.inference_components == ["lite2-a", "lite2-b"]
    b = fake.components["lite2-b"]
    assert b["EndpointName"] == "ic-ep" and b["RuntimeConfig"] == {"CopyCount": 2}
    assert b["Specification"] == {
        "ModelName": "ic-ep-model",
        "ComputeResourceRequirements": {
            "NumberOfCpuCoresRequired": 24,
            "NumberOfAcceleratorDevicesRequired": 4,
            "MinMemoryRequiredInMb": 120000,
        },
    }
    config = plain_client("sagemaker").describe_endpoint_config(EndpointConfigName="ic-ep-config")
    (variant,) = config["ProductionVariants"]
    assert "ModelName" not in variant and variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    (sent,) = [p for svc, op, p in fake.requests if op == "CreateEndpointConfig"]
    assert sent["ExecutionRoleArn"].endswith("role/SageMakerDeployModelExecutionRole")  # moto drops it
    assert sent["Tags"] == [{"Key": "sagemaker:nova-inference-component", "Value": "true"}]
    # status follows the components once the endpoint is up
    assert result.status == "InService"
    fake.components["lite2-b"]["InferenceComponentStatus"] = "Creating"
    assert result.status == "Creating" and deployer.get_status(result) is JobStatus.IN_PROGRESS
    # invoke names the component
    seen: list[dict] = []
    from amzn_nova_forge.core import aws as aws_factory

    aws_factory.session("us-east-1").events.register(
        "before-call.sagemaker-runtime.InvokeEndpoint", lambda context, **_: seen.append(context["fake_params"])
    )
    ForgeInference(region="us-east-1").invoke(result.endpoint.uri, {"messages": []}, inference_component_name="lite2-a")
    assert seen[-1]["InferenceComponentName"] == "lite2-a" and seen[-1]["EndpointName"] == "ic-ep"
    # delete removes components, endpoint, config and model
    gone = deployer.delete(result)
    assert gone[:2] == ["SageMaker inference component lite2-a", "SageMaker inference component lite2-b"]
    assert fake.components == {} and "SageMaker endpoint ic-ep" in gone
    assert fake.inventory() <= {
        f"IAM role arn:aws:iam::{ACCT}:role/SageMakerDeployModelExecutionRole",
        f"IAM policy arn:aws:iam::{ACCT}:policy/SageMakerDeployModelExecutionRoleDeployPolicy",
    }


def test_inference_component_config_validation():
    with pytest.raises(ConfigError, match="positive integer"):
        InferenceComponentConfig("a", num_cpus=0, num_accelerators=1, min_memory_in_mb=1)
    with pytest.raises(ConfigError, match="is invalid"):
        InferenceComponentConfig("bad_name", num_cpus=1, num_accelerators=1, min_memory_in_mb=1)
    small = InferenceComponentConfig("small", num_cpus=4, num_accelerators=1, min_memory_in_mb=1000)
    with pytest.raises(ConfigError, match=r"num_cpus=4 < 20, min_memory_in_mb=1000 < 100000, num_accelerators=1 < 4"):
        small.check_minimums(Model.NOVA_LITE_2)


def test_standalone_inference_component_verbs(deployer, fake):
    deployer.deploy(S3, DeployPlatform.SAGEMAKER, endpoint_name="host", **FAST)
    name = deployer.create_inference_component("extra", "host-model", 20, 4, 100000, "host")
    assert name == "extra" and deployer.monitor_inference_component("extra", poll_interval=0.0) == "InService"
    assert deployer.create_inference_component("extra", "host-model", 20, 4, 100000, "host") == "extra"  # adopted
    with pytest.raises(DeploymentError, match="already exists on endpoint 'host'"):
        deployer.create_inference_component("extra", "other-model", 20, 4, 100000, "host")
    fake.components["extra"]["InferenceComponentStatus"] = "Failed"
    fake.components["extra"]["FailureReason"] = "not enough accelerators"
    with pytest.raises(DeploymentError, match="not enough accelerators"):
        deployer.monitor_inference_component("extra", poll_interval=0.0)


# ---- environment ----------------------------------------------------------------------------
def test_endpoint_environment_is_typed_and_bounds_checked():
    env = SageMakerEndpointEnvironment(
        context_length=8000, max_concurrency=4, default_top_k=-1, speculative_decoding_method="EAGLE3"
    )
    assert env.to_env_dict() == {
        "CONTEXT_LENGTH": "8000",
        "MAX_CONCURRENCY": "4",
        "DEFAULT_TOP_K": "-1",
        "SPECULATIVE_DECODING_METHOD": "eagle3",
    }
    assert SageMakerEndpointEnvironment.from_env_dict(env.to_env_dict()) == env
    for kwargs, message in (
        ({"context_length": 0}, r"context_length=0 must be > 0"),
        ({"default_temperature": 2.5}, r"default_temperature=2.5 must be >= 0 and <= 2"),
        ({"default_top_k": 0}, r"must be > 0 \(or -1\)"),
        ({"num_speculative_tokens": 11}, r"<= 10"),
        ({"kv_cache_dtype": "fp16"}, "one of fp8"),
        ({"max_concurrency": 1.5}, "must be a int"),
        ({"max_concurrency": True}, "must be a int"),
    ):
        with pytest.raises(ConfigError, match=message):
            SageMakerEndpointEnvironment(**kwargs)
    with pytest.raises(ConfigError, match="Unknown SageMaker endpoint variable 'CONTEXT_LEN'"):
        SageMakerEndpointEnvironment.from_env_dict({"CONTEXT_LEN": "1"})
    with pytest.raises(ConfigError, match=r"MAX_CONCURRENCY=64 .*\(max 32\)"):
        SageMakerEndpointEnvironment(context_length=64000, max_concurrency=64).validate_smi_config_bounds(
            Model.NOVA_LITE_2, "ml.p5.48xlarge"
        )


def test_environment_out_of_tier_creates_nothing(deployer, fake):
    with pytest.raises(ConfigError, match="max 256000"):
        deployer.deploy(
            S3,
            DeployPlatform.SAGEMAKER,
            endpoint_name="too-long",
            sagemaker_environment=SageMakerEndpointEnvironment(context_length=500000),
        )
    assert fake.inventory() == set() and fake.calls == []


# ---- results, registry, service classes -----------------------------------------------------
def test_deployment_result_round_trips_model_publish(deployer, fake, tmp_path):
    result = deployer.deploy(S3, endpoint_name="round-trip", **FAST)
    loaded = DeploymentResult.load(str(result.dump(str(tmp_path))))
    assert loaded.model_publish == result.model_publish and loaded.escrow_uri == S3
    assert json.loads((tmp_path / "round-trip_deployment.json").read_text())["model_publish"]["escrow_uri"] == S3
    assert loaded.status == "Active"


def test_model_deploy_result_platform_status_and_errors(fake, tmp_path):
    odd = ModelDeployResult("arn:aws:s3:::bucket", "x", S3)
    assert odd.platform is None and odd.status is ModelStatus.UNKNOWN
    missing = ModelDeployResult(f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/gone", "gone", S3)
    assert missing.status is ModelStatus.UNKNOWN  # not found: logged, not raised
    with pytest.raises(ConfigError, match="not a model ARN"):
        ModelDeployResult.from_arn("arn:aws:s3:::bucket")
    bad = tmp_path / "bad.json"
    bad.write_text('{"model_arn": "a"}')
    with pytest.raises(ConfigError, match="missing model_name, escrow_uri"):
        ModelDeployResult.load(str(bad))


def test_target_registry():
    assert set(TARGETS) == {"bedrock_od", "bedrock_pt", "sagemaker", "sagemaker_ic", "local"}
    assert target_key(DeployPlatform.SAGEMAKER, components=True) == "sagemaker_ic"
    with pytest.raises(ConfigError, match="only on SageMaker"):
        target_key(DeployPlatform.BEDROCK_OD, components=True)
    with pytest.raises(ConfigError, match="Unknown deploy target 'nope'"):
        get_target("nope")
    for key in TARGETS:
        target = get_target(key)
        assert all(callable(getattr(target, verb)) for verb in ("deploy", "status", "invoke", "delete"))


def test_forge_deployer_region_model_and_bedrock_logs(deployer, fake, capsys):
    with pytest.raises(UnsupportedRegionError, match="ap-south-1"):
        ForgeDeployer(region="ap-south-1", model=Model.NOVA_MICRO)
    with pytest.raises(ConfigError, match="Model enum"):
        ForgeDeployer(region="us-east-1", model="nova-micro")  # type: ignore[arg-type]
    result = deployer.deploy(S3, endpoint_name="logs-od", **FAST)
    deployer.get_logs(result)
    assert f"BEDROCK_OD deployment {result.endpoint.uri} is Active" in capsys.readouterr().out
    assert (
        deployer.get_status_by_arn(
            f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model-deployment/none", DeployPlatform.BEDROCK_OD
        )
        is None
    )
    with pytest.raises(ConfigError, match="get_logs needs"):
        deployer.get_logs()
    assert deployer.delete(result) == [f"Bedrock endpoint {result.endpoint.uri}"] and fake.deployments == {}


def test_sagemaker_endpoint_logs(deployer, fake, capsys):
    result = deployer.deploy(S3, DeployPlatform.SAGEMAKER, endpoint_name="logs-sm", **FAST)
    import time

    now = int(time.time() * 1000)
    logs = plain_client("logs")
    logs.create_log_group(logGroupName="/aws/sagemaker/Endpoints/logs-sm")
    logs.create_log_stream(logGroupName="/aws/sagemaker/Endpoints/logs-sm", logStreamName="primary/i-1")
    logs.put_log_events(
        logGroupName="/aws/sagemaker/Endpoints/logs-sm",
        logStreamName="primary/i-1",
        logEvents=[{"timestamp": now - 5000 + i * 1000, "message": f"line {i}"} for i in range(5)],
    )
    deployer.get_logs(endpoint_arn=result.endpoint.uri, platform=DeployPlatform.SAGEMAKER, limit=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["line 3", "line 4"]  # the newest two, oldest first
    expected = datetime.fromtimestamp((now - 1000) // 1000, UTC).isoformat(timespec="seconds")
    assert lines[1].split(" ", 1)[0] == expected


def test_forge_inference_batch_needs_model_infra_and_method(aws):
    with pytest.raises(ConfigError, match="invoke_batch needs model, infra, method"):
        ForgeInference(region="us-east-1").invoke_batch("j", "s3://b/in", "s3://b/out")
    with pytest.raises(ConfigError, match="get_logs needs"):
        ForgeInference(region="us-east-1").get_logs()
    with pytest.raises(ConfigError, match="applies only to SageMaker"):
        ForgeInference(region="us-east-1").invoke(
            f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model-deployment/d1",
            {"messages": []},
            inference_component_name="x",
        )


def test_single_inference_result_official_positional_form():
    from amzn_nova_forge.model.result import SingleInferenceResult

    plain = SingleInferenceResult("j1", datetime.now(UTC), "", '{"choices": [], "id": "j1"}', None)
    assert plain.response == {"choices": [], "id": "j1"} and plain.streaming_response is None
    assert plain.get()["inference_results"] == {"is_streaming": False, "response": '{"choices": [], "id": "j1"}'}
    streamed = SingleInferenceResult("j2", datetime.now(UTC), "", None, (p for p in ["Hel", "lo"]))
    assert streamed.text == "Hello" and list(streamed.streaming_response or []) == ["Hel", "lo"]
    assert streamed.nonstreaming_response is None
    assert streamed.get()["inference_results"] == {"is_streaming": True, "response": ["Hel", "lo"]}


def test_local_target_status_and_delete(monkeypatch):
    from amzn_nova_forge.manager._local import _deploy as local_deploy
    from amzn_nova_forge.model.result import EndpointInfo

    stopped: list[str] = []
    monkeypatch.setattr(local_deploy, "stop_deployment", lambda url: stopped.append(url) or True)
    info = EndpointInfo(DeployPlatform.LOCAL, "local-ep", "http://127.0.0.1:9", "/tmp/ckpt", None)
    target = get_target("local")
    status, message = target.status(info)
    assert status == "NotRunning" and message  # nothing listens on port 9
    assert target.delete(info) == ["local endpoint http://127.0.0.1:9"] and stopped == ["http://127.0.0.1:9"]


def test_kms_key_from_forge_config_encrypts_the_imported_model(fake):
    from amzn_nova_forge.core import ForgeConfig

    deployer = ForgeDeployer(region="us-east-1", model=Model.NOVA_PRO, config=ForgeConfig(kms_key_id="abc-123"))
    publish = deployer.create_custom_model(S3, **FAST)
    assert fake.models[publish.model_arn]["kms"] == f"arn:aws:kms:us-east-1:{ACCT}:key/abc-123"


def test_customizer_deploy_takes_the_official_arguments(fake):
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    customizer = NovaModelCustomizer(
        Model.NOVA_MICRO, TrainingMethod.SFT_LORA, SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=1)
    )
    first = customizer.deploy(model_artifact_path=S3, endpoint_name="cz-a", **FAST)
    second = customizer.deploy(model_artifact_path=S3, endpoint_name="cz-b", skip_model_reuse=True, **FAST)
    assert first.model_arn != second.model_arn and len(fake.models) == 2
    fake.fail("bedrock", "CreateCustomModelDeployment", "throttling")
    with pytest.raises(DeploymentError, match="ThrottlingException") as ei:
        customizer.deploy(model_artifact_path=S3, endpoint_name="cz-c", skip_model_reuse=True, rollback=True, **FAST)
    assert ei.value.created == [] and "Rolled back: Bedrock custom model" in str(ei.value)
    assert len(fake.models) == 2 and customizer.last_deployment is second
