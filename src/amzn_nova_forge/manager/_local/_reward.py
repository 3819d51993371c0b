"""Call the user's RFT reward function: a local ``.py`` file with ``lambda_handler`` or a Lambda ARN.

The request and response shapes are those of the Nova reward Lambda (the same contract
``verify_reward_function`` checks): the function receives a list of samples
``{"id", "messages": [..., {"role": "nova_assistant", "content": [{"type": "text", "text": <completion>}]}],
"reference_answer", <other dataset fields>}`` and returns a list of
``{"id", "aggregate_reward_score", "metrics_list"?}`` — either directly or wrapped as
``{"statusCode", "body": json}``.

A local file runs in its own process (``_reward_host``, in a new process group) so that a call
that does not return within ``timeout_s`` is stopped by killing the whole group (the function's
own children included). A score that is not a finite number (NaN, ±Infinity) is refused.
"""

from __future__ import annotations

import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError

__all__ = ["DEFAULT_TIMEOUT_S", "RewardFunctionError", "load_reward_function", "make_request", "reward_timeout"]

#: Longest a reward-function call may take by default (one call scores a whole rollout batch).
DEFAULT_TIMEOUT_S = 300.0


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
        value = item.get("aggregate_reward_score") if isinstance(item, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RewardFunctionError(f"result {i} has no numeric 'aggregate_reward_score': {item!r}"[:500])
        if not math.isfinite(value):
            raise RewardFunctionError(
                f"result {i} (id {item.get('id')!r}) has aggregate_reward_score={value!r}: rewards must be "
                "finite numbers (NaN or Infinity would corrupt the advantages). Return a finite score."
            )
        scores.append(float(value))
    return scores


def reward_timeout(job: dict[str, Any]) -> float:
    """The job's reward-call limit: ``training_overrides={"reward_timeout_s": ...}``, else :data:`DEFAULT_TIMEOUT_S`.

    Raises:
        ConfigError: The setting is not a positive number.
    """
    value = (job.get("local") or {}).get("reward_timeout_s", DEFAULT_TIMEOUT_S)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"reward_timeout_s={value!r} must be a positive number of seconds.")
    return seconds


def load_reward_function(
    ref: str, region: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Callable[[Sequence[dict[str, Any]]], list[float]]:
    """Return ``score(samples) -> list[float]`` for a local file or a Lambda ARN.

    Args:
        ref: A ``.py`` file defining ``lambda_handler(event, context)``, or a Lambda ARN.
        region: Region of the Lambda (default: the ARN's).
        timeout_s: Longest one call of a local file may take; then its process group is killed
            and :class:`RewardFunctionError` raised.

    Raises:
        ConfigError: The file does not exist, cannot be imported or has no ``lambda_handler``;
            ``timeout_s`` is not positive.
    """
    if not timeout_s > 0:
        raise ConfigError(f"reward_timeout_s={timeout_s!r} must be > 0 seconds.")
    if ref.startswith("arn:aws:lambda:"):
        return _lambda_caller(ref, region)
    path = Path(ref).expanduser()
    if not path.is_file():
        raise ConfigError(f"Reward function file not found: {ref}. Pass a .py file that defines lambda_handler.")
    return _HostedFunction(path.resolve(), timeout_s)


class _HostedFunction:
    """A local reward function running in ``_reward_host`` (own process group), called with a timeout."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self.path, self.timeout_s = path, timeout_s
        kw: dict[str, Any] = {"start_new_session": True} if os.name != "nt" else {"creationflags": 0x00000200}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "amzn_nova_forge.manager._local._reward_host", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the function's prints and warnings land in the worker's output
            text=True,
            encoding="utf-8",
            **kw,
        )
        self.replies: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, name="nova-forge-reward", daemon=True).start()
        ready = self._reply(max(timeout_s, 60.0), what="importing it")
        if "error" in ready:
            self.close()
            raise ConfigError(f"Cannot use reward function file {path}:\n{ready['error']}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def _reply(self, timeout: float, *, what: str) -> dict[str, Any]:
        try:
            line = self.replies.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise RewardFunctionError(
                f"reward function {self.path.name} did not return within {timeout:.0f}s ({what}); its process "
                "group was killed. Make it faster, or raise the limit: "
                "LocalRuntimeManager(training_overrides={'reward_timeout_s': ...})."
            ) from None
        if line is None:
            code = self.proc.wait()
            raise RewardFunctionError(f"reward function {self.path.name} exited (code {code}) while {what}.")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def __call__(self, samples: Sequence[dict[str, Any]]) -> list[float]:
        if self.proc.poll() is not None:
            raise RewardFunctionError(f"reward function {self.path.name} is no longer running.")
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(list(samples), default=str) + "\n")
        self.proc.stdin.flush()
        reply = self._reply(self.timeout_s, what=f"scoring {len(samples)} samples")
        if "error" in reply:
            raise RewardFunctionError(
                f"reward function {self.path.name} raised {reply.get('type')}: {reply.get('message')}\n"
                f"{reply['error']}{_SHAPE_HINT}"
            )
        return _parse_response(reply["ok"], len(samples))

    def close(self) -> None:
        """Kill the host's process group (the function's children too) and reap it."""
        if self.proc.poll() is None:
            try:
                if hasattr(os, "killpg"):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                else:  # pragma: no cover - Windows
                    import psutil

                    for p in [*psutil.Process(self.proc.pid).children(recursive=True), psutil.Process(self.proc.pid)]:
                        p.kill()
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait(timeout=30)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


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
