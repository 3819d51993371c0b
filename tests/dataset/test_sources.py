"""Where data comes from: directories, globs, S3 prefixes, ``~``, Arrow, Hugging Face, CloudWatch Logs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from amzn_nova_forge import Model, TrainingMethod
from amzn_nova_forge.dataset import (
    ArrowDatasetLoader,
    CloudWatchDatasetLoader,
    CSVDatasetLoader,
    HuggingFaceDatasetLoader,
    JSONDatasetLoader,
    JSONLDatasetLoader,
    ParquetDatasetLoader,
)
from amzn_nova_forge.errors import ConfigError, DataPrepError

pa = pytest.importorskip("pyarrow")


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# ---------------------------------------------------------------- directories, globs, prefixes, ~
def test_directory_loads_sorted_and_skips_dot_and_underscore_files(tmp_path):
    d = tmp_path / "shards"
    d.mkdir()
    for name, i in (("b.jsonl", 2), ("a.jsonl", 1), ("c.jsonl", 3)):
        _jsonl(d / name, [{"i": i}, {"i": i * 10}])
    (d / "_SUCCESS").write_text("")
    (d / ".a.jsonl.crc").write_text("x")
    (d / "sub").mkdir()
    loader = JSONLDatasetLoader().load(str(d))
    assert [r["i"] for r in loader] == [1, 10, 2, 20, 3, 30]
    assert [p.rsplit("/", 1)[-1] for p in loader.files] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert len(loader) == 6


def test_directory_with_a_foreign_file_or_nothing_to_read(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    _jsonl(d / "a.jsonl", [{"i": 1}])
    (d / "notes.csv").write_text("x\n1\n")
    with pytest.raises(DataPrepError, match=r"does not read \(notes.csv\)") as e:
        JSONLDatasetLoader().load(str(d))
    assert e.value.path == str(d)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataPrepError, match="no .jsonl files found in the directory"):
        JSONLDatasetLoader().load(str(empty))


def test_a_bad_record_in_the_second_file_names_that_file_and_line(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    _jsonl(d / "1.jsonl", [{"i": 1}])
    (d / "2.jsonl").write_text('{"i": 2}\n{"i": NaN}\n')
    with pytest.raises(DataPrepError) as e:
        JSONLDatasetLoader().load(str(d))
    assert e.value.path == str(d / "2.jsonl") and e.value.line == 2 and e.value.field == "$.i"


def test_glob_and_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    d = tmp_path / "data"
    d.mkdir()
    for i in range(4):
        _jsonl(d / f"part-{i}.jsonl", [{"i": i}])
    assert [r["i"] for r in JSONLDatasetLoader().load("~/data/part-[13].jsonl")] == [1, 3]
    assert [r["i"] for r in JSONLDatasetLoader().load("~/data/part-0.jsonl")] == [0]
    assert len(JSONLDatasetLoader().load("~/data/../data/")) == 4
    with pytest.raises(DataPrepError, match="matches no files"):
        JSONLDatasetLoader().load("~/data/*.missing")
    with pytest.raises(DataPrepError, match=r"file not found") as e:
        JSONLDatasetLoader().load("~/nope.jsonl")
    assert e.value.path == str(tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    ("loader", "name"),
    [
        (JSONLDatasetLoader, "x.csv"),
        (JSONDatasetLoader, "x.jsonl"),
        (CSVDatasetLoader, "x.json"),
        (ParquetDatasetLoader, "x.txt"),
    ],
)
def test_a_file_of_another_format_is_refused(tmp_path, loader, name):
    (tmp_path / name).write_text("q,a\n1,2\n")
    with pytest.raises(DataPrepError, match="this loader reads"):
        loader().load(str(tmp_path / name))


def test_s3_prefix_and_glob_sorted(s3_bucket):
    s3 = boto3.client("s3", region_name="us-east-1")
    for key, i in (("shards/b.jsonl", 2), ("shards/a.jsonl", 1), ("shards/_SUCCESS", 0), ("shards/deep/z.jsonl", 9)):
        s3.put_object(Bucket=s3_bucket, Key=key, Body=(json.dumps({"i": i}) + "\n").encode() if i else b"")
    assert [r["i"] for r in JSONLDatasetLoader().load(f"s3://{s3_bucket}/shards/")] == [1, 2]
    assert [r["i"] for r in JSONLDatasetLoader().load(f"s3://{s3_bucket}/shards")] == [1, 2]  # no trailing /
    assert [r["i"] for r in JSONLDatasetLoader().load(f"s3://{s3_bucket}/shards/*.jsonl")] == [1, 2]
    assert [r["i"] for r in JSONLDatasetLoader().load(f"s3://{s3_bucket}/shards/**.jsonl")] == [1, 2, 9]
    with pytest.raises(DataPrepError, match="no .jsonl files found in the S3 prefix"):
        JSONLDatasetLoader().load(f"s3://{s3_bucket}/nothing/")


def test_parquet_shard_folder(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    d = tmp_path / "spark_out"
    d.mkdir()
    for i in range(3):
        pq.write_table(pa.table({"question": [f"q{i}"], "answer": [f"a{i}"]}), d / f"part-0000{i}.snappy.parquet")
    (d / "_SUCCESS").write_text("")
    loader = ParquetDatasetLoader(question="question", answer="answer").load(str(d))
    assert [r["question"] for r in loader] == ["q0", "q1", "q2"]
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_MICRO).validate(TrainingMethod.SFT_LORA, Model.NOVA_MICRO)


def test_parquet_nan_is_refused_with_row_and_column(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"q": ["a", "b"], "score": [1.0, float("nan")]}), tmp_path / "s.parquet")
    with pytest.raises(DataPrepError, match="not a JSON number") as e:
        ParquetDatasetLoader().load(str(tmp_path / "s.parquet"))
    assert e.value.line == 2 and e.value.field == "$.score"
    pq.write_table(pa.table({"v": [[1.0, float("inf")]]}), tmp_path / "n.parquet")
    with pytest.raises(DataPrepError, match="not a JSON number") as e:
        ParquetDatasetLoader().load(str(tmp_path / "n.parquet"))
    assert e.value.field == "$.v[1]"


# ---------------------------------------------------------------- Arrow
def _table():
    return pa.table({"prompt": ["2+2?", "3+3?", "4+4?"], "response": ["4", "6", "8"]})


def test_arrow_ipc_file_stream_and_feather(tmp_path):
    import pyarrow.feather as feather

    t = _table()
    with pa.OSFile(str(tmp_path / "f.arrow"), "wb") as sink, pa.ipc.new_file(sink, t.schema) as w:
        w.write_table(t, max_chunksize=2)
    with pa.OSFile(str(tmp_path / "s.ipc"), "wb") as sink, pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    feather.write_feather(t, str(tmp_path / "v2.feather"))
    feather.write_feather(t, str(tmp_path / "v1.feather"), version=1)
    want = t.to_pylist()
    for name in ("f.arrow", "s.ipc", "v2.feather", "v1.feather"):
        assert list(ArrowDatasetLoader().load(str(tmp_path / name))) == want, name
    assert len(ArrowDatasetLoader().load(str(tmp_path))) == 12  # the folder: four files, sorted


def test_arrow_garbage_and_truncation(tmp_path):
    (tmp_path / "bad.arrow").write_bytes(b"PAR1 this is not arrow")
    with pytest.raises(DataPrepError, match="not an Arrow IPC"):
        ArrowDatasetLoader().load(str(tmp_path / "bad.arrow"))
    t = _table()
    with pa.OSFile(str(tmp_path / "t.arrow"), "wb") as sink, pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    data = (tmp_path / "t.arrow").read_bytes()
    (tmp_path / "cut.arrow").write_bytes(data[: len(data) - 40])
    with pytest.raises(DataPrepError) as e:
        ArrowDatasetLoader().load(str(tmp_path / "cut.arrow"))
    assert e.value.path == str(tmp_path / "cut.arrow")


def test_arrow_from_s3_and_the_official_transform(s3_bucket, tmp_path):
    t = _table()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, t.schema) as w:
        w.write_table(t)
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=s3_bucket, Key="arrow_shards/0.arrow", Body=sink.getvalue().to_pybytes()
    )
    loader = ArrowDatasetLoader().load(f"s3://{s3_bucket}/arrow_shards/")
    loader.transform(
        training_method=TrainingMethod.SFT_LORA,
        model=Model.NOVA_LITE_2,
        column_mappings={"question": "prompt", "answer": "response"},
    )
    loader.save(f"s3://{s3_bucket}/out.jsonl")
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=s3_bucket, Key="out.jsonl")["Body"].read()
    assert len(body.splitlines()) == 3 and b'"text":"6"' in body


def test_save_to_disk_folder_and_dataset_dict(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"q": [f"q{i}" for i in range(5)], "a": [f"a{i}" for i in range(5)]})
    ds.save_to_disk(str(tmp_path / "one"), num_shards=2)
    assert [r["q"] for r in ArrowDatasetLoader().load(str(tmp_path / "one"))] == [f"q{i}" for i in range(5)]
    datasets.DatasetDict({"train": ds, "test": ds}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(DataPrepError, match="DatasetDict folder.*splits: test, train|DatasetDict folder.*train"):
        ArrowDatasetLoader().load(str(tmp_path / "dd"))
    assert len(ArrowDatasetLoader().load(str(tmp_path / "dd" / "train"))) == 5


# ---------------------------------------------------------------- Hugging Face (local data only)
def test_hugging_face_loader_is_lazy_and_reads_local_folders_and_objects(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"prompt": ["Hi", "Bye"], "completion": ["Hello", "Goodbye"]})
    dd = datasets.DatasetDict({"train": ds, "test": ds.select([0])})
    dd.save_to_disk(str(tmp_path / "saved"))
    missing = HuggingFaceDatasetLoader().load(str(tmp_path / "does-not-exist-anywhere"))
    assert "not read yet" in repr(missing)  # nothing fetched at load()
    with pytest.raises(DataPrepError, match="could not load the Hugging Face dataset"):
        list(missing)
    with pytest.raises(DataPrepError, match=r"several splits \(test, train\); pass split="):
        list(HuggingFaceDatasetLoader().load(str(tmp_path / "saved")))
    with pytest.raises(DataPrepError, match="no split 'dev'"):
        list(HuggingFaceDatasetLoader().load(dd, split="dev"))
    loader = HuggingFaceDatasetLoader().load(str(tmp_path / "saved"), split="test")
    assert list(loader) == [{"prompt": "Hi", "completion": "Hello"}]
    loader = HuggingFaceDatasetLoader().load(ds)
    loader.transform(
        training_method=TrainingMethod.SFT_LORA,
        model=Model.NOVA_LITE_2,
        column_mappings={"question": "prompt", "answer": "completion"},
    )
    loader.validate(training_method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    assert len(loader) == 2
    iterable = ds.to_iterable_dataset()
    assert list(HuggingFaceDatasetLoader().load(iterable)) == ds.to_list()
    with pytest.raises(DataPrepError, match="takes a Hub id"):
        HuggingFaceDatasetLoader().load(42)
    with pytest.raises(DataPrepError, match="cannot be used with a save_to_disk folder"):
        list(HuggingFaceDatasetLoader().load(str(tmp_path / "saved"), split="test", revision="main"))


def test_hugging_face_load_dataset_on_a_local_data_folder(tmp_path):
    pytest.importorskip("datasets")
    d = tmp_path / "repo"
    d.mkdir()
    _jsonl(d / "train.jsonl", [{"q": "a", "a": "b"}, {"q": "c", "a": "d"}])
    loader = HuggingFaceDatasetLoader().load(str(d), split="train")
    assert list(loader) == [{"q": "a", "a": "b"}, {"q": "c", "a": "d"}]


# ---------------------------------------------------------------- CloudWatch Logs Insights
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 1, 8, tzinfo=UTC)


def _stubbed(monkeypatch, responses):
    """A logs client whose calls are stubbed (moto runs no Insights queries: results are @ptr only)."""
    from botocore.stub import Stubber

    from amzn_nova_forge.core import aws

    client = boto3.client("logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    for op, resp, params in responses:
        stub.add_response(op, resp, params)
    stub.activate()
    monkeypatch.setattr(aws, "client", lambda service, region=None, **kw: client)
    return stub


def _row(**fields):
    return [{"field": k, "value": v} for k, v in fields.items()] + [{"field": "@ptr", "value": "p"}]


def test_cloudwatch_query_rows_become_records(monkeypatch):
    query = "fields request, response | filter endpoint = '/chat'"
    start = {
        "logGroupName": "/my-app/api-logs",
        "startTime": int(T0.timestamp()),
        "endTime": int(T1.timestamp()),
        "queryString": query,
        "limit": 10000,
    }
    rows = [
        _row(request="What is AI?", response="AI is artificial intelligence."),
        _row(request="Hi", response="Hello"),
    ]
    stub = _stubbed(
        monkeypatch,
        [
            ("start_query", {"queryId": "q-1"}, start),
            ("get_query_results", {"status": "Running", "results": []}, {"queryId": "q-1"}),
            ("get_query_results", {"status": "Complete", "results": rows}, {"queryId": "q-1"}),
        ],
    )
    monkeypatch.setattr(CloudWatchDatasetLoader, "poll_s", 0.0)
    loader = CloudWatchDatasetLoader().load(log_group="/my-app/api-logs", query=query, start_time=T0, end_time=T1)
    assert "not read yet" in repr(loader)
    loader.transform(
        training_method=TrainingMethod.SFT_LORA,
        model=Model.NOVA_LITE_2,
        column_mappings={"question": "request", "answer": "response"},
    )
    stub.assert_no_pending_responses()
    recs = list(loader)
    assert recs[0]["messages"][1]["content"] == [{"text": "AI is artificial intelligence."}]
    assert len(recs) == 2


@pytest.mark.parametrize("status", ["Failed", "Cancelled", "Timeout"])
def test_cloudwatch_query_that_does_not_complete(monkeypatch, status):
    _stubbed(
        monkeypatch,
        [("start_query", {"queryId": "q-2"}, None), ("get_query_results", {"status": status, "results": []}, None)],
    )
    loader = CloudWatchDatasetLoader().load("/g", "fields @message", T0, T1)
    with pytest.raises(DataPrepError, match=f"ended with status {status}"):
        loader.show()


def test_cloudwatch_query_timeout_stops_the_query(monkeypatch):
    stub = _stubbed(
        monkeypatch,
        [
            ("start_query", {"queryId": "q-3"}, None),
            ("get_query_results", {"status": "Running", "results": []}, None),
            ("stop_query", {"success": True}, {"queryId": "q-3"}),
        ],
    )
    from amzn_nova_forge.dataset import _cloudwatch

    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr(_cloudwatch.time, "monotonic", lambda: float(next(clock)))
    loader = CloudWatchDatasetLoader().load("/g", "fields @message", T0, T1, timeout_s=50)
    with pytest.raises(DataPrepError, match="was still Running after 50 s and was stopped"):
        list(loader)
    stub.assert_no_pending_responses()


def test_cloudwatch_aws_errors_name_operation_and_request_id(monkeypatch):
    from botocore.stub import Stubber

    from amzn_nova_forge.core import aws

    client = boto3.client("logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    stub.add_client_error(
        "start_query",
        "ResourceNotFoundException",
        "The specified log group does not exist.",
        response_meta={"RequestId": "req-42"},
    )
    stub.activate()
    monkeypatch.setattr(aws, "client", lambda service, region=None, **kw: client)
    with pytest.raises(
        DataPrepError, match=r"StartQuery failed \(ResourceNotFoundException, request id req-42\).*log group"
    ):
        list(CloudWatchDatasetLoader().load("/missing", "fields @message", T0, T1))


def test_cloudwatch_under_moto_runs_the_real_request_path(aws, monkeypatch):
    """moto accepts StartQuery/GetQueryResults but evaluates no query: each row holds only @ptr."""
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/app")
    logs.create_log_stream(logGroupName="/app", logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/app", logStreamName="s", logEvents=[{"timestamp": now, "message": json.dumps({"q": "a"})}]
    )
    t = datetime.now(UTC)
    loader = CloudWatchDatasetLoader(region="us-east-1").load(
        "/app", "fields q", t - timedelta(hours=1), t + timedelta(hours=1)
    )
    assert list(loader) == [{}]  # @ptr dropped; moto returns no fields


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"log_group": ""}, "log_group"),
        ({"query": "  "}, "query must be"),
        ({"start_time": datetime(2025, 1, 1)}, "no time zone"),
        ({"end_time": T0}, "must be after"),
        ({"start_time": "2025-01-01"}, "must be a datetime"),
        ({"limit": 0}, "limit must be"),
        ({"limit": 10001}, "limit must be"),
        ({"timeout_s": -1}, "timeout_s"),
    ],
)
def test_cloudwatch_bad_arguments(kwargs, match):
    args = {"log_group": "/g", "query": "fields @message", "start_time": T0, "end_time": T1, **kwargs}
    with pytest.raises(ConfigError, match=match):
        CloudWatchDatasetLoader().load(**args)


def test_hugging_face_without_datasets_names_the_extra(monkeypatch):
    import builtins

    from amzn_nova_forge.errors import MissingDependencyError

    real_import = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets" or name.startswith("datasets."):
            raise ImportError("No module named 'datasets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    loader = HuggingFaceDatasetLoader().load("org/name", split="train")
    with pytest.raises(MissingDependencyError, match=r"amzn-nova-forge\[huggingface\]") as e:
        list(loader)
    assert e.value.extra == "huggingface"
