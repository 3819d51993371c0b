"""End to end over real HTTP (ThreadedMotoServer on 127.0.0.1), results that survive a restart
(dump here, load and query in a fresh Python process), the CLI, and dry runs with no network."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

from amzn_nova_forge.core.enums import JobStatus, Model, TrainingMethod

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _fresh_python(code: str, cwd: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _reset(url: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).read()


@pytest.fixture
def server(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    _reset(moto_server)  # the server's backends are process-wide: start from a clean account
    role = A.assume_role(monkeypatch)
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    A.allow_simulation()  # moto (server too) has no SimulatePrincipalPolicy: answered client-side
    monkeypatch.chdir(tmp_path)
    yield role
    _reset(moto_server)


def test_train_over_http_then_status_and_checkpoint_in_a_fresh_process(server: str, tmp_path: Path) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    infra = SMTJRuntimeManager(
        instance_type="ml.p5.48xlarge",
        instance_count=2,
        kms_key_id="kms-1",
        encrypt_inter_container_traffic=True,
        subnets=["subnet-1"],
        security_group_ids=["sg-1"],
    )
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path="s3://my-bucket/training-data/",
        output_s3_path="s3://my-bucket/output/",
    )
    result = customizer.train(job_name="e2e-job")
    saved = result.dump()
    assert saved == Path(f"{result.job_id}_SMTJ.json")

    # what the (HTTP) service recorded
    job = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(TrainingJobName=result.job_id)
    assert job["RoleArn"] == server
    assert job["OutputDataConfig"]["KmsKeyId"] == "kms-1"
    assert job["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith("nova-fine-tune-repo:SM-TJ-SFT-latest")
    assert {c["ChannelName"] for c in job["InputDataConfig"]} == {"recipe", "train"}

    ckpt = "s3://customer-escrow-123456789012-smtj-x/e2e/checkpoints/"
    A.put(
        f"s3://my-bucket/output/{result.job_id}/output/output.tar.gz",
        A.tar_gz({"manifest.json": json.dumps({"checkpoint_s3_bucket": ckpt}).encode()}),
    )
    out = _fresh_python(
        "import json\n"
        "from amzn_nova_forge.model.result import BaseJobResult\n"
        f"r = BaseJobResult.load({str(saved)!r})\n"
        "s, raw = r.get_job_status()\n"
        "print(json.dumps({'cls': type(r).__name__, 'status': s.name, 'raw': raw, 'method': r.method.value,\n"
        "  'model': r.model_type.name, 'ckpt': r.model_artifacts.checkpoint_s3_path, 'job': r.job_id,\n"
        "  'started': r.started_time.isoformat()}))\n",
        tmp_path,
    )
    assert out == {
        "cls": "SMTJTrainingResult",
        "status": "COMPLETED",
        "raw": "Completed",
        "method": "sft_lora",
        "model": "NOVA_MICRO",
        "ckpt": ckpt,
        "job": result.job_id,
        "started": result.started_time.isoformat(),
    }

    # the CLI reads the same file in another fresh process
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run(
        [sys.executable, "-m", "amzn_nova_forge", "status", str(saved), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert (status["status"], status["checkpoint_s3_path"]) == ("COMPLETED", ckpt)


def test_cli_train_from_yaml_over_http(server: str, tmp_path: Path) -> None:
    from amzn_nova_forge.cli._main import main

    (tmp_path / "job.yaml").write_text(
        yaml.safe_dump(
            {
                "model": "NOVA_LITE_2",
                "method": "sft_lora",
                "job_name": "cli-job",
                "data_s3_path": "s3://my-bucket/training-data/train.jsonl",
                "output_s3_path": "s3://my-bucket/output/",
                "infra": {"platform": "SMTJ", "instance_type": "ml.p5.48xlarge", "instance_count": 4},
                "overrides": {"max_steps": 20},
            }
        )
    )
    assert main(["train", "--config", "job.yaml", "--override", "lr=5e-6", "--save-dir", str(tmp_path)]) == 0
    (saved,) = tmp_path.glob("cli-job-*_SMTJ.json")
    job_id = json.loads(saved.read_text())["job_id"]
    recipe = yaml.safe_load(A.get(f"s3://my-bucket/output/{job_id}/input/recipe/recipe.yaml"))
    assert recipe["training_config"]["max_steps"] == 20
    assert recipe["training_config"]["optim_config"]["lr"] == 5e-6
    assert main(["status", str(saved)]) == 0
    assert main(["train", "--config", "job.yaml", "--dry-run"]) == 0
    jobs = boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 1  # the dry run created nothing


class _NoNetwork:
    def __call__(self, *a: Any, **k: Any) -> Any:
        raise AssertionError("a dry run with AWS checks off must not create any AWS client")


def test_dry_run_without_checks_makes_no_network_call(
    no_aws_credentials: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from amzn_nova_forge.core import aws as aws_factory
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    monkeypatch.setattr(aws_factory, "client", _NoNetwork())
    monkeypatch.setattr(socket.socket, "connect", _NoNetwork())
    customizer = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4),
        data_s3_path="s3://bucket/data.jsonl",
        validation_config={"iam": False, "infra": False},
        generated_recipe_dir=str(tmp_path / "recipes"),
    )
    # Training dry run
    out = customizer.train(
        job_name="train_dry_run",
        dry_run=True,
        overrides={"max_steps": 50},
    )
    assert out is None and customizer.job_result is None
    (recipe_file,) = (tmp_path / "recipes").glob("train-dry-run-*.yaml")
    recipe = yaml.safe_load(recipe_file.read_text())
    assert recipe["training_config"]["max_steps"] == 50
    assert recipe["run"]["data_s3_path"] == "s3://bucket/data.jsonl"
    # invalid input is still caught in a dry run
    with pytest.raises(ValueError, match="max_steps"):
        customizer.train(job_name="train_dry_run", dry_run=True, overrides={"max_steps": 1})


def test_dry_run_with_checks_validates_but_creates_nothing(
    aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    A.assume_role(monkeypatch)
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    sims = A.allow_simulation()
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2),
        data_s3_path="s3://my-bucket/training-data/",
        generated_recipe_dir=str(tmp_path),
    )
    assert customizer.train(job_name="dry", dry_run=True) is None
    assert sims  # the IAM check ran
    assert boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"] == []
    assert [b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]] == ["my-bucket"]
    assert customizer.output_s3_path is None  # the default bucket is only created for a real job


def test_dump_and_load_round_trip_every_training_result(tmp_path: Path) -> None:
    from amzn_nova_forge.model.result import BaseJobResult
    from amzn_nova_forge.model.result._training import (
        BedrockTrainingResult,
        ModelArtifacts,
        SMHPTrainingResult,
        SMTJServerlessTrainingResult,
        SMTJTrainingResult,
    )

    arts = ModelArtifacts(checkpoint_s3_path="s3://c/", output_s3_path="s3://o/", output_model_arn=None)
    results = [
        SMTJTrainingResult("j1", TrainingMethod.SFT_LORA, None, arts, Model.NOVA_LITE, region="us-west-2"),
        SMTJServerlessTrainingResult("j2", "sft_full", None, arts, "NOVA_PRO"),
        SMHPTrainingResult("j3", TrainingMethod.CPT, None, arts, Model.NOVA_LITE_2, "my-cluster", "default"),
        BedrockTrainingResult(
            "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abc",
            TrainingMethod.RFT_LORA,
            None,
            ModelArtifacts(output_model_arn="arn:m"),
            Model.NOVA_LITE_2,
            extras={"job_name": "abc"},
        ),
    ]
    paths = [r.dump(file_path=str(tmp_path)) for r in results]
    assert paths[3].name == "arn-aws-bedrock-us-east-1-123456789012-model-customization-job-abc_BEDROCK.json"
    code = (
        "import json\nfrom amzn_nova_forge.model.result import BaseJobResult\nout = []\n"
        f"for p in {[str(p) for p in paths]!r}:\n"
        "    r = BaseJobResult.load(p)\n"
        "    out.append([type(r).__name__, r.to_dict()])\n"
        "print(json.dumps(out))\n"
    )
    loaded = _fresh_python(code, tmp_path)
    for original, (cls, data) in zip(results, loaded, strict=True):
        assert cls == type(original).__name__
        assert data == json.loads(json.dumps(original.to_dict(), default=str))
    smhp = BaseJobResult.load(str(paths[2]))
    assert (smhp.cluster_name, smhp.namespace) == ("my-cluster", "default")  # type: ignore[attr-defined]
    assert smhp.model_artifacts.checkpoint_s3_path == "s3://c/"


def test_unknown_status_is_not_failed_after_load(aws: Any, tmp_path: Path) -> None:
    from amzn_nova_forge.model.result import BaseJobResult
    from amzn_nova_forge.model.result._training import SMTJTrainingResult

    sm = boto3.client("sagemaker", region_name="us-east-1")
    sm.create_training_job(
        TrainingJobName="j-stop",
        RoleArn="arn:aws:iam::123456789012:role/R",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://my-bucket/output/"},
        ResourceConfig={"InstanceType": "ml.p5.48xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    path = SMTJTrainingResult("j-stop", TrainingMethod.SFT_LORA, region="us-east-1").dump(file_path=str(tmp_path))
    A.set_training_status("j-stop", "Stopping")
    loaded = BaseJobResult.load(str(path))
    assert loaded.get_job_status() == (JobStatus.IN_PROGRESS, "Stopping")
    assert loaded.model_artifacts.checkpoint_s3_path is None  # type: ignore[attr-defined] - not completed
    A.set_training_status("j-stop", "Stopped")
    assert loaded.get_job_status() == (JobStatus.STOPPED, "Stopped")
