"""Malformed saved results and job outputs: one typed error naming the file, never a raw exception.

Covers ``BaseJobResult.load`` on damaged result files, job output archives (not tar, empty,
truncated, oversized: the cap stops extraction), ``results_*.json`` and
``inference_output.jsonl`` that are lists, not UTF-8, or nested too deeply.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from amzn_nova_forge.core.enums import EvaluationTask, JobStatus
from amzn_nova_forge.errors import ConfigError, JobError
from amzn_nova_forge.manager._base import JobInfo
from amzn_nova_forge.model.result._base import BaseJobResult
from amzn_nova_forge.model.result._evaluation import LocalEvaluationResult
from amzn_nova_forge.model.result._fetch import fetch_output, iter_json_lines, read_json_file, safe_extract
from amzn_nova_forge.model.result._inference import LocalBatchInferenceResult

VALID = {
    "__class_name__": "SMTJTrainingResult",
    "job_id": "job-1",
    "started_time": "2026-01-15T12:00:00+00:00",
    "platform": "SMTJ",
    "region": "us-east-1",
    "extras": {},
    "method": "sft_lora",
    "model_artifacts": {"checkpoint_s3_path": None, "output_s3_path": "s3://b/o", "output_model_arn": None},
    "model_type": "NOVA_LITE_2",
}


def _with(**changes: Any) -> str:
    doc = dict(VALID)
    for k, v in changes.items():
        if v is _DROP:
            doc.pop(k)
        else:
            doc[k] = v
    return json.dumps(doc)


_DROP = object()

#: name -> file content (str or bytes). Every one must be refused with ConfigError naming the file.
MALFORMED_RESULTS: dict[str, str | bytes] = {
    "empty": "",
    "whitespace": " \n\t\n",
    "list": "[1, 2]",
    "list_of_result": "[" + json.dumps(VALID) + "]",
    "null": "null",
    "number": "42",
    "string": '"job-1"',
    "true": "true",
    "truncated": json.dumps(VALID)[:-20],
    "trailing_garbage": json.dumps(VALID) + "}",
    "single_quotes": "{'job_id': 'x'}",
    "nan_constant": _with(started_time=None).replace("null", "NaN", 1),
    "infinity_constant": '{"job_id": "x", "region": Infinity}',
    "deep_nesting": '{"job_id": "x", "extras": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "not_utf8": b'{"job_id": "\xff\xfe"}',
    "utf16": json.dumps(VALID).encode("utf-16"),
    "gzip_bytes": gzip.compress(json.dumps(VALID).encode()),
    "no_job_id": _with(job_id=_DROP),
    "job_id_int": _with(job_id=5),
    "job_id_null": _with(job_id=None),
    "job_id_blank": _with(job_id="  "),
    "job_id_list": _with(job_id=["a"]),
    "class_int": _with(__class_name__=3),
    "class_unknown": _with(__class_name__="NoSuchResult"),
    "class_base": _with(__class_name__="BaseJobResult"),
    "platform_unknown": _with(platform="MARS"),
    "platform_int": _with(platform=7),
    "platform_list": _with(platform=["SMTJ"]),
    "started_bad": _with(started_time="yesterday"),
    "started_int": _with(started_time=1700000000),
    "started_dict": _with(started_time={"y": 2026}),
    "region_int": _with(region=1),
    "extras_list": _with(extras=[1]),
    "extras_string": _with(extras="x"),
    "method_missing": _with(method=_DROP),
    "method_unknown": _with(method="telepathy"),
    "method_int": _with(method=3),
    "model_unknown": _with(model_type="NOVA_GIGA"),
    "model_int": _with(model_type=12),
    "artifacts_list": _with(model_artifacts=[1]),
    "artifacts_string": _with(model_artifacts="s3://b"),
    "eval_task_unknown": _with(__class_name__="SMTJEvaluationResult", eval_task="telepathy"),
    "eval_task_int": _with(__class_name__="SMTJEvaluationResult", eval_task=3),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_RESULTS))
def test_malformed_result_file_is_one_config_error_naming_it(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}_SMTJ.json"
    content = MALFORMED_RESULTS[name]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError) as e:
        BaseJobResult.load(str(path))
    message = str(e.value)
    assert str(path) in message
    # what to do: re-save the result, or (a field with a closed set of values) the values allowed
    assert "result.dump()" in message or "Unknown result class" in message or "choose from" in message, message


def test_result_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="it is a folder"):
        BaseJobResult.load(str(tmp_path))


def test_missing_result_file_stays_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No saved job result"):
        BaseJobResult.load(str(tmp_path / "gone.json"))


def test_oversized_result_file_is_refused_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amzn_nova_forge.model.result import _load

    monkeypatch.setattr(_load, "MAX_RESULT_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(VALID))
    with pytest.raises(ConfigError, match="over 100 bytes"):
        BaseJobResult.load(str(path))


@pytest.mark.parametrize(
    "changes",
    [{}, {"region": None}, {"extras": None}, {"started_time": None}, {"model_type": None}, {"__class_name__": _DROP}],
    ids=["as-dumped", "no-region", "null-extras", "no-start", "no-model", "no-class"],
)
def test_well_formed_results_still_load(changes: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "ok_SMTJ.json"
    path.write_text(_with(**changes))
    if "__class_name__" in changes:  # without a class name, load as the class it is called on
        from amzn_nova_forge.model.result._training import SMTJTrainingResult

        result = SMTJTrainingResult.load(str(path))
    else:
        result = BaseJobResult.load(str(path))
    assert result.job_id == "job-1" and result.platform.value == "SMTJ"


def test_dump_load_round_trip(tmp_path: Path) -> None:
    from amzn_nova_forge.core.enums import Model, TrainingMethod
    from amzn_nova_forge.model.result._training import SMTJTrainingResult

    r = SMTJTrainingResult("job-2", TrainingMethod.DPO_LORA, None, None, Model.NOVA_MICRO, region="us-west-2")
    back = BaseJobResult.load(str(r.dump(str(tmp_path))))
    assert back.to_dict() == r.to_dict()


# ---------------------------------------------------------------- job output archives
def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


NOT_ARCHIVES: dict[str, bytes] = {
    "empty": b"",
    "text": b"hello world\n",
    "html_error_page": b"<html><body>403 Forbidden</body></html>",
    "json": b'{"results": {}}',
    "gzip_of_text": gzip.compress(b"not a tar archive at all" * 100),
    "truncated_gzip": _tar_gz({"results_1.json": b"{}" * 5000})[:60],
    "zeros": b"\0" * 10,
    "random": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("name", sorted(NOT_ARCHIVES))
def test_a_job_output_that_is_not_a_tar_archive_is_a_job_error(name: str, tmp_path: Path) -> None:
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(NOT_ARCHIVES[name])
    r = LocalEvaluationResult("local-1", None, EvaluationTask.GEN_QA, str(archive))
    r.status = lambda: JobInfo(JobStatus.COMPLETED, "Completed")  # type: ignore[method-assign]
    with pytest.raises(JobError, match=r"not a readable tar archive|wrote no") as e:
        r.get()
    assert str(archive) in str(e.value)
    assert not list((Path(r._cache_dir or tmp_path)).glob(".extract-*"))  # staging removed


def test_oversized_archive_stops_at_the_cap(tmp_path: Path) -> None:
    big = b"\0" * (3 << 20)
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(_tar_gz({"a/results_1.json": b"{}", "a/big1.bin": big, "a/big2.bin": big}))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(JobError, match=r"stopped at the 4194304-byte cap.*big2\.bin"):
        safe_extract(archive, dest, max_bytes=4 << 20)
    written = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    assert written <= 4 << 20  # nothing past the cap was written


def test_get_extracts_only_the_results_file(tmp_path: Path) -> None:
    archive = tmp_path / "output.tar.gz"
    results = {"results": {"custom|gen_qa|0": {"bleu": 1.0}}}
    archive.write_bytes(
        _tar_gz(
            {
                "job/eval_results/results_1.json": json.dumps(results).encode(),
                "job/checkpoints/model.bin": b"\1" * (2 << 20),
                "job/tensorboard/events.out.tfevents.1": b"x" * 1000,
            }
        )
    )
    r = LocalEvaluationResult("local-1", None, EvaluationTask.GEN_QA, str(archive))
    r.status = lambda: JobInfo(JobStatus.COMPLETED, "Completed")  # type: ignore[method-assign]
    assert r.get()["results"] == results["results"]
    files = [p for p in Path(r._cache_dir or "").rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["results_1.json"]


def test_selective_extraction_is_capped_too(tmp_path: Path) -> None:
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(_tar_gz({"results_1.json": b" " * (2 << 20)}))
    with pytest.raises(JobError, match="cap"):
        fetch_output(str(archive), tmp_path / "cache", include=["results_*.json"], max_bytes=1 << 20)
    assert not (tmp_path / "cache" / "extracted").exists()


# ---------------------------------------------------------------- results_*.json
BAD_RESULTS_JSON: dict[str, tuple[bytes, str]] = {
    "list": (b"[1, 2]", "holds a JSON list, expected an object"),
    "string": (b'"x"', "holds a JSON str"),
    "null": (b"null", "holds a JSON NoneType"),
    "not_utf8": (b'{"a": "\xff"}', "not UTF-8"),
    "latin1": ('{"a": "caf\xe9"}'.encode("latin-1"), "not UTF-8"),
    "invalid": (b'{"a": }', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "deep_object": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
}


@pytest.mark.parametrize("name", sorted(BAD_RESULTS_JSON))
def test_malformed_results_json_is_a_job_error(name: str, tmp_path: Path) -> None:
    content, message = BAD_RESULTS_JSON[name]
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "results_2026.json").write_bytes(content)
    r = LocalEvaluationResult("local-9", None, EvaluationTask.GEN_QA, str(folder))
    r.status = lambda: JobInfo(JobStatus.COMPLETED, "Completed")  # type: ignore[method-assign]
    with pytest.raises(JobError) as e:
        r.get()
    assert "results_2026.json" in str(e.value) and "local-9" in str(e.value) and message in str(e.value)


def test_results_json_over_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "results_1.json"
    f.write_text(json.dumps({"a": "x" * 1000}))
    with pytest.raises(JobError, match="over the 100-byte limit"):
        read_json_file(f, job_id="j", max_bytes=100)


def test_results_json_with_nan_metric_is_kept(tmp_path: Path) -> None:
    # evaluation harnesses write NaN for an undefined stderr: the value is kept, not refused
    f = tmp_path / "results_1.json"
    f.write_text('{"results": {"t": {"acc": 0.5, "acc_stderr": NaN}}}')
    data = read_json_file(f)
    assert (
        data["results"]["t"]["acc"] == 0.5 and data["results"]["t"]["acc_stderr"] != data["results"]["t"]["acc_stderr"]
    )


# ---------------------------------------------------------------- inference_output.jsonl
BAD_JSONL: dict[str, tuple[bytes, str]] = {
    "invalid_utf8": (b'{"prompt": "a"}\n{"prompt": "\xc3\x28"}\n', "line 2 of job local-b is not UTF-8"),
    "deep": (
        b'{"prompt": "a"}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "line 2 of job local-b is nested too deeply",
    ),
    "list_line": (b"[1, 2]\n", "line 1 of job local-b is not a JSON object"),
    "string_line": (b'"x"\n', "line 1 of job local-b is not a JSON object"),
    "invalid": (b'{"prompt": }\n', "line 1 of job local-b is not valid JSON"),
    "truncated": (b'{"prompt": "a", "inference":', "line 1 of job local-b is not valid JSON"),
}


@pytest.mark.parametrize("name", sorted(BAD_JSONL))
def test_malformed_inference_output_is_a_job_error(name: str, tmp_path: Path) -> None:
    content, message = BAD_JSONL[name]
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "inference_output.jsonl").write_bytes(content)
    r = LocalBatchInferenceResult("local-b", None, str(folder))
    r.status = lambda: JobInfo(JobStatus.COMPLETED, "Completed")  # type: ignore[method-assign]
    with pytest.raises(JobError) as e:
        r.get()
    assert "inference_output.jsonl" in str(e.value) and message in str(e.value)


def test_inference_output_blank_lines_are_skipped(tmp_path: Path) -> None:
    f = tmp_path / "inference_output.jsonl"
    f.write_text('\n{"a": 1}\n\n  \n{"b": 2}\n')
    assert [(n, d) for n, d in iter_json_lines(f)] == [(2, {"a": 1}), (5, {"b": 2})]


def test_inference_output_line_over_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "inference_output.jsonl"
    f.write_text('{"a": 1}\n{"b": "' + "x" * 500 + '"}\n')
    with pytest.raises(JobError, match="line 2 is over the 100-byte line limit"):
        list(iter_json_lines(f, max_line_bytes=100))
