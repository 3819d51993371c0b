"""Model-written commands are confined: no writes outside the folder, no survivors, bounded memory/time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from amzn_nova_forge.errors import ConfigError, SandboxUnavailableError
from amzn_nova_forge.rft_multiturn import envs
from amzn_nova_forge.rft_multiturn.sandbox import Sandbox, SandboxLimits, confinement_support, safe_relative_path

from .conftest import pid_alive

SUPPORT = confinement_support()
needs_landlock = pytest.mark.skipif(
    not SUPPORT["landlock"], reason="kernel without Landlock: writes outside the folder cannot be denied here"
)


def _sleepers(tag: str) -> list[int]:
    """Live processes whose command line contains ``tag``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if tag in cmd and pid_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


@needs_landlock
def test_reply_writing_outside_its_folder_does_not_succeed(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    with Sandbox(SandboxLimits(timeout_s=10)) as box:
        result = box.run(f"echo pwned > {target}; echo pwned > ../escape.txt; mkdir /tmp/nova-rft-esc-{os.getpid()}")
        assert result.returncode != 0
        assert result.output.count("Permission denied") >= 2
        assert not target.exists()
        assert not (box.workdir.parent / "escape.txt").exists()
        assert not Path(f"/tmp/nova-rft-esc-{os.getpid()}").exists()
        # Inside the folder everything works, and secrets elsewhere cannot be read.
        ok = box.run("mkdir -p a/b && echo fine > a/b/c.txt && cat a/b/c.txt")
        assert (ok.returncode, ok.output) == (0, "fine\n")
        assert (box.workdir / "a/b/c.txt").read_text() == "fine\n"
        home_secret = tmp_path / "credentials"
        home_secret.write_text("aws_secret_access_key=x")
        leak = box.run(f"cat {home_secret}")
        assert leak.returncode != 0 and "aws_secret_access_key" not in leak.output
        assert result.confinement["landlock"] is True


@pytest.mark.parametrize("pid_namespace", [True, False], ids=["pid-namespace", "subreaper-only"])
def test_background_process_does_not_outlive_the_command(pid_namespace: bool) -> None:
    tag = f"31{os.getpid() % 1000:03d}{int(pid_namespace)}"
    with Sandbox(SandboxLimits(timeout_s=2), require_confinement=False, pid_namespace=pid_namespace) as box:
        started = time.monotonic()
        # The detached sleeper writes its pid once setsid has run, so it has surely left the group.
        detach = f"setsid sh -c 'echo $$ > d.pid; exec sleep {tag}1' & while [ ! -s d.pid ]; do sleep 0.05; done"
        quick = box.run(f"sleep {tag} & {detach}; rm d.pid; echo forked")
        assert quick.output == "forked\n" and quick.returncode == 0
        assert time.monotonic() - started < 10
        assert _sleepers(f"sleep {tag}") == []
        slow = box.run(f"{detach}; sleep {tag}3")
        assert slow.timed_out and slow.returncode == 124
        assert _sleepers(f"sleep {tag}") == []
        if not pid_namespace:
            # The setsid'd sleeper left the group: only the subreaper sweep can find it.
            assert quick.stray_killed >= 1 and slow.stray_killed >= 1


def test_unbounded_allocation_and_cpu_and_file_size_are_stopped() -> None:
    limits = SandboxLimits(timeout_s=20, cpu_s=1, memory_bytes=256 * 1024 * 1024, file_size_bytes=1024 * 1024)
    with Sandbox(limits, require_confinement=False) as box:
        mem = box.run('python3 -c "a = []\nwhile True: a.append(bytearray(10**7))"')
        assert mem.returncode != 0 and "MemoryError" in mem.output
        started = time.monotonic()
        cpu = box.run("python3 -c 'while True: pass'")
        assert cpu.returncode != 0 and not cpu.timed_out  # SIGXCPU/SIGKILL after 1 CPU second
        assert time.monotonic() - started < 15
        big = box.run("head -c 5000000 /dev/zero > big.bin; echo rc=$?")
        assert (box.workdir / "big.bin").stat().st_size == 1024 * 1024
        assert "rc=0" not in big.output


def test_environment_has_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "should-not-leak")
    with Sandbox(SandboxLimits(timeout_s=10), require_confinement=False) as box:
        out = box.run("env").output
        assert "should-not-leak" not in out and "AWS_" not in out
        assert f"HOME={box.workdir}" in out
        workdir = box.workdir
    assert not workdir.exists()  # removed on exit


def test_paths_passed_by_the_environment_stay_inside(tmp_path: Path) -> None:
    assert safe_relative_path(tmp_path, "a/b.txt") == (tmp_path / "a/b.txt").resolve()
    for bad in ("/etc/passwd", "../x", "a/../../x", ""):
        with pytest.raises(ConfigError, match="relative to the working folder|leaves"):
            safe_relative_path(tmp_path, bad)
    env = envs.load_builtin("terminalbench_env", require_confinement=False)
    with pytest.raises(ConfigError, match="without '..'"):
        env.rollout({"instruction": "x", "files": {"../evil.sh": "x"}}, lambda m: "<done/>")


def test_limits_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"SandboxLimits.memory_bytes must be between"):
        SandboxLimits(memory_bytes=10)
    with pytest.raises(ConfigError, match=r"SandboxLimits.timeout_s"):
        SandboxLimits(timeout_s=0)


def test_missing_landlock_is_refused_unless_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    from amzn_nova_forge.rft_multiturn import sandbox

    monkeypatch.setattr(sandbox, "confinement_support", lambda: {"linux": True, "landlock": False})
    with pytest.raises(SandboxUnavailableError, match="Landlock"):
        Sandbox()
    Sandbox(require_confinement=False).close()


def test_terminalbench_requires_confinement_on_local_workers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOVA_FORGE_RFT_PLATFORM", raising=False)
    assert envs.load_builtin("terminalbench_env").require_confinement is True  # outside a worker
    for platform, required in (("local", True), ("ec2", False), ("ecs", False)):
        monkeypatch.setenv("NOVA_FORGE_RFT_PLATFORM", platform)
        assert envs.load_builtin("terminalbench_env").require_confinement is required
    assert envs.load_builtin("terminalbench_env", require_confinement=True).require_confinement is True


def test_worker_tells_the_environment_its_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    from amzn_nova_forge.rft_multiturn._worker import PLATFORM_ENV, Worker, parse_args

    monkeypatch.setenv(PLATFORM_ENV, "local")  # so that teardown restores it after the worker sets it
    queues = [
        a
        for q in ("rollout-queue", "finished-queue", "generate-request", "generate-response")
        for a in (f"--{q}", "https://sqs.us-east-1.amazonaws.com/1/q")
    ]
    worker = Worker(
        parse_args(["--region", "us-east-1", "--env-id", "terminalbench_env", "--platform", "ecs", *queues])
    )
    assert os.environ[PLATFORM_ENV] == "ecs" and worker.env.require_confinement is False


@needs_landlock
def test_terminalbench_rollout_contains_a_hostile_model(tmp_path: Path) -> None:
    """Replies that write outside the folder, leave a process behind and allocate without bound."""
    target = tmp_path / "pwned.txt"
    tag = f"47{os.getpid() % 1000:03d}"
    env = envs.load_builtin("terminalbench_env", max_turns=4, command_timeout=3, memory_mb=256)
    replies = iter(
        [
            f"<bash>echo owned > {target}; echo owned > ../../escape.txt</bash>",
            f"<bash>setsid sleep {tag} & nohup sleep {tag}1 & echo started</bash>",
            '<bash>python3 -c "a = []\nwhile True: a.append(bytearray(10**7))"</bash>',
            "<bash>sleep 30</bash>",
        ]
    )
    started = time.monotonic()
    out = env.rollout({"instruction": "misbehave", "test_command": "true"}, lambda messages: next(replies))
    feedback = [m["content"] for m in out["messages"] if m["role"] == "user"][1:]
    assert "Permission denied" in feedback[0] and not target.exists()
    assert feedback[1].startswith("exit code 0") and _sleepers(f"sleep {tag}") == []
    assert "MemoryError" in feedback[2]
    assert feedback[3] == "exit code 124\ncommand timed out after 3s"
    assert time.monotonic() - started < 30 and out["metrics"]["commands"] == 4
