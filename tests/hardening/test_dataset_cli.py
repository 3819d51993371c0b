"""``nova-forge data …`` fed malformed files and arguments: exit 1, one line on stderr, no traceback."""

from __future__ import annotations

import json

import pytest

from amzn_nova_forge.cli._main import main

BAD_FILES = [
    ("nan.jsonl", b'{"a": 1}\n{"a": NaN}\n', "bad.jsonl:2 $.a: NaN is not a JSON number"),
    ("big.jsonl", b'{"id": 123456789012345678901234567890}\n', ":1 $.id: integer"),
    ("deep.jsonl", b'{"d": ' + b"[" * 300 + b"]" * 300 + b"}\n", "deeper than 128 levels"),
    ("surrogate.jsonl", b'{"s": "\\ud800"}\n', "lone UTF-16 surrogate"),
    ("inf.json", b'[{"a": 1e400}]', ":1 $.a: number 1e400 is too large"),
    ("nan.json", b'[{"a": 1},\n {"b": [NaN]}]', ":2 $.b[0]: NaN"),
    ("trunc.json", b'[{"a": 1},', "is not valid JSON"),
    ("utf16.jsonl", '{"a": 1}\n'.encode("utf-16"), "UTF-16"),
    ("latin1.csv", b"q,a\ncaf\xe9,1\n", "not valid UTF-8"),
    ("ragged.csv", b"q,a\n1,2,3\n", "row has 3 fields"),
    ("empty.jsonl", b"", "no records"),
]


@pytest.mark.parametrize("command", ["show", "validate", "split"])
@pytest.mark.parametrize(("name", "data", "part"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_malformed_file_one_line_no_traceback(tmp_path, capsys, command, name, data, part):
    path = tmp_path / ("bad" + name[name.index(".") :])
    path.write_bytes(data)
    argv = ["data", command, str(path)]
    if command == "validate":
        argv += ["--method", "sft_lora", "--model", "nova_lite_2"]
    if command == "split":
        argv += ["--out-dir", str(tmp_path / "parts")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: DataPrepError: ") and part in lines[0], lines[0]
    assert not (tmp_path / "parts").exists()


@pytest.mark.parametrize(
    ("argv_tail", "part"),
    [
        (["--platform", "XYZ"], "Unknown --platform 'XYZ'; one of:"),
        (["--method", "sft"], "Unknown --method"),
        (["--eval-task", "trivia"], "Unknown --eval-task"),
    ],
)
def test_bad_options_are_one_line(tmp_path, capsys, argv_tail, part):
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"q": "a", "a": "b"}) + "\n")
    argv = ["data", "validate", str(path), "--method", "sft_lora", "--model", "nova_lite_2", *argv_tail]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and part in err


def test_directory_and_arrow_inputs(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    d = tmp_path / "shards"
    d.mkdir()
    for i in range(2):
        (d / f"{i}.jsonl").write_text(json.dumps({"i": i}) + "\n")
    assert main(["data", "show", str(d), "--format", "jsonl"]) == 0
    assert '{"i":1}' in capsys.readouterr().out
    assert main(["data", "show", str(d)]) == 1
    assert "pass --format" in capsys.readouterr().err
    table = pa.table({"question": ["2+2?"], "answer": ["4"]})
    with pa.OSFile(str(tmp_path / "t.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    out = tmp_path / "out.jsonl"
    argv = ["data", "transform", str(tmp_path / "t.arrow"), str(out), "--method", "sft_lora", "--model", "nova_micro"]
    assert main(argv) == 0
    assert json.loads(out.read_text())["messages"][1]["content"] == [{"text": "4"}]
