"""Notebook reprs (``_repr_html_``) of results, deployments and loaders, and the ``wait()`` progress bar."""

from __future__ import annotations

import json

import pytest

from amzn_nova_forge.core._html import cell, dataset_preview
from amzn_nova_forge.core._progress import job_progress
from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.dataset import JSONLDatasetLoader
from amzn_nova_forge.manager._local._jobdir import JobDir
from amzn_nova_forge.model.result._deployment import DeploymentResult, EndpointInfo
from amzn_nova_forge.model.result._training import LocalTrainingResult, SMTJTrainingResult


def test_cell_escapes_and_bounds():
    assert cell("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert cell({"a": "<b>"}) == "{&quot;a&quot;: &quot;&lt;b&gt;&quot;}"
    long = cell("x" * 1000)
    assert len(long) == 300 and long.endswith("…")
    assert cell(None) == "" and cell(0.1234567891) == "0.123457"


def test_local_result_html_reads_the_job_folder(tmp_path):
    jd = JobDir(tmp_path / "job-1")
    jd.path.mkdir()
    jd.write_job({"job_kind": "training"})
    jd.update_status(
        status="Completed",
        message="Job completed.",
        progress={"step": 4, "total_steps": 4, "loss": 1.25},
        outputs={"metrics": {"exact_match": 0.75}},
        tracking={"mlflow": {"run_id": "abc123", "tracking_uri": "sqlite:///m.db"}},
    )
    r = LocalTrainingResult("job-1", "sft_lora", extras={"job_dir": str(jd.path)})
    html = r._repr_html_()
    for needle in ("LocalTrainingResult", "job-1", "Completed", "step 4/4", "1.25", "exact_match", "0.75", "abc123"):
        assert needle in html, needle


def test_cloud_result_html_makes_no_aws_call(no_aws_credentials, monkeypatch):
    r = SMTJTrainingResult("sft-<1>", "sft_lora", region="us-east-1")
    monkeypatch.setattr(SMTJTrainingResult, "status", lambda self: pytest.fail("repr must not call AWS"))
    html = r._repr_html_()
    assert "sft-&lt;1&gt;" in html and "call status() / wait()" in html and "us-east-1" in html


def test_deployment_html():
    d = DeploymentResult(EndpointInfo(DeployPlatform.LOCAL, "ep", "http://127.0.0.1:9", "/ckpt"))
    html = d._repr_html_()
    assert "DeploymentResult" in html and "http://127.0.0.1:9" in html and "/ckpt" in html


def test_loader_html_previews_the_first_rows(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"q": f"<q{i}>", "a": str(i)}) + "\n" for i in range(50)))
    loader = JSONLDatasetLoader().load(str(path))
    html = loader._repr_html_()
    assert "JSONLDatasetLoader" in html and str(path) in html
    assert "&lt;q0&gt;" in html and "&lt;q4&gt;" in html and "&lt;q5&gt;" not in html  # 5 rows, escaped
    assert "<q0>" not in html
    assert "records" in html
    assert "no data loaded" in dataset_preview(JSONLDatasetLoader())


def test_job_progress_bar(monkeypatch, capsys):
    monkeypatch.delenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", raising=False)
    state = {"step": 0}
    with job_progress(
        "job-7", lambda: {"step": state["step"], "total_steps": 10, "loss": 2.0 - state["step"] / 10}
    ) as show:
        show("Pending")
        state["step"] = 3
        show("InProgress")
        state["step"] = 10
        show("Completed")
    err = capsys.readouterr().err
    assert "job-7" in err and "10/10" in err and "loss=1.0000" in err and "status=Completed" in err


def test_job_progress_without_step_data_and_disabled(monkeypatch, capsys):
    monkeypatch.delenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", raising=False)
    with job_progress("cloud-job") as show:
        show("InProgress")
        show("Completed")
    err = capsys.readouterr().err
    assert "cloud-job" in err and "status=Completed" in err and "%" not in err
    monkeypatch.setenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", "1")
    with job_progress("quiet", lambda: {"step": 1, "total_steps": 2}) as show:
        show("InProgress")
    assert capsys.readouterr().err == ""


def test_wait_shows_progress_of_a_finished_local_job(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", raising=False)
    jd = JobDir(tmp_path / "job-2")
    jd.path.mkdir()
    jd.write_job({"job_kind": "training"})
    jd.update_status(status="Completed", progress={"step": 6, "total_steps": 6, "loss": 0.5})
    info = LocalTrainingResult("job-2", "sft_lora", extras={"job_dir": str(jd.path)}).wait(poll_every=0.01)
    assert info.status.value == "Completed"
    err = capsys.readouterr().err
    assert "6/6" in err and "loss=0.5000" in err
