"""Batch sample tracing: the step's data lines are found from the hash logs, locally and on S3 (moto)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import boto3
import pytest

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import BatchTraceError, ConfigError
from amzn_nova_forge.trainer.utils import batch_trace as bt


def _container_hash(content: str) -> str:
    """What the training container logs (independent re-statement of the rule)."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def _cpt_rows(n: int) -> list[dict[str, str]]:
    return [{"text": f"document number {i} [DOC]second part {i}"} for i in range(n)]


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _logs(root: Path, per_rank: dict[int, dict[int, list[str]]]) -> Path:
    log_dir = root / "job-1" / "batch_tracing"
    for rank, steps in per_rank.items():
        _write(
            log_dir / "node0" / f"batch_hashes_dp{rank}.jsonl",
            [json.dumps({"step": s, "hashes": h}) for s, h in steps.items()],
        )
    return log_dir


def test_fingerprints_follow_the_container_rule() -> None:
    assert bt.fingerprint_record({"text": "a [DOC]b"}) == _container_hash("a [DOC] b")
    assert bt.fingerprint_record({"text": "a[DOC] b [DOC]  "}) == _container_hash("a [DOC] b")
    msgs = [{"role": "user", "content": "é"}]
    assert bt.fingerprint_record({"messages": msgs}) == _container_hash(
        json.dumps(msgs, sort_keys=True, ensure_ascii=False)
    )
    assert bt.fingerprint_record({"conversations": msgs}) == bt.fingerprint_record({"messages": msgs})
    assert bt.fingerprint_record({"other": 1}) is None


def test_finds_the_lines_of_one_step_across_ranks(tmp_path: Path) -> None:
    rows = _cpt_rows(50)
    data = tmp_path / "train.jsonl"
    _write(data, [json.dumps(r) for r in rows])
    fp = [bt.fingerprint_record(r) for r in rows]
    foreign = "0123456789abcdef"  # a data-mixing sample: not in the user's file
    log_dir = _logs(tmp_path, {0: {7: [fp[3], fp[40]], 8: [fp[1]]}, 1: {7: [fp[12], foreign], 8: [fp[2]]}})
    out = tmp_path / "step7.jsonl"

    report = bt.trace_step(str(data), str(log_dir), 7, str(out))

    assert report.samples == 4 and report.unmatched == 1
    assert report.lines == ((3, 0), (12, 1), (40, 0))
    assert [json.loads(x) for x in out.read_text().splitlines()] == [rows[3], rows[12], rows[40]]
    assert bt.run(str(data), str(log_dir), 8, str(tmp_path / "s8.jsonl")) == tmp_path / "s8.jsonl"
    assert bt.run(str(data), str(log_dir), 99, str(tmp_path / "none.jsonl")) is None
    assert not (tmp_path / "none.jsonl").exists()


def test_samples_list_form_and_default_output_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rows = _cpt_rows(5)
    _write(tmp_path / "d.jsonl", [json.dumps(r) for r in rows])
    log = tmp_path / "logs" / "batch_hashes_dp0.jsonl"
    _write(log, [json.dumps({"step": 2, "samples": [{"hash": bt.fingerprint_record(rows[4])}]})])
    assert bt.run("d.jsonl", str(tmp_path / "logs"), 2) == Path("step_2_samples.jsonl")
    assert json.loads(Path("step_2_samples.jsonl").read_text()) == rows[4]


def test_s3_data_and_logs(aws: object, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="trace-bucket")
    rows = _cpt_rows(20)
    s3.put_object(Bucket="trace-bucket", Key="data/train.jsonl", Body="".join(json.dumps(r) + "\n" for r in rows))
    s3.put_object(
        Bucket="trace-bucket",
        Key="out/job-9/batch_tracing/rank/batch_hashes_dp0.jsonl",
        Body=json.dumps({"step": 3, "hashes": [bt.fingerprint_record(rows[5])]}) + "\n",
    )
    log_dir = bt.log_dir_for("s3://trace-bucket/out/", "job-9")
    assert log_dir == "s3://trace-bucket/out/job-9/batch_tracing"
    out = bt.run("s3://trace-bucket/data/train.jsonl", log_dir, 3, str(tmp_path / "o.jsonl"))
    assert out is not None and json.loads(out.read_text()) == rows[5]


@pytest.mark.parametrize(
    ("log_text", "match"),
    [
        ("not json\n", "not JSON"),
        ('{"step": 1, "hashes": "abc"}\n', "must be a list"),
        ('{"step": 1, "hashes": ["xyz"]}\n', "not a 16-hex-digit sample hash"),
        ('{"step": 1, "hashes": [12]}\n', "not a 16-hex-digit"),
    ],
)
def test_corrupt_logs_are_typed_errors(tmp_path: Path, log_text: str, match: str) -> None:
    _write(tmp_path / "d.jsonl", ['{"text": "x"}'])
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "batch_hashes_dp0.jsonl").write_text(log_text)
    with pytest.raises(BatchTraceError, match=match):
        bt.run(str(tmp_path / "d.jsonl"), str(tmp_path / "logs"), 1)


def test_missing_logs_and_data(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BatchTraceError, match="enable_batch_sample_tracing=True"):
        bt.run("d.jsonl", str(tmp_path / "empty"), 1)
    log_dir = _logs(tmp_path, {0: {1: ["0123456789abcdef"]}})
    with pytest.raises(BatchTraceError, match="not found"):
        bt.run(str(tmp_path / "missing.jsonl"), str(log_dir), 1)


@pytest.mark.parametrize("step", [-1, 1.5, "3", True, None])
def test_step_must_be_a_non_negative_int(tmp_path: Path, step: object) -> None:
    with pytest.raises(ConfigError, match="step must be a non-negative integer"):
        bt.run("d.jsonl", str(tmp_path), step)  # type: ignore[arg-type]


def test_supported_only_for_smhp_cpt() -> None:
    bt.check_batch_tracing_supported(Platform.SMHP, TrainingMethod.CPT)
    with pytest.raises(ConfigError, match="SageMaker HyperPod"):
        bt.check_batch_tracing_supported(Platform.SMTJ, TrainingMethod.CPT)
    with pytest.raises(ConfigError, match="CPT only"):
        bt.check_batch_tracing_supported(Platform.SMHP, TrainingMethod.SFT_LORA)


def test_source_is_never_modified(tmp_path: Path) -> None:
    rows = _cpt_rows(3)
    data = tmp_path / "d.jsonl"
    _write(data, [json.dumps(r) for r in rows])
    before = data.read_bytes()
    log_dir = _logs(tmp_path, {0: {0: [bt.fingerprint_record(rows[0])]}})
    bt.run(str(data), str(log_dir), 0, str(tmp_path / "o.jsonl"))
    assert data.read_bytes() == before


def _smhp_trainer(tmp_path: Path, data: str, tracing: bool = True) -> object:
    from amzn_nova_forge.core.config import ForgeConfig
    from amzn_nova_forge.core.enums import Model
    from amzn_nova_forge.manager import SMHPRuntimeManager
    from amzn_nova_forge.trainer import ForgeTrainer

    infra = SMHPRuntimeManager(
        instance_type="ml.p5.48xlarge",
        instance_count=4,
        cluster_name="nova-cluster",
        namespace="kubeflow",
        region="us-east-1",
    )
    cfg = ForgeConfig(
        validation_config={"iam": False, "infra": False},
        generated_recipe_dir=str(tmp_path / "recipes"),
        output_s3_path="s3://trace-bucket/out/",
    )
    return ForgeTrainer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.CPT,
        infra=infra,
        training_data_s3_path=data,
        config=cfg,
        enable_batch_sample_tracing=tracing,
    )


def test_trainer_asks_the_container_for_hash_logs(tmp_path: Path) -> None:
    import yaml

    trainer = _smhp_trainer(tmp_path, "s3://trace-bucket/data/train.jsonl")
    assert trainer.train(job_name="cpt-trace", dry_run=True) is None  # type: ignore[attr-defined]
    (recipe,) = (tmp_path / "recipes").glob("*.yaml")
    assert yaml.safe_load(recipe.read_text())["training_config"]["enable_batch_sample_tracing"] is True


def test_trainer_refuses_tracing_where_no_logs_are_written() -> None:
    from amzn_nova_forge.core.enums import Model
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.trainer import ForgeTrainer

    smtj = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    with pytest.raises(ConfigError, match="SageMaker HyperPod"):
        ForgeTrainer(model=Model.NOVA_LITE_2, method=TrainingMethod.CPT, infra=smtj, enable_batch_sample_tracing=True)
    with pytest.raises(ConfigError, match="True or False"):
        ForgeTrainer(model=Model.NOVA_LITE_2, method=TrainingMethod.CPT, infra=smtj, enable_batch_sample_tracing="yes")  # type: ignore[arg-type]


def test_trace_batch_reads_the_jobs_logs(aws: object, tmp_path: Path) -> None:
    from amzn_nova_forge.model.result import ModelArtifacts, SMHPTrainingResult

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="trace-bucket")
    rows = _cpt_rows(10)
    s3.put_object(Bucket="trace-bucket", Key="data/train.jsonl", Body="".join(json.dumps(r) + "\n" for r in rows))
    s3.put_object(
        Bucket="trace-bucket",
        Key="out/job-7/batch_tracing/batch_hashes_dp0.jsonl",
        Body=json.dumps({"step": 4, "hashes": [bt.fingerprint_record(rows[8]), bt.fingerprint_record(rows[2])]}) + "\n",
    )
    trainer = _smhp_trainer(tmp_path, "s3://trace-bucket/data/train.jsonl")
    result = SMHPTrainingResult(
        "job-7",
        None,
        TrainingMethod.CPT,
        ModelArtifacts(checkpoint_s3_path=None, output_s3_path="s3://trace-bucket/out/"),
        cluster_name="nova-cluster",
    )
    out = trainer.trace_batch(result, step=4, output_path=str(tmp_path / "s4.jsonl"))  # type: ignore[attr-defined]
    assert out is not None
    assert [json.loads(x) for x in out.read_text().splitlines()] == [rows[2], rows[8]]
