"""Tracking of local jobs: a real MLflow store finds the run, params, per-step metrics and artifacts;
TensorBoard event files in the job folder; settings the runtime cannot honour raise typed errors."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import local_toy
import pytest

from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError, MissingDependencyError, UnsupportedFeatureError
from amzn_nova_forge.manager._local import _tracking
from amzn_nova_forge.manager._local._tracking_tb import EventWriter, crc32c, read_records
from amzn_nova_forge.monitor import MLflowMonitor


# ---- TensorBoard event files (no dependency) -------------------------------------------------------
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = n = 0
    while True:
        b = buf[i]
        n |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return n, i
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, object]]:
    """Decode one protobuf message into (field number, value) pairs (wire types 0, 1, 2, 5)."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = _varint(buf, i)
        elif wire == 1:
            val, i = struct.unpack("<d", buf[i : i + 8])[0], i + 8
        elif wire == 5:
            val, i = struct.unpack("<f", buf[i : i + 4])[0], i + 4
        else:
            size, i = _varint(buf, i)
            val, i = buf[i : i + size], i + size
        out.append((num, val))
    return out


def tb_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """tag -> [(step, value)] read back from every event file in ``folder``."""
    series: dict[str, list[tuple[int, float]]] = {}
    files = sorted(folder.glob("events.out.tfevents.*"))
    assert files, f"no event file in {folder}"
    for path in files:
        records = list(read_records(path))
        assert dict(_fields(records[0]))[3] == b"brain.Event:2"
        for rec in records[1:]:
            event = dict(_fields(rec))
            for num, value in _fields(event[5]):
                assert num == 1
                v = dict(_fields(value))
                series.setdefault(v[1].decode(), []).append((event[2], round(v[2], 5)))
    return series


def test_crc32c_known_vector():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_event_writer_round_trip(tmp_path):
    w = EventWriter(tmp_path / "tb")
    w.scalars({"train/loss": 2.5, "train/learning_rate": 0.001}, step=0)
    w.scalars({"train/loss": 1.25}, step=7)
    w.close()
    assert tb_scalars(tmp_path / "tb") == {"train/loss": [(0, 2.5), (7, 1.25)], "train/learning_rate": [(0, 0.001)]}
    data = bytearray(w.path.read_bytes())
    data[-6] ^= 0xFF  # corrupt the last record's payload
    w.path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC"):
        list(read_records(w.path))


# ---- what each runtime can honour ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "ok", "refused"),
    [
        (
            "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-x",
            {"LOCAL", "SMTJ", "SMHP", "SMTJServerless"},
            {"BEDROCK"},
        ),
        ("https://mlflow.example.com", {"LOCAL", "SMTJ", "SMHP"}, {"SMTJServerless", "BEDROCK"}),
        ("sqlite:///mlflow.db", {"LOCAL"}, {"SMTJ", "SMHP", "SMTJServerless", "BEDROCK"}),
        ("./mlruns", {"LOCAL"}, {"SMTJ", "SMHP", "SMTJServerless"}),
        ("file:///tmp/mlruns", {"LOCAL"}, {"SMTJ"}),
    ],
)
def test_check_platform(uri, ok, refused):
    monitor = MLflowMonitor(tracking_uri=uri)
    for p in ok:
        monitor.check_platform(Platform(p))
    for p in refused:
        with pytest.raises(UnsupportedFeatureError, match=p) as e:
            monitor.check_platform(Platform(p))
        assert e.value.features == ["mlflow"] and e.value.runtime == p


def test_invalid_uris_still_refused():
    for bad in ("mlflow-app/app-xxx", "ftp://x", "mlruns"):
        with pytest.raises(ConfigError, match=r"Invalid MLflow tracking_uri.*\./mlruns"):
            MLflowMonitor(tracking_uri=bad)


def test_sqlite_refused_for_smtj_by_the_customizer(no_aws_credentials):
    from amzn_nova_forge.manager import SMTJRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)
    with pytest.raises(UnsupportedFeatureError, match="cannot reach a database or folder on this machine"):
        NovaModelCustomizer(
            Model.NOVA_LITE_2,
            TrainingMethod.SFT_LORA,
            infra,
            data_s3_path="s3://b/train.jsonl",
            output_s3_path="s3://b/out",
            mlflow_monitor=MLflowMonitor(tracking_uri="sqlite:///mlflow.db"),
        )


def test_job_settings(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert _tracking.job_settings(None, None, None, job_name="j") is None
    got = _tracking.job_settings("./mlruns", None, "r1", job_name="j", cwd=tmp_path)
    assert got == {"tracking_uri": (tmp_path / "mlruns").as_uri(), "experiment_name": "j", "run_name": "r1"}
    got = _tracking.job_settings(None, "exp", None, job_name="j", cwd=tmp_path)
    assert got == {"tracking_uri": (tmp_path / "mlruns").as_uri(), "experiment_name": "exp"}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5055")
    assert _tracking.job_settings(None, "exp", None, job_name="j")["tracking_uri"] == "http://127.0.0.1:5055"
    db = _tracking.job_settings("sqlite:///runs/m.db", None, None, job_name="j", cwd=tmp_path)["tracking_uri"]
    assert db == f"sqlite:///{tmp_path / 'runs' / 'm.db'}"
    with pytest.raises(ConfigError, match="Invalid MLflow tracking_uri"):
        _tracking.job_settings("ftp://x", None, None, job_name="j")


def test_job_settings_names_the_missing_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sagemaker_mlflow" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError, match=r"sagemaker_mlflow.*\[mlflow\]") as e:
        _tracking.job_settings("arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-x", None, None, job_name="j")
    assert e.value.extra == "mlflow"


# ---- a real local job into a real MLflow store -------------------------------------------------------
@pytest.mark.torch
@pytest.mark.slow
def test_local_job_logs_to_mlflow_and_tensorboard(tmp_path, no_aws_credentials):
    pytest.importorskip("torch")
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    from amzn_nova_forge.manager._local import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    customizer = NovaModelCustomizer(
        Model.NOVA_MICRO,
        TrainingMethod.SFT_LORA,
        LocalRuntimeManager(max_steps=4, micro_batch_size=8),
        data_s3_path=local_toy.sft(tmp_path / "train.jsonl", n=16),
        output_s3_path=str(tmp_path / "runs"),
        mlflow_monitor=MLflowMonitor(tracking_uri=uri, experiment_name="rehearsal", run_name="sft-1"),
    )
    result = customizer.train(job_name="tracked", overrides={"lr": 3e-3, "global_batch_size": 16, "max_epochs": 4})
    result.wait(poll_every=1, timeout=600)
    job_dir = Path(result.extras["job_dir"])
    assert result.status().status.value == "Completed", (job_dir / "status.json").read_text()

    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("rehearsal")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.info.run_name == "sft-1" and run.info.status == "FINISHED"
    assert run.data.tags["nova_forge.job_id"] == result.job_id
    assert run.data.params["method"] == "sft_lora" and run.data.params["hp.lr"] == "0.003"
    assert run.data.params["local.max_steps"] == "4"

    with open(job_dir / "output" / "step_wise_training_metrics.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    history = client.get_metric_history(run.info.run_id, "train/loss")
    assert [(m.step, round(m.value, 4)) for m in history] == [
        (int(r["step_number"]), round(float(r["training_loss"]), 4)) for r in rows
    ]
    assert len(history) == 4
    assert len(client.get_metric_history(run.info.run_id, "train/learning_rate")) == 4
    assert "final/final_loss" in run.data.metrics

    top = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"train.log", "job.json", "output", "tensorboard", "checkpoint"} <= top
    outputs = {a.path for a in client.list_artifacts(run.info.run_id, "output")}
    assert {"output/output.tar.gz", "output/manifest.json", "output/step_wise_training_metrics.csv"} <= outputs
    ckpt = {a.path for a in client.list_artifacts(run.info.run_id, "checkpoint")}
    assert "checkpoint/config.json" in ckpt

    assert (tmp_path / "mlartifacts" / "rehearsal").is_dir()  # next to the database, not in the current folder
    assert not (Path.cwd() / "mlruns").exists()
    tb = tb_scalars(job_dir / "tensorboard")
    assert [s for s, _ in tb["train/loss"]] == [int(r["step_number"]) for r in rows]
    assert [v for _, v in tb["train/loss"]] == pytest.approx([float(r["training_loss"]) for r in rows], abs=1e-4)


@pytest.mark.torch
@pytest.mark.slow
def test_unreachable_tracking_server_fails_the_job(tmp_path, no_aws_credentials):
    pytest.importorskip("torch")
    pytest.importorskip("mlflow")
    import socket

    from amzn_nova_forge.manager._local import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    customizer = NovaModelCustomizer(
        Model.NOVA_MICRO,
        TrainingMethod.SFT_LORA,
        LocalRuntimeManager(max_steps=1),
        data_s3_path=local_toy.sft(tmp_path / "train.jsonl", n=8),
        output_s3_path=str(tmp_path / "runs"),
        mlflow_monitor=MLflowMonitor(tracking_uri=f"http://127.0.0.1:{port}"),
    )
    result = customizer.train(job_name="no-server")
    result.wait(poll_every=1, timeout=600)
    info = result.status()
    assert info.status.value == "Failed"
    assert "MLflow tracking at" in str(info.message) and f"127.0.0.1:{port}" in str(info.message)


# ---- the worker hooks on a prepared job folder (no torch): ./mlruns file store, run statuses ----------
def _job_folder(tmp_path, name, tracking):
    from amzn_nova_forge.manager._local._jobdir import JobDir

    jd = JobDir(tmp_path / name)
    jd.path.mkdir(parents=True)
    jd.write_job({"job_kind": "training", "method": "sft_lora", "hyperparameters": {"lr": 0.1}, "tracking": tracking})
    (jd.output_dir).mkdir()
    (jd.output_dir / "manifest.json").write_text("{}")
    jd.update_status(summary={"final_loss": 0.5, "steps": 2})
    return jd


class _Flag:
    stop = False


def test_hooks_with_a_file_store(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    settings = _tracking.job_settings("./mlruns", "exp", None, job_name="j", cwd=tmp_path)
    ok = _job_folder(tmp_path, "ok", settings)
    with _tracking.tracked(ok, _Flag()):
        for step, loss in enumerate((2.0, 1.0)):
            _tracking.log_step({"step_number": step, "training_loss": loss, "learning_rate": 0.1, "step_time_s": 0.01})
    stopped_flag = _Flag()
    stopped = _job_folder(tmp_path, "stopped", settings)
    with _tracking.tracked(stopped, stopped_flag):
        stopped_flag.stop = True
    failed = _job_folder(tmp_path, "failed", settings)
    with pytest.raises(RuntimeError), _tracking.tracked(failed, _Flag()):
        raise RuntimeError("boom")
    _tracking.log_step({"step_number": 9, "training_loss": 1.0})  # no active tracker: ignored

    client = mlflow.tracking.MlflowClient(tracking_uri=settings["tracking_uri"])
    runs = {r.info.run_name: r for r in client.search_runs([client.get_experiment_by_name("exp").experiment_id])}
    assert {k: r.info.status for k, r in runs.items()} == {"ok": "FINISHED", "stopped": "KILLED", "failed": "FAILED"}
    run = runs["ok"]
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "train/loss")] == [(0, 2.0), (1, 1.0)]
    assert run.data.metrics["final/final_loss"] == 0.5 and run.data.params["hp.lr"] == "0.1"
    assert {a.path for a in client.list_artifacts(run.info.run_id, "output")} == {"output/manifest.json"}
    assert (tmp_path / "mlruns").is_dir()
    assert ok.read_status()["tracking"]["mlflow"]["run_id"] == run.info.run_id
    assert tb_scalars(ok.path / "tensorboard")["train/loss"] == [(0, 2.0), (1, 1.0)]


def test_evaluation_job_logs_its_metrics(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    settings = _tracking.job_settings(f"sqlite:///{tmp_path / 'm.db'}", "evals", None, job_name="j")
    from amzn_nova_forge.manager._local._jobdir import JobDir

    jd = JobDir(tmp_path / "eval-1")
    jd.path.mkdir()
    jd.write_job({"job_kind": "evaluation", "tracking": settings})
    (jd.output_dir / "eval_results").mkdir(parents=True)
    (jd.output_dir / "eval_results" / "results_1.json").write_text('{"exact_match": 0.75}')
    with _tracking.tracked(jd, _Flag()):
        jd.update_status(outputs={"metrics": {"exact_match": 0.75, "f1": 0.8}})
    client = mlflow.tracking.MlflowClient(tracking_uri=settings["tracking_uri"])
    (run,) = client.search_runs([client.get_experiment_by_name("evals").experiment_id])
    assert run.data.metrics == {"eval/exact_match": 0.75, "eval/f1": 0.8}
    assert run.data.params["job_kind"] == "evaluation"
    paths = {a.path for a in client.list_artifacts(run.info.run_id, "output/eval_results")}
    assert paths == {"output/eval_results/results_1.json"}
    assert not (jd.path / "tensorboard").exists()  # TensorBoard scalars are for training steps
