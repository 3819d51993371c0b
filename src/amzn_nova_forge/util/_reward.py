"""``verify_reward_function``: try an RFT reward function on sample data before training with it.

The function is either a deployed Lambda (``arn:aws:lambda:...``; invoked once with the
whole sample list, as RFT does) or a local ``.py`` file defining
``lambda_handler(event, context)``. A local file runs in a **separate Python process with a
timeout**, so a reward function that hangs, crashes or calls ``sys.exit`` cannot take the
notebook down with it.

Rules checked (every problem is collected, then one ``ValueError`` lists them all):

* input (``validate_format``): each sample is a dict with a non-empty ``messages`` list of
  ``{role, content}`` messages (roles system/user/assistant/nova_assistant/tool/developer; a system message
  first; at least one user message); ``id`` when given is non-blank; a missing
  ``reference_answer`` is only a warning;
* Lambda ARN: ``platform`` is required; on ``Platform.SMHP`` the function name must contain
  ``SageMaker`` (HyperPod only grants access to such functions);
* output: one item per sample, each ``{"id": str, "aggregate_reward_score": int|float,
  "metrics_list": [{"name": str, "value": int|float, "type": "Metric"|"Reward"}]?}``;
  a Lambda error payload fails every sample.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import ConfigError

__all__ = ["verify_reward_function"]

logger = logging.getLogger(__name__)

#: ``nova_assistant`` is the role of the completion in the request Nova RFT (and the local runtime)
#: sends, so samples copied from a real request verify too.
_ROLES = {"system", "user", "assistant", "nova_assistant", "tool", "developer", "bot"}
_METRIC_TYPES = {"Metric", "Reward"}
_RUNNER = r"""
import importlib.util, json, sys
path, inp, out = sys.argv[1], sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location("reward_function_under_test", path)
mod = importlib.util.module_from_spec(spec)
try:
    spec.loader.exec_module(mod)
    handler = getattr(mod, "lambda_handler", None)
    if handler is None:
        result = {"__error__": "the file defines no lambda_handler(event, context) function"}
    else:
        with open(inp) as f:
            event = json.load(f)
        result = {"__output__": handler(event, {})}
except BaseException as e:  # report any failure of user code to the parent
    result = {"__error__": f"{type(e).__name__}: {e}"}
with open(out, "w") as f:
    json.dump(result, f, default=str)
"""


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _blank(v: Any) -> bool:
    return not isinstance(v, str) or not v.strip()


def _check_sample(i: int, sample: Any) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    where = f"sample {i}"
    if not isinstance(sample, Mapping):
        return [f"{where}: must be a dict with 'messages', got {type(sample).__name__}"], warnings
    if "id" in sample and (sample["id"] is None or (isinstance(sample["id"], str) and not sample["id"].strip())):
        errors.append(f"{where}: 'id' must be non-blank when given")
    messages = sample.get("messages")
    if not isinstance(messages, list) or not messages:
        errors.append(f"{where}: missing required field 'messages' (a non-empty list)")
    else:
        roles = []
        for j, m in enumerate(messages):
            if not isinstance(m, Mapping):
                errors.append(f"{where}: messages[{j}] must be a dict with 'role' and 'content'")
                continue
            role = m.get("role")
            if role not in _ROLES:
                errors.append(f"{where}: messages[{j}].role {role!r} must be one of {sorted(_ROLES)}")
            roles.append(role)
            content = m.get("content")
            if not m.get("tool_calls") and (
                content is None or (isinstance(content, str) and not content.strip()) or content == []
            ):
                errors.append(f"{where}: messages[{j}].content must be a non-blank string or a non-empty list")
        if "system" in roles[1:]:
            errors.append(f"{where}: a system message must come first")
        if "user" not in roles:
            errors.append(f"{where}: needs at least one user message")
    ref = sample.get("reference_answer")
    if ref is None or (isinstance(ref, str) and not ref.strip()) or ref == {}:
        warnings.append(
            f"{where}: no reference_answer; reference answers are recommended so the reward function can "
            "compare model outputs against ground truth"
        )
    return errors, warnings


def _check_output(i: int, item: Any) -> list[str]:
    where = f"output {i}"
    if not isinstance(item, Mapping):
        return [f"{where}: must be a dict with 'id' and 'aggregate_reward_score', got {type(item).__name__}"]
    errors = []
    if "id" not in item:
        errors.append(f"{where}: missing required field 'id'")
    elif not isinstance(item["id"], str):
        errors.append(f"{where}: 'id' must be a string, got {type(item['id']).__name__}")
    if "aggregate_reward_score" not in item:
        errors.append(f"{where}: missing required field 'aggregate_reward_score'")
    elif not _is_num(item["aggregate_reward_score"]):
        errors.append(f"{where}: 'aggregate_reward_score' must be a number, got {item['aggregate_reward_score']!r}")
    if "metrics_list" in item:
        metrics = item["metrics_list"]
        if not isinstance(metrics, list):
            errors.append(f"{where}: 'metrics_list' must be a list of dicts with name, value, type")
        else:
            for k, m in enumerate(metrics):
                if not isinstance(m, Mapping):
                    errors.append(f"{where}: metrics_list[{k}] must be a dict with name, value, type")
                    continue
                if _blank(m.get("name")):
                    errors.append(f"{where}: metrics_list[{k}].name must be a non-empty string")
                if not _is_num(m.get("value")):
                    errors.append(f"{where}: metrics_list[{k}].value must be a number, got {m.get('value')!r}")
                if m.get("type") not in _METRIC_TYPES:
                    errors.append(
                        f"{where}: metrics_list[{k}].type must be 'Metric' or 'Reward', got {m.get('type')!r}"
                    )
    return errors


def _run_local(path: Path, samples: list[Any], timeout: float) -> Any:
    with tempfile.TemporaryDirectory(prefix="nova-forge-reward-") as tmp:
        inp, out = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(inp, "w") as f:
            json.dump(samples, f)
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _RUNNER, str(path), inp, out],
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=str(path.parent),
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise ConfigError(f"Reward function {path} did not return within {timeout:g}s.") from e
        if not os.path.exists(out):
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
            raise ConfigError(f"Reward function {path} crashed (exit code {proc.returncode}): {' | '.join(tail)}")
        with open(out) as f:
            result = json.load(f)
    if "__error__" in result:
        raise ConfigError(f"Reward function {path} failed: {result['__error__']}")
    return result.get("__output__")


def _invoke_lambda(arn: str, samples: list[Any], region: str) -> Any:
    from amzn_nova_forge.core.aws import aws_errors, client

    with aws_errors("lambda", f"while invoking {arn}; check lambda:InvokeFunction permission"):
        resp = client("lambda", region).invoke(
            FunctionName=arn, InvocationType="RequestResponse", Payload=json.dumps(samples).encode()
        )
    raw = resp["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except json.JSONDecodeError as e:
        raise ConfigError(f"Lambda {arn} returned a payload that is not JSON: {raw[:200]!r}") from e
    if resp.get("FunctionError") or (isinstance(payload, Mapping) and "errorMessage" in payload):
        msg = payload.get("errorMessage") if isinstance(payload, Mapping) else payload
        kind = payload.get("errorType") if isinstance(payload, Mapping) else resp.get("FunctionError")
        return {"__lambda_error__": f"{kind}: {msg}"}
    return payload


def verify_reward_function(
    reward_function: str,
    sample_data: list[dict[str, Any]],
    region: str = "us-east-1",
    validate_format: bool = True,
    platform: Platform | None = None,
    *,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Run a reward function (Lambda ARN or local .py file) on ``sample_data`` and check its output.

    Args:
        reward_function: ``arn:aws:lambda:...`` or a path to a Python file with ``lambda_handler``.
        sample_data: RFT samples (``id``, ``messages``, optional ``reference_answer``).
        region: Region of the Lambda.
        validate_format: Check the samples' RFT format and the output format.
        platform: Required for a Lambda ARN (``Platform.SMTJ`` or ``Platform.SMHP``).
        timeout: Seconds a local file may run (it runs in a subprocess).

    Returns:
        ``{"success": True, "results": [...], "total_samples", "successful_samples", "warnings"}``.

    Raises:
        ValueError: Every problem found, listed in one message.

    Example:
        >>> result = verify_reward_function("./my_reward_function.py", sample_data=[  # doctest: +SKIP
        ...     {"id": "sample_1", "reference_answer": "correct answer",
        ...      "messages": [{"role": "user", "content": "question"}]}])
        >>> result["success"]  # doctest: +SKIP
        True
    """
    if not isinstance(reward_function, (str, os.PathLike)) or not str(reward_function):
        raise ConfigError("reward_function must be a Lambda ARN or a path to a .py file.")
    reward_function = os.fspath(reward_function)
    if not isinstance(sample_data, Sequence) or isinstance(sample_data, (str, bytes)) or not sample_data:
        raise ConfigError("sample_data must be a non-empty list of samples.")
    samples = list(sample_data)
    errors: list[str] = []
    warnings: list[str] = []
    is_arn = reward_function.startswith("arn:aws:lambda:")
    if is_arn:
        if platform is None:
            errors.append("platform is required for a Lambda ARN (Platform.SMTJ or Platform.SMHP)")
        elif Platform(platform) is Platform.SMHP:
            fn = reward_function.split(":function:", 1)[-1].split(":", 1)[0]
            if "SageMaker" not in fn:
                errors.append(
                    f"on SageMaker HyperPod the Lambda function name must contain 'SageMaker'; {fn!r} does not"
                )
    else:
        path = Path(reward_function).expanduser()
        if not path.is_file():
            errors.append(f"reward function file {reward_function!r} not found")
    if validate_format:
        for i, record in enumerate(samples):
            e, w = _check_sample(i, record)
            errors += e
            warnings += w
    if errors:
        raise ConfigError(_report(errors))

    output = _invoke_lambda(reward_function, samples, region) if is_arn else _run_local(path, samples, timeout)
    results: list[dict[str, Any]] = []
    if isinstance(output, Mapping) and "__lambda_error__" in output:
        errors = [f"sample {i}: Lambda error {output['__lambda_error__']}" for i in range(len(samples))]
        raise ConfigError(_report(errors))
    items = output if isinstance(output, list) else [output]
    if isinstance(output, list) and len(items) != len(samples):
        errors.append(f"the function returned {len(items)} results for {len(samples)} samples (expected one each)")
    for i, item in enumerate(items):
        item_errors = _check_output(i, item) if validate_format else []
        sample = samples[i] if i < len(samples) else None
        if (
            isinstance(sample, Mapping)
            and isinstance(item, Mapping)
            and "id" in sample
            and item.get("id") != sample["id"]
        ):
            warnings.append(f"output {i}: id {item.get('id')!r} differs from the sample's id {sample['id']!r}")
        errors += item_errors
        results.append(
            {
                "sample_index": i,
                "input": sample,
                "output": item,
                "status": "success" if not item_errors else "failed",
                "errors": item_errors,
            }
        )
    if errors:
        raise ConfigError(_report(errors))
    for warning in warnings:
        logger.warning("verify_reward_function: %s", warning)
    return {
        "success": True,
        "results": results,
        "total_samples": len(samples),
        "successful_samples": sum(r["status"] == "success" for r in results),
        "warnings": warnings,
    }


def _report(errors: list[str]) -> str:
    return f"Reward function verification failed with {len(errors)} problem(s):\n  - " + "\n  - ".join(errors)
