"""Loaders: load (JSONL/JSON/CSV/Parquet, local and S3), show, split_data, save_data, iteration."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from amzn_nova_forge.dataset import (
    CSVDatasetLoader,
    DataPrepError,
    JSONDatasetLoader,
    JSONLDatasetLoader,
    Model,
    ParquetDatasetLoader,
    TrainingMethod,
)

from .helpers import qa_rows


def _read_jsonl(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_jsonl_load_counts_and_iterates(write_jsonl):
    path = write_jsonl(qa_rows(25))
    loader = JSONLDatasetLoader(question="input", answer="output").load(path)
    assert loader.path == path
    assert len(loader) == 25
    assert list(loader)[3] == {"input": "What is 3 + 3?", "output": "6"}


def test_jsonl_skips_blank_lines_and_keeps_source_line_numbers(tmp_path):
    path = tmp_path / "gaps.jsonl"
    path.write_text('\n{"input": "a", "output": "1"}\n\n   \n{"input": "", "output": "2"}\r\n', encoding="utf-8")
    loader = JSONLDatasetLoader(question="input", answer="output").load(str(path))
    assert len(loader) == 2
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE)
    with pytest.raises(DataPrepError) as e:
        loader.validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE)
    # the empty question sits on line 5 of the file, not record 2
    assert e.value.problems[0][0] == 5
    assert e.value.problems[0][1] == "$.messages[0].content"


def test_jsonl_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "caf\xc3\xa9"}\n')
    loader = JSONLDatasetLoader().load(str(path))
    assert list(loader) == [{"text": "café"}]


def test_json_array_and_single_object(tmp_path):
    arr = tmp_path / "a.json"
    arr.write_text(json.dumps(qa_rows(3), indent=2), encoding="utf-8")
    assert [r["output"] for r in JSONDatasetLoader().load(str(arr))] == ["0", "2", "4"]
    one = tmp_path / "o.json"
    one.write_text('{"text": "just one"}', encoding="utf-8")
    assert list(JSONDatasetLoader().load(str(one))) == [{"text": "just one"}]


def test_json_array_streams_large_elements(tmp_path):
    # elements bigger than the reader's first chunk must still be decoded whole
    big = [{"text": "x" * 1_500_000}, {"text": "y"}]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(big), encoding="utf-8")
    got = list(JSONDatasetLoader().load(str(path)))
    assert [len(r["text"]) for r in got] == [1_500_000, 1]


def test_csv_with_quotes_and_embedded_newlines(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('user_query,bot_response\n"Hi, there","Line one\nLine two"\nplain,42\n', encoding="utf-8")
    loader = CSVDatasetLoader(question="user_query", answer="bot_response").load(str(path))
    assert list(loader) == [
        {"user_query": "Hi, there", "bot_response": "Line one\nLine two"},
        {"user_query": "plain", "bot_response": "42"},
    ]


def test_parquet_loads(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"q": ["a?", "b?"], "a": ["A", "B"], "n": [1, 2]}), str(path))
    loader = ParquetDatasetLoader(question="q", answer="a").load(str(path))
    assert list(loader) == [{"q": "a?", "a": "A", "n": 1}, {"q": "b?", "a": "B", "n": 2}]
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE)
    loader.validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE)


def test_from_records_and_repr():
    loader = JSONLDatasetLoader.from_records(qa_rows(3), question="input", answer="output")
    assert len(loader) == 3
    assert "records=3" in repr(loader)
    with pytest.raises(DataPrepError, match="record 1 is a list, not a mapping"):
        JSONLDatasetLoader.from_records([["not", "a", "mapping"]])


def test_operations_before_load_raise():
    loader = JSONLDatasetLoader()
    for call in (lambda: loader.show(), lambda: loader.save_data("x.jsonl"), lambda: len(loader)):
        with pytest.raises(DataPrepError, match="load"):
            call()


def test_column_mapping_values_must_be_strings():
    with pytest.raises(ValueError, match="string"):
        JSONLDatasetLoader(question=1)


# ---------------------------------------------------------------- show
def test_show_prints_first_n_transformed(write_jsonl, capsys):
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(qa_rows(12)))
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_MICRO)
    capsys.readouterr()
    loader.show(2)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("JSONLDatasetLoader: first 2 records")
    assert out[1].startswith("[1] ") and '"What is 0 + 0?"' in out[1] and "bedrock-conversation-2024" in out[1]
    assert out[2].startswith("[2] ")
    assert len(out) == 3  # count unknown until the first full pass: no "more" line
    len(loader)
    loader.show(1)
    assert "... (11 more)" in capsys.readouterr().out


# ---------------------------------------------------------------- split_data
def test_split_counts_membership_and_reproducibility(write_jsonl):
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(qa_rows(100)))
    train, val, test = loader.split_data(train_ratio=0.7, val_ratio=0.2, test_ratio=0.1)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert isinstance(train, JSONLDatasetLoader) and train.column_mappings == loader.column_mappings
    ids = [{r["output"] for r in part} for part in (train, val, test)]
    assert set().union(*ids) == {r["output"] for r in qa_rows(100)}
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    again = loader.split_data(train_ratio=0.7, val_ratio=0.2, test_ratio=0.1)
    assert [list(p) for p in again] == [list(p) for p in (train, val, test)]
    other = loader.split_data(train_ratio=0.7, val_ratio=0.2, test_ratio=0.1, seed=7)
    assert [r["output"] for r in other[0]] != [r["output"] for r in train]
    # membership is random: the first 70 rows are not simply the train set
    assert {r["output"] for r in train} != {r["output"] for r in qa_rows(70)}


def test_split_keeps_source_lines_for_errors(write_jsonl):
    rows = qa_rows(20)
    rows[13]["output"] = ""
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(rows))
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    parts = loader.split_data(0.5, 0.25, 0.25)
    lines = []
    for part in parts:
        try:
            part.validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
        except DataPrepError as e:
            lines += [p[0] for p in e.problems]
    assert lines == [14]


@pytest.mark.parametrize("ratios", [(0.5, 0.5, 0.5), (0.8, 0.1, 0.05), (1.2, -0.1, -0.1)])
def test_split_rejects_bad_ratios(write_jsonl, ratios):
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(5)))
    with pytest.raises(DataPrepError, match="ratio"):
        loader.split_data(*ratios)


def test_split_rejects_empty_dataset():
    with pytest.raises(DataPrepError, match="empty"):
        JSONLDatasetLoader().split_data()
    with pytest.raises(DataPrepError, match="empty"):
        JSONLDatasetLoader.from_records([]).split_data()


# ---------------------------------------------------------------- save_data
def test_save_jsonl_and_json_round_trip(write_jsonl, tmp_path):
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(qa_rows(4)))
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE)
    out = tmp_path / "nested" / "dir" / "train.jsonl"
    assert loader.save_data(str(out)) == str(out)
    recs = _read_jsonl(out)
    assert len(recs) == 4 and recs[1]["messages"][1]["content"] == [{"text": "2"}]
    arr = tmp_path / "train.json"
    loader.save_data(str(arr))
    assert json.loads(arr.read_text()) == recs
    assert list(JSONDatasetLoader().load(str(arr))) == recs
    assert [p.name for p in (tmp_path / "nested" / "dir").iterdir()] == ["train.jsonl"]  # no temp files left


@pytest.mark.parametrize("name", ["out.csv", "out.txt", "out"])
def test_save_rejects_other_extensions(write_jsonl, tmp_path, name):
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(2)))
    with pytest.raises(DataPrepError, match=r"\.jsonl"):
        loader.save_data(str(tmp_path / name))
    assert not (tmp_path / name).exists()


def test_save_failure_is_dataprep_error_and_leaves_nothing(write_jsonl, tmp_path):
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(2)))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataPrepError, match="could not save"):
        loader.save_data(str(blocker / "sub" / "out.jsonl"))


def test_save_to_s3_and_load_back(write_jsonl, s3_bucket):
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(qa_rows(5)))
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    uri = f"s3://{s3_bucket}/data/train.jsonl"
    assert loader.save_data(uri) == uri
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=s3_bucket, Key="data/train.jsonl")["Body"]
    recs = [json.loads(line) for line in body.read().splitlines()]
    assert len(recs) == 5 and recs[0]["schemaVersion"] == "bedrock-conversation-2024"
    again = JSONLDatasetLoader().load(uri)
    assert list(again) == recs
    loader.save_data(f"s3://{s3_bucket}/data/train.json")
    assert list(JSONDatasetLoader().load(f"s3://{s3_bucket}/data/train.json")) == recs


def test_load_csv_and_json_from_s3(s3_bucket):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=s3_bucket, Key="c.csv", Body=b"q,a\nhi,there\n")
    s3.put_object(Bucket=s3_bucket, Key="j.json", Body=b'[{"q": "hi", "a": "there"}]')
    assert list(CSVDatasetLoader().load(f"s3://{s3_bucket}/c.csv")) == [{"q": "hi", "a": "there"}]
    assert list(JSONDatasetLoader().load(f"s3://{s3_bucket}/j.json")) == [{"q": "hi", "a": "there"}]


def test_missing_s3_object_is_dataprep_error(s3_bucket):
    with pytest.raises(DataPrepError, match="s3://my-bucket/nope.jsonl"):
        JSONLDatasetLoader().load(f"s3://{s3_bucket}/nope.jsonl")
    with pytest.raises(DataPrepError, match="not found"):
        CSVDatasetLoader().load(f"s3://{s3_bucket}/nope.csv")


def test_local_files_make_no_aws_call(write_jsonl, tmp_path, no_aws_credentials, monkeypatch):
    """With no credentials at all, and any boto3 client creation made fatal, the whole
    local pipeline still works: local data preparation never touches AWS."""
    import boto3.session

    def boom(*a, **k):
        raise AssertionError("an AWS client was created for a local file")

    monkeypatch.setattr(boto3.session.Session, "client", boom)
    monkeypatch.setattr(boto3, "client", boom)
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(qa_rows(30)))
    loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    train, _val, _test = loader.split_data()
    train.save_data(str(tmp_path / "train.jsonl"))
    loader.save_data(str(tmp_path / "all.json"))
    assert len(_read_jsonl(tmp_path / "train.jsonl")) == 24
