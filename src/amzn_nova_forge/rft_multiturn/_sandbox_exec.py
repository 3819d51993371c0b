"""Sandbox supervisor: runs ONE command from a model reply, confined and limited (stdlib only).

Started by :class:`amzn_nova_forge.rft_multiturn.sandbox.Sandbox` as
``python -I _sandbox_exec.py <spec.json>`` in a new session. In order, it:

1. becomes a child subreaper (``PR_SET_CHILD_SUBREAPER``), so every process the command
   leaves behind, even one that called ``setsid``, is re-parented to it and can be killed;
2. sets ``no_new_privs`` (no set-uid escalation; required by Landlock);
3. where the kernel allows, unshares a PID namespace: the command is its init, and when the
   command ends the kernel kills everything left inside;
4. sets resource limits inherited by the command: CPU seconds, address space, file size,
   open files and (not for root, which the kernel exempts) processes;
5. where the kernel has Landlock, restricts file access: read/execute on system folders and
   the Python installation only, full access inside the working folder, write to
   ``/dev/null``; every other write (and any read of e.g. ``$HOME``) is denied;
6. runs ``/bin/sh -c <command>`` in its own process group in the working folder with a
   minimal environment (no AWS credentials), output to a file opened before step 5;
7. at exit or at the timeout kills the command's group, then every remaining descendant,
   and reaps them; prints a JSON report on stdout.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
SYS_LANDLOCK_CREATE_RULESET = 444  # same number on every architecture (new-syscall table)
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000

# Landlock filesystem rights (ABI 1), plus REFER (ABI 2) and TRUNCATE (ABI 3).
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
WRITE_DIR_RIGHTS = sum(1 << i for i in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
REFER, TRUNCATE = 1 << 13, 1 << 14
READ_ONLY_ROOTS = (
    "/bin",
    "/sbin",
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/proc",
    "/sys",
    "/dev",
)

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> bool:
    return int(_libc.prctl(option, value, 0, 0, 0)) == 0


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    try:
        abi = int(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION))
    except (AttributeError, OSError):
        return 0
    return max(abi, 0)


def _landlock(workdir: str, read_roots: list[str]) -> bool:
    abi = landlock_abi()
    if abi < 1:
        return False
    handled = EXECUTE | WRITE_FILE | READ_FILE | READ_DIR | WRITE_DIR_RIGHTS
    handled |= REFER if abi >= 2 else 0
    handled |= TRUNCATE if abi >= 3 else 0
    attr = ctypes.c_uint64(handled)  # struct landlock_ruleset_attr { __u64 handled_access_fs; } (ABI 1 size)
    ruleset = int(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), 0))
    if ruleset < 0:
        return False
    file_rights = EXECUTE | WRITE_FILE | READ_FILE | (TRUNCATE if abi >= 3 else 0)

    def allow(path: str, rights: int) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                rights &= file_rights
            rule = _PathBeneath(rights, fd)
            if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
        finally:
            os.close(fd)

    try:
        for root in read_roots:
            allow(root, EXECUTE | READ_FILE | READ_DIR)
        allow("/dev/null", READ_FILE | WRITE_FILE | (TRUNCATE if abi >= 3 else 0))
        allow(workdir, handled)
        return int(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0)) == 0
    finally:
        os.close(ruleset)


def _pid_namespace() -> bool:
    """Put this process's next child in a new PID namespace (user namespace first when not root)."""
    try:
        if os.geteuid() == 0:
            return int(_libc.unshare(CLONE_NEWPID)) == 0
        uid, gid = os.geteuid(), os.getegid()
        if int(_libc.unshare(CLONE_NEWUSER | CLONE_NEWPID)) != 0:
            return False
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        return True
    except OSError:
        return False


def _limits(spec: dict[str, Any]) -> None:
    def cap(which: int, value: int) -> None:
        _, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))

    cap(resource.RLIMIT_CPU, int(spec["cpu_s"]))
    cap(resource.RLIMIT_AS, int(spec["memory_bytes"]))
    cap(resource.RLIMIT_FSIZE, int(spec["file_size_bytes"]))
    cap(resource.RLIMIT_NOFILE, int(spec["open_files"]))
    cap(resource.RLIMIT_CORE, 0)
    if os.geteuid() != 0:
        cap(resource.RLIMIT_NPROC, int(spec["processes"]))


def _children(parent: int) -> list[int]:
    """Live (non-zombie) children of ``parent``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == parent and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def _reap() -> None:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def _sweep(deadline: float) -> int:
    """SIGKILL and reap every process re-parented to us; returns how many were killed."""
    me, killed = os.getpid(), set()
    while time.monotonic() < deadline:
        kids = _children(me)
        if not kids:
            break
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        _reap()
    _reap()
    return len(killed)


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    workdir = spec["workdir"]
    report: dict[str, object] = {
        "subreaper": _prctl(PR_SET_CHILD_SUBREAPER, 1),
        "no_new_privs": _prctl(PR_SET_NO_NEW_PRIVS, 1),
    }
    report["pid_namespace"] = bool(spec.get("pid_namespace", True)) and _pid_namespace()
    out = open(spec["output"], "wb")  # noqa: SIM115 - opened before Landlock, handed to the command
    _limits(spec)
    report["landlock"] = bool(spec.get("landlock", True)) and _landlock(workdir, list(spec["read_roots"]))
    started = time.monotonic()
    proc = subprocess.Popen(
        ["/bin/sh", "-c", spec["command"]],
        cwd=workdir,
        env=spec["env"],
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        process_group=0,
        close_fds=True,
    )
    out.close()
    timed_out = False
    try:
        returncode = proc.wait(timeout=float(spec["timeout_s"]))
    except subprocess.TimeoutExpired:
        timed_out = True
        returncode = 124
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if timed_out:
        proc.wait()
    report.update(
        returncode=returncode,
        timed_out=timed_out,
        duration_s=round(time.monotonic() - started, 3),
        stray_killed=_sweep(time.monotonic() + 10.0),
    )
    sys.stdout.write(json.dumps(report))
    return 0


if __name__ == "__main__":  # pragma: no cover - process entry point
    sys.exit(main(sys.argv[1]))
