"""Call the user's RFT reward function: a local ``.py`` file with ``lambda_handler`` or a Lambda ARN.

The request and response shapes are those of the Nova reward Lambda (the same contract
``verify_reward_function`` checks): the function receives a list of samples
``{"id", "messages": [..., {"role": "nova_assistant", "content": [{"type": "text", "text": <completion>}]}],
"reference_answer", <other dataset fields>}`` and returns a list of
``{"id", "aggregate_reward_score", "metrics_list"?}`` — either directly or wrapped as
``{"statusCode", "body": json}``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError

__all__ = ["RewardFunctionError", "load_reward_function", "make_request"]


class RewardFunctionError(RuntimeError):
    """The user's reward function raised or returned something unusable (message has the traceback)."""


#: Appended to a reward function's traceback: the usual cause is expecting a string ``content``.
_SHAPE_HINT = (
    "Note: the completion arrives as the last message {'role': 'nova_assistant', 'content': "
    "[{'type': 'text', 'text': ...}]} (a list of text blocks, as Nova RFT sends it), not "
    "{'role': 'assistant', 'content': '...'}; read both shapes (see docs/local-runtime.md, 'Reward functions')."
)


def make_request(example: dict[str, Any], completion: str) -> dict[str, Any]:
    """One reward-function sample for ``completion`` of the RFT ``example``."""
    row = dict(example["row"])
    messages = [dict(m) for m in row.get("messages") or example["prompt"]]
    while messages and messages[-1].get("role") in ("assistant", "nova_assistant"):
        messages.pop()
    messages.append({"role": "nova_assistant", "content": [{"type": "text", "text": completion}]})
    row["messages"] = messages
    row["id"] = example["id"]
    return row


def _parse_response(resp: Any, n: int) -> list[float]:
    if isinstance(resp, dict) and "body" in resp:
        body = resp["body"]
        resp = json.loads(body) if isinstance(body, (str, bytes)) else body
    if not isinstance(resp, list) or len(resp) != n:
        raise RewardFunctionError(
            f"reward function must return a list of {n} results "
            f"({{'id', 'aggregate_reward_score', 'metrics_list'}}), got {type(resp).__name__}"
            + (f" of length {len(resp)}" if isinstance(resp, list) else "")
        )
    scores = []
    for i, item in enumerate(resp):
        if not isinstance(item, dict) or not isinstance(item.get("aggregate_reward_score"), (int, float)):
            raise RewardFunctionError(f"result {i} has no numeric 'aggregate_reward_score': {item!r}"[:500])
        scores.append(float(item["aggregate_reward_score"]))
    return scores


def load_reward_function(ref: str, region: str | None = None) -> Callable[[Sequence[dict[str, Any]]], list[float]]:
    """Return ``score(samples) -> list[float]`` for a local file or a Lambda ARN.

    Raises:
        ConfigError: The file does not exist or has no ``lambda_handler``.
    """
    if ref.startswith("arn:aws:lambda:"):
        return _lambda_caller(ref, region)
    path = Path(ref).expanduser()
    if not path.is_file():
        raise ConfigError(f"Reward function file not found: {ref}. Pass a .py file that defines lambda_handler.")
    spec = importlib.util.spec_from_file_location(f"nova_forge_reward_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:  # pragma: no cover
        raise ConfigError(f"Cannot import reward function file {ref}.")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    handler = getattr(module, "lambda_handler", None)
    if not callable(handler):
        raise ConfigError(f"{ref} has no function lambda_handler(event, context).")

    def score(samples: Sequence[dict[str, Any]]) -> list[float]:
        try:
            resp = handler(list(samples), {})
        except Exception as e:
            import traceback

            raise RewardFunctionError(
                f"reward function {path.name} raised {type(e).__name__}: {e}\n{traceback.format_exc()}{_SHAPE_HINT}"
            ) from e
        return _parse_response(resp, len(samples))

    return score


def _lambda_caller(arn: str, region: str | None) -> Callable[[Sequence[dict[str, Any]]], list[float]]:
    from amzn_nova_forge.core.aws import aws_errors, client

    region = region or arn.split(":")[3]

    def score(samples: Sequence[dict[str, Any]]) -> list[float]:
        with aws_errors("lambda"):
            resp = client("lambda", region).invoke(FunctionName=arn, Payload=json.dumps(list(samples)).encode())
        payload = json.loads(resp["Payload"].read() or b"null")
        if resp.get("FunctionError"):
            raise RewardFunctionError(f"reward Lambda {arn} failed: {json.dumps(payload)[:2000]}")
        return _parse_response(payload, len(samples))

    return score
