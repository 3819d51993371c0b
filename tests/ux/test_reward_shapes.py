"""The reward function of docs/local-runtime.md works with both request shapes.

* Nova RFT (what the local runtime sends): last message ``{"role": "nova_assistant",
  "content": [{"type": "text", "text": ...}]}``;
* the spec's ``verify_reward_function`` example: ``{"role": "assistant", "content": "response"}``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amzn_nova_forge.manager._local._reward import RewardFunctionError, load_reward_function, make_request

DOC = Path(__file__).resolve().parents[2] / "docs" / "local-runtime.md"

SPEC_SAMPLE = {
    "id": "sample_1",
    "reference_answer": "correct answer",
    "messages": [{"role": "user", "content": "question"}, {"role": "assistant", "content": "response"}],
}
NOVA_SAMPLE = {
    "id": "sample_1",
    "reference_answer": "correct answer",
    "messages": [
        {"role": "user", "content": "question"},
        {"role": "nova_assistant", "content": [{"type": "text", "text": "the correct answer"}]},
    ],
}


def _doc_reward_function() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Reward functions") :]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    code = next(b for b in blocks if "def lambda_handler" in b)
    return code


@pytest.fixture
def reward_file(tmp_path: Path) -> Path:
    p = tmp_path / "reward.py"
    p.write_text(_doc_reward_function(), encoding="utf-8")
    return p


def test_documented_reward_function_verifies_with_both_shapes(reward_file: Path) -> None:
    from amzn_nova_forge import verify_reward_function

    spec = verify_reward_function(reward_function=str(reward_file), sample_data=[SPEC_SAMPLE])
    nova = verify_reward_function(reward_function=str(reward_file), sample_data=[NOVA_SAMPLE])
    assert spec["success"] and nova["success"]
    assert spec["results"][0]["output"]["aggregate_reward_score"] == 0.0  # "response" lacks the answer
    assert nova["results"][0]["output"]["aggregate_reward_score"] == 1.0  # read from the text block


def test_verify_reward_function_accepts_the_nova_request_role(tmp_path: Path) -> None:
    """A sample copied from a real Nova RFT request (role nova_assistant) used to be rejected."""
    from amzn_nova_forge import verify_reward_function

    f = tmp_path / "r.py"
    f.write_text(
        "def lambda_handler(event, context):\n"
        "    return [{'id': s['id'], 'aggregate_reward_score': 0.5} for s in event]\n"
    )
    assert verify_reward_function(reward_function=str(f), sample_data=[NOVA_SAMPLE])["successful_samples"] == 1


def test_local_runtime_request_scores_with_the_documented_function(reward_file: Path) -> None:
    score = load_reward_function(str(reward_file))
    # an RFT row in the spec's sample shape: the trailing assistant message is replaced by the completion
    example = {"id": "s0", "row": dict(SPEC_SAMPLE), "prompt": SPEC_SAMPLE["messages"][:1]}
    request = make_request(example, "it is the correct answer")
    assert [m["role"] for m in request["messages"]] == ["user", "nova_assistant"]
    assert request["messages"][-1]["content"] == [{"type": "text", "text": "it is the correct answer"}]
    assert score([request]) == [1.0]
    assert score([make_request(example, "no idea")]) == [0.0]


def test_string_only_reward_function_fails_with_a_shape_hint(tmp_path: Path) -> None:
    f = tmp_path / "naive.py"
    f.write_text(
        "def lambda_handler(event, context):\n"
        "    return [{'id': s['id'], 'aggregate_reward_score': float('x' in s['messages'][-1]['content'].lower())}"
        " for s in event]\n"
    )
    example = {"id": "s0", "row": dict(SPEC_SAMPLE), "prompt": SPEC_SAMPLE["messages"][:1]}
    with pytest.raises(RewardFunctionError) as e:
        load_reward_function(str(f))([make_request(example, "x")])
    msg = str(e.value)
    assert "AttributeError" in msg and "'nova_assistant'" in msg and "docs/local-runtime.md" in msg
