"""The local reward-function host: timeouts kill the whole process group; non-finite rewards are refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._jobdir import pid_alive
from amzn_nova_forge.manager._local._reward import RewardFunctionError, load_reward_function, reward_timeout

SAMPLES = [{"id": "s0", "messages": [{"role": "user", "content": "hi"}]}, {"id": "s1", "messages": []}]

HANGS = """
import subprocess, sys, time
from pathlib import Path

def lambda_handler(event, context):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(__file__).with_suffix(".child").write_text(str(child.pid))
    time.sleep(600)
"""

SCORES = """
def lambda_handler(event, context):
    print("debug output from the reward function")  # must not corrupt the replies
    return [{{"id": s["id"], "aggregate_reward_score": {value}}} for s in event]
"""


def _write(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def test_a_hanging_reward_function_is_killed_with_its_children(tmp_path: Path) -> None:
    score = load_reward_function(_write(tmp_path, "hangs.py", HANGS), timeout_s=2)
    t0 = time.monotonic()
    with pytest.raises(RewardFunctionError, match=r"hangs.py did not return within 2s .*process group was killed"):
        score(SAMPLES)
    assert time.monotonic() - t0 < 30
    child = int((tmp_path / "hangs.child").read_text())
    deadline = time.monotonic() + 10
    while pid_alive(child):  # the function's own child went down with the group
        assert time.monotonic() < deadline, f"child {child} of the reward function survived"
        time.sleep(0.05)
    assert score.proc.poll() is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["float('nan')", "float('inf')", "-float('inf')"])
def test_non_finite_rewards_are_refused(tmp_path: Path, value: str) -> None:
    score = load_reward_function(_write(tmp_path, "bad.py", SCORES.format(value=value)), timeout_s=30)
    with pytest.raises(RewardFunctionError, match=r"result 0 \(id 's0'\) has aggregate_reward_score=.*must be finite"):
        score(SAMPLES)


def test_scores_come_back_and_prints_do_not_corrupt_them(tmp_path: Path) -> None:
    score = load_reward_function(_write(tmp_path, "ok.py", SCORES.format(value="0.25")), timeout_s=30)
    assert score(SAMPLES) == [0.25, 0.25]
    assert score(SAMPLES[:1]) == [0.25]  # the host stays up between calls


def test_errors_of_the_function_and_of_the_file_are_typed(tmp_path: Path) -> None:
    raises = _write(tmp_path, "raises.py", "def lambda_handler(event, context):\n    return event[5]['x']\n")
    with pytest.raises(RewardFunctionError, match=r"raises.py raised IndexError: list index out of range"):
        load_reward_function(raises, timeout_s=30)(SAMPLES)
    with pytest.raises(ConfigError, match="has no function lambda_handler"):
        load_reward_function(_write(tmp_path, "empty.py", "x = 1\n"), timeout_s=30)
    with pytest.raises(ConfigError, match="SyntaxError"):
        load_reward_function(_write(tmp_path, "broken.py", "def (:\n"), timeout_s=30)
    with pytest.raises(ConfigError, match="must be > 0"):
        load_reward_function(raises, timeout_s=0)
    with pytest.raises(ConfigError, match="reward_timeout_s='soon' must be a positive number"):
        reward_timeout({"local": {"reward_timeout_s": "soon"}})
    assert reward_timeout({"local": {"reward_timeout_s": 7}}) == 7.0 and reward_timeout({}) == 300.0
