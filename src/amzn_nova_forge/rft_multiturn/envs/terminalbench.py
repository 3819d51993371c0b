"""Built-in ``terminalbench_env``: solve a shell task in a scratch directory.

Samples: ``{"instruction": str, "test_command": str, "setup_command": str (optional)}``.
Each turn the policy replies with one command in ``<bash>...</bash>`` (or a ```bash fenced
block), sees its output, and ends with ``<done/>``. Reward 1.0 when ``test_command`` exits 0
in the scratch directory afterwards, else 0.0. Commands run as the worker's user with a time
limit: run these workers in a disposable machine or container (EC2, ECS).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any

SYSTEM = (
    "You are in a Linux shell inside an empty working directory. Solve the task by running one "
    "command per reply inside <bash>...</bash>. When finished, reply <done/>."
)
_CMD = re.compile(r"<bash>(.*?)</bash>|```(?:bash|sh)?\n(.*?)```", re.DOTALL)


class TerminalEnv:
    def __init__(self, max_turns: int = 10, command_timeout: float = 30.0, **_: Any) -> None:
        self.max_turns = int(max_turns)
        self.command_timeout = float(command_timeout)

    def _run(self, cmd: str, cwd: str) -> tuple[int, str]:
        try:
            p = subprocess.run(
                cmd, shell=True, cwd=cwd, capture_output=True, text=True, timeout=self.command_timeout, check=False
            )
            return p.returncode, (p.stdout + p.stderr)[-4000:]
        except subprocess.TimeoutExpired:
            return 124, f"command timed out after {self.command_timeout:.0f}s"

    def rollout(self, sample: dict[str, Any], generate: Callable[[list[dict[str, str]]], str]) -> dict[str, Any]:
        work = tempfile.mkdtemp(prefix="nova-rft-tb-")
        try:
            if sample.get("setup_command"):
                self._run(str(sample["setup_command"]), work)
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": str(sample["instruction"])}]
            commands = 0
            for _ in range(self.max_turns):
                reply = generate(messages)
                messages.append({"role": "assistant", "content": reply})
                m = _CMD.search(reply)
                if "<done/>" in reply and not m:
                    break
                if not m:
                    messages.append({"role": "user", "content": "No command found; use <bash>...</bash> or <done/>."})
                    continue
                rc, out = self._run((m.group(1) or m.group(2)).strip(), work)
                commands += 1
                messages.append({"role": "user", "content": f"exit code {rc}\n{out}"})
            rc, _ = self._run(str(sample.get("test_command", "false")), work)
            return {
                "reward": 1.0 if rc == 0 else 0.0,
                "messages": messages,
                "metrics": {"passed": float(rc == 0), "commands": commands},
            }
        finally:
            shutil.rmtree(work, ignore_errors=True)


def load_environment(**kwargs: Any) -> TerminalEnv:
    return TerminalEnv(**kwargs)
