"""The public expectations of the official SDK's dataset tests (issue 13, "Why"), and one rule both missed."""

from __future__ import annotations

import copy
import json
import logging

import pytest

from amzn_nova_forge import EvaluationTask, Model, TrainingMethod
from amzn_nova_forge.dataset import JSONLDatasetLoader
from amzn_nova_forge.errors import DatasetValidationError

L2 = Model.NOVA_LITE_2


def _file(tmp_path, rows, name="data.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


# ---- RFT multiturn ids (official: test_rft_multiturn_validation.py, ID auto-generation)
@pytest.mark.parametrize(
    ("rows", "ids"),
    [
        (
            [{"prompt": "Question 1"}, {"prompt": "Question 2"}, {"prompt": "Question 3"}],
            ["sample_001", "sample_002", "sample_003"],
        ),
        ([{"id": "", "prompt": "Question 1"}, {"id": "", "prompt": "Question 2"}], ["sample_001", "sample_002"]),
        (
            [{"metadata": {"prompt": "Question 1"}}, {"metadata": {"prompt": "Question 2"}}],
            ["sample_001", "sample_002"],
        ),
        (
            [{"prompt": "Q1"}, {"id": "custom-001", "prompt": "Q2"}, {"prompt": "Q3"}, {"prompt": "Q4"}],
            ["sample_001", "custom-001", "sample_002", "sample_003"],
        ),
    ],
    ids=["missing", "empty", "nested", "counter-continues"],
)
def test_rft_multiturn_ids_are_generated(tmp_path, rows, ids):
    loader = JSONLDatasetLoader(id="id", prompt="prompt").load(_file(tmp_path, rows))
    loader.transform(method=TrainingMethod.RFT_MULTITURN_LORA, model=L2)
    loader.show(1)  # a partial pass must not shift the numbering
    assert [r["id"] for r in loader.dataset()] == ids
    assert [r["id"] for r in loader.dataset()] == ids  # the same on every pass
    loader.validate(TrainingMethod.RFT_MULTITURN_LORA, L2)
    out = tmp_path / "out.jsonl"
    loader.save(str(out))
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ids


def test_nested_records_for_rft_multiturn_eval_transform_and_validate(tmp_path, capsys):
    rows = [
        {"id": "sample-001", "metadata": {"prompt": "What is 2+2?", "answer": "4"}},
        {
            "id": "sample-002",
            "metadata": {
                "prompt": [
                    {"role": "user", "content": "What's the weather?"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_1", "content": "72 degrees"},
                    {"role": "assistant", "content": "It's 72 degrees."},
                ],
                "answer": "72",
            },
        },
    ]
    loader = JSONLDatasetLoader(id="id", prompt="prompt").load(_file(tmp_path, rows))
    loader.transform(method=TrainingMethod.EVALUATION, eval_task=EvaluationTask.RFT_MULTITURN_EVAL, model=L2)
    loader.validate(method=TrainingMethod.EVALUATION, eval_task=EvaluationTask.RFT_MULTITURN_EVAL, model=L2)
    assert "Validation succeeded for 2 samples" in capsys.readouterr().out
    assert list(loader) == rows  # kept as they are


def test_optional_mapped_column_absent_from_the_first_record(tmp_path, caplog):
    rows = [{"q": "a", "a": "b"}, {"q": "c", "a": "d", "sys": "Be brief."}]
    loader = JSONLDatasetLoader(question="q", answer="a", system="sys").load(_file(tmp_path, rows))
    with caplog.at_level(logging.WARNING):
        loader.transform(TrainingMethod.SFT_LORA, L2)
    assert "'sys' mapped to 'system' is not in the first record" in caplog.text
    recs = list(loader)
    assert "system" not in recs[0] and recs[1]["system"] == [{"text": "Be brief."}]


def test_generic_to_rft_ignores_an_unmapped_system_column(tmp_path, caplog):
    rows = [{"prompt": "2+2?", "answer": "4", "system": "You are terse."}]
    loader = JSONLDatasetLoader().load(_file(tmp_path, rows))
    with caplog.at_level(logging.WARNING):
        loader.transform(
            training_method=TrainingMethod.RFT_LORA,
            model=L2,
            column_mappings={"question": "prompt", "reference_answer": "answer"},
        )
        assert list(loader) == [{"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"}]
    assert caplog.text.count("column 'system' is not mapped") == 1
    mapped = JSONLDatasetLoader().load(_file(tmp_path, rows, "b.jsonl"))
    mapped.transform(
        training_method=TrainingMethod.RFT_LORA,
        model=L2,
        column_mappings={"question": "prompt", "reference_answer": "answer", "system": "system"},
    )
    assert next(iter(mapped))["messages"][0] == {"role": "system", "content": "You are terse."}


TOOLCFG = {
    "tools": [
        {
            "toolSpec": {
                "name": "getWeather",
                "description": "Get weather information",
                "inputSchema": {"json": {"type": "object"}},
            }
        }
    ]
}


def _conv(messages, **extra):
    return {"schemaVersion": "bedrock-conversation-2024", "messages": messages, **extra}


def test_tool_config_alone_on_nova_1_sft_is_accepted_but_tool_blocks_are_not(tmp_path):
    ok = _conv(
        [{"role": "user", "content": [{"text": "Hello"}]}, {"role": "assistant", "content": [{"text": "Hi"}]}],
        toolConfig=TOOLCFG,
    )
    JSONLDatasetLoader().load(_file(tmp_path, [ok])).validate(
        training_method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE
    )
    used = _conv(
        [
            {"role": "user", "content": [{"text": "Weather?"}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "getWeather", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}]},
            {"role": "assistant", "content": [{"text": "Sunny."}]},
        ],
        toolConfig=TOOLCFG,
    )
    with pytest.raises(DatasetValidationError, match="not supported for Nova 1"):
        JSONLDatasetLoader().load(_file(tmp_path, [used], "b.jsonl")).validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE)
    JSONLDatasetLoader().load(_file(tmp_path, [used], "c.jsonl")).validate(TrainingMethod.SFT_LORA, L2)


def test_rft_image_url_parts_and_null_content_with_tool_calls(tmp_path, caplog):
    rows = [
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Describe this image"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/img.png"}},
                    ],
                }
            ],
            "reference_answer": "a cat",
        },
        {
            "messages": [
                {"role": "user", "content": "What's the weather in Paris?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "w", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
            "reference_answer": "sunny",
        },
    ]
    with caplog.at_level(logging.WARNING):
        JSONLDatasetLoader().load(_file(tmp_path, rows)).validate(TrainingMethod.RFT_FULL, L2)
    assert "lists RFT data as text-only" in caplog.text  # accepted, not silently
    bad = copy.deepcopy(rows[1])
    bad["messages"][1]["tool_calls"] = []
    with pytest.raises(DatasetValidationError, match=r"\$.messages\[1\].content"):
        JSONLDatasetLoader().load(_file(tmp_path, [bad], "b.jsonl")).validate(TrainingMethod.RFT_FULL, L2)


@pytest.mark.parametrize("prefix", ["data:image/png;Base64,", "data:image/png;BASE64,", "data:image/png;base64,"])
def test_base64_data_uri_is_case_insensitive(tmp_path, prefix):
    row = {"query": "q", "response": "r", "images": [{"data": prefix + "iVBORw0KGgoA"}]}
    JSONLDatasetLoader().load(_file(tmp_path, [row])).validate(TrainingMethod.EVALUATION, L2, EvaluationTask.GEN_QA)


def test_a_non_image_data_uri_is_still_refused(tmp_path):
    row = {"query": "q", "response": "r", "images": [{"data": "data:text/plain;Base64,abc"}]}
    with pytest.raises(DatasetValidationError, match=r"\$.images\[0\].data"):
        JSONLDatasetLoader().load(_file(tmp_path, [row])).validate(TrainingMethod.EVALUATION, L2, EvaluationTask.GEN_QA)


# ---- the rule both SDKs missed: every toolUse is answered in the next user turn
def _tool_turns(answer_with: str | None, then_more: bool = True):
    msgs = [
        {"role": "user", "content": [{"text": "Weather in Oslo?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "getWeather", "input": {}}}]},
    ]
    if then_more:
        reply = (
            [{"toolResult": {"toolUseId": answer_with, "content": [{"json": {"temp": 3}}]}}]
            if answer_with
            else [{"text": "never mind"}]
        )
        msgs += [{"role": "user", "content": reply}, {"role": "assistant", "content": [{"text": "3C."}]}]
    return _conv(msgs, toolConfig=TOOLCFG)


def test_an_unanswered_tool_use_is_refused(tmp_path):
    with pytest.raises(DatasetValidationError) as e:
        JSONLDatasetLoader().load(_file(tmp_path, [_tool_turns(None)])).validate(TrainingMethod.SFT_LORA, L2)
    assert e.value.problems == [
        (
            1,
            "$.messages[1].content[0].toolUse.toolUseId",
            "toolUse 't1' is not answered: the next user message must hold a toolResult with this toolUseId",
        )
    ]


def test_answered_and_trailing_tool_uses_are_accepted(tmp_path):
    JSONLDatasetLoader().load(_file(tmp_path, [_tool_turns("t1")])).validate(TrainingMethod.SFT_LORA, L2)
    # the model's final turn may end in a tool call: nothing follows it to answer
    JSONLDatasetLoader().load(_file(tmp_path, [_tool_turns(None, then_more=False)], "b.jsonl")).validate(
        TrainingMethod.SFT_LORA, L2
    )


def test_a_result_two_turns_later_does_not_count(tmp_path):
    rec = _tool_turns(None)
    rec["messages"] += [
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "3"}]}}]},
        {"role": "assistant", "content": [{"text": "ok"}]},
    ]
    with pytest.raises(DatasetValidationError, match="'t1' is not answered"):
        JSONLDatasetLoader().load(_file(tmp_path, [rec])).validate(TrainingMethod.SFT_LORA, L2)
