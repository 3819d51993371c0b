"""Malformed input: every case ends in a DataPrepError naming the file and the line."""

from __future__ import annotations

import json
import os

import pytest

from amzn_nova_forge.dataset import (
    CSVDatasetLoader,
    DataPrepError,
    JSONDatasetLoader,
    JSONLDatasetLoader,
    Model,
    TrainingMethod,
)

from .helpers import qa_rows


def _full_pass(loader):
    """Force every record to be read (local JSONL is parsed on the first pass)."""
    return len(loader)


def _path_of(tmp_path, name, data: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def test_broken_json_line(tmp_path):
    lines = [json.dumps(r) for r in qa_rows(5)]
    lines[3] = '{"input": "What is 3 + 3?", "output": "6"'  # missing brace
    path = _path_of(tmp_path, "broken.jsonl", ("\n".join(lines) + "\n").encode())
    loader = JSONLDatasetLoader(question="input", answer="output").load(path)
    with pytest.raises(DataPrepError) as e:
        _full_pass(loader)
    assert e.value.path == path and e.value.line == 4
    assert str(e.value).startswith(f"{path}:4") and "not valid JSON" in str(e.value)


def test_broken_first_line_fails_at_load(tmp_path):
    path = _path_of(tmp_path, "bad.jsonl", b"question,answer\nq,a\n")
    with pytest.raises(DataPrepError) as e:
        JSONLDatasetLoader().load(path)
    assert e.value.line == 1 and "not valid JSON" in str(e.value)


def test_broken_line_surfaces_in_validate_and_save(tmp_path):
    path = _path_of(tmp_path, "b.jsonl", b'{"text": "a"}\n{"text": \n')
    for call in ("validate", "save"):
        loader = JSONLDatasetLoader().load(path)
        with pytest.raises(DataPrepError) as e:
            if call == "validate":
                loader.validate(TrainingMethod.CPT, Model.NOVA_LITE)
            else:
                loader.save_data(str(tmp_path / "out.jsonl"))
        assert (e.value.path, e.value.line) == (path, 2)
    assert not (tmp_path / "out.jsonl").exists()


def test_line_that_is_not_an_object(tmp_path):
    path = _path_of(tmp_path, "arr.jsonl", b'{"text": "a"}\n["text", "b"]\n')
    with pytest.raises(DataPrepError, match="expected a JSON object") as e:
        _full_pass(JSONLDatasetLoader().load(path))
    assert e.value.line == 2


@pytest.mark.parametrize(
    "data, line",
    [
        (b'{"text": "ok"}\n{"text": "caf\xe9"}\n', 2),  # Latin-1 byte in a UTF-8 file
        ("\ufeff".encode("utf-16-le") + '{"text": "x"}\n'.encode("utf-16-le"), 1),  # UTF-16 (BOM)
        ('{"text": "x"}\n'.encode("utf-16-be"), 1),  # UTF-16 without BOM (NUL bytes)
    ],
)
def test_wrong_encoding_jsonl(tmp_path, data, line):
    path = _path_of(tmp_path, "enc.jsonl", data)
    with pytest.raises(DataPrepError, match="UTF") as e:
        _full_pass(JSONLDatasetLoader().load(path))
    assert (e.value.path, e.value.line) == (path, line)


def test_wrong_encoding_csv(tmp_path):
    path = _path_of(tmp_path, "enc.csv", b"q,a\nok,fine\ncaf\xe9,x\n")
    with pytest.raises(DataPrepError, match="UTF-8") as e:
        CSVDatasetLoader().load(path)
    assert (e.value.path, e.value.line) == (path, 3)


def test_wrong_encoding_json(tmp_path):
    path = _path_of(tmp_path, "enc.json", b'[{"text": "ok"},\n {"text": "caf\xe9"}]')
    with pytest.raises(DataPrepError, match="UTF-8") as e:
        JSONDatasetLoader().load(path)
    assert e.value.path == path and e.value.line is not None


@pytest.mark.parametrize(
    "loader_cls, name", [(JSONLDatasetLoader, "e.jsonl"), (JSONDatasetLoader, "e.json"), (CSVDatasetLoader, "e.csv")]
)
def test_empty_file(tmp_path, loader_cls, name):
    path = _path_of(tmp_path, name, b"")
    with pytest.raises(DataPrepError, match="empty") as e:
        loader_cls().load(path)
    assert e.value.path == path


def test_only_blank_lines(tmp_path):
    path = _path_of(tmp_path, "blank.jsonl", b"\n\n   \n")
    with pytest.raises(DataPrepError, match="no records"):
        JSONLDatasetLoader().load(path)


def test_missing_column_names_line_and_column(tmp_path, write_jsonl):
    rows = qa_rows(6)
    del rows[4]["output"]
    loader = JSONLDatasetLoader(question="input", answer="output").load(write_jsonl(rows))
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)  # first record is fine
    with pytest.raises(DataPrepError) as e:
        loader.validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    assert e.value.line == 5 and e.value.field == "$.output"
    assert "'output'" in str(e.value) and "answer" in str(e.value)


def test_missing_column_in_first_record_fails_at_transform(write_jsonl):
    loader = JSONLDatasetLoader(question="prompt", answer="output").load(write_jsonl(qa_rows(3)))
    with pytest.raises(DataPrepError, match="'prompt'") as e:
        loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE)
    assert e.value.line == 1 and e.value.path is not None


def test_unmapped_generic_columns_say_how_to_map(write_jsonl):
    loader = JSONLDatasetLoader().load(write_jsonl(qa_rows(3)))
    with pytest.raises(DataPrepError, match=r"question='input', answer='output'"):
        loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE)


def test_fifty_megabyte_single_line(tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:
        f.write(b'{"text": "ok"}\n{"text": "')
        chunk = b"x" * (1 << 20)
        f.writelines(chunk for _ in range(50))
        f.write(b'"}\n')
    loader = JSONLDatasetLoader().load(str(path))
    with pytest.raises(DataPrepError, match="over the") as e:
        _full_pass(loader)
    assert (e.value.path, e.value.line) == (str(path), 2)


def test_fifty_megabyte_file_without_newlines_fails_at_load(tmp_path):
    path = tmp_path / "one.jsonl"
    with open(path, "wb") as f:
        f.write(b'{"text": "' + b"y" * (50 << 20) + b'"}')
    with pytest.raises(DataPrepError, match="over the") as e:
        JSONLDatasetLoader().load(str(path))
    assert e.value.line == 1


def test_record_limit_is_adjustable(tmp_path):
    path = _path_of(tmp_path, "m.jsonl", b'{"text": "' + b"z" * 2000 + b'"}\n')

    class Small(JSONLDatasetLoader):
        max_record_bytes = 1000

    with pytest.raises(DataPrepError, match="1,000-byte limit"):
        Small().load(path)
    assert len(JSONLDatasetLoader().load(path)) == 1


def test_ragged_csv_row(tmp_path):
    path = _path_of(tmp_path, "r.csv", b"question,answer\nq1,a1\nq2,a2,extra\nq3,a3\n")
    with pytest.raises(DataPrepError, match="3 fields but the header has 2") as e:
        CSVDatasetLoader().load(path)
    assert (e.value.path, e.value.line) == (path, 3)


def test_short_csv_row(tmp_path):
    path = _path_of(tmp_path, "s.csv", b"question,answer\nq1\n")
    with pytest.raises(DataPrepError, match="1 fields") as e:
        CSVDatasetLoader().load(path)
    assert e.value.line == 2


def test_csv_duplicate_header(tmp_path):
    path = _path_of(tmp_path, "d.csv", b"q,q\n1,2\n")
    with pytest.raises(DataPrepError, match="duplicate"):
        CSVDatasetLoader().load(path)


def test_malformed_json_file(tmp_path):
    path = _path_of(tmp_path, "m.json", b'[\n  {"text": "a"},\n  {"text": "b",,}\n]')
    with pytest.raises(DataPrepError, match="not valid JSON") as e:
        JSONDatasetLoader().load(path)
    assert (e.value.path, e.value.line) == (path, 3)


def test_json_array_of_non_objects(tmp_path):
    path = _path_of(tmp_path, "n.json", b'[\n{"text": "a"},\n"oops"\n]')
    with pytest.raises(DataPrepError, match="expected JSON objects") as e:
        JSONDatasetLoader().load(path)
    assert e.value.line == 3


def test_json_top_level_scalar(tmp_path):
    with pytest.raises(DataPrepError, match="array of objects"):
        JSONDatasetLoader().load(_path_of(tmp_path, "s.json", b'"just a string"'))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataPrepError, match="not found"):
        JSONLDatasetLoader().load(str(tmp_path / "nope.jsonl"))
    with pytest.raises(DataPrepError, match="directory"):
        JSONLDatasetLoader().load(str(tmp_path))


def test_file_changed_after_load(write_jsonl):
    path = write_jsonl(qa_rows(3))
    loader = JSONLDatasetLoader().load(path)
    with open(path, "a") as f:
        f.write(json.dumps({"input": "new", "output": "row"}) + "\n")
    os.utime(path, ns=(1, 1))
    with pytest.raises(DataPrepError, match="changed after load"):
        len(loader)


def test_errors_are_value_errors(tmp_path):
    # the API spec documents ValueError; DataPrepError is one
    with pytest.raises(ValueError, match="nope.jsonl: file not found") as e:
        JSONLDatasetLoader().load(str(tmp_path / "nope.jsonl"))
    assert isinstance(e.value, DataPrepError)


def test_failed_save_leaves_nothing_and_names_the_path(tmp_path, monkeypatch):
    import errno

    from amzn_nova_forge.dataset import _loader_base

    loader = JSONLDatasetLoader.from_records(qa_rows(5), question="input", answer="output")
    out = tmp_path / "out"
    out.mkdir()

    def disk_full(src, dst):
        dst.write(src.read(10))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_loader_base, "_copy", disk_full)
    with pytest.raises(DataPrepError, match="could not save the dataset: .*No space left on device") as e:
        loader.save_data(str(out / "train.jsonl"))
    assert e.value.path == str(out / "train.jsonl")
    assert sorted(p.name for p in out.iterdir()) == []  # no partial file, no temporary


def test_save_to_a_missing_bucket_is_a_data_prep_error(s3_bucket):
    loader = JSONLDatasetLoader.from_records(qa_rows(2), question="input", answer="output")
    with pytest.raises(DataPrepError, match="Bucket of s3://no-such-bucket/train.jsonl does not exist") as e:
        loader.save_data("s3://no-such-bucket/train.jsonl")
    assert e.value.path == "s3://no-such-bucket/train.jsonl"
