"""SFT / DPO (Converse) rules: each rule has a record that passes and one that fails.

Rules come from reference/nova-data-formats.md §1–2 and official-sdk-facts.md §4.3.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.dataset import DataPrepError, JSONLDatasetLoader, Model, TrainingMethod

SFT, DPO = TrainingMethod.SFT_LORA, TrainingMethod.DPO_LORA
L2, LITE, MICRO, PRO = Model.NOVA_LITE_2, Model.NOVA_LITE, Model.NOVA_MICRO, Model.NOVA_PRO


def report(records: list[dict[str, Any]], method=SFT, model=L2, platform=None, eval_task=None):
    return JSONLDatasetLoader.from_records(records)._validate_report(method, model, eval_task, platform=platform)


def probs(records, **kw) -> list[tuple[Any, Any, str]]:
    return [tuple(p) for p in report(records, **kw).problems]


def S3(uri="s3://media-bkt/img/cat.png", owner="123456789012"):
    return {"s3Location": {"uri": uri, "bucketOwner": owner}}


def IMG(fmt="png", **kw):
    return {"image": {"format": fmt, "source": S3(**kw)}}


def VID(fmt="mp4"):
    return {"video": {"format": fmt, "source": S3("s3://media-bkt/v/clip.mp4")}}


def DOC():
    return {"document": {"format": "pdf", "source": S3("s3://media-bkt/d/report.pdf")}}


def REASON(text="Let me think step by step."):
    return {"reasoningContent": {"reasoningText": {"text": text}}}


def rec(user=None, assistant=None, **top) -> dict[str, Any]:
    out: dict[str, Any] = {"schemaVersion": "bedrock-conversation-2024"}
    out.update(top)
    out["messages"] = [
        {"role": "user", "content": user if user is not None else [{"text": "What is the capital of France?"}]},
        {"role": "assistant", "content": assistant if assistant is not None else [{"text": "Paris."}]},
    ]
    return out


TOOLCFG = {
    "tools": [
        {
            "toolSpec": {
                "name": "get_weather",
                "description": "Weather for a city.",
                "inputSchema": {"json": {"type": "object", "properties": {}}},
            }
        }
    ]
}


def tool_rec(**changes) -> dict[str, Any]:
    r = {
        "schemaVersion": "bedrock-conversation-2024",
        "toolConfig": copy.deepcopy(TOOLCFG),
        "messages": [
            {"role": "user", "content": [{"text": "Weather in Oslo?"}]},
            {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}}],
            },
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp": 3}}]}}]},
            {"role": "assistant", "content": [{"text": "It is 3C in Oslo."}]},
        ],
    }
    for path, value in changes.items():
        tgt = r
        keys = path.split(".")
        for k in keys[:-1]:
            tgt = tgt[int(k)] if k.isdigit() else tgt[k]
        last = keys[-1]
        if value is _DEL:
            del tgt[int(last) if last.isdigit() else last]
        else:
            tgt[int(last) if last.isdigit() else last] = value
    return r


_DEL = object()

# ------------------------------------------------------------------ valid records
VALID = {
    "text": (rec(), L2, None),
    "system": (rec(system=[{"text": "Be brief."}]), LITE, None),
    "multi-turn": (
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": "Hi"}]},
                {"role": "assistant", "content": [{"text": "Hello"}]},
                {"role": "user", "content": [{"text": "Bye"}]},
                {"role": "assistant", "content": [{"text": "Bye!"}]},
            ],
        },
        MICRO,
        None,
    ),
    "image": (rec(user=[IMG(), {"text": "What is this?"}]), LITE, None),
    "10 images": (rec(user=[IMG() for _ in range(10)] + [{"text": "Compare."}]), PRO, None),
    "image only (no text)": (rec(user=[IMG("jpeg")]), L2, None),
    "webp on SageMaker Nova 2": (rec(user=[IMG("webp"), {"text": "x"}]), L2, Platform.SMTJ),
    "video": (rec(user=[VID(), {"text": "Summarise."}]), LITE, None),
    "document": (rec(user=[DOC(), {"text": "Summarise."}]), L2, None),
    "reasoning": (rec(assistant=[REASON(), {"text": "Paris."}]), L2, None),
    "image + reasoning in other turn": (
        rec(user=[IMG(), {"text": "x"}], assistant=[REASON(), {"text": "y"}]),
        L2,
        None,
    ),
    "tools": (tool_rec(), L2, None),
    "reasoning then toolUse": (
        tool_rec(
            **{"messages.1.content": [REASON(), {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}]}
        ),
        L2,
        None,
    ),
    "toolResult text": (tool_rec(**{"messages.2.content.0.toolResult.content": [{"text": "3C"}]}), L2, None),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_records_pass(name):
    record, model, platform = VALID[name]
    assert probs([record], model=model, platform=platform) == []


# ------------------------------------------------------------------ failing records
_U = "What is the capital of France?"
FAIL = [
    # id, record, model, platform, expected path, expected message part
    ("unknown top-level field", rec(id="x"), L2, None, "$.id", "unknown field"),
    (
        "schemaVersion missing",
        {k: v for k, v in rec().items() if k != "schemaVersion"},
        L2,
        None,
        "$.schemaVersion",
        "missing",
    ),
    ("schemaVersion wrong", rec(schemaVersion="v1"), L2, None, "$.schemaVersion", "must be"),
    ("system not a list", rec(system="Be brief."), L2, None, "$.system", "non-empty list"),
    ("system item shape", rec(system=[{"content": "x"}]), L2, None, "$.system[0]", '{"text"'),
    ("system empty text", rec(system=[{"text": ""}]), L2, None, "$.system[0].text", "empty"),
    ("system reserved word", rec(system=[{"text": "System: obey"}]), L2, None, "$.system[0].text", "reserved"),
    (
        "one message",
        {"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", "content": [{"text": "x"}]}]},
        L2,
        None,
        "$.messages",
        "at least 2",
    ),
    ("messages missing", {"schemaVersion": "bedrock-conversation-2024"}, L2, None, "$.messages", "missing"),
    (
        "starts with assistant",
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "assistant", "content": [{"text": "x"}]},
                {"role": "user", "content": [{"text": "y"}]},
            ],
        },
        L2,
        None,
        "$.messages[0].role",
        "alternate",
    ),
    (
        "ends with user",
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": "a"}]},
                {"role": "assistant", "content": [{"text": "b"}]},
                {"role": "user", "content": [{"text": "c"}]},
            ],
        },
        L2,
        None,
        "$.messages[2].role",
        "end with an assistant",
    ),
    (
        "system role",
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "system", "content": [{"text": "x"}]},
                {"role": "assistant", "content": [{"text": "y"}]},
            ],
        },
        L2,
        None,
        "$.messages[0].role",
        "top-level 'system'",
    ),
    (
        "upper-case role",
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "User", "content": [{"text": "x"}]},
                {"role": "assistant", "content": [{"text": "y"}]},
            ],
        },
        L2,
        None,
        "$.messages[0].role",
        "lower-case",
    ),
    (
        "message extra key",
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": "x"}], "name": "bob"},
                {"role": "assistant", "content": [{"text": "y"}]},
            ],
        },
        L2,
        None,
        "$.messages[0]",
        "unknown fields",
    ),
    ("content empty", rec(user=[{"text": "x"}], assistant=[]), L2, None, "$.messages[1].content", "non-empty list"),
    (
        "content a string",
        {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": [{"text": "y"}]}],
        },
        L2,
        None,
        "$.messages[0].content",
        "non-empty list",
    ),
    ("empty text content", rec(assistant=[{"text": ""}]), L2, None, "$.messages[1].content", "empty text content"),
    ("text not a string", rec(user=[{"text": 5}]), L2, None, "$.messages[0].content[0].text", "must be a string"),
    ("unknown block", rec(user=[{"audio": {}}]), L2, None, "$.messages[0].content[0]", "unknown content block"),
    (
        "two keys in a block",
        rec(user=[{"text": "x", "image": {}}]),
        L2,
        None,
        "$.messages[0].content[0]",
        "exactly one",
    ),
    (
        "toolUse+toolResult block",
        tool_rec(**{"messages.1.content": [{"toolUse": {}, "toolResult": {}}]}),
        L2,
        None,
        "$.messages[1].content[0]",
        "same content block",
    ),
    (
        "reserved word user text",
        rec(user=[{"text": "User: hi Bot: hello"}]),
        L2,
        None,
        "$.messages[0].content[0].text",
        "reserved word 'user:'",
    ),
    (
        "reserved word lower-case",
        rec(user=[{"text": "the end user: done"}]),
        L2,
        None,
        "$.messages[0].content[0].text",
        "reserved",
    ),
    (
        "reserved word assistant text",
        rec(assistant=[{"text": "Assistant: Paris"}]),
        L2,
        None,
        "$.messages[1].content[0].text",
        "reserved",
    ),
    (
        "reserved <image>",
        rec(user=[{"text": "look <image> here"}]),
        L2,
        None,
        "$.messages[0].content[0].text",
        "'<image>'",
    ),
    ("reserved [EOS]", rec(assistant=[{"text": "Paris[EOS]"}]), L2, None, "$.messages[1].content[0].text", "'[eos]'"),
    (
        "reserved Thought:",
        rec(assistant=[{"text": "Thought: hmm"}]),
        L2,
        None,
        "$.messages[1].content[0].text",
        "'thought:'",
    ),
    (
        "reserved in reasoning",
        rec(assistant=[REASON("<unk> token"), {"text": "x"}]),
        L2,
        None,
        "$.messages[1].content[0].reasoningContent.reasoningText.text",
        "'<unk>'",
    ),
    (
        "reserved in toolResult",
        tool_rec(**{"messages.2.content.0.toolResult.content": [{"text": "<video>"}]}),
        L2,
        None,
        "$.messages[2].content[0].toolResult.content[0].text",
        "reserved",
    ),
    ("image in assistant", rec(assistant=[IMG(), {"text": "x"}]), L2, None, "$.messages[1].content[0]", "only in user"),
    (
        "two media types",
        rec(user=[IMG(), DOC(), {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content",
        "only one media type",
    ),
    ("11 images", rec(user=[IMG() for _ in range(11)] + [{"text": "x"}]), L2, None, "$.messages", "limit is 10"),
    (
        "2 videos",
        rec(user=[VID(), {"text": "a"}], assistant=[{"text": "b"}])
        | {
            "messages": [
                {"role": "user", "content": [VID(), {"text": "a"}]},
                {"role": "assistant", "content": [{"text": "b"}]},
                {"role": "user", "content": [VID(), {"text": "c"}]},
                {"role": "assistant", "content": [{"text": "d"}]},
            ]
        },
        LITE,
        None,
        "$.messages",
        "videos in one sample",
    ),
    ("2 documents", rec(user=[DOC(), DOC(), {"text": "x"}]), L2, None, "$.messages", "documents in one sample"),
    (
        "image format jpg",
        rec(user=[IMG("jpg"), {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.format",
        "write 'jpeg'",
    ),
    (
        "image format upper-case",
        rec(user=[IMG("PNG"), {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.format",
        "lower-case",
    ),
    (
        "image format missing",
        rec(user=[{"image": {"source": S3()}}, {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.format",
        "missing",
    ),
    (
        "webp on Bedrock Nova 2",
        rec(user=[IMG("webp"), {"text": "x"}]),
        L2,
        Platform.BEDROCK,
        "$.messages[0].content[0].image.format",
        "not allowed",
    ),
    (
        "video format avi",
        rec(user=[VID("avi"), {"text": "x"}]),
        LITE,
        None,
        "$.messages[0].content[0].video.format",
        "not allowed",
    ),
    (
        "image source missing",
        rec(user=[{"image": {"format": "png"}}, {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.source",
        "s3Location",
    ),
    (
        "uri not s3",
        rec(user=[IMG(uri="https://x/cat.png"), {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.source.s3Location.uri",
        "s3:// URI",
    ),
    (
        "uri bad characters",
        rec(user=[IMG(uri="s3://bkt/my cat.png"), {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.source.s3Location.uri",
        "only letters",
    ),
    (
        "bucketOwner missing",
        rec(user=[{"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/a.png"}}}}, {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.source.s3Location.bucketOwner",
        "missing",
    ),
    (
        "bucketOwner not an account id",
        rec(user=[IMG(owner="my-team"), {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0].image.source.s3Location.bucketOwner",
        "12-digit",
    ),
    ("media on Micro", rec(user=[IMG(), {"text": "x"}]), MICRO, None, "$.messages[0].content[0]", "text-only"),
    (
        "document on Nova 1",
        rec(user=[DOC(), {"text": "x"}]),
        PRO,
        None,
        "$.messages[0].content[0]",
        "only on NOVA_LITE_2",
    ),
    (
        "reasoning on Nova 1",
        rec(assistant=[REASON(), {"text": "x"}]),
        LITE,
        None,
        "$.messages[1].content[0]",
        "only on NOVA_LITE_2",
    ),
    (
        "reasoning in user turn",
        rec(user=[REASON(), {"text": "x"}]),
        L2,
        None,
        "$.messages[0].content[0]",
        "only in assistant",
    ),
    (
        "reasoning empty",
        rec(assistant=[REASON("  "), {"text": "x"}]),
        L2,
        None,
        "$.messages[1].content[0].reasoningContent.reasoningText.text",
        "non-empty",
    ),
    (
        "reasoning without answer",
        rec(assistant=[REASON()]),
        L2,
        None,
        "$.messages[1].content",
        "followed by the final answer",
    ),
    (
        "reasoning with media",
        rec(user=[{"text": "x"}], assistant=[REASON(), {"text": "y"}])
        | {
            "messages": [
                {"role": "user", "content": [IMG(), REASON(), {"text": "x"}]},
                {"role": "assistant", "content": [{"text": "y"}]},
            ]
        },
        L2,
        None,
        "$.messages[0].content",
        "cannot share a message",
    ),
    ("tools on Nova 1", tool_rec(), LITE, None, "$.toolConfig", "not supported for Nova 1"),
    ("tools on Bedrock Nova 2", tool_rec(), L2, Platform.BEDROCK, "$.toolConfig", "Bedrock"),
    (
        "toolUse in user turn",
        tool_rec(**{"messages.0.content": [{"toolUse": {"toolUseId": "t0", "name": "get_weather", "input": {}}}]}),
        L2,
        None,
        "$.messages[0].content[0]",
        "only in assistant",
    ),
    (
        "toolResult in assistant turn",
        tool_rec(**{"messages.3.content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "x"}]}}]}),
        L2,
        None,
        "$.messages[3].content[0]",
        "only in user",
    ),
    (
        "toolUseId blank",
        tool_rec(**{"messages.1.content.0.toolUse.toolUseId": " "}),
        L2,
        None,
        "$.messages[1].content[0].toolUse.toolUseId",
        "non-blank",
    ),
    (
        "toolUse name blank",
        tool_rec(**{"messages.1.content.0.toolUse.name": ""}),
        L2,
        None,
        "$.messages[1].content[0].toolUse.name",
        "non-blank",
    ),
    (
        "toolUse input not object",
        tool_rec(**{"messages.1.content.0.toolUse.input": "Oslo"}),
        L2,
        None,
        "$.messages[1].content[0].toolUse.input",
        "JSON object",
    ),
    (
        "toolUse unknown tool",
        tool_rec(**{"messages.1.content.0.toolUse.name": "get_time"}),
        L2,
        None,
        "$.messages[1].content[0].toolUse.name",
        "not defined in toolConfig",
    ),
    (
        "toolUse without toolConfig",
        tool_rec(toolConfig=_DEL),
        L2,
        None,
        "$.messages[1].content[0].toolUse.name",
        "no toolConfig",
    ),
    (
        "toolResult unmatched",
        tool_rec(**{"messages.2.content.0.toolResult.toolUseId": "t9"}),
        L2,
        None,
        "$.messages[2].content[0].toolResult.toolUseId",
        "does not match",
    ),
    (
        "toolResult empty content",
        tool_rec(**{"messages.2.content.0.toolResult.content": []}),
        L2,
        None,
        "$.messages[2].content[0].toolResult.content",
        "non-empty",
    ),
    (
        "toolResult item both",
        tool_rec(**{"messages.2.content.0.toolResult.content": [{"text": "a", "json": {}}]}),
        L2,
        None,
        "$.messages[2].content[0].toolResult.content[0]",
        "exactly one",
    ),
    ("toolConfig empty", tool_rec(toolConfig={"tools": []}), L2, None, "$.toolConfig.tools", "non-empty"),
    (
        "tool description blank",
        tool_rec(**{"toolConfig.tools.0.toolSpec.description": ""}),
        L2,
        None,
        "$.toolConfig.tools[0].toolSpec.description",
        "non-blank",
    ),
    (
        "tool schema without type",
        tool_rec(**{"toolConfig.tools.0.toolSpec.inputSchema": {"json": {}}}),
        L2,
        None,
        "$.toolConfig.tools[0].toolSpec.inputSchema.json",
        "'type'",
    ),
    (
        "duplicate tool names",
        tool_rec(toolConfig={"tools": TOOLCFG["tools"] * 2}),
        L2,
        None,
        "$.toolConfig.tools[1].toolSpec.name",
        "duplicate",
    ),
    (
        "toolSpec missing",
        tool_rec(toolConfig={"tools": [{"name": "x"}]}),
        L2,
        None,
        "$.toolConfig.tools[0].toolSpec",
        "missing",
    ),
]


@pytest.mark.parametrize("case", FAIL, ids=[c[0] for c in FAIL])
def test_invalid_records_fail(case):
    _id, record, model, platform, path, part = case
    found = probs([record], model=model, platform=platform)
    assert any(p[1] == path and part in p[2] for p in found), found
    assert all(p[0] in (1, None) for p in found)  # None: dataset-level (row count, media mix)


def test_duplicate_tool_use_id_and_double_result():
    r = tool_rec()
    r["messages"][1]["content"].append({"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}})
    r["messages"][2]["content"].append({"toolResult": {"toolUseId": "t1", "content": [{"text": "again"}]}})
    found = probs([r])
    assert "$.messages[1].content[1].toolUse.toolUseId" in [p[1] for p in found]
    assert any("already has a toolResult" in p[2] for p in found)


def test_every_problem_is_reported_not_only_the_first():
    bad = rec(user=[{"text": "User: a"}, {"text": "<image>"}], assistant=[{"text": ""}], id=1, system="x")
    found = probs([rec(), bad, rec(), bad])
    lines = [p[0] for p in found]
    assert lines.count(2) == 5 and lines.count(4) == 5
    assert {p[1] for p in found if p[0] == 2} == {
        "$.id",
        "$.system",
        "$.messages[0].content[0].text",
        "$.messages[0].content[1].text",
        "$.messages[1].content",
    }
    # plus the dataset-level rule: 'system' is in 2 records and missing in 2
    assert any(p[1] == "$.system" and "missing in 2" in p[2] for p in found)


def test_problems_are_capped_but_counted():
    records = [rec(assistant=[{"text": ""}]) for _ in range(300)]
    r = JSONLDatasetLoader.from_records(records)._validate_report(SFT, L2, max_problems=10)
    assert len(r.problems) == 10 and r.total == 300 and r.bad_records == 300
    text = r.summary(limit=5)
    assert "300 problems in 300 of 300 records" in text and "and 295 more" in text


def test_validate_raises_dataset_validation_error_with_problems():
    loader = JSONLDatasetLoader.from_records([rec(), rec(assistant=[{"text": ""}])])
    with pytest.raises(ValueError) as e:
        loader.validate(SFT, L2)
    err = e.value
    assert isinstance(err, DataPrepError)
    assert err.problems == [(2, "$.messages[1].content", "empty text content")] and err.total == 1
    assert "line 2 $.messages[1].content: empty text content" in str(err)


def test_validate_success_prints_spec_line(capsys):
    JSONLDatasetLoader.from_records([rec()] * 3).validate(method=SFT, model=L2)
    assert capsys.readouterr().out.strip() == "Validation succeeded for 3 samples on an SFT dataset"


# ------------------------------------------------------------------ dataset-level rules
def test_optional_field_consistency_system():
    found = probs([rec(system=[{"text": "a"}]), rec(), rec()])
    assert found == [(1, "$.system", found[0][2])]
    assert "used in 1 records but missing in 2" in found[0][2]
    assert probs([rec(system=[{"text": "a"}])] * 2) == []


def test_optional_field_consistency_media_and_reasoning():
    imgs = rec(user=[IMG(), {"text": "x"}])
    assert any(p[1].endswith(".image") for p in probs([imgs, rec()], model=LITE))
    rs = rec(assistant=[REASON(), {"text": "y"}])
    assert any(p[1].endswith(".reasoningContent") for p in probs([rs, rec(), rec()]))


def test_dataset_may_not_mix_media_types():
    found = probs([rec(user=[IMG(), {"text": "x"}]), rec(user=[VID(), {"text": "y"}])], model=LITE)
    assert any("mixes images and videos" in p[2] for p in found)


def test_tool_consistency_is_only_a_warning():
    r = report([tool_rec(), tool_rec(toolConfig=TOOLCFG) | {"messages": rec()["messages"]}])
    assert r.ok
    assert any("toolUse" in w for w in r.warnings)


def test_thinking_tags_warn():
    r = report([rec(assistant=[REASON("<thinking>hm</thinking>"), {"text": "x"}])])
    assert r.ok and any("<thinking>" in w for w in r.warnings)


@pytest.mark.parametrize(
    "model, platform, rows, ok",
    [
        (LITE, Platform.BEDROCK, 7, False),
        (LITE, Platform.BEDROCK, 8, True),
        (MICRO, Platform.BEDROCK, 20_001, False),
        (L2, Platform.BEDROCK, 199, False),
        (L2, Platform.BEDROCK, 200, True),
        (L2, Platform.SMTJ, 3, True),
        (L2, None, 3, True),
        (L2, Platform.LOCAL, 1, True),
    ],
)
def test_row_count_limits(model, platform, rows, ok):
    r = JSONLDatasetLoader.from_records([rec()] * rows)._validate_report(SFT, model, platform=platform)
    assert r.ok is ok
    if not ok:
        assert "records;" in r.problems[-1].message and r.problems[-1].line is None


def test_generic_data_gets_a_transform_hint():
    r = JSONLDatasetLoader.from_records([{"question": "q", "answer": "a"}])._validate_report(SFT, L2)
    assert not r.ok and "call transform" in r.summary()


# ------------------------------------------------------------------ DPO
def dpo(cands=None, **kw) -> dict[str, Any]:
    return {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "Write a greeting."}]},
            {
                "role": "assistant",
                "candidates": cands
                if cands is not None
                else [
                    {"content": [{"text": "Hello there!"}], "preferenceLabel": "preferred"},
                    {"content": [{"text": "whatever"}], "preferenceLabel": "non-preferred"},
                ],
            },
        ],
    } | kw


def test_dpo_valid():
    assert probs([dpo()], method=DPO, model=LITE) == []
    mm = dpo()
    mm["messages"][0]["content"].insert(0, IMG())
    assert probs([mm], method=DPO, model=PRO) == []


@pytest.mark.parametrize(
    "record, part",
    [
        (dpo(cands=[{"content": [{"text": "a"}], "preferenceLabel": "preferred"}]), "at least 2 candidates"),
        (dpo(cands=[{"content": [{"text": "a"}], "preferenceLabel": "preferred"}] * 2), "both a 'preferred'"),
        (
            dpo(
                cands=[
                    {"content": [{"text": "a"}], "preferenceLabel": "best"},
                    {"content": [{"text": "b"}], "preferenceLabel": "non-preferred"},
                ]
            ),
            "'preferred' or 'non-preferred'",
        ),
        (
            dpo(
                cands=[
                    {"content": [IMG()], "preferenceLabel": "preferred"},
                    {"content": [{"text": "b"}], "preferenceLabel": "non-preferred"},
                ]
            ),
            "only text",
        ),
        (
            dpo(
                cands=[
                    {"content": [{"text": ""}], "preferenceLabel": "preferred"},
                    {"content": [{"text": "b"}], "preferenceLabel": "non-preferred"},
                ]
            ),
            "empty text content",
        ),
        (rec(), "needs 'candidates'"),
    ],
)
def test_dpo_invalid(record, part):
    found = probs([record], method=DPO, model=LITE)
    assert any(part in p[2] for p in found), found


def test_dpo_candidates_only_last_and_no_video():
    r = dpo()
    r["messages"] = [
        r["messages"][0],
        r["messages"][1],
        {"role": "user", "content": [VID(), {"text": "x"}]},
        {"role": "assistant", "content": [{"text": "y"}]},
    ]
    found = probs([r], method=DPO, model=LITE)
    assert any("only the last" in p[2] for p in found)
    assert any("may not contain video" in p[2] for p in found)


def test_dpo_on_nova2_is_unsupported():
    with pytest.raises(ValueError, match="DPO is supported only on Nova 1"):
        report([dpo()], method=DPO, model=L2)
