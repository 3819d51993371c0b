"""Every transform, round-tripped on realistic records: transform → save → load → validate."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from amzn_nova_forge.dataset import (
    CSVDatasetLoader,
    DataPrepError,
    EvaluationTask,
    JSONLDatasetLoader,
    Model,
    TrainingMethod,
)
from amzn_nova_forge.dataset._transforms import build_transform

SFT = TrainingMethod.SFT_LORA


def _round_trip(loader, method, model, tmp_path, eval_task=None):
    """transform, validate, save, reload and validate again; return the saved records."""
    loader.transform(method, model, eval_task=eval_task)
    loader.validate(method, model, eval_task)
    out = tmp_path / "out.jsonl"
    loader.save_data(str(out))
    again = JSONLDatasetLoader().load(str(out))
    again.validate(method, model, eval_task)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


SUPPORT = [
    {
        "ticket": "My order #1234 hasn't arrived yet. Can you check?",
        "reply": "I'm sorry! Order #1234 ships tomorrow.",
        "persona": "You are a polite support agent for an online store.",
        "why": "Look up the order; it is delayed.",
    },
    {
        "ticket": "How do I reset my password?",
        "reply": "Click 'Forgot password' on the sign-in page.",
        "persona": "You are a polite support agent for an online store.",
        "why": "Password resets are self-service.",
    },
]


@pytest.mark.parametrize("model", [Model.NOVA_MICRO, Model.NOVA_LITE, Model.NOVA_PRO, Model.NOVA_LITE_2])
def test_generic_to_sft_with_system(model, tmp_path):
    loader = JSONLDatasetLoader.from_records(SUPPORT, question="ticket", answer="reply", system="persona")
    recs = _round_trip(loader, SFT, model, tmp_path)
    assert recs[0] == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You are a polite support agent for an online store."}],
        "messages": [
            {"role": "user", "content": [{"text": SUPPORT[0]["ticket"]}]},
            {"role": "assistant", "content": [{"text": SUPPORT[0]["reply"]}]},
        ],
    }


def test_generic_to_sft2_with_reasoning(tmp_path):
    loader = JSONLDatasetLoader.from_records(SUPPORT, question="ticket", answer="reply", reasoning_text="why")
    recs = _round_trip(loader, TrainingMethod.SFT_FULL, Model.NOVA_LITE_2, tmp_path)
    assert recs[1]["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "Password resets are self-service."}}},
        {"text": "Click 'Forgot password' on the sign-in page."},
    ]
    assert "system" not in recs[1]


def test_reasoning_needs_nova2():
    loader = JSONLDatasetLoader.from_records(SUPPORT, question="ticket", answer="reply", reasoning_text="why")
    with pytest.raises(ValueError, match="Nova 2"):
        loader.transform(SFT, Model.NOVA_LITE)


@pytest.mark.parametrize(
    "kind, fmt, expect", [("image", "JPG", "jpeg"), ("image", "png", "png"), ("video", "mp4", "mp4")]
)
def test_generic_multimodal_sft(tmp_path, kind, fmt, expect):
    csv = tmp_path / "mm.csv"
    csv.write_text(
        "q,a,fmt,uri,owner\n"
        f"What is in this {kind}?,A cat on a sofa.,{fmt},s3://media-bkt/items/cat-1.{fmt.lower()},123456789012\n"
        f"Describe the {kind}.,Two dogs playing.,{fmt},s3://media-bkt/items/dogs_2.{fmt.lower()},123456789012\n",
        encoding="utf-8",
    )
    loader = CSVDatasetLoader(
        question="q", answer="a", s3_uri="uri", bucket_owner="owner", **{f"{kind}_format": "fmt"}
    ).load(str(csv))
    recs = _round_trip(loader, SFT, Model.NOVA_LITE, tmp_path)
    assert recs[0]["messages"][0]["content"] == [
        {
            kind: {
                "format": expect,
                "source": {
                    "s3Location": {"uri": f"s3://media-bkt/items/cat-1.{fmt.lower()}", "bucketOwner": "123456789012"}
                },
            }
        },
        {"text": f"What is in this {kind}?"},
    ]


def test_multimodal_needs_all_three_mappings_and_not_micro():
    rows = [{"q": "x", "a": "y", "f": "png"}]
    with pytest.raises(ValueError, match="bucket_owner"):
        JSONLDatasetLoader.from_records(rows, question="q", answer="a", image_format="f", s3_uri="u").transform(
            SFT, Model.NOVA_LITE
        )
    with pytest.raises(ValueError, match="text-only"):
        JSONLDatasetLoader.from_records(
            rows, question="q", answer="a", image_format="f", s3_uri="u", bucket_owner="o"
        ).transform(SFT, Model.NOVA_MICRO)


def test_generic_to_rft(tmp_path, caplog):
    rows = [{"uid": f"p{i}", "problem": f"What is {i} * 3?", "solution": str(i * 3), "level": "easy"} for i in range(3)]
    loader = JSONLDatasetLoader.from_records(
        rows, question="problem", reference_answer="solution", id="uid", system="sys", difficulty="level"
    )
    # a mapped optional column absent from the first record is a warning, not an error (issue 13,
    # official behaviour): records without it are transformed without it
    with caplog.at_level("WARNING"):
        loader.transform(TrainingMethod.RFT_LORA, Model.NOVA_LITE_2)
    assert "'sys' mapped to 'system' is not in the first record" in caplog.text
    assert all(len(r["messages"]) == 1 for r in loader)
    loader = JSONLDatasetLoader.from_records(
        rows, question="problem", reference_answer="solution", id="uid", difficulty="level"
    )
    recs = _round_trip(loader, TrainingMethod.RFT_LORA, Model.NOVA_LITE_2, tmp_path)
    assert recs[2] == {
        "id": "p2",
        "messages": [{"role": "user", "content": "What is 2 * 3?"}],
        "reference_answer": "6",
        "difficulty": "easy",
    }


def test_generic_to_rft_with_system(tmp_path):
    rows = [{"question": "Solve 2x = 4.", "reference_answer": {"x": 2}, "system": "Show your work."}]
    recs = _round_trip(JSONLDatasetLoader.from_records(rows), TrainingMethod.RFT_FULL, Model.NOVA_LITE_2, tmp_path)
    assert recs[0]["messages"] == [
        {"role": "system", "content": "Show your work."},
        {"role": "user", "content": "Solve 2x = 4."},
    ]
    assert recs[0]["reference_answer"] == {"x": 2}


def test_rft_needs_nova2():
    with pytest.raises(ValueError, match="NOVA_LITE_2"):
        JSONLDatasetLoader.from_records([{"question": "q", "reference_answer": "a"}]).transform(
            TrainingMethod.RFT_LORA, Model.NOVA_PRO
        )


def test_generic_to_eval_byod(tmp_path):
    rows = [
        {
            "in": "Capital of France?",
            "out": "Paris",
            "img": "data:image/png;base64,iVBORw0KGgo=",
            "meta": {"source": "geo", "difficulty": 1},
        }
    ]
    loader = JSONLDatasetLoader.from_records(rows, query="in", response="out", images="img", metadata="meta")
    recs = _round_trip(loader, TrainingMethod.EVALUATION, Model.NOVA_LITE_2, tmp_path, EvaluationTask.GEN_QA)
    assert recs[0] == {
        "query": "Capital of France?",
        "response": "Paris",
        "images": [{"data": "data:image/png;base64,iVBORw0KGgo="}],
        "metadata": '{"source":"geo","difficulty":1}',
    }


def test_generic_to_llm_judge(tmp_path):
    rows = [{"p": "Write a haiku about rain.", "a": "Rain falls...", "b": "Drops on the roof..."}]
    loader = JSONLDatasetLoader.from_records(rows, prompt="p", response_A="a", response_B="b")
    recs = _round_trip(loader, TrainingMethod.EVALUATION, Model.NOVA_LITE_2, tmp_path, EvaluationTask.LLM_JUDGE)
    assert recs == [
        {"prompt": "Write a haiku about rain.", "response_A": "Rain falls...", "response_B": "Drops on the roof..."}
    ]


def test_generic_to_cpt(tmp_path):
    rows = [{"body": "Nova models can be customized with your data."}, {"body": 42}]
    recs = _round_trip(
        JSONLDatasetLoader.from_records(rows, text="body"), TrainingMethod.CPT, Model.NOVA_LITE, tmp_path
    )
    assert recs == [{"text": "Nova models can be customized with your data."}, {"text": "42"}]


def test_generic_to_rft_multiturn(tmp_path):
    rows = [
        {"prompt": "Book a table for two.", "answer": "booked", "task": "booking", "info": {"city": "Oslo"}},
        {"id": "x9", "prompt": "Cancel it.", "answer": "cancelled", "task": "booking", "info": "{}"},
    ]
    recs = _round_trip(
        JSONLDatasetLoader.from_records(rows), TrainingMethod.RFT_MULTITURN_LORA, Model.NOVA_LITE_2, tmp_path
    )
    assert recs[0] == {
        "id": "sample_001",  # official numbering: sample_001, sample_002 … over the records without an id
        "metadata": {
            "prompt": "Book a table for two.",
            "answer": "booked",
            "task": "booking",
            "info": {"city": "Oslo"},
        },
    }
    assert recs[1]["id"] == "x9"


def test_dpo_has_no_generic_transform():
    with pytest.raises(ValueError, match="DPO"):
        JSONLDatasetLoader.from_records([{"question": "q", "answer": "a"}]).transform(
            TrainingMethod.DPO_LORA, Model.NOVA_LITE
        )


def test_builtin_benchmark_has_no_transform():
    with pytest.raises(ValueError, match="built-in benchmark"):
        JSONLDatasetLoader.from_records([{"query": "q", "response": "a"}]).transform(
            TrainingMethod.EVALUATION, Model.NOVA_LITE, eval_task=EvaluationTask.MMLU
        )


# ---------------------------------------------------------------- OpenAI messages → Converse
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

OPENAI_TOOLS = {
    "messages": [
        {"role": "system", "content": "You are a weather assistant."},
        {"role": "user", "content": "What's the weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "",
            "reasoning": "I need both cities' weather.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Rome"}},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": "24C, clear"},
        {"role": "assistant", "content": "Paris is 18C and sunny; Rome is 24C and clear."},
    ],
    "tools": [WEATHER_TOOL],
}


def test_openai_with_tools_to_converse2(tmp_path):
    recs = _round_trip(JSONLDatasetLoader.from_records([OPENAI_TOOLS]), SFT, Model.NOVA_LITE_2, tmp_path)
    assert recs[0] == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You are a weather assistant."}],
        "messages": [
            {"role": "user", "content": [{"text": "What's the weather in Paris and Rome?"}]},
            {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "I need both cities' weather."}}},
                    {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}},
                    {"toolUse": {"toolUseId": "call_2", "name": "get_weather", "input": {"city": "Rome"}}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C, sunny"}]}},
                    {"toolResult": {"toolUseId": "call_2", "content": [{"text": "24C, clear"}]}},
                ],
            },
            {"role": "assistant", "content": [{"text": "Paris is 18C and sunny; Rome is 24C and clear."}]},
        ],
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "Current weather for a city.",
                        "inputSchema": {"json": WEATHER_TOOL["function"]["parameters"]},
                    }
                }
            ]
        },
    }


def test_openai_multiturn_to_converse1(tmp_path):
    rec = {
        "messages": [
            {"role": "developer", "content": "Answer briefly."},
            {"role": "user", "content": [{"type": "text", "text": "Hi!"}]},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": [{"type": "text", "text": "4"}]},
        ],
        "id": "dropped",
    }
    recs = _round_trip(JSONLDatasetLoader.from_records([rec]), SFT, Model.NOVA_PRO, tmp_path)
    assert recs[0] == {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Answer briefly."}],
        "messages": [
            {"role": "user", "content": [{"text": "Hi!"}]},
            {"role": "assistant", "content": [{"text": "Hello."}]},
            {"role": "user", "content": [{"text": "What is 2+2?"}]},
            {"role": "assistant", "content": [{"text": "4"}]},
        ],
    }


def test_openai_s3_image_part(tmp_path):
    rec = {
        "bucket_owner": "123456789012",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "s3://bkt/imgs/a.jpg"}},
                    {"type": "text", "text": "What is this?"},
                ],
            },
            {"role": "assistant", "content": "A lighthouse."},
        ],
    }
    recs = _round_trip(JSONLDatasetLoader.from_records([rec]), SFT, Model.NOVA_LITE, tmp_path)
    assert recs[0]["messages"][0]["content"][0] == {
        "image": {
            "format": "jpeg",
            "source": {"s3Location": {"uri": "s3://bkt/imgs/a.jpg", "bucketOwner": "123456789012"}},
        }
    }


@pytest.mark.parametrize(
    "rec, match",
    [
        (OPENAI_TOOLS, "Nova 2"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "at least one user and one assistant"),
        ({"messages": [{"role": "narrator", "content": "x"}]}, "unknown role"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]},
                    {"role": "assistant", "content": "x"},
                ]
            },
            "s3://",
        ),
    ],
)
def test_openai_conversion_errors(rec, match):
    with pytest.raises(DataPrepError, match=match) as e:
        JSONLDatasetLoader.from_records([rec]).transform(SFT, Model.NOVA_LITE)
    assert e.value.line == 1


def test_openai_bad_tool_arguments():
    rec = {
        "messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{not json"}}]},
        ]
    }
    with pytest.raises(DataPrepError, match="not valid JSON") as e:
        JSONLDatasetLoader.from_records([rec]).transform(SFT, Model.NOVA_LITE_2)
    assert e.value.field == "$.messages[1].tool_calls[0].function"


def test_converse_records_pass_through(tmp_path):
    rec = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "assistant", "content": [{"text": "b"}]}],
    }
    assert _round_trip(JSONLDatasetLoader.from_records([rec]), SFT, Model.NOVA_LITE, tmp_path) == [rec]


def test_transform_twice_is_idempotent(tmp_path):
    loader = JSONLDatasetLoader.from_records(SUPPORT, question="ticket", answer="reply")
    loader.transform(SFT, Model.NOVA_LITE_2).transform(SFT, Model.NOVA_LITE_2)
    out = tmp_path / "twice.jsonl"
    loader.save_data(str(out))
    once = JSONLDatasetLoader.from_records(SUPPORT, question="ticket", answer="reply").transform(SFT, Model.NOVA_LITE_2)
    once.save_data(str(tmp_path / "once.jsonl"))
    assert out.read_bytes() == (tmp_path / "once.jsonl").read_bytes()


@pytest.mark.parametrize(
    "mappings, rec",
    [
        ({"question": "q", "answer": "a"}, {"q": "What?", "a": "That."}),
        ({"question": "q", "answer": "a", "system": "s"}, {"q": 'quote " and \\ and é', "a": 7, "s": "sys"}),
        ({"question": "q", "answer": "a", "reasoning_text": "r"}, {"q": "x", "a": "y", "r": "think"}),
        ({"question": "q", "answer": "a", "reasoning_text": "r"}, {"q": "x", "a": "y", "r": ""}),
        (
            {"question": "q", "answer": "a", "video_format": "f", "s3_uri": "u", "bucket_owner": "o"},
            {"q": "x", "a": "y", "f": "MP4", "u": "s3://b/v.mp4", "o": 123456789012},
        ),
    ],
)
def test_fast_path_writes_the_same_bytes(mappings, rec):
    """The generic SFT transform's byte template equals serialising the dict it builds."""
    fn = build_transform(SFT, Model.NOVA_LITE_2, mappings)
    fast = fn.fast(rec, 1)
    assert fast is not None
    assert fast[0] == orjson.dumps(fn(rec, 1)) + b"\n"
    assert fn.fast({"messages": []}, 1) is None


def test_transform_output_file_is_what_show_prints(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"input": "a", "output": "b"}) + "\n", encoding="utf-8")
    loader = JSONLDatasetLoader(question="input", answer="output").load(str(path))
    loader.transform(SFT, Model.NOVA_LITE)
    capsys.readouterr()
    loader.show(1)
    shown = capsys.readouterr().out.splitlines()[1].split(" ", 1)[1]
    loader.save_data(str(tmp_path / "o.jsonl"))
    assert json.loads(shown) == json.loads(Path(tmp_path / "o.jsonl").read_text())
