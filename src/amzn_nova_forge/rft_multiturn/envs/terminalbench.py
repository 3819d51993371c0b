"""Built-in ``terminalbench_env``: solve a shell task in a confined scratch folder.

Samples: ``{"instruction": str, "test_command": str, "setup_command": str (optional),
"files": {relative path: content} (optional)}``. Each turn the policy replies with one
command in ``<bash>...</bash>`` (or a ```bash fenced block), sees its output, and ends with
``<done/>``. Reward 1.0 when ``test_command`` exits 0 in the folder afterwards, else 0.0.

Every command (the model's and the sample's) runs in a
:class:`~amzn_nova_forge.rft_multiturn.sandbox.Sandbox`: its own process group and session,
CPU/memory/file-size/open-file limits, killed with everything it started at the timeout,
writes confined to a private folder (Landlock), no AWS credentials in its environment.
LOCAL workers run it only with ``RFTMultiturnInfrastructure(..., allow_local_command_execution=True)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from amzn_nova_forge.rft_multiturn.sandbox import Sandbox, SandboxLimits

#: The environment runs commands written by the model (LOCAL workers need an explicit opt-in).
EXECUTES_COMMANDS = True

SYSTEM = (
    "You are in a Linux shell inside an empty working directory. Solve the task by running one "
    "command per reply inside <bash>...</bash>. When finished, reply <done/>."
)
_CMD = re.compile(r"<bash>(.*?)</bash>|```(?:bash|sh)?\n(.*?)```", re.DOTALL)
_MiB = 1024 * 1024


class TerminalEnv:
    """Multi-turn shell tasks, every command sandboxed.

    Args:
        max_turns: Policy replies per rollout.
        command_timeout: Seconds one command may run (``timeout`` is accepted as an alias).
        memory_mb: Address-space limit per process, MiB.
        cpu_seconds: CPU-time limit per process.
        max_file_mb: Largest file a command may write, MiB.
        require_confinement: Refuse to run where writes outside the folder cannot be stopped
            (no Landlock). Default: on LOCAL workers (and outside a worker) yes; on EC2/ECS
            workers, whose machine or task is disposable, the other limits apply without it.
    """

    def __init__(
        self,
        max_turns: int = 10,
        command_timeout: float = 30.0,
        *,
        timeout: float | None = None,
        memory_mb: int = 1024,
        cpu_seconds: int = 30,
        max_file_mb: int = 64,
        require_confinement: bool | None = None,
        **_: Any,
    ) -> None:
        self.max_turns = int(max_turns)
        self.command_timeout = float(timeout if timeout is not None else command_timeout)
        self.limits = SandboxLimits(
            timeout_s=self.command_timeout,
            cpu_s=int(cpu_seconds),
            memory_bytes=int(memory_mb) * _MiB,
            file_size_bytes=int(max_file_mb) * _MiB,
        )
        if require_confinement is None:
            require_confinement = os.environ.get("NOVA_FORGE_RFT_PLATFORM", "local") == "local"
        self.require_confinement = bool(require_confinement)

    def _run(self, box: Sandbox, cmd: str) -> tuple[int, str]:
        result = box.run(cmd)
        if result.timed_out:
            return 124, f"command timed out after {self.command_timeout:g}s"
        return result.returncode, result.output

    def rollout(self, sample: dict[str, Any], generate: Callable[[list[dict[str, str]]], str]) -> dict[str, Any]:
        with Sandbox(self.limits, require_confinement=self.require_confinement) as box:
            for name, content in (sample.get("files") or {}).items():
                box.write_file(str(name), str(content))
            if sample.get("setup_command"):
                self._run(box, str(sample["setup_command"]))
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
                rc, out = self._run(box, (m.group(1) or m.group(2)).strip())
                commands += 1
                messages.append({"role": "user", "content": f"exit code {rc}\n{out}"})
            rc, _ = self._run(box, str(sample.get("test_command", "false")))
            return {
                "reward": 1.0 if rc == 0 else 0.0,
                "messages": messages,
                "metrics": {"passed": float(rc == 0), "commands": commands},
            }


def load_environment(**kwargs: Any) -> TerminalEnv:
    return TerminalEnv(**kwargs)
