"""readme.txt examples, verbatim (exec of the text copied from the readme), against moto.

Only setup happens around a snippet (moto resources, input files, the one stubbed client where
moto lacks the operations); the snippet text itself is unchanged. Blocks that are shell commands
or IAM policy JSON are not Python and are not run (see docs/spec-coverage.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import _snippets as S
import pytest
from acceptance_support import CHECKPOINT, A, fill, redirect_absolute_dir, star
from botocore.stub import ANY, Stubber

from amzn_nova_forge.core import aws as aws_factory
from amzn_nova_forge.core.enums import DeployPlatform, JobStatus, Model, TrainingMethod

ACCT = "123456789012"
MODEL_ARN = f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model/imported/abc123"
OD_ARN = f"arn:aws:bedrock:us-east-1:{ACCT}:custom-model-deployment/dep123"

# readme.txt, "Quick Start" (the whole block, verbatim).
QUICK_START = """
import time
from amzn_nova_customization_sdk import *

# 1. Load and prepare your dataset
loader = JSONLDatasetLoader(question="input", answer="output")
loader.load("s3://your-bucket/training-data.jsonl")
loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE)
loader.save_data("s3://your-bucket/prepared-data.jsonl")

# 2. Setup runtime
runtime = SMTJRuntimeManager(
    instance_type="ml.p5.48xlarge",
    instance_count=4
)

# 3. Setup MLflow monitoring (optional)
mlflow_monitor = MLflowMonitor(
    tracking_uri="arn:aws:sagemaker:us-east-1:123456:mlflow-app/app-xxx",  # Optional, uses default if not provided
    experiment_name="nova-customization",
    run_name="my-training-run"
)

# 4. Initialize customizer
customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE,
    method=TrainingMethod.SFT_LORA,
    infra=runtime,
    data_s3_path="s3://your-bucket/prepared-data.jsonl",
    mlflow_monitor=mlflow_monitor  # Enable MLflow tracking
)

# 5. Start training
training_result = customizer.train(job_name="my-nova-training")
print(f"Training started: {training_result.job_id}")
training_result.dump() # Save job result as local file so it can be reloaded after python env shutdown

# 6. Check training job results
training_result.get_job_status()  # InProgress, Completed, Failed

# 7. Monitor job log
customizer.get_logs() # Directly get logs of most recent job from customizer object
# Or create CloudWatchLogMonitor from a job result or job id
training_job_monitor = CloudWatchLogMonitor.from_job_result(training_result)
training_job_monitor.show_logs(limit=10)

# 8. Get trained model for evaluation
# Wait until job succeed
while training_result.get_job_status()[0] != JobStatus.COMPLETED:
    if training_result.get_job_status()[0] == JobStatus.FAILED:
        raise RuntimeError(f"Job failed")
    time.sleep(60)

eval_result = customizer.evaluate(
    job_name='my-mmlu-eval-job',
    eval_task=EvaluationTask.MMLU,
    model_path=training_result.model_artifacts.checkpoint_s3_path # Use trained model path for eval
)
# Save job result to current directory with name of <job_id>_<platform>.json
eval_result.dump()
# Or save job result to certain path and customized name
eval_result.dump(file_path='/volume/path/my-path', file_name='my-name.json') 

# Monitor logs
customizer.get_logs() # Directly get logs of most recent job from customizer object
# Or create CloudWatchLogMonitor from a job result or job id
eval_job_monitor = CloudWatchLogMonitor.from_job_result(eval_result)
eval_job_monitor.show_logs()

# Check eval job status and show results
eval_result.get_job_status()
eval_result.show() # Print eval results

# 9. Deploy model to Bedrock for inference
# Note: Defaults to on-demand deployment when `deploy_platform` is not provided
deployment = customizer.deploy(job_result=training_result)
"""


@pytest.fixture
def volume_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The readme's placeholder folder ``/volume/path/my-path``, mapped to a temporary folder."""
    target = tmp_path / "volume" / "path" / "my-path"
    existed = Path("/volume").exists()
    redirect_absolute_dir("/volume/path/my-path", target, monkeypatch)
    yield target
    assert existed or not Path("/volume").exists(), "the snippet wrote outside the temporary folder"


@pytest.fixture
def bedrock_stub(notebook: dict[str, Any]) -> Any:
    """moto implements none of Bedrock's custom-model import/deployment calls: the SDK's bedrock
    client only is answered by botocore's Stubber (which checks requests against the service model)."""
    client = aws_factory.client("bedrock", "us-east-1")
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _od_deploy_responses(stub: Stubber) -> None:
    now = "2026-01-15T12:00:00Z"
    stub.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []}, None)
    stub.add_response(
        "create_custom_model",
        {"modelArn": MODEL_ARN},
        {"modelName": ANY, "modelSourceConfig": {"s3DataSource": {"s3Uri": ANY}}, "modelTags": ANY, "roleArn": ANY},
    )
    stub.add_response(
        "get_custom_model",
        {"modelArn": MODEL_ARN, "modelName": "m", "creationTime": now, "modelStatus": "Active"},
        {"modelIdentifier": MODEL_ARN},
    )
    stub.add_response("create_custom_model_deployment", {"customModelDeploymentArn": OD_ARN}, None)
    stub.add_response(
        "get_custom_model_deployment",
        {
            "customModelDeploymentArn": OD_ARN,
            "modelDeploymentName": "n",
            "modelArn": MODEL_ARN,
            "createdAt": now,
            "status": "Active",
        },
        {"customModelDeploymentIdentifier": OD_ARN},
    )


def test_quick_start_runs_end_to_end(
    notebook: dict[str, Any], bedrock_stub: Stubber, volume_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    A.put(
        "s3://your-bucket/training-data.jsonl",
        "".join(json.dumps({"input": f"What is {i}+{i}?", "output": str(2 * i)}) + "\n" for i in range(5)),
    )
    _od_deploy_responses(bedrock_stub)
    ns: dict[str, Any] = {}
    exec(QUICK_START, ns)

    out = capsys.readouterr().out
    training_result = ns["training_result"]
    assert training_result.job_id.startswith("my-nova-training")
    checkpoint = CHECKPOINT.format(job=training_result.job_id)
    assert f"Training started: {training_result.job_id}" in out
    assert (notebook["work"] / f"{training_result.job_id}_SMTJ.json").is_file()  # training_result.dump()
    assert "reduced_train_loss=2.500" in out  # the job's logs were printed (get_logs / show_logs)
    # step 8: the trained checkpoint (from manifest.json) was evaluated
    eval_result = ns["eval_result"]
    eval_req = notebook["creates"][1]
    assert eval_req["TrainingJobName"] == eval_result.job_id
    recipe = yaml_of(eval_req)
    assert recipe["run"]["model_name_or_path"] == checkpoint
    assert (notebook["work"] / f"{eval_result.job_id}_SMTJ.json").is_file()
    saved = json.loads((volume_path / "my-name.json").read_text())
    assert saved["job_id"] == eval_result.job_id
    assert eval_result.get_job_status()[0] is JobStatus.COMPLETED
    assert "0.71" in out  # eval_result.show() printed the MMLU accuracy
    # step 9: on-demand Bedrock deployment of the trained checkpoint
    deployment = ns["deployment"]
    assert deployment.endpoint.platform is DeployPlatform.BEDROCK_OD
    assert deployment.endpoint.uri == OD_ARN
    assert deployment.endpoint.model_artifact_path == checkpoint


def yaml_of(create_request: dict[str, Any]) -> dict[str, Any]:
    """The recipe a CreateTrainingJob request runs (uploaded next to the job's first input channel)."""
    import yaml

    uri = create_request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    return dict(yaml.safe_load(A.get(uri + "recipe.yaml")))


# --------------------------------------------------------------------------------------------
# The readme's other Python blocks (those no area test ran verbatim): see docs/spec-coverage.md.
# --------------------------------------------------------------------------------------------


def _rigs(cluster: str = "my-hyperpod-cluster") -> None:
    """The HyperPod cluster the readme's SMHP examples name (moto, InService, a p5 group of 4)."""
    A.plain_client("sagemaker").create_cluster(
        ClusterName=cluster,
        InstanceGroups=[
            {
                "InstanceCount": 4,
                "InstanceGroupName": "worker-group",
                "InstanceType": "ml.p5.48xlarge",
                "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/", "OnCreate": "on_create.sh"},
                "ExecutionRole": f"arn:aws:iam::{ACCT}:role/NovaForgeExecutionRole",
                "ThreadsPerCore": 1,
            }
        ],
    )


def _smtj_customizer(ns: dict[str, Any]) -> Any:
    A.put("s3://bucket/data.jsonl", A.SFT_JSONL)
    infra = ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=4)
    return ns["NovaModelCustomizer"](
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path="s3://bucket/data.jsonl",
        output_s3_path="s3://bucket/output/",
    )


def test_runtime_setup_examples(aws: Any) -> None:
    from amzn_nova_forge.core.enums import Platform

    ns: dict[str, Any] = {}
    exec(S.README_SMTJ_RUNTIME, ns)
    assert (ns["runtime"].platform, ns["runtime"].instance_count) == (Platform.SMTJ, 4)
    exec(S.README_SMHP_RUNTIME, ns)
    assert (ns["runtime"].platform, ns["runtime"].cluster_name, ns["runtime"].namespace) == (
        Platform.SMHP,
        "my-hyperpod-cluster",
        "kubeflow",
    )


def test_customizer_options_example_with_data_mixing(notebook: dict[str, Any]) -> None:
    """ "Initialize the customizer": ``runtime_manager`` is the HyperPod runtime of the block above
    (data mixing needs HyperPod)."""
    _rigs()
    ns = star("amzn_nova_customization_sdk")
    ns["runtime_manager"] = ns["SMHPRuntimeManager"](
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hyperpod-cluster", namespace="kubeflow"
    )
    exec(S.README_CUSTOMIZER_OPTIONS, ns)
    c = ns["customizer"]
    assert (c.model_path, c.generated_recipe_dir, c.output_s3_path) == (
        "custom/model/path",
        "directory-path",
        "s3://bucket/output/",
    )
    assert c.data_mixing_enabled and c.mlflow_monitor.run_name == "sft-experiment-1"
    assert c.get_data_mixing_config()["customer_data_percent"] == 50


def test_data_mixing_example(notebook: dict[str, Any]) -> None:
    _rigs()
    ns = star("amzn_nova_customization_sdk")
    # The readme writes SMHPRuntimeManager(...) for "your HyperPod runtime" (its arguments: the block above).
    exec(
        fill(
            S.README_DATA_MIXING,
            {
                "SMHPRuntimeManager(...)": (
                    'SMHPRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, '
                    'cluster_name="my-hyperpod-cluster", namespace="kubeflow")'
                )
            },
        ),
        ns,
    )
    assert ns["customizer"].get_data_mixing_config() == {
        "customer_data_percent": 100,
        "nova_code_percent": 0,
        "nova_general_percent": 0,
    }


def test_evaluate_dump_and_load_example(notebook: dict[str, Any]) -> None:
    from amzn_nova_forge.model.result import SMTJEvaluationResult

    ns = star("amzn_nova_customization_sdk")
    ns["customizer"] = _smtj_customizer(ns)
    # the block's last line loads 'my-path/my-job-result.json': a result saved there by an earlier session
    earlier = ns["customizer"].evaluate(
        job_name="earlier-eval", eval_task=ns["EvaluationTask"].MMLU, model_path="s3://bucket/model-artifacts/"
    )
    earlier.dump(file_path="my-path", file_name="my-job-result.json")

    exec(S.README_EVALUATE, ns)

    req = notebook["creates"][1]
    job_id = req["TrainingJobName"]
    assert job_id.startswith("model-evaluation")
    recipe = yaml_of(req)
    assert recipe["evaluation"]["subtask"] == "abstract_algebra"
    assert recipe["inference"]["max_new_tokens"] == 2048 and recipe["inference"]["top_p"] == 0.9
    assert (notebook["work"] / f"{job_id}_SMTJ.json").is_file()
    assert json.loads((notebook["work"] / "my/custom/path/my-custom-name.json").read_text())["job_id"] == job_id
    loaded = ns["eval_result"]
    assert isinstance(loaded, SMTJEvaluationResult) and loaded.job_id == earlier.job_id
    assert loaded.get()["results"]["mmlu|0"]["accuracy"] == 0.71


def test_batch_inference_example(notebook: dict[str, Any]) -> None:
    ns = star("amzn_nova_customization_sdk")
    ns["customizer"] = _smtj_customizer(ns)
    A.put("s3://bucket/inference-input.jsonl", '{"query": "What is 2+2?", "response": "4"}\n')
    exec(S.README_BATCH_INFERENCE, ns)
    rows = [json.loads(x) for x in A.get("s3://bucket/output/inference_results.jsonl").decode().splitlines()]
    assert [r["inference_response"] for r in rows] == ["Paris", "4"]
    assert ns["inference_result"].get_job_status()[0] is JobStatus.COMPLETED


def test_get_logs_example(notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    ns = star("amzn_nova_customization_sdk")
    ns["customizer"] = _smtj_customizer(ns)
    ns["customizer"].train(job_name="my-training-job")
    capsys.readouterr()
    exec(S.README_GET_LOGS, ns)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 40  # 20 lines of the job, twice
    assert "global_step=0.000" in lines[0] and "global_step=0.000" in lines[20]


def test_mlflow_example(notebook: dict[str, Any]) -> None:
    ns = star("amzn_nova_customization_sdk")
    ns["runtime_manager"] = ns["SMTJRuntimeManager"](instance_type="ml.p5.48xlarge", instance_count=4)
    exec(S.README_MLFLOW, ns)
    monitor = ns["customizer"].mlflow_monitor
    assert monitor is ns["mlflow_monitor"]
    assert (monitor.experiment_name, monitor.run_name) == ("nova-customization", "sft-run-1")


def test_monitor_example(notebook: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from acceptance_support import log_lines

    ns = star("amzn_nova_customization_sdk")
    ns["customizer"] = _smtj_customizer(ns)
    # ``my_evaluation_job_result``: a result of an earlier evaluation (the readme's placeholder name)
    ns["my_evaluation_job_result"] = ns["customizer"].evaluate(
        job_name="earlier-eval", eval_task=ns["EvaluationTask"].MMLU, model_path="s3://bucket/model-artifacts/"
    )
    # the job "job-id" of from_job_id, with its log stream (events now: after the example's start time;
    # CloudWatch, and moto, reject events older than 14 days)
    import time

    now = int(time.time() * 1000)
    logs = A.plain_client("logs")
    logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="job-id/algo-1-1762027200")
    logs.put_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName="job-id/algo-1-1762027200",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(log_lines())],
    )
    capsys.readouterr()
    exec(S.README_MONITOR, ns)
    assert ns["monitor"].job_id == "job-id"
    assert len(ns["logs"]) == 20 and "global_step=19.000" in ns["logs"][-1]["message"]
    assert len(capsys.readouterr().out.splitlines()) == 20


def test_dry_run_example(notebook: dict[str, Any], tmp_path: Path) -> None:
    """The readme's dry-run block is not valid Python (``...`` after keyword arguments is a
    SyntaxError); its ``...`` stands for "your other arguments" and is filled in here."""
    with pytest.raises(SyntaxError):
        compile(S.README_DRY_RUN, "readme", "exec")
    ns = star("amzn_nova_customization_sdk")
    ns["customizer"] = _smtj_customizer(ns)
    ns["customizer"].generated_recipe_dir = str(tmp_path / "recipes")
    code = fill(
        S.README_DRY_RUN,
        {
            "    dry_run=True,\n    ...\n)\n\n# Evaluation": "    dry_run=True,\n)\n\n# Evaluation",
            "    dry_run=True,\n    ...\n)\n": "    dry_run=True,\n    eval_task=EvaluationTask.MMLU,\n"
            '    model_path="s3://bucket/model-artifacts/",\n)\n',
        },
    )
    exec(code, ns)
    assert notebook["creates"] == []  # nothing started
    names = sorted(p.name for p in (tmp_path / "recipes").glob("*.yaml"))
    assert len(names) == 2 and names[0].startswith("evaluate") and names[1].startswith("train")


def test_explicit_execution_role_example(notebook: dict[str, Any]) -> None:
    """The readme's explicit-role block lacks a comma after ``execution_role=...`` (a SyntaxError);
    with that comma it runs (Nova 2 Lite SFT then refuses ml.g5.12xlarge at train time, see
    tests/model/test_train.py::test_readme_explicit_execution_role_example_and_instance_matrix)."""
    with pytest.raises(SyntaxError):
        compile(S.README_EXPLICIT_ROLE, "readme", "exec")
    A.create_role("MyExecutionRole")
    A.put("s3://input-bucket/input.jsonl", A.SFT_JSONL)
    ns = star("amzn_nova_customization_sdk")
    exec(fill(S.README_EXPLICIT_ROLE, {"MyExecutionRole' #": "MyExecutionRole', #"}), ns)
    infra = ns["customizer"].infra
    assert infra.execution_role == "arn:aws:iam::123456789012:role/MyExecutionRole"
    assert (infra.instance_type, infra.instance_count) == ("ml.g5.12xlarge", 1)
