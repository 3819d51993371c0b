"""The official SDK's current data-prep examples, run against moto (issue 13, "Done when").

Sources (repository ``aws/nova-forge-sdk``): ``docs/user-guides/data_prep.md`` (DP),
``docs/spec/dataset.md`` (DS) and ``samples/dataprep_quickstart.ipynb`` (NB). Each example's
text is below as written there; around it there is only setup: the files and S3 objects its
placeholders name, with content of the shape the example expects. Examples that call
``filter()`` belong to the curation work and are not here. Hugging Face examples read a local
``save_to_disk`` folder at the Hub id's path ("foo/bar"), as the Hub is unreachable offline.
CloudWatch Logs Insights examples: moto runs no query (results hold only ``@ptr``), so
``StartQuery``/``GetQueryResults`` are answered by botocore's ``Stubber`` with the rows the
example's comment says it yields.

Deliberate difference, asserted below: DS's CloudWatch example calls ``transform()`` with
``column_mappings`` only (no training method or model): the official would fail later at
execution; here it is a ConfigError at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from acceptance_support import A

from amzn_nova_forge.errors import ConfigError

# DP "Overview" imports (the filter enums import from the same module)
DP_IMPORTS = """
from amzn_nova_forge import (
    JSONLDatasetLoader,
    Model,
    Platform,
    TrainingMethod,
)
from amzn_nova_forge.dataset.operations import FilterMethod, TransformMethod, ValidateMethod
"""

# DP "End-to-End Examples" need these names too (the guide's per-section imports)
DP_MORE_IMPORTS = """
from amzn_nova_forge import CSVDatasetLoader, ArrowDatasetLoader, EvaluationTask
from amzn_nova_forge import HuggingFaceDatasetLoader, CloudWatchDatasetLoader
"""

# DP "Loading Data"
DP_LOAD = """
loader = JSONLDatasetLoader()
loader.load("s3://my-bucket/data/training_data.jsonl")
"""

# DP "Path Resolution"
DP_PATHS = """
loader.load("./data/train.jsonl")       # relative to cwd
loader.load("~/datasets/train.jsonl")   # expands ~ to home directory
loader.load("../shared/train.jsonl")    # resolves parent references
"""

# DP "Directory Loading"
DP_DIRS = """
loader = JSONLDatasetLoader()
loader.load("/data/training/")          # all .jsonl files

loader = ParquetDatasetLoader()
loader.load("s3://my-bucket/datasets/") # all .parquet files from S3 prefix
"""

# DP "End-to-End Example — HuggingFace to S3"
DP_HF = """
from amzn_nova_forge import HuggingFaceDatasetLoader, Model, TrainingMethod
from amzn_nova_forge.dataset.operations import TransformMethod, ValidateMethod

loader = HuggingFaceDatasetLoader()
loader.load("foo/bar", split="train_sft")
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.save("s3://my-bucket/data/train.jsonl")
"""

# DS "HuggingFaceDatasetLoader" example
DS_HF = """
from amzn_nova_forge.dataset import *

# Load a public dataset and save to S3
loader = HuggingFaceDatasetLoader()
loader.load("foo/bar", split="train") \\
    .save("s3://my-bucket/data/foo_train.jsonl")
"""

# DP "Example 1: JSON logs"
DP_CW_JSON = """
from datetime import datetime, timezone, timedelta
from amzn_nova_forge import CloudWatchDatasetLoader, Model, TrainingMethod
from amzn_nova_forge.dataset.operations import TransformMethod, ValidateMethod

loader = CloudWatchDatasetLoader()
loader.load(
    log_group="/my-app/api-logs",
    query="fields request, response | filter endpoint = '/chat'",
    start_time=datetime(2025, 1, 1, tzinfo=timezone.utc),
    end_time=datetime(2025, 1, 8, tzinfo=timezone.utc),
)
# Yields: {"request": "What is AI?", "response": "AI is artificial intelligence."}

loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "request", "answer": "response"},
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.save("s3://my-bucket/data/chat_sft.jsonl")
"""

# DP "Example 2: Semi-structured text logs"
DP_CW_TEXT = """
from datetime import datetime, timezone, timedelta
from amzn_nova_forge import CloudWatchDatasetLoader, Model, TrainingMethod
from amzn_nova_forge.dataset.operations import TransformMethod, ValidateMethod

loader = CloudWatchDatasetLoader()
loader.load(
    log_group="/my-app/inference-logs",
    query='''
        fields @message
        | parse @message /input="(?<input>[^"]+)" output="(?<output>[^"]+)"/
        | filter ispresent(input)
    ''',
    start_time=datetime.now(timezone.utc) - timedelta(days=7),
    end_time=datetime.now(timezone.utc),
)
# Yields: {"@message": "[INFO] endpoint=/api/chat ...", "input": "Summarize this article", "output": "This article discusses..."}

loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "input", "answer": "output"},
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.save("s3://my-bucket/data/inference_sft.jsonl")
"""

# DS "CloudWatchDatasetLoader" JSON-logs example
DS_CW = """
from datetime import datetime, timezone
from amzn_nova_forge import CloudWatchDatasetLoader

loader = CloudWatchDatasetLoader()
loader.load(
    log_group="/my-app/api-logs",
    query="fields request, response | filter endpoint = '/chat'",
    start_time=datetime(2025, 1, 1, tzinfo=timezone.utc),
    end_time=datetime(2025, 1, 8, tzinfo=timezone.utc),
)
# Yields: {"request": "What is AI?", "response": "AI is artificial intelligence."}
loader.transform(
    column_mappings={"question": "request", "answer": "response"},
)
loader.save("s3://my-bucket/data/chat_logs.jsonl")
"""

# DP "Inspecting Data"
DP_SHOW = """
loader.load("data.jsonl")
loader.show()        # first 10 rows
loader.show(n=3)     # first 3 rows
"""

# DP "Transforming Data" examples by training method (SFT, RFT, CPT, Evaluation)
DP_TRANSFORMS = {
    "sft": """
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "q", "answer": "a"},
)
""",
    "rft": """
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.RFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "prompt", "reference_answer": "answer"},
)
""",
    "cpt": """
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.CPT,
    model=Model.NOVA_LITE_2,
    column_mappings={"text": "content"},
)
""",
    "eval": """
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.EVALUATION,
    model=Model.NOVA_LITE_2,
    column_mappings={"query": "question", "response": "answer"},
)
""",
}

# DP "Validating Data" (SFT) and "Evaluation datasets"
DP_VALIDATE_SFT = """
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
"""
DP_VALIDATE_EVAL = """
from amzn_nova_forge import EvaluationTask

loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.EVALUATION,
    model=Model.NOVA_LITE_2,
    eval_task=EvaluationTask.GEN_QA,
)
"""

# DP "Splitting Data" and "Saving Data"
DP_SPLIT = """
train, val, test = loader.split(train_ratio=0.8, val_ratio=0.1, test_ratio=0.1, seed=42)
train.save("s3://my-bucket/train.jsonl")
val.save("s3://my-bucket/val.jsonl")
test.save("s3://my-bucket/test.jsonl")
"""
DP_SAVE = """
loader.save("output/training_data.jsonl")          # local
loader.save("s3://my-bucket/data/training.jsonl")  # S3
"""

# DP "End-to-End Examples"
DP_E2E_CSV = """
loader = CSVDatasetLoader()
loader.load("raw_data.csv")
loader.show(n=2)
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "input", "answer": "output", "system": "system_prompt"},
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.save("s3://my-bucket/sft_training_data.jsonl")
"""
DP_E2E_ARROW = """
loader = ArrowDatasetLoader()
loader.load("s3://my-bucket/arrow_shards/")  # scans for .arrow/.feather/.ipc files
loader.show(n=2)
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "prompt", "answer": "response"},
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.save("s3://my-bucket/sft_training_data.jsonl")
"""
DP_E2E_RFT = """
loader = JSONLDatasetLoader()
loader.load("rft_data.jsonl")
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.RFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "prompt", "reference_answer": "answer"},
)
train, val, test = loader.split(train_ratio=0.9, val_ratio=0.05, test_ratio=0.05)
train.save("s3://my-bucket/rft_train.jsonl")
val.save("s3://my-bucket/rft_val.jsonl")
"""
DP_E2E_TOOLS = """
loader = JSONLDatasetLoader()
loader.load("openai_with_tools.jsonl")
# Tool calls are only supported on Nova 2.0
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.save("converse_with_tools.jsonl")
"""
DP_E2E_MM_OPENAI = """
loader = JSONLDatasetLoader()
loader.load("openai_multimodal.jsonl")
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    multimodal_data_s3_path="s3://my-bucket/images/",
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
# Save must use the same bucket as multimodal_data_s3_path
loader.save("s3://my-bucket/multimodal_training.jsonl")
"""
DP_E2E_MM_GENERIC = """
loader = JSONLDatasetLoader()
loader.load("image_captions.jsonl")
loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={
        "question": "caption_prompt",
        "answer": "caption",
        "image_format": "image_format",
        "s3_uri": "s3_uri",
        "bucket_owner": "bucket_owner",
    },
)
loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
loader.save("s3://my-bucket/multimodal_training.jsonl")
"""

# DS loader examples ("load()" of each loader) and common methods
DS_LOADERS = """
from amzn_nova_forge.dataset import *
loader = JSONLDatasetLoader()
loader.load("s3://my-bucket/data/training.jsonl")
loader = JSONDatasetLoader()
loader.load("data/training.json")
loader = CSVDatasetLoader(question="user_query", answer="bot_response")
loader.load("data/conversations.csv")
loader = ParquetDatasetLoader()
loader.load("s3://my-bucket/data/training.parquet")
loader = ArrowDatasetLoader()
loader.load("s3://my-bucket/data/training.arrow")
"""
DS_COMMON = """
loader.show(5) # Show first 5 rows
train_loader, val_loader, test_loader = loader.split_data(
 train_ratio=0.7,
 val_ratio=0.2,
 test_ratio=0.1
)
loader.transform(
 method=TransformMethod.SCHEMA,
 training_method=TrainingMethod.SFT_LORA,
 model=Model.NOVA_MICRO,
)
loader.validate(
 method=ValidateMethod.INVALID_RECORDS,
 training_method=TrainingMethod.SFT_LORA,
 model=Model.NOVA_MICRO
)
# Save locally
loader.save_data("output/training_data.jsonl")
# Save to S3
loader.save_data("s3://my-bucket/data/training_data.jsonl")
"""

# NB cells 3, 5, 11, 13, 19, 21, 23, 25 (cells 15 and 17 are filters; 8-9 create the data-prep role/manager)
NB_IMPORTS = """
from amzn_nova_forge import (
    FilterMethod,
    JSONLDatasetLoader,
    Model,
    Platform,
    TrainingMethod,
    TransformMethod,
    ValidateMethod,
)
from amzn_nova_forge.manager import SMTJRuntimeManager

print("SDK imported successfully")
"""
NB_SETUP = """
import boto3

# ============================================================
# TODO: Replace these with your own values
S3_BUCKET = "<your-bucket-here>"
REGION = "us-east-1"
# ============================================================

INPUT_KEY = "nova-forge-sdk/data-prep-quickstart/raw_data.jsonl"
OUTPUT_KEY = "nova-forge-sdk/data-prep-quickstart/prepared_data.jsonl"

INPUT_PATH = f"s3://{S3_BUCKET}/{INPUT_KEY}"
OUTPUT_PATH = f"s3://{S3_BUCKET}/{OUTPUT_KEY}"

session = boto3.Session(region_name=REGION)
account_id = session.client("sts").get_caller_identity()["Account"]
print(f"Account: {account_id}, Region: {REGION}")
print(f"Input:   {INPUT_PATH}")
print(f"Output:  {OUTPUT_PATH}")
"""
NB_UPLOAD = """
import json
clean_records = [
    {"question": "What is machine learning?", "answer": "Machine learning is a subset of AI that enables systems to learn from data without being explicitly programmed."},
    {"question": "Explain cloud computing.", "answer": "Cloud computing delivers computing resources on demand over the internet, including servers, storage, and databases."},
    {"question": "What is Python used for?", "answer": "Python is used for web development, data analysis, AI, scientific computing, and automation."},
    {"question": "What is an API?", "answer": "An API is a set of protocols that allows different software applications to communicate with each other."},
    {"question": "Describe containerization.", "answer": "Containerization packages an application with its dependencies into a standardized unit for consistent deployment across environments."},
]
url_heavy_records = [
    {"question": "Links?", "answer": "Visit https://example.com/page1 https://example.com/page2 https://example.com/page3 https://example.com/page4 https://example.com/page5 https://example.com/page6 https://example.com/page7 https://example.com/page8"},
    {"question": "More links", "answer": "See https://a.com/1 https://b.com/2 https://c.com/3 https://d.com/4 https://e.com/5 https://f.com/6 https://g.com/7 https://h.com/8 https://i.com/9 https://j.com/10"},
]
raw_data = clean_records + url_heavy_records + clean_records

s3 = session.client("s3")
jsonl_body = "\\n".join(json.dumps(r) for r in raw_data) + "\\n"
s3.put_object(Bucket=S3_BUCKET, Key=INPUT_KEY, Body=jsonl_body.encode())
print(f"Uploaded {len(raw_data)} records to {INPUT_PATH}")
"""
NB_PIPELINE = """
loader = JSONLDatasetLoader()
loader.load(INPUT_PATH)

loader.show(n=5)

loader.transform(
    method=TransformMethod.SCHEMA,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
    column_mappings={"question": "question", "answer": "answer"},
)

loader.show(n=3)

loader.validate(
    method=ValidateMethod.INVALID_RECORDS,
    training_method=TrainingMethod.SFT_LORA,
    model=Model.NOVA_LITE_2,
)
print("Validation passed!")

loader.save(OUTPUT_PATH)
"""


# ---------------------------------------------------------------- helpers
def _ns() -> dict[str, Any]:
    ns: dict[str, Any] = {}
    exec(DP_IMPORTS, ns)
    exec(DP_MORE_IMPORTS, ns)
    exec("from amzn_nova_forge import ParquetDatasetLoader, JSONDatasetLoader", ns)
    return ns


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _s3_lines(uri: str) -> list[dict[str, Any]]:
    bucket, _, key = uri[5:].partition("/")
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(x) for x in body.splitlines()]


QA = [{"q": f"What is {i} + {i}?", "a": str(2 * i)} for i in range(10)]


def _arrow_bytes(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


# ---------------------------------------------------------------- tests
def test_dp_load_paths_directories(notebook, tmp_path, monkeypatch):
    from acceptance_support import fill

    work: Path = notebook["work"]
    ns = _ns()
    A.put("s3://my-bucket/data/training_data.jsonl", _jsonl(QA))
    exec(DP_LOAD, ns)
    assert len(ns["loader"]) == 10
    home = tmp_path / "home"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    (home / "datasets" / "train.jsonl").write_text(_jsonl(QA[:2]))
    (work / "data").mkdir()
    (work / "data" / "train.jsonl").write_text(_jsonl(QA[:3]))
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "train.jsonl").write_text(_jsonl(QA[:4]))
    exec(DP_PATHS, ns)
    assert len(ns["loader"]) == 4 and ns["loader"].path == str(tmp_path / "shared" / "train.jsonl")
    training = tmp_path / "training"
    training.mkdir()
    for i in range(3):
        (training / f"part-{i}.jsonl").write_text(_jsonl(QA[i * 3 : i * 3 + 3]))
    import pyarrow as pa
    import pyarrow.parquet as pq

    for i in range(2):
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(QA[i * 5 : i * 5 + 5]), sink)
        A.put(f"s3://my-bucket/datasets/part-{i}.parquet", sink.getvalue().to_pybytes())
    exec(fill(DP_DIRS, {'loader.load("/data/training/")': f'loader.load("{training}/")'}), ns)
    assert [r["q"] for r in ns["loader"]] == [r["q"] for r in QA]


def test_dp_and_ds_hugging_face_examples_with_local_data(notebook):
    datasets = pytest.importorskip("datasets")
    chats = [
        {"messages": [{"role": "user", "content": f"Say {i}"}, {"role": "assistant", "content": str(i)}]}
        for i in range(4)
    ]
    ds = datasets.Dataset.from_list(chats)
    datasets.DatasetDict({"train_sft": ds, "test_sft": ds.select([0]), "train": ds}).save_to_disk("foo/bar")
    ns = _ns()
    exec(DP_HF, ns)
    out = _s3_lines("s3://my-bucket/data/train.jsonl")
    assert len(out) == 4 and out[1]["messages"][1]["content"] == [{"text": "1"}]
    exec(DS_HF, ns)
    assert _s3_lines("s3://my-bucket/data/foo_train.jsonl") == chats


def _stub_insights(monkeypatch, rows: list[dict[str, str]]) -> Any:
    from botocore.stub import Stubber

    from amzn_nova_forge.core import aws

    client = boto3.client("logs", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("start_query", {"queryId": "q-1"})
    results = [[{"field": k, "value": v} for k, v in r.items()] + [{"field": "@ptr", "value": "x"}] for r in rows]
    stub.add_response("get_query_results", {"status": "Complete", "results": results}, {"queryId": "q-1"})
    stub.activate()
    real = aws.client
    monkeypatch.setattr(
        aws, "client", lambda service, region=None, **kw: client if service == "logs" else real(service, region, **kw)
    )
    return stub


def test_dp_cloudwatch_examples(notebook, monkeypatch):
    ns = _ns()
    stub = _stub_insights(monkeypatch, [{"request": "What is AI?", "response": "AI is artificial intelligence."}])
    exec(DP_CW_JSON, ns)
    stub.assert_no_pending_responses()
    out = _s3_lines("s3://my-bucket/data/chat_sft.jsonl")
    assert out[0]["messages"][1]["content"] == [{"text": "AI is artificial intelligence."}]
    stub = _stub_insights(
        monkeypatch,
        [
            {
                "@message": '[INFO] endpoint=/api/chat input="Summarize this article" output="This article discusses..."',
                "input": "Summarize this article",
                "output": "This article discusses...",
            }
        ],
    )
    exec(DP_CW_TEXT, ns)
    out = _s3_lines("s3://my-bucket/data/inference_sft.jsonl")
    assert out[0]["messages"][0]["content"] == [{"text": "Summarize this article"}]


def test_ds_cloudwatch_example_without_a_training_method_is_a_config_error(notebook, monkeypatch):
    _stub_insights(monkeypatch, [{"request": "q", "response": "a"}])
    with pytest.raises(ConfigError, match="needs training_method="):
        exec(DS_CW, _ns())


@pytest.mark.parametrize(
    ("kind", "rows", "first"),
    [
        ("sft", QA, {"messages"}),
        ("rft", [{"prompt": "2+2?", "answer": "4"}], {"messages", "reference_answer"}),
        ("cpt", [{"content": "Some text."}], {"text"}),
        ("eval", [{"question": "2+2?", "answer": "4"}], {"query", "response"}),
    ],
)
def test_dp_show_and_transform_examples(notebook, capsys, kind, rows, first):
    Path("data.jsonl").write_text(_jsonl(rows))
    ns = _ns()
    ns["loader"] = ns["JSONLDatasetLoader"]()
    exec(DP_SHOW, ns)
    assert "first 3 records" in capsys.readouterr().out
    exec(DP_TRANSFORMS[kind], ns)
    rec = next(iter(ns["loader"]))
    assert first <= rec.keys()
    if kind == "sft":
        exec(DP_VALIDATE_SFT, ns)
    if kind == "eval":
        exec(DP_VALIDATE_EVAL, ns)
        assert "Validation succeeded for 1 samples on an Evaluation BYOD dataset" in capsys.readouterr().out


def test_dp_split_and_save(notebook):
    Path("data.jsonl").write_text(_jsonl(QA * 2))
    ns = _ns()
    ns["loader"] = ns["JSONLDatasetLoader"]().load("data.jsonl")
    exec(DP_SPLIT, ns)
    sizes = [len(_s3_lines(f"s3://my-bucket/{n}.jsonl")) for n in ("train", "val", "test")]
    assert sizes == [16, 2, 2]
    exec(DP_SAVE, ns)
    assert len(Path("output/training_data.jsonl").read_text().splitlines()) == 20
    assert len(_s3_lines("s3://my-bucket/data/training.jsonl")) == 20


def test_dp_end_to_end_csv_arrow_rft(notebook):
    ns = _ns()
    Path("raw_data.csv").write_text(
        "input,output,system_prompt\n" + "".join(f"Q{i},A{i},Be brief.\n" for i in range(5))
    )
    exec(DP_E2E_CSV, ns)
    out = _s3_lines("s3://my-bucket/sft_training_data.jsonl")
    assert out[0]["system"] == [{"text": "Be brief."}] and len(out) == 5
    for i in range(2):
        A.put(
            f"s3://my-bucket/arrow_shards/shard-{i}.arrow",
            _arrow_bytes([{"prompt": f"P{i}{j}", "response": f"R{i}{j}"} for j in range(3)]),
        )
    exec(DP_E2E_ARROW, ns)
    out = _s3_lines("s3://my-bucket/sft_training_data.jsonl")
    assert [r["messages"][0]["content"][0]["text"] for r in out] == ["P00", "P01", "P02", "P10", "P11", "P12"]
    Path("rft_data.jsonl").write_text(_jsonl([{"prompt": f"{i}*2?", "answer": str(2 * i)} for i in range(40)]))
    exec(DP_E2E_RFT, ns)
    train, val = _s3_lines("s3://my-bucket/rft_train.jsonl"), _s3_lines("s3://my-bucket/rft_val.jsonl")
    assert (len(train), len(val)) == (36, 2)
    assert train[0]["messages"][-1]["role"] == "user" and "reference_answer" in train[0]


def test_dp_end_to_end_tools_and_generic_multimodal(notebook):
    ns = _ns()
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    rows = [
        {
            "messages": [
                {"role": "system", "content": "You are a weather assistant."},
                {"role": "user", "content": "Weather in Oslo?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "3C"},
                {"role": "assistant", "content": "It is 3C in Oslo."},
            ],
            "tools": tools,
        }
    ]
    Path("openai_with_tools.jsonl").write_text(_jsonl(rows))
    exec(DP_E2E_TOOLS, ns)
    rec = json.loads(Path("converse_with_tools.jsonl").read_text())
    assert rec["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    assert rec["messages"][2]["content"][0]["toolResult"]["toolUseId"] == "c1"
    Path("image_captions.jsonl").write_text(
        _jsonl(
            [
                {
                    "caption_prompt": "Describe the image.",
                    "caption": "A cat.",
                    "image_format": "png",
                    "s3_uri": f"s3://my-bucket/images/{i}.png",
                    "bucket_owner": "123456789012",
                }
                for i in range(3)
            ]
        )
    )
    exec(DP_E2E_MM_GENERIC, ns)
    out = _s3_lines("s3://my-bucket/multimodal_training.jsonl")
    image = next(b["image"] for b in out[0]["messages"][0]["content"] if "image" in b)
    assert image["source"]["s3Location"] == {"uri": "s3://my-bucket/images/0.png", "bucketOwner": "123456789012"}


PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_dp_openai_multimodal_images_are_uploaded(notebook):
    rows = [
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": f"What is in image {i}?"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
                    ],
                },
                {"role": "assistant", "content": "A single pixel."},
            ]
        }
        for i in range(3)
    ]
    Path("openai_multimodal.jsonl").write_text(_jsonl(rows))
    exec(DP_E2E_MM_OPENAI, _ns())
    out = _s3_lines("s3://my-bucket/multimodal_training.jsonl")
    image = next(b["image"] for b in out[0]["messages"][0]["content"] if "image" in b)
    uri = image["source"]["s3Location"]["uri"]
    assert image["format"] == "png" and uri.startswith("s3://my-bucket/images/") and uri.endswith(".png")
    assert image["source"]["s3Location"]["bucketOwner"] == "123456789012"  # the caller's account (STS)
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="my-bucket", Prefix="images/")
    assert [o["Key"] for o in listed["Contents"]] == [uri[len("s3://my-bucket/") :]]  # uploaded once


def test_ds_loader_and_common_method_examples(notebook):
    A.put("s3://my-bucket/data/training.jsonl", _jsonl(QA))
    Path("data").mkdir()
    Path("data/training.json").write_text(json.dumps(QA))
    Path("data/conversations.csv").write_text("user_query,bot_response\nhi,hello\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(QA), sink)
    A.put("s3://my-bucket/data/training.parquet", sink.getvalue().to_pybytes())
    A.put("s3://my-bucket/data/training.arrow", _arrow_bytes([{"question": r["q"], "answer": r["a"]} for r in QA]))
    ns = _ns()
    exec(DS_LOADERS, ns)
    assert len(ns["loader"]) == 10
    exec(DS_COMMON, ns)
    assert len(ns["train_loader"]) == 7 and len(ns["val_loader"]) == 2 and len(ns["test_loader"]) == 1
    assert len(_s3_lines("s3://my-bucket/data/training_data.jsonl")) == 10
    assert json.loads(Path("output/training_data.jsonl").read_text().splitlines()[0])["schemaVersion"]


def test_notebook_cells_without_filters(notebook, capsys):
    from acceptance_support import fill

    ns: dict[str, Any] = {}
    exec(NB_IMPORTS, ns)
    exec(fill(NB_SETUP, {'"<your-bucket-here>"': '"my-bucket"'}), ns)
    exec(NB_UPLOAD, ns)
    exec(NB_PIPELINE, ns)
    out = capsys.readouterr().out
    assert "Validation passed!" in out and "Account: 123456789012" in out
    saved = _s3_lines("s3://my-bucket/nova-forge-sdk/data-prep-quickstart/prepared_data.jsonl")
    assert len(saved) == 12 and saved[0]["messages"][0]["content"] == [{"text": "What is machine learning?"}]
