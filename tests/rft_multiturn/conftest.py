"""Fixtures for RFT multiturn tests: a private HOME (workspace, custom envs) and process checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.delenv("NOVA_FORGE_RFT_WORKSPACE", raising=False)
    return h


def worker_pids(marker: str, expect: int | None = None, timeout: float = 30.0) -> list[int]:
    """Live processes running the worker module whose command line contains ``marker``.

    With ``expect``, wait (up to ``timeout``) until that many are seen: a process just started
    shows the worker's command line only once it has exec'd.
    """
    import time

    deadline = time.monotonic() + timeout
    while True:
        found = _scan(marker)
        if expect is None or len(found) >= expect or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _scan(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if "amzn_nova_forge.rft_multiturn._worker" in cmd and marker in cmd and state != "Z":
            found.append(int(entry.name))
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False
