"""Evaluation results: every results file merged, safe extraction, show(), TensorBoard, round-trip."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from evalfixtures import GEN_QA, eval_members, tar_gz

from amzn_nova_forge.core.enums import EvaluationTask, JobStatus, Platform
from amzn_nova_forge.errors import JobError
from amzn_nova_forge.manager._base import JobInfo
from amzn_nova_forge.model.result import (
    BaseJobResult,
    LocalEvaluationResult,
    SMHPEvaluationResult,
    SMTJEvaluationResult,
)

JOB = "my-eval-job-1a2b3c4d"


def _status(result: BaseJobResult, raw: str = "Completed", message: str | None = None) -> None:
    info = JobInfo(JobStatus.from_raw(raw), raw, message)
    result.status = lambda: info  # type: ignore[method-assign]


@pytest.fixture
def s3(s3_bucket: str) -> Any:
    return boto3.client("s3", region_name="us-east-1")


def _smtj(s3: Any) -> SMTJEvaluationResult:
    s3.put_object(Bucket="my-bucket", Key=f"output/{JOB}/output/output.tar.gz", Body=tar_gz(eval_members(JOB)))
    r = SMTJEvaluationResult(
        JOB, None, EvaluationTask.MMLU, f"s3://my-bucket/output/{JOB}/output/output.tar.gz", region="us-east-1"
    )
    _status(r)
    return r


def test_get_merges_every_results_file(s3: Any) -> None:
    result = _smtj(s3)
    results = result.get()
    assert results["results"]["mmlu:abstract_algebra|0"]["accuracy"] == 0.65
    assert results["results"]["mmlu:anatomy|0"]["accuracy"] == pytest.approx(0.7185185185185186)
    assert results["versions"] == {"mmlu:abstract_algebra|0": 0, "mmlu:anatomy|0": 0}
    assert results["config_general"]["end_time"] == 1768481500.2  # later file wins for scalars
    assert [Path(p).name for p in result.result_files] == [
        "results_2026-01-15T12-30-00.123456.json",
        "results_2026-01-15T12-40-00.654321.json",
    ]
    assert result.get() is results  # cached


def test_in_progress_returns_empty_and_show_says_so(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    r = SMTJEvaluationResult(JOB, None, EvaluationTask.MMLU, f"s3://my-bucket/output/{JOB}/output/output.tar.gz")
    _status(r, "InProgress")
    assert r.get() == {}
    r.show()
    assert "is InProgress; results are available once it completes" in capsys.readouterr().out


def test_show_prints_a_table(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _smtj(s3).show()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Evaluation results for job {JOB} (mmlu):"
    assert out[1].split() == ["task", "metric", "value", "stderr"]
    assert out[3].split() == ["mmlu:abstract_algebra|0", "accuracy", "0.6500", "0.0479"]
    assert any(line.split() == ["mmlu:anatomy|0", "accuracy", "0.7185", "0.0389"] for line in out)


def test_smhp_prefix_layout_and_tensorboard_upload(s3: Any) -> None:
    prefix = f"output/{JOB}/eval-result/"
    for name, body in eval_members(JOB).items():
        s3.put_object(Bucket="my-bucket", Key=prefix + name.split("/", 1)[1], Body=body)
    r = SMHPEvaluationResult(JOB, None, EvaluationTask.MMLU, f"s3://my-bucket/{prefix}", cluster_name="my-cluster")
    _status(r)
    assert set(r.get()["results"]) == {"mmlu:abstract_algebra|0", "all", "mmlu:anatomy|0"}
    r.upload_tensorboard_results(tensorboard_s3_path="s3://my-bucket/tensorboard/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="my-bucket", Prefix="tensorboard/")["Contents"]]
    assert keys == ["tensorboard/eval/events.out.tfevents.1768480800.algo-1"]
    r.upload_tensorboard_results()  # default: next to the results
    default = s3.list_objects_v2(Bucket="my-bucket", Prefix=f"output/{JOB}/tensorboard_results/")["Contents"]
    assert [o["Key"] for o in default] == [
        f"output/{JOB}/tensorboard_results/eval/events.out.tfevents.1768480800.algo-1"
    ]


def test_upload_tensorboard_before_completion_is_an_error(s3: Any) -> None:
    r = SMTJEvaluationResult(JOB, None, EvaluationTask.MMLU, f"s3://my-bucket/output/{JOB}/output/output.tar.gz")
    _status(r, "InProgress")
    with pytest.raises(JobError, match="InProgress"):
        r.upload_tensorboard_results()


def test_clean_removes_the_cache(s3: Any) -> None:
    r = _smtj(s3)
    r.get()
    cache = Path(r._cache_dir or "")
    assert any(cache.rglob("results_*.json"))
    r.clean()
    assert not cache.exists()
    assert r.get()["results"]["mmlu:anatomy|0"]  # downloads again


@pytest.mark.parametrize("evil", ["../../escape.json", "/tmp/abs-escape.json", "ok/../../escape.json"])
def test_archive_members_cannot_escape(tmp_path: Path, evil: str) -> None:
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(tar_gz({"job/eval_results/results_1.json": b"{}", evil: b"{}"}))
    r = LocalEvaluationResult("local-1", None, EvaluationTask.GEN_QA, str(archive))
    _status(r)
    with pytest.raises(JobError, match="outside"):
        r.get()
    assert not (tmp_path.parent / "escape.json").exists() and not Path("/tmp/abs-escape.json").exists()


def test_links_in_archives_are_skipped(tmp_path: Path) -> None:
    link = tarfile.TarInfo("job/eval_results/results_link.json")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(tar_gz({"job/eval_results/results_2026.json": json.dumps(GEN_QA).encode()}, extra=[link]))
    r = LocalEvaluationResult("local-2", None, "gen_qa", str(archive))
    _status(r)
    assert list(r.get()["results"]) == ["custom|gen_qa_gen_qa|0"]
    assert r.result_files == ["job/eval_results/results_2026.json"]


def test_local_folder_and_dump_load_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "job" / "output" / "eval_results"
    folder.mkdir(parents=True)
    (folder / "results_20260115_120000.json").write_text(json.dumps(GEN_QA))
    r = LocalEvaluationResult(
        "local-3",
        None,
        EvaluationTask.GEN_QA,
        str(tmp_path / "job" / "output"),
        extras={"job_dir": str(tmp_path / "job")},
    )
    path = r.dump(file_path=str(tmp_path))
    again = BaseJobResult.load(str(path))
    assert type(again) is LocalEvaluationResult
    assert (again.eval_task, again.eval_output_path, again.platform) == (
        EvaluationTask.GEN_QA,
        r.eval_output_path,
        Platform.LOCAL,
    )
    _status(again)
    assert again.get()["results"]["custom|gen_qa_gen_qa|0"]["bleu"] == 21.44


def test_smhp_round_trip_keeps_cluster() -> None:
    r = SMHPEvaluationResult(JOB, None, EvaluationTask.MMLU, "s3://b/o/", cluster_name="c1", namespace="team-a")
    d = r.to_dict()
    assert (d["cluster_name"], d["namespace"], d["eval_task"]) == ("c1", "team-a", "mmlu")
    back = BaseJobResult.from_dict(json.loads(json.dumps(d)))
    assert isinstance(back, SMHPEvaluationResult)
    assert (back.cluster_name, back.namespace, back.ref.extras["cluster_name"]) == ("c1", "team-a", "c1")


def test_failed_job_show_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    r = SMTJEvaluationResult(JOB, None, EvaluationTask.MMLU, "s3://my-bucket/none/output.tar.gz")
    _status(r, "Failed", "AlgorithmError: CUDA out of memory")
    assert r.get() == {}
    r.show()
    out = capsys.readouterr().out
    assert f"Evaluation job {JOB} (mmlu) ended Failed: AlgorithmError: CUDA out of memory." in out
    assert "show_logs()" in out
