"""Batch-inference results parsed from the container's JSON output (repr strings decoded safely)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from evalfixtures import INFERENCE_ROWS, inference_members, tar_gz

from amzn_nova_forge.core.enums import JobStatus
from amzn_nova_forge.errors import JobError
from amzn_nova_forge.manager._base import JobInfo
from amzn_nova_forge.model.result import BaseJobResult, LocalBatchInferenceResult, SMTJBatchInferenceResult
from amzn_nova_forge.model.result._inference import format_record

JOB = "batch-inference-job-0a1b2c3d"
EXPECTED = [
    {
        "system": "You are a terse assistant.",
        "query": "What is the capital of France?",
        "gold_response": "Paris",
        "inference_response": "Paris",
        "metadata": "geo-1",
    },
    {
        "system": "",
        "query": "Quote: \"it's ['fine']\"\nthen say 'ok'",
        "gold_response": "ok",
        "inference_response": "It's ['fine'].\nok",
        "metadata": None,
    },
    {
        "system": "Réponds en français.",
        "query": "Ça va ?",
        "gold_response": "Oui",
        "inference_response": "Oui, ça va très bien.",
        "metadata": {"lang": "fr"},
    },
]


def _done(r: BaseJobResult, raw: str = "Completed", message: str | None = None) -> None:
    info = JobInfo(JobStatus.from_raw(raw), raw, message)
    r.status = lambda: info  # type: ignore[method-assign]


@pytest.fixture
def result(s3_bucket: str) -> SMTJBatchInferenceResult:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(
        Bucket="my-bucket", Key=f"inference-output/{JOB}/output/output.tar.gz", Body=tar_gz(inference_members(JOB))
    )
    r = SMTJBatchInferenceResult(JOB, None, f"s3://my-bucket/inference-output/{JOB}/output/output.tar.gz")
    _done(r)
    return r


def test_get_formats_every_record(result: SMTJBatchInferenceResult) -> None:
    assert result.get() == {"inference_results": EXPECTED}


def test_get_saves_jsonl_to_s3_spec_example(result: SMTJBatchInferenceResult) -> None:
    inference_result = result
    results = inference_result.get(s3_path="s3://my-bucket/formatted-results.jsonl")
    body = (
        boto3.client("s3", region_name="us-east-1")
        .get_object(Bucket="my-bucket", Key="formatted-results.jsonl")["Body"]
        .read()
        .decode()
    )
    assert [json.loads(line) for line in body.splitlines()] == results["inference_results"] == EXPECTED
    inference_result.get("s3://my-bucket/save-location/file-name.jsonl")  # second spec form (positional)
    assert boto3.client("s3", region_name="us-east-1").head_object(
        Bucket="my-bucket", Key="save-location/file-name.jsonl"
    )["ContentLength"] == len(body.encode())


def test_get_saves_locally_too(result: SMTJBatchInferenceResult, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "inference_results.jsonl"
    result.get(str(out))
    assert [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()] == EXPECTED


def test_not_completed_is_empty(s3_bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    r = SMTJBatchInferenceResult(JOB, None, "s3://my-bucket/nowhere/output.tar.gz")
    _done(r, "Training")
    assert r.get("s3://my-bucket/x.jsonl") == {}
    r.show()
    assert "is Training; no inference results" in capsys.readouterr().out


def test_show_prints_json_lines(result: SMTJBatchInferenceResult, capsys: pytest.CaptureFixture[str]) -> None:
    result.show()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Inference results for job {JOB} (3 records):"
    assert [json.loads(x) for x in lines[1:]] == EXPECTED


def test_bad_line_names_the_line(tmp_path: Path) -> None:
    bad = json.dumps(INFERENCE_ROWS[0]) + "\n{not json\n"
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(tar_gz({"j/eval_results/inference_output.jsonl": bad.encode()}))
    r = LocalBatchInferenceResult("local-9", None, str(archive))
    _done(r)
    with pytest.raises(JobError, match="line 2"):
        r.get()


def test_repr_decoding_never_evaluates_code() -> None:
    rec = format_record({"prompt": "[__import__('os').system('echo pwned')]", "inference": "['x']", "gold": "y"})
    assert rec["query"] == "[__import__('os').system('echo pwned')]"  # kept as text, not run
    assert (
        format_record({"prompt": "plain question", "inference": "plain answer", "gold": "g"})["query"]
        == "plain question"
    )
    assert format_record({"prompt": "[]", "inference": "['a', 'b']", "gold": "['g']"})["inference_response"] == [
        "a",
        "b",
    ]


def test_round_trip(tmp_path: Path) -> None:
    r = SMTJBatchInferenceResult(JOB, None, "s3://my-bucket/o/output.tar.gz", region="us-west-2")
    back = BaseJobResult.load(str(r.dump(file_path=str(tmp_path))))
    assert isinstance(back, SMTJBatchInferenceResult)
    assert (back.inference_output_path, back.region, back.job_id) == (r.inference_output_path, "us-west-2", JOB)
