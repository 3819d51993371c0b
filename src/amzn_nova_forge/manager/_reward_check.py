"""``verify_reward_function`` (published as ``amzn_nova_forge.util.verify_reward_function``): try an RFT
reward function on sample data before training with it.

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

import contextlib
import json
import logging
import math
import os
import signal
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
try:  # cap every file the reward function writes (its log and result included): EFBIG past it
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[4]), int(sys.argv[4])))
except (ImportError, AttributeError, ValueError, OSError):
    pass
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


#: Most bytes of the reward function's result file read back (its output is one score per sample).
MAX_OUTPUT_BYTES = 64 << 20
#: Most bytes of the reward function's stdout/stderr kept (the tail is quoted when it crashes).
MAX_LOG_BYTES = 64 << 10


def _is_num(v: Any) -> bool:
    """A finite int or float (booleans, NaN and infinities are not scores)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return isinstance(v, int) or math.isfinite(v)


def _why(v: Any) -> str:
    return " (NaN and infinity are not scores)" if isinstance(v, float) and not math.isfinite(v) else ""


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
    elif not _is_num(score := item["aggregate_reward_score"]):
        errors.append(f"{where}: 'aggregate_reward_score' must be a number, got {score!r}{_why(score)}")
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
                if not _is_num(value := m.get("value")):
                    errors.append(f"{where}: metrics_list[{k}].value must be a number, got {value!r}{_why(value)}")
                if m.get("type") not in _METRIC_TYPES:
                    errors.append(
                        f"{where}: metrics_list[{k}].type must be 'Metric' or 'Reward', got {m.get('type')!r}"
                    )
    return errors


def _tail(path: str) -> str:
    """The last :data:`MAX_LOG_BYTES` of a log file, as text."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - MAX_LOG_BYTES))
        return f.read().decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the reward function's whole process group (its children too), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _run_local(path: Path, samples: list[Any], timeout: float) -> Any:
    with tempfile.TemporaryDirectory(prefix="nova-forge-reward-") as tmp:
        inp, out = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        log = os.path.join(tmp, "log.txt")
        with open(inp, "w") as f:
            json.dump(samples, f)
        # Output goes to a file (read back capped), not a pipe held in memory; the child leads its own
        # process group so a timeout kills whatever it started as well.
        with open(log, "wb") as logf:
            proc = subprocess.Popen(
                [sys.executable, "-c", _RUNNER, str(path), inp, out, str(MAX_OUTPUT_BYTES + 1)],
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                cwd=str(path.parent),
                start_new_session=True,
            )
            try:
                returncode = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise ConfigError(
                    f"Reward function {path} did not return within {timeout:g}s; it was stopped "
                    "(with every process it started). Make it faster or pass a larger timeout."
                ) from None
            except BaseException:
                _kill_group(proc)
                raise
            finally:
                # a handler that returned may still have left children behind
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        if not os.path.exists(out):
            tail = _tail(log).strip().splitlines()[-5:]
            raise ConfigError(f"Reward function {path} crashed (exit code {returncode}): {' | '.join(tail)}")
        size = os.path.getsize(out)
        if size > MAX_OUTPUT_BYTES:
            raise ConfigError(
                f"Reward function {path} returned {size} bytes; at most {MAX_OUTPUT_BYTES} are read "
                "(one score per sample is expected)."
            )
        try:
            with open(out, encoding="utf-8") as f:
                result = json.load(f)
        except (ValueError, RecursionError) as e:
            raise ConfigError(f"Reward function {path} returned output that cannot be read back: {e}") from None
    if not isinstance(result, Mapping):  # pragma: no cover - the runner always writes an object
        raise ConfigError(f"Reward function {path} returned an unexpected result.")
    if "__error__" in result:
        raise ConfigError(f"Reward function {path} failed: {result['__error__']}")
    return result.get("__output__")


def _invoke_lambda(arn: str, samples: list[Any], region: str) -> Any:
    from amzn_nova_forge.core.aws import aws_errors, client

    with aws_errors("lambda", f"while invoking {arn}; check lambda:InvokeFunction permission"):
        resp = client("lambda", region).invoke(
            FunctionName=arn, InvocationType="RequestResponse", Payload=json.dumps(samples).encode()
        )
    raw = resp["Payload"].read(MAX_OUTPUT_BYTES + 1)
    if len(raw) > MAX_OUTPUT_BYTES:
        raise ConfigError(
            f"Lambda {arn} returned more than {MAX_OUTPUT_BYTES} bytes; one score per sample is expected."
        )
    try:
        payload = json.loads(raw) if raw else None
    except RecursionError:
        raise ConfigError(f"Lambda {arn} returned a payload nested too deeply to read.") from None
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
