"""Every dataset example of seeds/api-spec.txt and seeds/readme.txt, run verbatim.

Local paths are created under a temporary working directory; S3 paths exist in moto.
Each snippet is the spec's text exactly (only the imports it relies on from earlier
snippets are prepended, as a reader running the page top to bottom would have them).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import boto3
import pytest

from amzn_nova_forge import _exports

QA = [{"input": f"What is {i} + 1?", "output": str(i + 1)} for i in range(30)]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "training.json").write_text(json.dumps(QA), encoding="utf-8")
    rows = "user_query,bot_response\n" + "".join(f"Question {i}?,Answer {i}.\n" for i in range(12))
    (tmp_path / "data" / "conversations.csv").write_text(rows, encoding="utf-8")
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "data.jsonl").write_text(
        "".join(
            json.dumps({"user_input": f"Hi {i}", "assistant_response": f"Hello {i}", "system_prompt": "Be friendly."})
            + "\n"
            for i in range(10)
        ),
        encoding="utf-8",
    )
    return tmp_path


def run(code: str) -> dict:
    ns: dict = {}
    exec(compile(code, "<spec example>", "exec"), ns)
    return ns


def put(bucket: str, key: str, records: list[dict]) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=bucket, Key=key, Body="".join(json.dumps(r) + "\n" for r in records).encode()
    )


def get(bucket: str, key: str) -> list[dict]:
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in body.splitlines()]


# ---------------------------------------------------------------- api-spec.txt, "Dataset Loaders"
def test_jsonl_loader_s3_example(s3_bucket):
    put("my-bucket", "data/training.jsonl", QA)
    ns = run("""
from amzn_nova_forge.dataset import *
loader = JSONLDatasetLoader()
loader.load("s3://my-bucket/data/training.jsonl")
""")
    assert len(ns["loader"]) == 30


def test_json_loader_example(workdir):
    ns = run("""
from amzn_nova_forge.dataset import *
loader = JSONDatasetLoader()
loader.load("data/training.json")
""")
    assert list(ns["loader"])[0] == QA[0]


def test_csv_loader_example(workdir):
    ns = run("""
from amzn_nova_forge.dataset import *
loader = CSVDatasetLoader(question="user_query", answer="bot_response")
loader.load("data/conversations.csv")
""")
    assert len(ns["loader"]) == 12 and ns["loader"].column_mappings == {
        "question": "user_query",
        "answer": "bot_response",
    }


def test_column_mapping_example(workdir):
    ns = run("""
from amzn_nova_forge.dataset import *
loader = JSONDatasetLoader(
    question="input",
    answer="output"
)
loader.load("data/training.json")
loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_MICRO)
""")
    first = next(iter(ns["loader"]))
    assert first["messages"][0]["content"] == [{"text": "What is 0 + 1?"}]


COMMON = """
from amzn_nova_forge.dataset import *
loader = CSVDatasetLoader(question="user_query", answer="bot_response")
loader.load("data/conversations.csv")
"""


def test_show_split_transform_validate_save_examples(workdir, s3_bucket, capsys):
    ns = run(
        COMMON
        + """
loader.show(5) # Show first 5 rows
train_loader, val_loader, test_loader = loader.split_data(
 train_ratio=0.7,
 val_ratio=0.2,
 test_ratio=0.1
)
loader.transform(
 method=TrainingMethod.SFT_LORA,
 model=Model.NOVA_MICRO
)
loader.validate(
 method=TrainingMethod.SFT_LORA,
 model=Model.NOVA_MICRO
)
# Save locally
loader.save_data("output/training_data.jsonl")
# Save to S3
loader.save_data("s3://my-bucket/data/training_data.jsonl")
"""
    )
    out = capsys.readouterr().out
    assert out.count("\n[") == 5
    assert "Validation succeeded for 12 samples on an SFT dataset" in out
    assert [len(ns[k]) for k in ("train_loader", "val_loader", "test_loader")] == [8, 2, 2]
    local = [json.loads(x) for x in (workdir / "output" / "training_data.jsonl").read_text().splitlines()]
    assert local == get("my-bucket", "data/training_data.jsonl") and len(local) == 12
    assert local[0]["messages"][1]["content"] == [{"text": "Answer 0."}]


def test_gen_qa_validate_example(workdir, capsys):
    Path("data/gen_qa.jsonl").write_text(
        "".join(json.dumps({"query": f"q{i}", "response": f"r{i}"}) + "\n" for i in range(22)), encoding="utf-8"
    )
    run("""
from amzn_nova_forge.dataset import *
loader = JSONLDatasetLoader()
loader.load("data/gen_qa.jsonl")
loader.validate(
    method=TrainingMethod.EVALUATION,
    model=Model.NOVA_LITE_2,
    eval_task=EvaluationTask.GEN_QA
)
""")
    assert capsys.readouterr().out.strip() == "Validation succeeded for 22 samples on an Evaluation BYOD dataset"


# ---------------------------------------------------------------- readme.txt
def _top_level_ready() -> str | None:
    missing = sorted({m for m in _exports.TOP_LEVEL.values() if importlib.util.find_spec(m) is None})
    return f"modules missing: {', '.join(missing)}" if missing else None


def test_readme_quick_start_dataset_part(s3_bucket):
    missing = _top_level_ready()
    assert missing is None, f"`from amzn_nova_customization_sdk import *` needs every public module; {missing}"
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="your-bucket")
    put("your-bucket", "training-data.jsonl", QA)
    run("""
import time
from amzn_nova_customization_sdk import *

# 1. Load and prepare your dataset
loader = JSONLDatasetLoader(question="input", answer="output")
loader.load("s3://your-bucket/training-data.jsonl")
loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE)
loader.save_data("s3://your-bucket/prepared-data.jsonl")
""")
    recs = get("your-bucket", "prepared-data.jsonl")
    assert len(recs) == 30 and recs[0]["schemaVersion"] == "bedrock-conversation-2024"


def test_readme_loader_example(workdir):
    ns = run("""
# Import DatasetLoaders and use the correct DatasetLoader for your data type.
from amzn_nova_customization_sdk.dataset import *

# Column mapping for your dataset structure
# These columns are used for transforming the right columns in your dataset to the right values.
loader = JSONLDatasetLoader(
    question="user_input",      # Maps to your question column
    answer="assistant_response", # Maps to your answer column
    system="system_prompt"      # Optional system message column
)

# Load from local file or S3 so the data can be transformed, split, or saved.
loader.load("path/to/data.jsonl")
""")
    assert len(ns["loader"]) == 10


def test_readme_transform_validate_example(workdir, capsys):
    ns = run("""
from amzn_nova_customization_sdk.dataset import *
from amzn_nova_customization_sdk.model import *

loader = JSONLDatasetLoader(
    question="user_input",      # Maps to your question column
    answer="assistant_response", # Maps to your answer column
    system="system_prompt"      # Optional system message column
)

# Load from local file or S3 so the data can be transformed, split, or saved.
loader.load("path/to/data.jsonl")

# Transform for SFT training on Nova 2.0
loader.transform(
    method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2
)

# Validate that the transformed data is correctly formatted. This will print out a validation success method or point you toward potential errors. 
loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
""")
    assert "Validation succeeded for 10 samples on an SFT dataset" in capsys.readouterr().out
    assert next(iter(ns["loader"]))["system"] == [{"text": "Be friendly."}]


def test_readme_byod_validate_example(workdir, capsys):
    Path("gen_qa.jsonl").write_text(json.dumps({"query": "2+2?", "response": "4"}) + "\n", encoding="utf-8")
    run("""
from amzn_nova_customization_sdk.dataset import *
loader = JSONLDatasetLoader()
loader.load("gen_qa.jsonl")
loader.validate(
    method=TrainingMethod.SFT_LORA, 
    model=Model.NOVA_LITE_2, 
    eval_task=EvaluationTask.GEN_QA
) 
""")
    assert "Validation succeeded for 1 samples on an Evaluation BYOD dataset" in capsys.readouterr().out
