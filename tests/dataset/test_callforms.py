"""The official current call forms next to the seed forms: both work, neither warns."""

from __future__ import annotations

import json
import logging
import os
import warnings

import pytest

from amzn_nova_forge import Model, TrainingMethod
from amzn_nova_forge.core.enums import EvaluationTask, TransformMethod, ValidateMethod
from amzn_nova_forge.dataset import JSONDatasetLoader, JSONLDatasetLoader, _save
from amzn_nova_forge.errors import ConfigError, DataPrepError, DatasetValidationError
from tests.dataset.helpers import qa_rows

SFT, L2 = TrainingMethod.SFT_LORA, Model.NOVA_LITE_2


def _saved(loader, path):
    loader.save_data(str(path))
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_current_and_seed_forms_give_the_same_bytes(write_jsonl, tmp_path, caplog):
    path = write_jsonl(qa_rows(6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither form may warn
        with caplog.at_level(logging.WARNING):
            cur = JSONLDatasetLoader().load(path)
            cur.transform(
                method=TransformMethod.SCHEMA,
                training_method=SFT,
                model=L2,
                column_mappings={"question": "input", "answer": "output"},
            )
            assert cur.validate(method=ValidateMethod.INVALID_RECORDS, training_method=SFT, model=L2) is cur
            assert cur.validate(method=ValidateMethod.SCHEMA, training_method=SFT, model=L2) is cur
            cur.save(str(tmp_path / "cur.jsonl"))
            seed = JSONLDatasetLoader(question="input", answer="output").load(path)
            seed.transform(SFT, L2)
            seed.validate(method=SFT, model=L2)
            seed.save_data(str(tmp_path / "seed.jsonl"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert (tmp_path / "cur.jsonl").read_bytes() == (tmp_path / "seed.jsonl").read_bytes()
    first = json.loads((tmp_path / "cur.jsonl").read_text().splitlines()[0])
    assert first["messages"][0]["content"] == [{"text": "What is 0 + 0?"}]


def test_column_mappings_replace_the_constructor_ones(write_jsonl):
    rows = [{"input": "q", "output": "a", "prompt": "P", "completion": "C"}]
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(rows))
    loader.transform(training_method=SFT, model=L2, column_mappings={"question": "prompt", "answer": "completion"})
    rec = next(iter(loader))
    assert rec["messages"][0]["content"] == [{"text": "P"}]
    assert rec["messages"][1]["content"] == [{"text": "C"}]
    assert loader.column_mappings == {"question": "input", "answer": "output"}  # untouched


def test_eval_task_in_the_current_form(write_jsonl, capsys):
    rows = [{"q": f"Q{i}", "a": f"A{i}"} for i in range(3)]
    loader = JSONLDatasetLoader().load(write_jsonl(rows))
    loader.transform(
        method=TransformMethod.SCHEMA,
        training_method=TrainingMethod.EVALUATION,
        model=L2,
        eval_task=EvaluationTask.GEN_QA,
        column_mappings={"query": "q", "response": "a"},
    )
    loader.validate(
        method=ValidateMethod.INVALID_RECORDS,
        training_method=TrainingMethod.EVALUATION,
        model=L2,
        eval_task=EvaluationTask.GEN_QA,
    )
    assert "Validation succeeded for 3 samples on an Evaluation BYOD dataset" in capsys.readouterr().out
    assert list(loader)[2] == {"query": "Q2", "response": "A2"}


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda lo: lo.transform(method=TransformMethod.SCHEMA, model=L2), "needs training_method="),
        (lambda lo: lo.transform(method=TransformMethod.SCHEMA, training_method=SFT), "needs model="),
        (lambda lo: lo.validate(method=ValidateMethod.INVALID_RECORDS, model=L2), "needs training_method="),
        (lambda lo: lo.transform(method="shuffle", training_method=SFT, model=L2), "TransformMethod.SCHEMA"),
        (lambda lo: lo.validate(method="strict", training_method=SFT, model=L2), "ValidateMethod.SCHEMA"),
        (lambda lo: lo.transform(SFT, L2, training_method=TrainingMethod.CPT), "pass the training method once"),
        (lambda lo: lo.transform(training_method="sft_lora_x", model=L2), "training_method must be one of"),
        (lambda lo: lo.transform(training_method=SFT, model="nova-ultra"), "model must be one of"),
        (lambda lo: lo.transform(training_method=SFT, model=L2, column_mappings=["q"]), "must be a dict"),
        (lambda lo: lo.transform(training_method=SFT, model=L2, column_mappings={"question": 3}), "a string"),
    ],
)
def test_incomplete_current_forms_are_config_errors(write_jsonl, call, match):
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(2)))
    with pytest.raises(ConfigError, match=match):
        call(loader)


def test_validate_failure_in_the_current_form(write_jsonl):
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(2)))
    with pytest.raises(DatasetValidationError) as e:
        loader.validate(method=ValidateMethod.INVALID_RECORDS, training_method=SFT, model=L2)
    assert e.value.total >= 2 and e.value.problems[0][0] == 1


def test_split_is_split_data(write_jsonl):
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(20)))
    a = [list(x) for x in loader.split(train_ratio=0.5, val_ratio=0.25, test_ratio=0.25, seed=7)]
    b = [list(x) for x in loader.split_data(train_ratio=0.5, val_ratio=0.25, test_ratio=0.25, seed=7)]
    assert a == b and [len(x) for x in a] == [10, 5, 5]
    with pytest.raises(DataPrepError, match="sum to 1.0"):
        loader.split(0.5, 0.5, 0.5)


def test_dataset_property_is_a_lazy_record_callable(write_jsonl):
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(qa_rows(3)))
    loader.transform(SFT, L2)
    gen = loader.dataset
    assert callable(gen)
    it = gen()
    assert next(it)["schemaVersion"] == "bedrock-conversation-2024"
    assert len(list(gen())) == 3  # each call starts over
    loader.dataset = lambda: iter([{"text": "a"}, {"text": "b"}])
    assert list(loader) == [{"text": "a"}, {"text": "b"}] and len(loader) == 2
    loader.dataset = [{"text": "c"}]
    assert list(loader.dataset()) == [{"text": "c"}]
    with pytest.raises(DataPrepError, match="not a mapping"):
        loader.dataset = [["not", "a", "dict"]]


def test_region_is_not_a_column_mapping():
    loader = JSONLDatasetLoader(region="eu-west-1", question="q")
    assert loader.region == "eu-west-1" and loader.column_mappings == {"question": "q"}
    assert JSONLDatasetLoader().region is None
    with pytest.raises(ConfigError, match="region"):
        JSONLDatasetLoader(region=5)  # type: ignore[arg-type]
    assert JSONLDatasetLoader.from_records([{"a": 1}], region="us-west-2").region == "us-west-2"


def test_from_records_of_a_dataframe():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "q": ["a", "b", "c"],
            "n": [1.5, float("nan"), 3.0],
            "k": [1, 2, 3],
            "when": pd.to_datetime(["2025-01-01"] * 3),
        }
    )
    recs = list(JSONLDatasetLoader.from_records(frame))
    assert recs[0] == {"q": "a", "n": 1.5, "k": 1, "when": "2025-01-01T00:00:00"}
    assert recs[1]["n"] is None  # pandas' missing marker becomes null (documented)
    dup = pd.DataFrame([[1, 2]], columns=["x", "x"])
    with pytest.raises(DataPrepError, match="duplicate column"):
        JSONLDatasetLoader.from_records(dup)


def test_from_records_of_a_hugging_face_dataset_and_arrow_table():
    datasets = pytest.importorskip("datasets")
    pa = pytest.importorskip("pyarrow")
    ds = datasets.Dataset.from_dict({"question": ["2+2?", "3+3?"], "answer": ["4", "6"]})
    loader = JSONLDatasetLoader.from_records(ds)
    assert list(loader) == [{"question": "2+2?", "answer": "4"}, {"question": "3+3?", "answer": "6"}]
    loader.transform(SFT, L2).validate(SFT, L2)
    table = pa.table({"x": [1.0, float("inf")]})
    with pytest.raises(DataPrepError, match="inf is not a JSON number") as e:
        JSONLDatasetLoader.from_records(table)
    assert e.value.line == 2 and e.value.field == "$.x"


@pytest.mark.parametrize(
    ("records", "field", "part"),
    [
        ([{"a": float("nan")}], "$.a", "NaN"),
        ([{"a": [1, float("inf")]}], "$.a[1]", "not a JSON number"),
        ([{"id": 10**30}], "$.id", "outside the 64-bit range"),
        ([{"s": "\ud800"}], "$.s", "lone UTF-16 surrogate"),
        ([{"x": {1, 2}}], "$.x", "not a JSON value"),
        ([{"k": {3: "v"}}], "$.k", "not a string"),
    ],
)
def test_from_records_applies_the_json_rules(records, field, part):
    with pytest.raises(DataPrepError, match=part) as e:
        JSONLDatasetLoader.from_records(records)
    assert e.value.field == field and e.value.line == 1


def test_save_json_follows_the_official_for_one_record_and_writes_an_array_for_more(tmp_path):
    one = JSONLDatasetLoader.from_records([{"a": 1}])
    one.save(str(tmp_path / "one.json"))
    assert json.loads((tmp_path / "one.json").read_text()) == {"a": 1}
    assert list(JSONDatasetLoader().load(str(tmp_path / "one.json"))) == [{"a": 1}]
    many = JSONLDatasetLoader.from_records([{"a": 1}, {"a": 2}])
    many.save(str(tmp_path / "many.json"))
    assert json.loads((tmp_path / "many.json").read_text()) == [{"a": 1}, {"a": 2}]
    with pytest.raises(DataPrepError, match="must end in"):
        many.save(str(tmp_path / "many.txt"))


def test_save_works_without_os_sendfile(tmp_path, monkeypatch, write_jsonl):
    monkeypatch.delattr(os, "sendfile", raising=False)
    assert not hasattr(os, "sendfile")
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(50)))
    out = tmp_path / "out.jsonl"
    loader.save(str(out))
    assert [json.loads(x) for x in out.read_text().splitlines()] == qa_rows(50)


def test_copy_falls_back_when_the_kernel_refuses(tmp_path, monkeypatch):
    def refuse(*args):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "sendfile", refuse, raising=False)
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(b"x" * 100_000)
    with open(src, "rb") as s, open(dst, "wb") as d:
        _save.copy_file(s, d)
    assert dst.read_bytes() == b"x" * 100_000
