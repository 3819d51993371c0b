"""LocalPlatform process handling without AWS: stop right after start, SIGKILL escalation, state file."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from amzn_nova_forge.core.enums import EnvType
from amzn_nova_forge.rft_multiturn._local import LocalPlatform

from .conftest import pid_alive


def _fake_venv(platform: LocalPlatform, body: str) -> None:
    """A 'python' that is a shell script, so the test controls how the worker reacts to signals."""
    py = platform.python
    py.parent.mkdir(parents=True)
    py.write_text("#!/bin/bash\n" + body + "\n")
    py.chmod(py.stat().st_mode | stat.S_IXUSR)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return any(
            pid_alive(int(p.name))
            for p in __import__("pathlib").Path("/proc").iterdir()
            if p.name.isdigit() and _pgid(int(p.name)) == pgid
        )
    except ProcessLookupError:
        return False


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_stop_immediately_after_start_leaves_nothing(home) -> None:
    p = LocalPlatform("s-NovaForgeSDK", "venv", "sess-a")
    _fake_venv(p, "sleep 60 & wait")
    pids = [int(x) for x in p.start(EnvType.TRAIN, ["--env-id", "wordle"], 3)]
    assert sorted(p.kill(EnvType.TRAIN)) == sorted(pids)  # no wait: some have not exec'd yet
    assert not any(pid_alive(x) or _group_alive(x) for x in pids)
    assert json.loads((p.workspace / "workers.json").read_text()) == {"train": []}


def test_workers_ignoring_sigterm_are_killed(home, caplog: pytest.LogCaptureFixture) -> None:
    p = LocalPlatform("s-NovaForgeSDK", "venv", "sess-b")
    ready = home / "trap-installed"
    _fake_venv(p, f"trap '' TERM\ntouch {ready}\nwhile true; do sleep 0.2; done")
    [pid] = [int(x) for x in p.start(EnvType.EVAL, [], 1)]
    deadline = time.monotonic() + 30
    while not ready.exists():  # SIGTERM only once the worker ignores it
        assert time.monotonic() < deadline, "the fake worker never started"
        time.sleep(0.05)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="amzn_nova_forge.rft_multiturn._local"):
        assert p.kill(EnvType.EVAL, timeout=1.0) == [pid]
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 10  # waited out the grace period, then escalated
    assert f"worker {pid} ignored SIGTERM; sending SIGKILL" in caplog.text
    assert not pid_alive(pid) and not _group_alive(pid)


def test_other_sessions_and_reused_pids_are_left_alone(home) -> None:
    p = LocalPlatform("s-NovaForgeSDK", "venv", "sess-c")
    _fake_venv(p, "sleep 60 & wait")
    [pid] = [int(x) for x in p.start(EnvType.TRAIN, [], 1)]
    other = LocalPlatform("s-NovaForgeSDK", "venv", "sess-d")
    assert other.kill(EnvType.TRAIN) == []  # not its session
    assert pid_alive(pid)
    # A recorded pid whose start time differs is another process (pid reuse): never signalled.
    state = json.loads((p.workspace / "workers.json").read_text())
    state["train"].append({"pid": os.getpid(), "session_id": "sess-c", "start_ticks": "1"})
    (p.workspace / "workers.json").write_text(json.dumps(state))
    assert p.running(EnvType.TRAIN) == [pid]
    assert p.kill(EnvType.TRAIN) == [pid]
    assert pid_alive(os.getpid())


def test_cleanup_environment_removes_workspace(home) -> None:
    p = LocalPlatform("s-NovaForgeSDK", "venv", "sess-e")
    _fake_venv(p, "sleep 60 & wait")
    [pid] = [int(x) for x in p.start(EnvType.TRAIN, [], 1)]
    p.cleanup(cleanup_environment=True)
    assert not pid_alive(pid) and not p.workspace.exists()
    p.cleanup()  # idempotent


@pytest.mark.timeout(120)
def test_real_venv_sees_the_sdk(home) -> None:
    import subprocess

    p = LocalPlatform("v-NovaForgeSDK", "venv", "sess-f")
    p.prepare()
    out = subprocess.run(
        [str(p.python), "-c", "import amzn_nova_forge.rft_multiturn._worker, boto3, sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(p.venv_dir)


def test_dump_and_load_find_the_same_workers(aws, home, tmp_path) -> None:
    from amzn_nova_forge import EnvType, RFTMultiturnInfrastructure, VFEnvId

    infra = RFTMultiturnInfrastructure(stack_name="saved", python_venv_name="venv", vf_env_id=VFEnvId.WORDLE)
    _fake_venv(infra.infra, "sleep 60 & wait")
    [pid] = [int(x) for x in infra.infra.start(EnvType.TRAIN, [], 1)]
    path = infra.dump(file_path=str(tmp_path))
    assert path.name == f"rft_state_saved-NovaForgeSDK_{infra.session_id}.json"
    again = RFTMultiturnInfrastructure.load(str(path))  # e.g. after a notebook restart
    assert (again.session_id, again.env_id, again.platform) == (infra.session_id, "wordle", "local")
    assert again.kill_task(EnvType.TRAIN) == [pid]
    assert not pid_alive(pid)
