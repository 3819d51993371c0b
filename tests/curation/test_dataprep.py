"""Filters submitted as AWS jobs: request shapes on moto, the job's entry point run end to end.

moto records ``CreateTrainingJob`` / Glue ``CreateJob``+``StartJobRun`` but runs nothing, so the
tests play the container: right after submission they run the job's entry point
(:func:`amzn_nova_forge.dataset._curation._job.run_job`) with exactly the arguments the
request carries (SageMaker hands HyperParameters to the container the same way).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from amzn_nova_forge.core.enums import FilterMethod, SMTJRuntimeMode
from amzn_nova_forge.dataset import JSONLDatasetLoader
from amzn_nova_forge.dataset._curation import _job
from amzn_nova_forge.errors import ConfigError, JobFailedError
from amzn_nova_forge.manager import GlueRuntimeManager, SMTJDataPrepRuntimeManager, SMTJRuntimeManager, _training_job
from tests.curation.conftest import random_docs

BUCKET = "curation-data"
ARTIFACTS = "curation-artifacts"


@pytest.fixture
def s3(aws):
    c = aws.client("s3")
    for b in (BUCKET, ARTIFACTS):
        c.create_bucket(Bucket=b)
    return c


@pytest.fixture
def run_submitted_jobs(monkeypatch):
    """After CreateTrainingJob reaches moto, run the job's entry point with its HyperParameters."""
    seen: list[dict] = []
    real = _training_job.create_training_job_once

    def create_and_run(request, region):
        name = real(request, region)
        seen.append(request)
        _job.run_job(request["HyperParameters"])
        return name

    monkeypatch.setattr(_training_job, "create_training_job_once", create_and_run)
    return seen


def _records():
    docs = random_docs(40, seed=5)
    return [{"id": i, "text": t} for i, t in enumerate(docs)] + [
        {"id": "dup", "text": docs[3]},
        {"id": "x", "text": "tiny"},
    ]


def test_smtj_data_prep_mode_runs_the_pipeline_as_a_training_job(s3, run_submitted_jobs):
    loader = JSONLDatasetLoader.from_records(_records())
    manager = SMTJRuntimeManager(
        "ml.m5.2xlarge",
        1,
        execution_role="arn:aws:iam::123456789012:role/DataPrep",
        region="us-east-1",
        s3_artifact_bucket=ARTIFACTS,
        keep_alive_seconds=300,
        poll_interval=5,
        max_wait_time=600,
    )
    loader.filter(
        method=FilterMethod.DEFAULT_TEXT_FILTER, output_path=f"s3://{BUCKET}/run/text/", runtime_manager=manager
    ).filter(method=FilterMethod.EXACT_DEDUP, output_path=f"s3://{BUCKET}/run/dedup/", runtime_manager=manager)
    loader.execute()
    assert manager.mode is SMTJRuntimeMode.DATA_PREP  # switched by filter, as the official SDK does
    assert [r["id"] for r in loader] == list(range(40))
    res = loader.last_curation
    assert res.executor == "smtj"
    assert [(s.method, s.total_count, s.filtered_count) for s in res.steps] == [
        ("default_text_filter", 42, 1),
        ("exact_dedup_filter", 41, 1),
    ]
    (request,) = run_submitted_jobs
    desc = boto3.client("sagemaker", "us-east-1").describe_training_job(TrainingJobName=request["TrainingJobName"])
    assert desc["RoleArn"] == "arn:aws:iam::123456789012:role/DataPrep"
    assert desc["ResourceConfig"]["InstanceType"] == "ml.m5.2xlarge"
    assert desc["ResourceConfig"]["KeepAlivePeriodInSeconds"] == 300
    assert desc["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600  # the data-prep default
    spec = request["AlgorithmSpecification"]
    assert spec["TrainingImage"].startswith("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:")
    assert spec["ContainerEntrypoint"][:2] == ["bash", "-c"]
    assert spec["ContainerEntrypoint"][2].endswith("python -m amzn_nova_forge.dataset._curation._job")
    assert request["Environment"]["PYTHONPATH"] == "/opt/ml/input/data/code/amzn_nova_forge.zip"
    hp = request["HyperParameters"]
    assert hp["pipeline_id"] == "nova_forge_curation"
    assert hp["input_path"] == f"s3://{BUCKET}/run/text/_input/part-00000.jsonl"
    assert [s["method"] for s in json.loads(hp["steps"])] == ["default_text_filter", "exact_dedup_filter"]
    code = request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert code.startswith(f"s3://{ARTIFACTS}/nova-forge/smtj-dataprep-artifacts/{request['TrainingJobName']}/code/")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {"run/text/_summary.json", "run/text/dropped.jsonl", "run/dedup/_curation.json"} <= keys
    dropped = s3.get_object(Bucket=BUCKET, Key="run/dedup/dropped.jsonl")["Body"].read().decode()
    assert json.loads(dropped)["record"]["id"] == "dup"


def test_failed_job_raises_with_sagemaker_reason(s3, monkeypatch):
    from moto.sagemaker.models import sagemaker_backends

    real = _training_job.create_training_job_once

    def create_and_fail(request, region):
        name = real(request, region)
        job = sagemaker_backends["123456789012"]["us-east-1"].training_jobs[name]
        job.training_job_status = "Failed"
        job.failure_reason = "AlgorithmError: out of disk"
        return name

    monkeypatch.setattr(_training_job, "create_training_job_once", create_and_fail)
    loader = JSONLDatasetLoader.from_records(_records())
    manager = SMTJDataPrepRuntimeManager("ml.m5.xlarge", region="us-east-1", s3_artifact_bucket=ARTIFACTS)
    with pytest.raises(JobFailedError, match="ended Failed: AlgorithmError: out of disk"):
        loader.filter(
            method=FilterMethod.EXACT_DEDUP, output_path=f"s3://{BUCKET}/f/", runtime_manager=manager
        ).execute()


def test_remote_filters_need_s3_output(aws):
    loader = JSONLDatasetLoader.from_records(_records())
    manager = SMTJDataPrepRuntimeManager("ml.m5.xlarge", region="us-east-1", s3_artifact_bucket=ARTIFACTS)
    with pytest.raises(ConfigError, match="output_path 's3://bucket/prefix/'"):
        loader.filter(method=FilterMethod.EXACT_DEDUP, runtime_manager=manager).execute()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instance_type": "m5.xlarge"}, "instance_type must look like"),
        ({"keep_alive_seconds": 7200}, "at most 3600"),
        ({"poll_interval": 0}, "poll_interval must be an integer >= 1"),
        ({"subnets": ["subnet-1"]}, "both subnets and security_group_ids"),
    ],
)
def test_data_prep_manager_arguments_are_checked(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SMTJDataPrepRuntimeManager(**{"instance_type": "ml.m5.xlarge", "region": "us-east-1", **kwargs})


def test_set_mode_is_one_way():
    m = SMTJRuntimeManager("ml.m5.xlarge", 1, region="us-east-1")
    assert m.mode is SMTJRuntimeMode.TRAINING
    m.set_mode(SMTJRuntimeMode.DATA_PREP)
    m.set_mode(SMTJRuntimeMode.DATA_PREP)  # idempotent
    with pytest.raises(ConfigError, match="back to TRAINING"):
        m.set_mode(SMTJRuntimeMode.TRAINING)
    with pytest.raises(ConfigError, match="takes an SMTJRuntimeMode"):
        m.set_mode("data_prep_mode")


def test_glue_runtime_builds_and_submits_the_glue_job(s3, monkeypatch):
    glue_calls: list[dict] = []
    from amzn_nova_forge.manager import _dataprep_glue

    real_client = _dataprep_glue.client

    def glue_client(service, region=None):
        c = real_client(service, region)
        if service == "glue":
            start = c.start_job_run

            def start_and_run(**kw):
                glue_calls.append(kw)
                _job.run_job(json.loads(kw["Arguments"]["--config-json"]))
                return start(**kw)

            c.start_job_run = start_and_run
        return c

    monkeypatch.setattr(_dataprep_glue, "client", glue_client)
    manager = GlueRuntimeManager(
        glue_role_name="GlueRole", num_workers=3, region="us-east-1", s3_artifact_bucket=ARTIFACTS, poll_interval=1
    )
    loader = JSONLDatasetLoader.from_records(_records())
    loader.filter(method=FilterMethod.EXACT_DEDUP, output_path=f"s3://{BUCKET}/g/", runtime_manager=manager).execute()
    assert len(loader) == 41 and loader.last_curation.executor == "glue"
    job = boto3.client("glue", "us-east-1").get_job(JobName="nova-forge-dataprep")["Job"]
    assert job["Role"] == "arn:aws:iam::123456789012:role/GlueRole"
    assert job["Command"] == {
        "Name": "glueray",
        "ScriptLocation": f"s3://{ARTIFACTS}/nova-forge/glue-artifacts/nova_forge_curation.py",
        "PythonVersion": "3.9",
        "Runtime": "Ray2.4",
    }
    assert job["WorkerType"] == "Z.2X" and job["GlueVersion"] == "4.0"
    assert (
        job["DefaultArguments"]["--s3-py-modules"] == f"s3://{ARTIFACTS}/nova-forge/glue-artifacts/amzn_nova_forge.zip"
    )
    assert glue_calls[0]["NumberOfWorkers"] == 3
    assert (
        "Glue for Ray" in (GlueRuntimeManager.__doc__ or "") and "closed to new customers" in GlueRuntimeManager.__doc__
    )
    with pytest.raises(ConfigError, match="Z.2X"):
        GlueRuntimeManager(worker_type="G.1X")


def test_job_entry_point_runs_from_the_shipped_zip(tmp_path):
    """The zip the job gets is enough to run the pipeline (a subprocess, local paths)."""
    from amzn_nova_forge.dataset._curation._params import build_step
    from amzn_nova_forge.manager._dataprep import package_zip

    zpath = tmp_path / "amzn_nova_forge.zip"
    zpath.write_bytes(package_zip())
    assert "amzn_nova_forge/dataset/_curation/_job.py" in zipfile.ZipFile(zpath).namelist()
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    steps = [build_step(FilterMethod.EXACT_DEDUP, {}), build_step(FilterMethod.FUZZY_DEDUP, {"ngram_size": 5})]
    out = [str(tmp_path / "o1"), str(tmp_path / "o2")]
    cfg = tmp_path / "hp.json"
    cfg.write_text(json.dumps(_job.job_arguments(str(src), steps, out, out[-1])))
    env = {**os.environ, "PYTHONPATH": str(zpath)}
    code = (
        "import amzn_nova_forge, sys; assert amzn_nova_forge.__file__.startswith(sys.argv[1]), amzn_nova_forge.__file__;"
        "from amzn_nova_forge.dataset._curation._job import main; sys.exit(main(['--config', sys.argv[2]]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(zpath), str(cfg)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads((tmp_path / "o2" / "_curation.json").read_text())
    assert (result["input_count"], result["output_count"]) == (42, 41)
    kept = Path(tmp_path / "o2" / "part-00000.jsonl").read_text().splitlines()
    assert len(kept) == 41
