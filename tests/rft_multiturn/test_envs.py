"""Built-in environments and the worker's environment loading (no AWS)."""

from __future__ import annotations

import pytest

from amzn_nova_forge.rft_multiturn import envs
from amzn_nova_forge.rft_multiturn.envs.wordle import feedback, parse_guess


@pytest.mark.parametrize(
    ("guess", "answer", "marks"),
    [
        ("crane", "crane", "GGGGG"),
        ("slate", "crane", "--G-G"),
        ("eerie", "crane", "--Y-G"),
        ("allee", "eagle", "YY-YG"),
        ("speed", "abide", "--Y-Y"),
    ],
)
def test_wordle_feedback_handles_repeated_letters(guess, answer, marks) -> None:
    assert feedback(guess, answer) == marks


def test_parse_guess() -> None:
    assert parse_guess("I think <guess> Crane </guess>") == "crane"
    assert parse_guess("maybe hello then world") == "world"
    assert parse_guess("<think>guess water</think> final: <guess>pious</guess>", use_think=True) == "pious"
    assert parse_guess("no idea at all, sir") is None


def test_wordle_rollout_rewards() -> None:
    env = envs.load_builtin("wordle", max_turns=3)
    turns = iter(["<guess>slate</guess>", "garbage", "<guess>crane</guess>"])
    out = env.rollout({"answer": "crane"}, lambda messages: next(turns))
    assert out["reward"] == pytest.approx(0.8)
    assert out["metrics"] == {"solved": 1.0, "turns": 3, "invalid_guesses": 1}
    lost = env.rollout({"answer": "crane"}, lambda messages: "<guess>crank</guess>")
    assert lost["metrics"]["solved"] == 0.0 and lost["reward"] == pytest.approx(0.1 * 4 / 5)


def test_terminalbench_rollout_runs_commands_in_scratch_dir() -> None:
    env = envs.load_builtin("terminalbench_env", max_turns=4, command_timeout=10)
    replies = iter(["<bash>echo hi > hello.txt</bash>", "```bash\ncat hello.txt\n```", "<done/>"])
    out = env.rollout(
        {"instruction": "Create hello.txt containing hi", "test_command": "grep -q hi hello.txt"},
        lambda messages: next(replies),
    )
    assert out["reward"] == 1.0 and out["metrics"]["commands"] == 2
    assert "exit code 0\nhi" in out["messages"][5]["content"]
    fail = env.rollout({"instruction": "x", "test_command": "test -f nothing"}, lambda messages: "<done/>")
    assert fail["reward"] == 0.0


def test_unknown_builtin_and_bad_custom(tmp_path) -> None:
    with pytest.raises(ValueError, match="known"):
        envs.load_builtin("chess")
    (tmp_path / "my_env.py").write_text("def load_environment(**kw):\n    return object()\n")
    with pytest.raises(TypeError, match="rollout"):
        envs.load_from_path(tmp_path, "my-env")
    with pytest.raises(FileNotFoundError, match="other_env.py"):
        envs.load_from_path(tmp_path, "other-env")
