"""verify_reward_function: the spec's examples and every listed rule and warning."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.response import StreamingBody

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

GOOD = """
def lambda_handler(event, context):
    return [{"id": s["id"], "aggregate_reward_score": 0.75,
             "metrics_list": [{"name": "accuracy", "value": 0.85, "type": "Metric"}]} for s in event]
"""
SAMPLE = {
    "id": "sample_1",
    "reference_answer": "correct answer",
    "messages": [{"role": "user", "content": "question"}, {"role": "assistant", "content": "response"}],
}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_reward_function.py").write_text(GOOD)
    return tmp_path


def _write(here: Path, body: str) -> str:
    p = here / "fn.py"
    p.write_text(body)
    return str(p)


def test_spec_example_local_file(here: Path) -> None:
    from amzn_nova_forge import verify_reward_function

    # Test with local Python file (platform optional)
    result = verify_reward_function(
        reward_function="./my_reward_function.py",
        sample_data=[
            {
                "id": "sample_1",
                "reference_answer": "correct answer",
                "messages": [{"role": "user", "content": "question"}, {"role": "assistant", "content": "response"}],
            }
        ],
    )
    print(f"Verification: {'PASSED' if result['success'] else 'FAILED'}")
    print(f"Tested {result['total_samples']} samples, {result['successful_samples']} successful")
    assert result["success"] is True and result["total_samples"] == 1 and result["successful_samples"] == 1
    assert result["warnings"] == []
    assert result["results"][0]["output"]["aggregate_reward_score"] == 0.75
    assert result["results"][0]["status"] == "success"


def test_spec_example_lambda_arn_smhp(aws: Any) -> None:
    from amzn_nova_forge import verify_reward_function
    from amzn_nova_forge.model.model_enums import Platform

    def invoke(params: dict[str, Any]) -> dict[str, Any]:
        # moto runs Lambda code only with Docker: answer Invoke with the function's reply.
        body = json.dumps([{"id": s["id"], "aggregate_reward_score": 1.0} for s in json.loads(params["Payload"])])
        return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body.encode()), len(body))}

    calls = A.stub_one("lambda", "Invoke", invoke)
    # Test with Lambda ARN (platform required for Lambda ARNs)
    result = verify_reward_function(
        reward_function="arn:aws:lambda:us-east-1:123456789012:function:MySageMakerReward",
        sample_data=[
            {
                "id": "sample_1",
                "reference_answer": "correct answer",
                "messages": [{"role": "user", "content": "question"}, {"role": "assistant", "content": "response"}],
            }
        ],
        platform=Platform.SMHP,  # Required for Lambda ARNs
    )
    if result.get("warnings"):
        print(f"\nWarnings:")  # noqa: F541 - the spec example, verbatim
        for warning in result["warnings"]:
            print(f"  - {warning}")
    assert result["success"] and calls[0]["InvocationType"] == "RequestResponse"
    assert json.loads(calls[0]["Payload"])[0]["id"] == "sample_1"  # the whole list in one call


def test_lambda_rules_platform_required_and_smhp_name() -> None:
    from amzn_nova_forge import verify_reward_function
    from amzn_nova_forge.core.enums import Platform

    with pytest.raises(ValueError, match="platform is required"):
        verify_reward_function("arn:aws:lambda:us-east-1:123456789012:function:Reward", [SAMPLE])
    with pytest.raises(ValueError, match="must contain 'SageMaker'"):
        verify_reward_function(
            "arn:aws:lambda:us-east-1:123456789012:function:reward", [SAMPLE], platform=Platform.SMHP
        )


def test_lambda_error_payload_fails_every_sample(aws: Any) -> None:
    from amzn_nova_forge import verify_reward_function
    from amzn_nova_forge.core.enums import Platform

    body = json.dumps({"errorMessage": "KeyError: 'x'", "errorType": "KeyError"}).encode()
    A.stub_one(
        "lambda",
        "Invoke",
        lambda p: {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
        },
    )
    with pytest.raises(ValueError, match="2 problem") as e:
        verify_reward_function(
            "arn:aws:lambda:us-east-1:123456789012:function:r", [SAMPLE, SAMPLE], platform=Platform.SMTJ
        )
    assert "KeyError" in str(e.value)


def test_input_format_rules_are_all_reported(here: Path) -> None:
    from amzn_nova_forge import verify_reward_function

    bad = [
        {"id": "a"},  # no messages
        {"id": " ", "messages": [{"role": "wizard", "content": "x"}]},  # blank id, bad role, no user
        {"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "late"}]},  # system not first
        "not a dict",
    ]
    with pytest.raises(ValueError) as e:
        verify_reward_function(_write(here, GOOD), bad)
    msg = str(e.value)
    for fragment in (
        "sample 0: missing required field 'messages'",
        "sample 1: 'id' must be non-blank",
        "sample 1: messages[0].role 'wizard'",
        "sample 1: needs at least one user message",
        "sample 2: a system message must come first",
        "sample 3: must be a dict",
    ):
        assert fragment in msg


def test_missing_reference_answer_is_a_warning(here: Path) -> None:
    from amzn_nova_forge import verify_reward_function

    result = verify_reward_function(_write(here, GOOD), [{"id": "x", "messages": [{"role": "user", "content": "q"}]}])
    assert result["success"] and len(result["warnings"]) == 1 and "reference_answer" in result["warnings"][0]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("def lambda_handler(e, c):\n    return [{'aggregate_reward_score': 1}]\n", "missing required field 'id'"),
        (
            "def lambda_handler(e, c):\n    return [{'id': 'sample_1'}]\n",
            "missing required field 'aggregate_reward_score'",
        ),
        (
            "def lambda_handler(e, c):\n    return [{'id': 'sample_1', 'aggregate_reward_score': 'high'}]\n",
            "must be a number",
        ),
        (
            "def lambda_handler(e, c):\n    return [{'id': 'sample_1', 'aggregate_reward_score': 1, 'metrics_list': {}}]\n",
            "'metrics_list' must be a list",
        ),
        (
            "def lambda_handler(e, c):\n    return [{'id': 'sample_1', 'aggregate_reward_score': 1, "
            "'metrics_list': [{'name': 'a', 'value': 1, 'type': 'Score'}]}]\n",
            "must be 'Metric' or 'Reward'",
        ),
        (
            "def lambda_handler(e, c):\n    return [{'id': 'sample_1', 'aggregate_reward_score': 1, "
            "'metrics_list': [{'name': '', 'value': 'x', 'type': 'Reward'}]}]\n",
            "value must be a number",
        ),
        ("def lambda_handler(e, c):\n    return []\n", "returned 0 results for 1 samples"),
        ("def handler(e, c):\n    return []\n", "no lambda_handler"),
        ("def lambda_handler(e, c):\n    raise KeyError('reference_answer')\n", "KeyError"),
        ("import os\nos._exit(3)\n", "crashed (exit code 3)"),
    ],
)
def test_output_rules(here: Path, body: str, fragment: str) -> None:
    from amzn_nova_forge import verify_reward_function

    with pytest.raises(ValueError, match="verification failed|failed|crashed") as e:
        verify_reward_function(_write(here, body), [SAMPLE])
    assert fragment in str(e.value)


def test_local_file_runs_in_a_subprocess_with_a_timeout(here: Path) -> None:
    from amzn_nova_forge import verify_reward_function

    body = "import time\ndef lambda_handler(e, c):\n    time.sleep(30)\n"
    with pytest.raises(ValueError, match="did not return within 1s"):
        verify_reward_function(_write(here, body), [SAMPLE], timeout=1)
    # a reward function that changes process state cannot affect the caller
    body = "import sys\nsys.modules.clear()\n" + GOOD
    assert verify_reward_function(_write(here, body), [SAMPLE])["success"]
    assert "amzn_nova_forge" in sys.modules


def test_missing_file_and_empty_samples(here: Path) -> None:
    from amzn_nova_forge import verify_reward_function

    with pytest.raises(ValueError, match="not found"):
        verify_reward_function("./nope.py", [SAMPLE])
    with pytest.raises(ValueError, match="non-empty list"):
        verify_reward_function("./my_reward_function.py", [])
    assert verify_reward_function(
        "./my_reward_function.py", [{"id": "x", "messages": "anything"}], validate_format=False
    )["success"]
