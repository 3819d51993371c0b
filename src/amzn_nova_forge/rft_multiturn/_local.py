"""LOCAL platform: environment workers as processes on this machine.

Workspace: ``~/.nova-forge/rft-workspace/<stack>/`` with the virtual environment
``<python_venv_name>/`` (created with ``venv``; it sees this interpreter's packages through a
``.pth`` file, so the SDK and boto3 need no download), ``logs/<env_type>.log`` and
``workers.json`` (pids, so a new Python session can still stop the workers).

Each worker is started in its own process group; stopping sends SIGTERM to the group,
waits, then SIGKILL, and reaps the process so nothing is left behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import site
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from amzn_nova_forge.core.enums import EnvType
from amzn_nova_forge.rft_multiturn._constants import WORKER_MODULE

__all__ = ["LocalPlatform", "LocalRFTInfrastructure", "workspace_root"]

logger = logging.getLogger(__name__)


def workspace_root() -> Path:
    return Path(os.environ.get("NOVA_FORGE_RFT_WORKSPACE") or Path.home() / ".nova-forge" / "rft-workspace")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def _group_alive(pgid: int) -> bool:
    """Is any live (non-zombie) process left in process group ``pgid``?"""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:  # state, ppid, pgrp
            return True
    return False


def _start_ticks(pid: int) -> str | None:
    """The process start time (clock ticks since boot, /proc/<pid>/stat field 22); None without /proc.

    It is set at fork and survives exec, so a recorded (pid, start) pair identifies our worker
    even before its command line changes, and never matches a later process reusing the pid.
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _is_ours(entry: dict[str, Any]) -> bool:
    pid = int(entry["pid"])
    if not _alive(pid):
        return False
    recorded = entry.get("start_ticks")
    return recorded is None or _start_ticks(pid) in (None, recorded)


class LocalRFTInfrastructure:
    """The LOCAL platform of :class:`RFTMultiturnInfrastructure`: worker processes on this machine.

    Usually made by ``RFTMultiturnInfrastructure(infrastructure_arn=None, ...)`` and reached as
    ``rft_infra.infra``.

    Args:
        stack_name: The full (suffixed) stack name; the workspace is named after it.
        python_venv_name: Virtual environment folder inside the workspace.
        session_id: Workers are recorded under this session (``kill`` stops only its own).
        starter_kit_path: A folder holding an ``amzn_nova_forge`` package used by the workers
            instead of the installed one (put first on their ``PYTHONPATH``).

    Example:
        >>> local = LocalRFTInfrastructure("my-rft-stack-NovaForgeSDK", "my_rft_venv", "s-1")  # doctest: +SKIP
        >>> local.running(EnvType.TRAIN)  # doctest: +SKIP
        []
    """

    name = "local"

    def __init__(
        self, stack_name: str, python_venv_name: str, session_id: str, *, starter_kit_path: str | None = None
    ) -> None:
        self.stack_name = stack_name
        self.python_venv_name = python_venv_name
        self.session_id = session_id
        self.starter_kit_path = starter_kit_path
        self.workspace = workspace_root() / stack_name
        self.venv_dir = self.workspace / python_venv_name
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    # ---- environment ------------------------------------------------------------------------
    @property
    def python(self) -> Path:
        return self.venv_dir / "bin" / "python"

    def prepare(self, custom_env_path: str | None = None) -> None:
        """Create the workspace and the virtual environment (idempotent)."""
        (self.workspace / "logs").mkdir(parents=True, exist_ok=True)
        if not self.python.exists():
            logger.info("Creating virtual environment %s", self.venv_dir)
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", str(self.venv_dir)],
                check=True,
                capture_output=True,
                timeout=300,
            )
            site_dir = next(iter(sorted((self.venv_dir / "lib").glob("python*/site-packages"))), None)
            if site_dir is None:
                raise RuntimeError(f"venv at {self.venv_dir} has no site-packages directory")
            parents = [*site.getsitepackages(), str(Path(__file__).resolve().parents[2])]
            user_site = site.getusersitepackages()
            if site.ENABLE_USER_SITE and user_site and Path(user_site).is_dir():
                parents.append(user_site)
            (site_dir / "_nova_forge_parent.pth").write_text(
                "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
            )
        if custom_env_path:
            req = Path(custom_env_path).expanduser() / "requirements.txt"
            if req.is_file() and any(ln.strip() and not ln.startswith("#") for ln in req.read_text().splitlines()):
                logger.info("Installing %s into %s", req, self.venv_dir)
                subprocess.run(
                    [str(self.python), "-m", "pip", "install", "-q", "-r", str(req)], check=True, timeout=1800
                )

    # ---- processes --------------------------------------------------------------------------
    def _state_file(self) -> Path:
        return self.workspace / "workers.json"

    def _read_state(self) -> dict[str, list[dict[str, Any]]]:
        try:
            return json.loads(self._state_file().read_text())  # type: ignore[no-any-return]
        except (OSError, json.JSONDecodeError):
            return {}

    def _write_state(self, state: dict[str, list[dict[str, Any]]]) -> None:
        if not self.workspace.exists() and not any(state.values()):
            return  # workspace removed by cleanup(cleanup_environment=True): nothing to record
        self.workspace.mkdir(parents=True, exist_ok=True)
        tmp = self._state_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self._state_file())

    def log_path(self, env_type: EnvType) -> Path:
        return self.workspace / "logs" / f"{env_type.value}.log"

    def start(self, env_type: EnvType, worker_args: list[str], num_workers: int) -> list[str]:
        """Start ``num_workers`` worker processes; returns their pids (as strings)."""
        self.prepare()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if self.starter_kit_path:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (self.starter_kit_path, env.get("PYTHONPATH")) if p)
        state = self._read_state()
        entries = state.setdefault(env_type.value, [])
        started = []
        with open(self.log_path(env_type), "ab") as log:
            for i in range(num_workers):
                wid = f"{self.session_id}-{env_type.value}-{len(entries) + i}"
                proc = subprocess.Popen(
                    [str(self.python), "-m", WORKER_MODULE, *worker_args, "--worker-id", wid],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                    cwd=str(self.workspace),
                )
                self._procs[proc.pid] = proc
                started.append(
                    {"pid": proc.pid, "worker_id": wid, "session_id": self.session_id, "started": time.time()}
                )
        entries.extend(started)
        self._write_state(state)
        logger.info("Started %d %s worker(s): pids %s", len(started), env_type.value, [s["pid"] for s in started])
        return [str(s["pid"]) for s in started]

    def running(self, env_type: EnvType) -> list[int]:
        """Pids of live workers of this type recorded for the stack."""
        return [e["pid"] for e in self._read_state().get(env_type.value, []) if _is_ours(e)]

    def kill(self, env_type: EnvType, *, kill_all_for_stack: bool = False, timeout: float = 15.0) -> list[int]:
        """Stop workers (this session's, or all of the stack's); returns the pids stopped."""
        state = self._read_state()
        entries = state.get(env_type.value, [])
        chosen = [e for e in entries if kill_all_for_stack or e.get("session_id") == self.session_id]
        targets = [e["pid"] for e in chosen if _is_ours(e)]
        for pid in targets:
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        for pid in targets:
            self._wait_gone(pid, deadline)
        for pid in targets:
            if _alive(pid) or _group_alive(pid):
                logger.warning("worker %d ignored SIGTERM; sending SIGKILL", pid)
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._wait_gone(pid, time.monotonic() + 5)
        state[env_type.value] = [e for e in entries if e not in chosen]
        self._write_state(state)
        return targets

    def _wait_gone(self, pid: int, deadline: float) -> None:
        """Wait until the worker (reaped when it is our child) and its whole process group are gone."""
        proc = self._procs.get(pid)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                self._procs.pop(pid, None)
                proc = None
            leader_gone = proc is None and not _alive(pid)
            if leader_gone and not _group_alive(pid):
                return
            time.sleep(0.05)

    # ---- logs -------------------------------------------------------------------------------
    def logs(self, env_type: EnvType, limit: int = 100, start_from_head: bool = False) -> list[str]:
        path = self.log_path(env_type)
        if not path.exists():
            return []
        lines = path.read_text(errors="replace").splitlines()
        return lines[:limit] if start_from_head else lines[-limit:] if limit else lines

    def follow(self, env_type: EnvType, *, poll: float = 0.5, until: float | None = None) -> Iterator[str]:
        """Yield new log lines as they are written, forever or until ``time.monotonic() >= until``."""
        path = self.log_path(env_type)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        with open(path, errors="replace") as f:
            f.seek(0, os.SEEK_END)
            while True:
                line = f.readline()
                if line:
                    yield line.rstrip("\n")
                elif until is not None and time.monotonic() >= until:
                    return
                else:
                    time.sleep(poll)

    # ---- cleanup ----------------------------------------------------------------------------
    def cleanup(self, cleanup_environment: bool = False) -> None:
        for env_type in (EnvType.TRAIN, EnvType.EVAL):
            self.kill(env_type, kill_all_for_stack=True)
        if cleanup_environment and self.workspace.exists():
            shutil.rmtree(self.workspace)
            logger.info("Removed %s", self.workspace)

    def get_state(self) -> dict[str, Any]:
        return {
            "python_venv_name": self.python_venv_name,
            "workspace": str(self.workspace),
            "starter_kit_path": self.starter_kit_path,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Nothing to restore: the workers are recorded in ``workers.json`` (by session id)."""


#: Earlier name of :class:`LocalRFTInfrastructure`.
LocalPlatform = LocalRFTInfrastructure
