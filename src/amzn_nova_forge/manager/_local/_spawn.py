"""Start a detached process (the job worker, the local server) that outlives the caller."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from amzn_nova_forge.errors import JobSubmissionError

__all__ = ["spawn_detached"]

#: Starts the given command in a new session, detached from the caller, and prints its pid.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "out = open(sys.argv[1], 'ab')\n"
    "kw = {'start_new_session': True} if os.name != 'nt' else {'creationflags': 0x00000008 | 0x00000200}\n"
    "p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,"
    " close_fds=True, **kw)\n"
    "print(p.pid, flush=True)\n"
)


def spawn_detached(cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> int:
    """Start ``cmd`` detached (its own session, re-parented to init); return its pid."""
    src_root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = src_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(log_path), *cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip().isdigit():
        raise JobSubmissionError(f"Could not start a local worker process: {proc.stderr.strip() or proc.stdout!r}")
    return int(proc.stdout.strip())
