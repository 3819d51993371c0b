"""verify_reward_function under hostile reward functions: non-finite scores and metrics, huge output,
runaway children. Local functions really run (in a subprocess); Lambda answers come from botocore's
``Stubber`` (moto runs Lambda code only with Docker).
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from amzn_nova_forge.core.enums import Platform
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager import _reward_check as _reward  # where the verifier reads its limits
from amzn_nova_forge.util._reward import verify_reward_function

SAMPLE = {
    "id": "s1",
    "reference_answer": "4",
    "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
}


def _fn(tmp_path: Path, body: str) -> str:
    path = tmp_path / "reward.py"
    path.write_text(body)
    return str(path)


NON_FINITE_OUTPUTS = {
    "score_nan": '[{"id": "s1", "aggregate_reward_score": float("nan")}]',
    "score_inf": '[{"id": "s1", "aggregate_reward_score": float("inf")}]',
    "score_neg_inf": '[{"id": "s1", "aggregate_reward_score": -float("inf")}]',
    "score_overflow": '[{"id": "s1", "aggregate_reward_score": 1e308 * 10}]',
    "metric_nan": '[{"id": "s1", "aggregate_reward_score": 1.0, '
    '"metrics_list": [{"name": "acc", "value": float("nan"), "type": "Metric"}]}]',
    "metric_inf": '[{"id": "s1", "aggregate_reward_score": 1.0, '
    '"metrics_list": [{"name": "acc", "value": float("inf"), "type": "Reward"}]}]',
    "second_metric_nan": '[{"id": "s1", "aggregate_reward_score": 1.0, "metrics_list": ['
    '{"name": "a", "value": 1, "type": "Metric"}, {"name": "b", "value": float("nan"), "type": "Metric"}]}]',
    "dict_output_nan": '{"id": "s1", "aggregate_reward_score": float("nan")}',
}


@pytest.mark.parametrize("name", sorted(NON_FINITE_OUTPUTS))
def test_non_finite_scores_and_metrics_are_refused(name: str, tmp_path: Path) -> None:
    fn = _fn(tmp_path, f"def lambda_handler(event, context):\n    return {NON_FINITE_OUTPUTS[name]}\n")
    with pytest.raises(ConfigError, match=r"must be a number, got (nan|inf|-inf) \(NaN and infinity are not scores\)"):
        verify_reward_function(fn, [SAMPLE])


@pytest.mark.parametrize("score", ["0", "1", "-2.5", "1e-9", "10**6"])
def test_finite_scores_are_accepted(score: str, tmp_path: Path) -> None:
    fn = _fn(
        tmp_path,
        f"def lambda_handler(event, context):\n    return [{{'id': 's1', 'aggregate_reward_score': {score}}}]\n",
    )
    result = verify_reward_function(fn, [SAMPLE])
    assert result["success"] and result["results"][0]["output"]["aggregate_reward_score"] == eval(score)


def test_output_over_the_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_reward, "MAX_OUTPUT_BYTES", 10_000)
    fn = _fn(
        tmp_path,
        "def lambda_handler(event, context):\n    return [{'id': 's1', 'aggregate_reward_score': 1, 'x': 'y' * 100000}]\n",
    )
    with pytest.raises(ConfigError, match=r"bytes|crashed|cannot be read back") as e:
        verify_reward_function(fn, [SAMPLE])
    assert len(str(e.value)) < 20_000


@pytest.mark.parametrize(("lines", "message"), [(512, "the end"), (4096, "File too large")])
def test_a_flood_on_stdout_is_capped(lines: int, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 512 KiB fits under the 1 MiB cap (the error quotes the tail); 4 MiB hits it (EFBIG in the function)
    monkeypatch.setattr(_reward, "MAX_OUTPUT_BYTES", 1 << 20)
    fn = _fn(
        tmp_path,
        "import sys\ndef lambda_handler(event, context):\n"
        f"    for _ in range({lines}):\n        sys.stdout.write('z' * 1023 + '\\n')\n"
        "    raise RuntimeError('the end')\n",
    )
    with pytest.raises(ConfigError, match=message) as e:
        verify_reward_function(fn, [SAMPLE])
    assert len(str(e.value)) < 10_000


def test_crash_quotes_the_tail_of_the_log(tmp_path: Path) -> None:
    fn = _fn(tmp_path, "import os\nprint('a' * 200000)\nos._exit(7)\n")
    with pytest.raises(ConfigError, match=r"crashed \(exit code 7\)") as e:
        verify_reward_function(fn, [SAMPLE])
    assert len(str(e.value)) < 70_000 * 5


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            state = next((line for line in f if line.startswith("State:")), "")
        return "Z" not in state.split(":", 1)[1] if state else False
    except FileNotFoundError:
        return False


def _wait_dead(pid: int, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


SPAWN = """
import subprocess, sys, time
def lambda_handler(event, context):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    open({pidfile!r}, "w").write(str(child.pid))
    {after}
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to watch processes")
def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    fn = _fn(tmp_path, SPAWN.format(pidfile=str(pidfile), after="time.sleep(120)"))
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"did not return within 3s; it was stopped"):
        verify_reward_function(fn, [SAMPLE], timeout=3)
    assert time.monotonic() - start < 30
    pid = int(pidfile.read_text())
    assert _wait_dead(pid), f"grandchild {pid} outlived the timeout"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to watch processes")
def test_children_left_behind_by_a_returning_function_are_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    after = "return [{'id': 's1', 'aggregate_reward_score': 1.0}]"
    fn = _fn(tmp_path, SPAWN.format(pidfile=str(pidfile), after=after))
    assert verify_reward_function(fn, [SAMPLE], timeout=60)["success"]
    assert _wait_dead(int(pidfile.read_text()))


# ---------------------------------------------------------------- Lambda answers
ARN = "arn:aws:lambda:us-east-1:123456789012:function:MySageMakerReward"


def _invoke(payload: bytes, stub_error: str | None = None) -> Any:
    from amzn_nova_forge.core import aws as aws_mod

    client = aws_mod.client("lambda", "us-east-1")
    with Stubber(client) as stub:
        body: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))}
        if stub_error:
            body["FunctionError"] = stub_error
        stub.add_response("invoke", body)
        return verify_reward_function(ARN, [SAMPLE], platform=Platform.SMTJ)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'[{"id": "s1", "aggregate_reward_score": NaN}]', "NaN and infinity are not scores"),
        (b'[{"id": "s1", "aggregate_reward_score": Infinity}]', "NaN and infinity are not scores"),
        (b'[{"id": "s1", "aggregate_reward_score": -Infinity}]', "NaN and infinity are not scores"),
        (b'[{"id": "s1", "aggregate_reward_score": 1e999}]', "NaN and infinity are not scores"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"<html>502</html>", "not JSON"),
        (b'[{"id": "s1"}]', "missing required field 'aggregate_reward_score'"),
        (b'[{"id": 1, "aggregate_reward_score": 1}]', "'id' must be a string"),
        (b'[{"id": "s1", "aggregate_reward_score": true}]', "must be a number"),
    ],
)
def test_lambda_payloads_are_checked(payload: bytes, message: str, aws_credentials: None) -> None:
    with pytest.raises(ConfigError, match=message):
        _invoke(payload)


def test_lambda_payload_over_the_cap(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_reward, "MAX_OUTPUT_BYTES", 1000)
    with pytest.raises(ConfigError, match="returned more than 1000 bytes"):
        _invoke(json.dumps([{"id": "s1", "aggregate_reward_score": 1, "x": "y" * 5000}]).encode())


def test_good_lambda_payload_passes(aws_credentials: None) -> None:
    result = _invoke(b'[{"id": "s1", "aggregate_reward_score": 0.5}]')
    assert result["success"] and result["results"][0]["output"]["aggregate_reward_score"] == 0.5
