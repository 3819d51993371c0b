"""``nova-forge data validate|transform|split|show`` and the bundled samples."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from amzn_nova_forge.cli._main import main
from amzn_nova_forge.dataset import JSONLDatasetLoader, Model, TrainingMethod, sample_path


def _qa_file(tmp_path, rows=None):
    path = tmp_path / "raw.jsonl"
    rows = rows or [{"input": f"q{i}?", "output": f"a{i}"} for i in range(10)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_transform_then_validate(tmp_path, capsys):
    out = tmp_path / "train.jsonl"
    rc = main(
        [
            "data",
            "transform",
            _qa_file(tmp_path),
            str(out),
            "--method",
            "sft_lora",
            "--model",
            "nova_lite_2",
            "--map",
            "question=input",
            "--map",
            "answer=output",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "Validation succeeded for 10 samples on an SFT dataset" in text and "Saved 10 records" in text
    assert json.loads(out.read_text().splitlines()[0])["messages"][0]["content"] == [{"text": "q0?"}]
    assert main(["data", "validate", str(out), "--method", "SFT_FULL", "--model", "NOVA_PRO"]) == 0


def test_validate_invalid_exits_1_and_lists_problems(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    recs = [
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": "User: hi"}]},
                {"role": "assistant", "content": [{"text": ""}]},
            ],
        }
    ] * 3
    bad.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    rc = main(["data", "validate", str(bad), "--method", "sft_lora", "--model", "nova_lite", "--max-problems", "4"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "6 problems in 3 of 3 records" in out
    assert "line 1 $.messages[0].content[0].text: contains the reserved word 'user:'" in out
    assert "... and 2 more" in out


def test_validate_platform_row_counts(tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    main(
        [
            "data",
            "transform",
            _qa_file(tmp_path),
            str(out),
            "--method",
            "sft_lora",
            "--model",
            "nova_lite_2",
            "--map",
            "question=input",
            "--map",
            "answer=output",
        ]
    )
    rc = main(["data", "validate", str(out), "--method", "sft_lora", "--model", "nova_lite_2", "--platform", "BEDROCK"])
    assert rc == 1 and "needs at least 200" in capsys.readouterr().out


def test_transform_refuses_to_save_invalid(tmp_path, capsys):
    rows = [{"input": "ok?", "output": "fine"}, {"input": "", "output": "x"}]
    out = tmp_path / "o.jsonl"
    rc = main(
        [
            "data",
            "transform",
            _qa_file(tmp_path, rows),
            str(out),
            "--method",
            "sft_lora",
            "--model",
            "nova_lite",
            "--map",
            "question=input",
            "--map",
            "answer=output",
        ]
    )
    assert rc == 1 and not out.exists()
    assert "Not saved" in capsys.readouterr().err


def test_validate_with_transform_flag_and_missing_mapping(tmp_path, capsys):
    rc = main(["data", "validate", _qa_file(tmp_path), "--method", "sft_lora", "--model", "nova_lite", "--transform"])
    assert rc == 1
    assert "no column 'question'" in capsys.readouterr().err


def test_split_and_show(tmp_path, capsys):
    rc = main(
        [
            "data",
            "split",
            _qa_file(tmp_path),
            "--out-dir",
            str(tmp_path / "parts"),
            "--ratios",
            "0.6",
            "0.2",
            "0.2",
            "--seed",
            "1",
        ]
    )
    assert rc == 0
    sizes = {p.name: len(p.read_text().splitlines()) for p in (tmp_path / "parts").iterdir()}
    assert sizes == {"train.jsonl": 6, "val.jsonl": 2, "test.jsonl": 2}
    capsys.readouterr()
    assert main(["data", "show", str(tmp_path / "parts" / "val.jsonl"), "-n", "1"]) == 0
    assert capsys.readouterr().out.count("\n[") == 1


def test_bad_arguments(tmp_path, capsys):
    assert main(["data", "show", str(tmp_path / "x.txt")]) == 1
    assert "--format" in capsys.readouterr().err
    assert main(["data", "validate", _qa_file(tmp_path), "--method", "sft", "--model", "nova_lite"]) == 1
    assert "Unknown --method" in capsys.readouterr().err
    assert main(["data", "show", _qa_file(tmp_path), "--map", "nonsense"]) == 1
    assert main(["data"]) == 2


def test_console_entry_point_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "amzn_nova_forge", "data", "show", sample_path("qa"), "-n", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.count("\n[") == 2


# ---------------------------------------------------------------- bundled samples
def test_samples_are_valid_and_learnable():
    qa = JSONLDatasetLoader(question="question", answer="answer").load(sample_path("qa"))
    assert len(qa) == 200
    qa.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    qa.validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    with open(sample_path("qa.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(x) for x in f]
    for r in rows:  # deterministic patterns
        q, a = r["question"], r["answer"]
        if q.startswith("Reverse the word: "):
            assert a == q.rsplit(" ", 1)[1][::-1]
        elif q.startswith("Uppercase the word: "):
            assert a == q.rsplit(" ", 1)[1].upper()
        elif q.startswith("What number comes after "):
            assert int(a) == int(q.rstrip("?").rsplit(" ", 1)[1]) + 1
    gen = JSONLDatasetLoader().load(sample_path("gen_qa"))
    gen.validate(TrainingMethod.EVALUATION, Model.NOVA_LITE_2)
    assert sample_path("gen_qa").endswith("gen_qa.jsonl")


def test_unknown_sample():
    with pytest.raises(ValueError, match="available: gen_qa, qa"):
        sample_path("nope")
