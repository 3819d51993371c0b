"""RFT, RFT multiturn, evaluation (gen_qa, judges), CPT rules; the templated fast path's equivalence."""

from __future__ import annotations

import random
from typing import Any

import pytest

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.dataset import EvaluationTask, JSONLDatasetLoader, Model, TrainingMethod
from amzn_nova_forge.dataset._rules import Ctx
from amzn_nova_forge.dataset._transforms import build_transform
from amzn_nova_forge.dataset._validate import resolve
from amzn_nova_forge.dataset._validate_converse import check_converse, check_fields

L2 = Model.NOVA_LITE_2
RFT, MT, EVAL, CPT = (
    TrainingMethod.RFT_LORA,
    TrainingMethod.RFT_MULTITURN_LORA,
    TrainingMethod.EVALUATION,
    TrainingMethod.CPT,
)


def report(records, method, model=L2, eval_task=None, platform=None):
    return JSONLDatasetLoader.from_records(records)._validate_report(method, model, eval_task, platform=platform)


def probs(records, method, **kw) -> list[tuple[Any, Any, str]]:
    return [tuple(p) for p in report(records, method, **kw).problems]


def has(found, path, part) -> bool:
    return any(p[1] == path and part in p[2] for p in found)


# ------------------------------------------------------------------ RFT
def rft(**kw) -> dict[str, Any]:
    r: dict[str, Any] = {
        "id": "q1",
        "messages": [
            {"role": "system", "content": "Answer with a number."},
            {"role": "user", "content": "What is 6 * 7?"},
        ],
        "reference_answer": "42",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "calc",
                    "description": "Calculator",
                    "parameters": {"type": "object", "properties": {}},
                },
            }
        ],
    }
    r.update(kw)
    return {k: v for k, v in r.items() if v is not None}


def test_rft_valid():
    assert probs([rft()], RFT) == []
    assert probs([rft(id=None, tools=None, reference_answer={"value": 42}, task_id="extra keys are fine")], RFT) == []
    assert probs([rft(messages=[{"role": "user", "content": [{"type": "text", "text": "6*7?"}]}])], RFT) == []


@pytest.mark.parametrize(
    "record, path, part",
    [
        (rft(messages=[]), "$.messages", "non-empty"),
        (rft(messages=None), "$.messages", "missing"),
        (rft(messages=[{"role": "system", "content": "x"}]), "$.messages", "needs a user message"),
        (
            rft(messages=[{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]),
            "$.messages[1].role",
            "must be the first",
        ),
        (
            rft(
                messages=[
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"},
                ]
            ),
            "$.messages",
            "single-turn",
        ),
        (rft(messages=[{"role": "critic", "content": "a"}]), "$.messages[0].role", "must be one of"),
        (rft(messages=[{"role": "user", "content": "  "}]), "$.messages[0].content", "blank"),
        (rft(messages=[{"role": "user", "content": "Bot: hi"}]), "$.messages[0].content", "reserved"),
        (
            rft(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x"}}]}]),
            "$.messages[0].content[0]",
            "each part must be",
        ),
        (
            rft(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": " "}}]}]),
            "$.messages[0].content[0].image_url.url",
            "non-blank URL",
        ),
        (rft(messages=[{"role": "user", "content": "a", "name": "x"}]), "$.messages[0]", "unknown fields"),
        (rft(reference_answer=""), "$.reference_answer", "non-empty"),
        (rft(id=" "), "$.id", "non-blank"),
        (rft(tools=[]), "$.tools", "non-empty"),
        (
            rft(
                tools=[
                    {
                        "type": "retrieval",
                        "function": {"name": "a", "description": "b", "parameters": {"type": "object"}},
                    }
                ]
            ),
            "$.tools[0].type",
            "'function'",
        ),
        (
            rft(
                tools=[
                    {"type": "function", "function": {"name": "a", "description": "", "parameters": {"type": "object"}}}
                ]
            ),
            "$.tools[0].function.description",
            "non-blank",
        ),
        (
            rft(
                tools=[
                    {"type": "function", "function": {"name": "a", "description": "b", "parameters": {"type": "array"}}}
                ]
            ),
            "$.tools[0].function.parameters",
            '"object"',
        ),
        (
            rft(
                tools=[
                    {
                        "type": "function",
                        "function": {
                            "name": "a",
                            "description": "b",
                            "parameters": {"type": "object", "properties": []},
                        },
                    }
                ]
            ),
            "$.tools[0].function.parameters.properties",
            "object",
        ),
        (rft(tools=rft()["tools"] * 2), "$.tools[1].function.name", "duplicate"),
    ],
)
def test_rft_invalid(record, path, part):
    found = probs([record], RFT)
    assert has(found, path, part), found


def test_rft_missing_reference_answer_warns_and_consistency():
    r = report([rft(reference_answer=None)], RFT)
    assert r.ok and any("reference_answer" in w for w in r.warnings)
    found = probs([rft(), rft(id=None), rft()], RFT)
    assert has(found, "$.id", "missing in 1")


def test_rft_row_counts_and_model():
    assert report([rft()] * 99, RFT, platform=Platform.SMTJ).problems[-1].message.startswith("99 records")
    assert report([rft()] * 100, RFT, platform=Platform.SMTJ).ok
    assert not report([rft()] * 20_001, RFT, platform=Platform.BEDROCK).ok
    with pytest.raises(ValueError, match="NOVA_LITE_2"):
        report([rft()], RFT, model=Model.NOVA_PRO)


# ------------------------------------------------------------------ RFT multiturn
def mt(**meta) -> dict[str, Any]:
    m: dict[str, Any] = {
        "prompt": [
            {"role": "system", "content": "You are a booking agent."},
            {"role": "user", "content": "Book a table."},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"type": "function", "function": {"name": "book", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "booked"},
        ],
        "answer": "booked",
        "task": "booking",
        "info": {"party": 2},
    }
    m.update(meta)
    return {"id": "s1", "metadata": {k: v for k, v in m.items() if v is not None}}


def test_rft_multiturn_valid():
    assert probs([mt(), mt(info='{"party": 3}')], MT) == []
    assert probs([{"prompt": "Plan a trip."}, {"prompt": "Book a hotel.", "extra": 1}], MT) == []


@pytest.mark.parametrize(
    "record, path, part",
    [
        ({"id": "", "metadata": {"prompt": "x"}}, "$.id", "non-blank"),
        ({"id": "a", "metadata": {"prompt": "x"}, "extra": 1}, "$", "unknown fields"),
        ({"id": "a"}, "$.metadata", "must be an object"),
        (mt(prompt=""), "$.metadata.prompt", "blank"),
        (mt(prompt=[{"content": "x"}]), "$.metadata.prompt[0]", "with a role"),
        (mt(prompt=[{"role": "narrator", "content": "x"}]), "$.metadata.prompt[0].role", "must be one of"),
        (mt(prompt=[{"role": "assistant", "content": ""}]), "$.metadata.prompt[0]", "content or tool_calls"),
        (
            mt(prompt=[{"role": "assistant", "tool_calls": [{"type": "x", "function": {"name": "a"}}]}]),
            "$.metadata.prompt[0].tool_calls[0].function",
            "name and arguments",
        ),
        (mt(prompt=[{"role": "tool", "content": "x"}]), "$.metadata.prompt[0].tool_call_id", "needs tool_call_id"),
        (mt(prompt=[{"role": "user", "content": ""}]), "$.metadata.prompt[0].content", "non-blank"),
        (mt(answer=3), "$.metadata.answer", "string"),
        (mt(info="not json"), "$.metadata.info", "JSON"),
        ({"prompt": " "}, "$.prompt", "non-blank"),
    ],
)
def test_rft_multiturn_invalid(record, path, part):
    found = probs([record], MT)
    assert has(found, path, part), found


def test_rft_multiturn_shapes_do_not_mix():
    found = probs([mt(), {"prompt": "flat"}], MT)
    assert has(found, "$", "mixes record shapes")


# ------------------------------------------------------------------ evaluation
def qa(**kw) -> dict[str, Any]:
    return {"query": "Capital of Peru?", "response": "Lima", **kw}


def test_gen_qa_valid_and_spec_message(capsys):
    assert probs([qa(), qa()], EVAL, eval_task=EvaluationTask.GEN_QA) == []
    img = qa(images=[{"data": "data:image/jpeg;base64,/9j/4AAQ"}], system="Be terse.", metadata="geo")
    assert probs([img], EVAL, eval_task=EvaluationTask.GEN_QA) == []
    JSONLDatasetLoader.from_records([qa()] * 22).validate(method=EVAL, model=L2, eval_task=EvaluationTask.GEN_QA)
    assert capsys.readouterr().out.strip() == "Validation succeeded for 22 samples on an Evaluation BYOD dataset"


@pytest.mark.parametrize(
    "record, path, part",
    [
        ({"response": "x"}, "$.query", "missing"),
        (qa(response="  "), "$.response", "non-blank"),
        (qa(answer="extra"), "$.answer", "unknown field"),
        (qa(system=3), "$.system", "string"),
        (qa(metadata={"a": 1}), "$.metadata", "string"),
        (qa(images=[{"data": "s3://b/cat.png"}]), "$.images[0].data", "S3 image URIs are not supported"),
        (qa(images="data:image/png;base64,xx"), "$.images", "list"),
    ],
)
def test_gen_qa_invalid(record, path, part):
    found = probs([record], EVAL, eval_task=EvaluationTask.GEN_QA)
    assert has(found, path, part), found


def test_eval_task_selects_eval_rules_whatever_the_method():
    # the README validates a gen_qa set with method=SFT_LORA
    assert probs([qa()], TrainingMethod.SFT_LORA, eval_task=EvaluationTask.GEN_QA) == []
    assert probs([qa()], EVAL) == []  # EVALUATION alone means gen_qa
    assert report([qa(system="s"), qa()], EVAL).problems[0].path == "$.system"  # consistency


def test_eval_context_warning():
    r = report([qa(query="word " * 4000)], EVAL)
    assert r.ok and any("3.5k-token" in w for w in r.warnings)


def test_builtin_benchmarks_have_no_dataset():
    with pytest.raises(ValueError, match="built-in benchmark"):
        report([qa()], EVAL, eval_task=EvaluationTask.MMLU)


@pytest.mark.parametrize("task", [EvaluationTask.LLM_JUDGE, EvaluationTask.RUBRIC_LLM_JUDGE])
def test_llm_judge(task):
    good = {"prompt": "Summarise.", "response_A": "Short.", "response_B": "Shorter."}
    assert probs([good], EVAL, eval_task=task) == []
    found = probs([{"prompt": "x", "response_A": ""}], EVAL, eval_task=task)
    assert has(found, "$.response_A", "non-blank") and has(found, "$.response_B", "missing")
    assert has(probs([good | {"images": []}], EVAL, eval_task=task), "$.images", "only for mm_llm_judge")


def test_mm_llm_judge_needs_base64_images():
    good = {
        "prompt": "Which caption fits?",
        "images": [{"data": "data:image/jpeg;Base64,/9j/"}],
        "response_A": "A dog.",
        "response_B": "A cat.",
    }
    good["images"][0]["data"] = "data:image/jpeg;base64,/9j/"
    assert probs([good], EVAL, eval_task=EvaluationTask.MM_LLM_JUDGE) == []
    bad = good | {"images": [{"data": "s3://bkt/a.jpg"}]}
    assert has(probs([bad], EVAL, eval_task=EvaluationTask.MM_LLM_JUDGE), "$.images[0].data", "Base64")
    assert has(probs([good | {"images": []}], EVAL, eval_task=EvaluationTask.MM_LLM_JUDGE), "$.images", "list")


def test_rft_eval_uses_rft_rules():
    assert probs([rft()], EVAL, eval_task=EvaluationTask.RFT_EVAL) == []
    assert has(probs([rft(messages=[])], EVAL, eval_task=EvaluationTask.RFT_EVAL), "$.messages", "non-empty")
    assert probs([mt()], EVAL, eval_task=EvaluationTask.RFT_MULTITURN_EVAL) == []


# ------------------------------------------------------------------ CPT
def test_cpt():
    assert probs([{"text": "Raw domain text."}], CPT, model=Model.NOVA_PRO) == []
    found = probs([{"text": ""}, {"body": "x"}, {"text": "a", "source": "wiki"}, {"text": 5}], CPT)
    assert has(found, "$.text", "non-blank") and (2, "$.text", "missing") in found
    assert has(found, "$", "unknown fields ['source']") and (4, "$.text", "must be a non-blank string") in found


def test_bedrock_cpt_row_bounds():
    assert not report([{"text": "a"}] * 7, CPT, model=Model.NOVA_LITE, platform=Platform.BEDROCK).ok


# ------------------------------------------------------------------ templated fast path == full walk
def _random_values(rng: random.Random) -> dict[str, Any]:
    texts = [
        "",
        " ",
        "Plain text.",
        "User: hi",
        "see <image>",
        "end [EOS]",
        "thought: hmm",
        "a: b",
        "<b>ok</b>",
        "[link]",
        "Système: é",
        "ASSISTANT: x",
        "<thinking>x</thinking>",
    ]
    row = {"q": rng.choice(texts), "a": rng.choice(texts)}
    if rng.random() < 0.5:
        row["s"] = rng.choice(texts[1:])
    if rng.random() < 0.5:
        row["r"] = rng.choice(texts)
    row["f"] = rng.choice(["png", "jpeg", "jpg", "PNG", "webp", "gif", "tiff", "mp4", "mkv", "webm", "avi", "pdf"])
    row["u"] = rng.choice(["s3://bkt/a.png", "https://x/a.png", "s3://bkt/a b.png", "s3://b/ok_1-2.v/x"])
    row["o"] = rng.choice(["123456789012", "12345", "acct"])
    return row


@pytest.mark.parametrize("kind", [None, "image", "video"])
@pytest.mark.parametrize("model", list(Model))
@pytest.mark.parametrize("platform", [None, Platform.BEDROCK])
def test_templated_check_equals_full_walk(kind, model, platform):
    rng = random.Random(hash((kind, model.name, platform)) & 0xFFFF)
    mappings = {"question": "q", "answer": "a", "system": "s"}
    if model.version.value == 2:
        mappings["reasoning_text"] = "r"
    if kind and model is not Model.NOVA_MICRO:
        mappings.update({f"{kind}_format": "f", "s3_uri": "u", "bucket_owner": "o"})
    fn = build_transform(TrainingMethod.SFT_LORA, model, mappings)
    spec = resolve(TrainingMethod.SFT_LORA, model, None, platform)
    for _ in range(150):
        row = _random_values(rng)
        row.setdefault("s", None)
        row.setdefault("r", None)
        rec = fn(row, 1)
        full, fast = Ctx(rules=spec.rules), Ctx(rules=spec.rules)
        m_full = check_converse(dict(rec), full)
        m_fast = check_fields(rec.fields, fast)
        assert (m_full, full.errs, full.warns) == (m_fast, fast.errs, fast.warns), row
