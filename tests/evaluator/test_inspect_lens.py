"""InspectLens: config validation, the inspect_config.yaml document, benchmark upload and the job (moto)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

from amzn_nova_forge.core.enums import EvaluationTask, Model
from amzn_nova_forge.errors import ConfigError, UnsupportedFeatureError
from amzn_nova_forge.evaluator import _inspect_lens as IL
from amzn_nova_forge.evaluator.inspect_lens_config import InspectLensConfig, check_decoding_overrides

BENCH = "s3://my-bucket/benchmarks/"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-serving:1.0"
ROLE = "arn:aws:iam::123456789012:role/Endpoint"

TASK_SOURCE = """
from inspect_ai import Task, task
import inspect_ai

@task
def boolq_pt():
    return Task()

@task(name="x")
def mmlu_sft(subject: str = "all"):
    return Task()

@inspect_ai.task
async def gsm8k():
    return Task()

# @task
def not_a_task():
    pass

DOC = "@task\\ndef also_not():"
"""


def test_task_names_are_found_by_parsing_not_by_regex() -> None:
    assert IL.task_names(TASK_SOURCE) == {"boolq_pt", "mmlu_sft", "gsm8k"}
    assert IL.task_names("def broken(:") == set()


def test_the_three_inference_scenarios() -> None:
    bedrock = InspectLensConfig(benchmarks_path=BENCH)
    assert bedrock.scenario == "bedrock" and bedrock._infer_scenario() == "bedrock"
    assert bedrock.inference_provider(
        region="us-east-1", default_model_id="amazon.nova-micro-v1:0", model_path=None
    ) == {"bedrock": {"model_id": "amazon.nova-micro-v1:0", "region": "us-east-1"}}
    arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/abc"
    assert bedrock.inference_provider(region="r", default_model_id="d", model_path=arn)["bedrock"]["model_id"] == arn
    with pytest.raises(ConfigError, match="S3 checkpoint, which Bedrock cannot serve"):
        bedrock.inference_provider(region="r", default_model_id="d", model_path="s3://b/ckpt/")

    existing = InspectLensConfig(benchmarks_path=BENCH, endpoint_name="ep-1", context_length="8192")
    assert existing.inference_provider(region="r", default_model_id="d", model_path="s3://b/ckpt/") == {
        "sagemaker_endpoint": {"endpoint_name": "ep-1", "region": "r", "context_length": "8192", "enable_rai": True}
    }
    new = InspectLensConfig(
        benchmarks_path=BENCH,
        model_s3_uri="s3://b/model",
        inference_image_uri=IMAGE,
        endpoint_instance_type="ml.g5.12xlarge",
        endpoint_execution_role_arn=ROLE,
        endpoint_environment={"A": "1"},
        cleanup_endpoint=False,
    )
    ep = new.inference_provider(region="r", default_model_id="d", model_path=None)["sagemaker_endpoint"]
    assert ep["model_s3_uri"] == "s3://b/model/" and ep["instance_type"] == "ml.g5.12xlarge"
    assert ep["execution_role_arn"] == ROLE and ep["environment"] == {"A": "1"} and ep["cleanup_endpoint"] is False


BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    ({"benchmarks_path": None}, "benchmarks_path is required"),
    ({"benchmarks_path": "   "}, "benchmarks_path is required"),
    ({"benchmarks_path": "/local/bench"}, "must be an s3:// URI"),
    ({"tasks": "boolq"}, "tasks must be a list"),
    ({"tasks": ["boolq"]}, r"tasks\[0\] must be a dict"),
    ({"tasks": [{"limit": 3}]}, r"tasks\[0\] needs a 'name'"),
    ({"tasks": [{"name": "a", "limt": 3}]}, "unknown key"),
    ({"tasks": [{"name": "a", "path": "x.txt"}]}, r"tasks\[0\].path"),
    ({"tasks": [{"name": "a", "path": "../x.py"}]}, r"tasks\[0\].path"),
    ({"tasks": [{"name": "a", "path": "/abs/x.py"}]}, r"tasks\[0\].path"),
    ({"tasks": [{"name": "a", "limit": 0}]}, r"tasks\[0\].limit"),
    ({"tasks": [{"name": "a", "epochs": True}]}, r"tasks\[0\].epochs"),
    ({"tasks": [{"name": "a", "task_args": [1]}]}, "task_args must be a dict"),
    ({"output_s3_path": "out/"}, "output_s3_path must be an s3:// URI"),
    ({"output_format": "xml"}, "output_format must be one of"),
    ({"model_s3_uri": "s3://b/m", "inference_image_uri": "nginx:latest"}, "inference_image_uri must be an ECR image"),
    ({"model_s3_uri": "s3://b/m"}, "needs both model_s3_uri and inference_image_uri"),
    ({"inference_image_uri": IMAGE}, "needs both"),
    ({"endpoint_name": "e", "model_s3_uri": "s3://b/m", "inference_image_uri": IMAGE}, "existing endpoint"),
    ({"endpoint_name": "e", "endpoint_instance_type": "ml.g5.xlarge"}, "existing endpoint"),
    ({"endpoint_name": "e", "bedrock_model_id": "amazon.nova-micro-v1:0"}, "Bedrock inference only"),
    ({"endpoint_execution_role_arn": "Endpoint"}, "must be an IAM role ARN"),
    (
        {"endpoint_instance_type": "g5.xlarge", "model_s3_uri": "s3://b/m", "inference_image_uri": IMAGE},
        "start with 'ml.'",
    ),
    ({"endpoint_instance_count": 0}, "endpoint_instance_count"),
    ({"context_length": "8k"}, "context_length must be a positive integer"),
    ({"context_length": 8192}, "context_length must be a positive integer"),
    ({"max_concurrency": "0"}, "max_concurrency"),
    ({"environment": {"A": 1}}, "environment must map strings to strings"),
    ({"endpoint_environment": ["A"]}, "endpoint_environment must map"),
    ({"extra_args": "--x"}, "extra_args must be a list of strings"),
]


@pytest.mark.parametrize(("fields", "match"), BAD_CONFIGS)
def test_bad_configs_say_what_to_fix(fields: dict[str, Any], match: str) -> None:
    fields = {"benchmarks_path": BENCH, **fields}
    with pytest.raises(ConfigError, match=match):
        InspectLensConfig(**fields)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        InspectLensConfig(benchmarks_path="x", output_format="xml", endpoint_instance_count=0)
    assert str(info.value).count("\n  - ") == 3


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"temperature": math.nan}, "must be finite"),
        ({"temperature": 3.0}, "outside"),
        ({"top_p": "0.9"}, "must be a number"),
        ({"top_k": 0}, "not 0"),
        ({"max_tokens": 1.5}, "an integer"),
        ({"max_tokens": True}, "an integer"),
        ({"lr": 1e-5}, "unknown override 'lr'"),
    ],
)
def test_decoding_overrides_are_checked(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_decoding_overrides(overrides)


def test_yaml_document() -> None:
    cfg = InspectLensConfig(
        benchmarks_path=BENCH, tasks=[{"name": "boolq_pt", "limit": 5}], output_format="json", extra_args=["--debug"]
    )
    doc = cfg.to_yaml_dict(
        {"bedrock": {"model_id": "m", "region": "r"}}, "s3://b/res/", {"temperature": 0.7, "max_tokens": 512}
    )
    assert doc == {
        "inference_provider": {"bedrock": {"model_id": "m", "region": "r"}},
        "benchmarks": {"tasks": [{"name": "boolq_pt", "limit": 5}], "s3_path": BENCH},
        "eval": {
            "max_connections": 16,
            "max_retries": 100,
            "timeout": 600,
            "decoding": {"temperature": 0.7, "top_p": 1.0, "top_k": -1, "max_tokens": 512},
            "extra_args": ["--debug"],
        },
        "output": {"s3_path": "s3://b/res/", "output_format": "json"},
    }


def _bench(tmp_path: Path) -> Path:
    root = tmp_path / "bench"
    (root / "mmlu").mkdir(parents=True)
    (root / "tasks.py").write_text(TASK_SOURCE)
    (root / "mmlu" / "mmlu_sft.py").write_text("from inspect_ai import task\n@task\ndef mmlu_anatomy():\n    pass\n")
    (root / "requirements.txt").write_text("inspect-ai\n")
    (root / "notes.md").write_text("not uploaded")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.py").write_text("@task\ndef cached(): pass\n")
    return root


def test_upload_benchmarks_keeps_subfolders(s3_bucket: str, tmp_path: Path) -> None:
    assert IL.upload_benchmarks(str(_bench(tmp_path)), "s3://my-bucket/benchmarks") == BENCH
    keys = sorted(o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="my-bucket")["Contents"])
    assert keys == ["benchmarks/mmlu/mmlu_sft.py", "benchmarks/requirements.txt", "benchmarks/tasks.py"]
    IL.check_task_names(InspectLensConfig(benchmarks_path=BENCH, tasks=[{"name": "boolq"}, {"name": "anatomy"}]))
    with pytest.raises(ConfigError, match=r"\['hellaswag'\] match no @task.*available: \['boolq_pt', 'gsm8k'"):
        IL.check_task_names(InspectLensConfig(benchmarks_path=BENCH, tasks=[{"name": "hellaswag"}]))


@pytest.mark.parametrize(
    ("local", "s3_path", "match"),
    [("missing-dir", "s3://my-bucket/b/", "not an existing folder"), ("bench", "/tmp/b", "must be an s3:// URI")],
)
def test_upload_benchmarks_bad_input(s3_bucket: str, tmp_path: Path, local: str, s3_path: str, match: str) -> None:
    _bench(tmp_path)
    with pytest.raises(ConfigError, match=match):
        IL.upload_benchmarks(str(tmp_path / local), s3_path)


def test_upload_benchmarks_needs_a_task(s3_bucket: str, tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "util.py").write_text("def helper(): pass\n")
    with pytest.raises(ConfigError, match="No @task function"):
        IL.upload_benchmarks(str(tmp_path / "b"), "s3://my-bucket/b/")


def test_run_dry_then_for_real(aws: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager

    role = A.create_role()
    boto3.client("s3").create_bucket(Bucket="my-bucket")
    IL.upload_benchmarks(str(_bench(tmp_path)), BENCH)
    infra = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=1, execution_role=role, kms_key_id="kms-1"
    )
    cfg = InspectLensConfig(
        benchmarks_path=BENCH, tasks=[{"name": "boolq_pt", "limit": 10}], environment={"HF_TOKEN": "t"}
    )
    common: dict[str, Any] = {
        "infra": infra,
        "model": Model.NOVA_MICRO,
        "region": "us-east-1",
        "job_name": "my-inspect-eval-with-a-long-name",
        "config": cfg,
        "output_s3_path": "s3://my-bucket/eval-out/",
        "overrides": {"temperature": 0.2},
        "generated_recipe_dir": str(tmp_path / "recipes"),
    }
    sm = boto3.client("sagemaker", region_name="us-east-1")
    assert IL.run_inspect_lens(**common, dry_run=True) is None
    local = yaml.safe_load((tmp_path / "recipes" / "my-inspect-eval-with-a-long-name_inspect_config.yaml").read_text())
    assert local["inference_provider"] == {
        "bedrock": {"model_id": Model.NOVA_MICRO.bedrock_model_id, "region": "us-east-1"}
    }
    assert local["eval"]["decoding"]["temperature"] == 0.2
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []

    sent = A.capture("sagemaker", "CreateTrainingJob")  # moto does not echo Environment back
    result = IL.run_inspect_lens(**common)
    assert result is not None and result.eval_task is EvaluationTask.INSPECT_LENS
    assert result.eval_output_path == "s3://my-bucket/eval-out/inspectlens-results/"
    assert len(result.job_id) <= 63 and result.job_id.startswith("my-inspect-eval-with-a-lon-")
    job = sm.describe_training_job(TrainingJobName=result.job_id)
    assert (
        job["AlgorithmSpecification"]["TrainingImage"]
        == "763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inspect-ai"
    )
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.large" and job["RoleArn"] == role
    assert sent[0]["Environment"] == {"HF_TOKEN": "t"} and job["OutputDataConfig"]["KmsKeyId"] == "kms-1"
    channel = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    run_id = result.job_id[-36:]
    assert channel == f"s3://my-bucket/eval-out/{run_id}/config/"
    uploaded = yaml.safe_load(A.get(channel + "inspect_config.yaml"))
    assert uploaded == local


def test_run_refuses_missing_config_unknown_task_and_other_runtimes(s3_bucket: str, tmp_path: Path) -> None:
    from amzn_nova_forge.manager import LocalRuntimeManager, SMTJRuntimeManager

    IL.upload_benchmarks(str(_bench(tmp_path)), BENCH)
    smtj = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge", instance_count=1, execution_role="arn:aws:iam::123456789012:role/R"
    )
    base: dict[str, Any] = {
        "model": Model.NOVA_MICRO,
        "region": "us-east-1",
        "job_name": "j",
        "output_s3_path": "s3://my-bucket/o/",
    }
    with pytest.raises(ConfigError, match="needs inspect_lens_config"):
        IL.run_inspect_lens(infra=smtj, config=None, **base)
    with pytest.raises(ConfigError, match="match no @task"):
        IL.run_inspect_lens(
            infra=smtj, config=InspectLensConfig(benchmarks_path=BENCH, tasks=[{"name": "zzz"}]), **base
        )
    with pytest.raises(UnsupportedFeatureError, match="use SMTJRuntimeManager"):
        IL.run_inspect_lens(infra=LocalRuntimeManager(), config=InspectLensConfig(benchmarks_path=BENCH), **base)
    assert boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"] == []


def test_no_nova_recipe_is_built_for_inspect_lens() -> None:
    from amzn_nova_forge.core.enums import Platform, TrainingMethod
    from amzn_nova_forge.errors import RecipeValidationError
    from amzn_nova_forge.recipe import RecipeBuilder

    with pytest.raises(RecipeValidationError, match="inspect_lens_config=InspectLensConfig"):
        RecipeBuilder(
            Model.NOVA_MICRO, TrainingMethod.EVALUATION, Platform.SMTJ, eval_task=EvaluationTask.INSPECT_LENS
        ).build()


def test_forge_evaluator_runs_inspect_lens(aws: object, tmp_path: Path) -> None:
    from amzn_nova_forge.core.config import ForgeConfig
    from amzn_nova_forge.evaluator import ForgeEvaluator
    from amzn_nova_forge.manager import SMTJRuntimeManager

    role = A.create_role()
    boto3.client("s3").create_bucket(Bucket="my-bucket")
    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=1, execution_role=role)
    evaluator = ForgeEvaluator(
        model=Model.NOVA_MICRO,
        infra=infra,
        config=ForgeConfig(output_s3_path="s3://my-bucket/evals/", validation_config={"iam": False, "infra": False}),
    )
    bench = evaluator.upload_benchmarks(str(_bench(tmp_path)), "s3://my-bucket/benchmarks/")
    cfg = InspectLensConfig(benchmarks_path=bench, tasks=[{"name": "gsm8k", "limit": 3}])
    with pytest.raises(ConfigError, match="inspect_lens_config is for EvaluationTask.INSPECT_LENS"):
        evaluator.evaluate(job_name="e", eval_task=EvaluationTask.MMLU, inspect_lens_config=cfg)
    with pytest.raises(ConfigError, match="takes no recipe"):
        evaluator.evaluate(
            job_name="e", eval_task=EvaluationTask.INSPECT_LENS, inspect_lens_config=cfg, recipe_path="r.yaml"
        )
    result = evaluator.evaluate(
        job_name="inspect", eval_task=EvaluationTask.INSPECT_LENS, inspect_lens_config=cfg, overrides={"max_tokens": 64}
    )
    assert result is not None and evaluator.last_evaluation_result is result
    assert result.eval_output_path == "s3://my-bucket/evals/inspectlens-results/"
    status, _ = result.get_job_status()
    assert status.name in ("IN_PROGRESS", "COMPLETED")
