"""Run commands from model replies confined and limited (command-executing RFT environments).

Each :meth:`Sandbox.run` starts a supervisor process (``_sandbox_exec.py``) in a new session
that runs the command with ``/bin/sh -c`` and:

========================  ===========================================================  =========
Containment               How                                                          Needs
========================  ===========================================================  =========
time                      killed at ``timeout_s`` (whole process group, then every     always
                          descendant: the supervisor is a child subreaper)
background processes      anything still running when the command ends is killed,      always
                          also after ``setsid`` (re-parented to the subreaper)
CPU                       ``RLIMIT_CPU``                                               always
memory                    ``RLIMIT_AS`` (address space per process)                    always
file size                 ``RLIMIT_FSIZE`` (also bounds the captured output)           always
open files                ``RLIMIT_NOFILE``                                            always
processes                 ``RLIMIT_NPROC`` (per user; the kernel exempts root)          non-root
environment               only ``PATH``, ``HOME``/``TMPDIR`` (the folder), ``LANG``:    always
                          no AWS credentials
working folder            private ``0700`` temporary folder, removed by :meth:`close`  always
writes outside folder     denied by Landlock (also reads outside system folders,        Landlock
                          e.g. ``~/.aws``)                                             (≥ 5.13)
leftovers after the end   PID namespace: the kernel kills everything when the          userns or
                          command (its init) exits                                     root
========================  ===========================================================  =========

Not contained: network access (there is no network namespace), total memory across many
processes (``RLIMIT_AS`` is per process), and, without Landlock, writes anywhere the
worker's user may write. :func:`confinement_support` says what this machine provides;
``Sandbox(require_confinement=True)`` (the default) refuses to run without Landlock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from amzn_nova_forge.errors import ConfigError, SandboxUnavailableError

__all__ = ["CommandResult", "Sandbox", "SandboxLimits", "confinement_support", "safe_relative_path"]

_EXEC = Path(__file__).with_name("_sandbox_exec.py")
_MiB = 1024 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one command (each process it starts gets the per-process ones).

    Attributes:
        timeout_s: Wall-clock seconds before the command and everything it started are killed.
        cpu_s: CPU seconds per process (``RLIMIT_CPU``).
        memory_bytes: Address space per process (``RLIMIT_AS``).
        file_size_bytes: Largest file a process may write (``RLIMIT_FSIZE``); output beyond it is cut.
        open_files: Open file descriptors per process (``RLIMIT_NOFILE``).
        processes: Processes of the user (``RLIMIT_NPROC``; not applied to root).
        output_chars: Characters of output returned (the end of it).
    """

    timeout_s: float = 30.0
    cpu_s: int = 30
    memory_bytes: int = 1024 * _MiB
    file_size_bytes: int = 64 * _MiB
    open_files: int = 256
    processes: int = 512
    output_chars: int = 4000

    def __post_init__(self) -> None:
        for name, low, high in (
            ("timeout_s", 0.1, 3600.0),
            ("cpu_s", 1, 3600),
            ("memory_bytes", 128 * _MiB, 1 << 40),
            ("file_size_bytes", 1, 1 << 40),
            ("open_files", 16, 65536),
            ("processes", 8, 1 << 20),
            ("output_chars", 1, 1 << 20),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ConfigError(f"SandboxLimits.{name} must be between {low:g} and {high:g}, got {value!r}.")


@dataclass(frozen=True)
class CommandResult:
    """What one sandboxed command did.

    Attributes:
        returncode: Exit status (124 after the timeout; negative: killed by that signal).
        output: The end of stdout and stderr together (at most ``output_chars``).
        timed_out: The command ran past ``timeout_s``.
        stray_killed: Processes still running at the end that were killed.
        confinement: Which mechanisms were in effect (``landlock``, ``pid_namespace``, ``subreaper``).
    """

    returncode: int
    output: str
    timed_out: bool
    stray_killed: int
    confinement: dict[str, bool] = field(default_factory=dict)


def confinement_support() -> dict[str, bool]:
    """What this machine provides: ``{"landlock": ..., "linux": ...}`` (PID namespaces are tried per run)."""
    if not sys.platform.startswith("linux"):
        return {"linux": False, "landlock": False}
    from amzn_nova_forge.rft_multiturn._sandbox_exec import landlock_abi

    return {"linux": True, "landlock": landlock_abi() > 0}


def safe_relative_path(root: Path, name: str) -> Path:
    """``root / name`` for a relative ``name`` that stays inside ``root``.

    Raises:
        ConfigError: ``name`` is absolute, empty, or climbs out with ``..``.
    """
    pure = PurePosixPath(str(name))
    if not str(name) or pure.is_absolute() or ".." in pure.parts or "\\" in str(name):
        raise ConfigError(f"Path {name!r} must be relative to the working folder, without '..'.")
    target = (root / pure).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ConfigError(f"Path {name!r} leaves the working folder {root}.")
    return target


class Sandbox:
    """A private working folder in which model commands run confined (see the module doc).

    Args:
        limits: Per-command limits.
        require_confinement: Refuse to run (:class:`~amzn_nova_forge.errors.SandboxUnavailableError`)
            when Landlock is unavailable, i.e. when writes outside the folder could not be stopped.

    Example:
        >>> with Sandbox(SandboxLimits(timeout_s=5)) as box:  # doctest: +SKIP
        ...     box.run("echo hi > note.txt && cat note.txt").output
        'hi\\n'
    """

    def __init__(
        self, limits: SandboxLimits | None = None, *, require_confinement: bool = True, pid_namespace: bool = True
    ) -> None:
        self.limits = limits or SandboxLimits()
        support = confinement_support()
        if not support["linux"]:
            raise SandboxUnavailableError("Sandboxed command execution needs Linux (process groups, rlimits, /proc).")
        if require_confinement and not support["landlock"]:
            raise SandboxUnavailableError(
                "This kernel has no Landlock (Linux >= 5.13 with landlock in the LSM list), so commands could "
                "write outside their folder. Run these workers on EC2/ECS, or pass require_confinement=False to "
                "accept time/resource limits only."
            )
        self._require = require_confinement
        self._pid_namespace = pid_namespace
        self._base = Path(tempfile.mkdtemp(prefix="nova-rft-sandbox-"))
        os.chmod(self._base, 0o700)
        self.workdir = self._base / "work"
        self.workdir.mkdir(mode=0o700)
        (self.workdir / ".tmp").mkdir(mode=0o700)

    def _env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.workdir),
            "TMPDIR": str(self.workdir / ".tmp"),
            "LANG": "C.UTF-8",
        }

    def _read_roots(self) -> list[str]:
        from amzn_nova_forge.rft_multiturn._sandbox_exec import READ_ONLY_ROOTS

        return [*READ_ONLY_ROOTS, sys.base_prefix, sys.prefix]

    def write_file(self, name: str, content: str) -> Path:
        """Write a file at ``name`` (relative, inside the folder) before commands run; returns its path."""
        path = safe_relative_path(self.workdir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return path

    def run(self, command: str) -> CommandResult:
        """Run ``command`` with ``/bin/sh -c`` in the working folder; never raises for the command's failure."""
        if not self.workdir.is_dir():
            raise ConfigError("This Sandbox was closed; create a new one.")
        scratch = Path(tempfile.mkdtemp(prefix="run-", dir=self._base))
        spec = {
            **asdict(self.limits),
            "command": command,
            "workdir": str(self.workdir),
            "output": str(scratch / "output"),
            "env": self._env(),
            "read_roots": self._read_roots(),
            "landlock": True,
            "pid_namespace": self._pid_namespace,
        }
        (scratch / "spec.json").write_text(json.dumps(spec))
        proc = subprocess.Popen(
            [sys.executable, "-I", str(_EXEC), str(scratch / "spec.json")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=self._env(),
        )
        try:
            stdout, stderr = proc.communicate(timeout=self.limits.timeout_s + 20.0)
        except subprocess.TimeoutExpired:  # the supervisor itself hung: kill its whole session
            _killpg(proc.pid)
            stdout, stderr = proc.communicate()
        try:
            report: dict[str, Any] = json.loads(stdout or b"{}")
        except json.JSONDecodeError:
            report = {}
        if "returncode" not in report:
            shutil.rmtree(scratch, ignore_errors=True)
            raise SandboxUnavailableError(
                f"The sandbox supervisor failed (exit {proc.returncode}): {stderr.decode(errors='replace')[-2000:]}"
            )
        if self._require and not report.get("landlock"):
            shutil.rmtree(scratch, ignore_errors=True)
            raise SandboxUnavailableError("Landlock could not be applied to the command; it was not confined.")
        output = _tail(scratch / "output", self.limits.output_chars)
        shutil.rmtree(scratch, ignore_errors=True)
        return CommandResult(
            returncode=int(report["returncode"]),
            output=output,
            timed_out=bool(report["timed_out"]),
            stray_killed=int(report.get("stray_killed", 0)),
            confinement={k: bool(report.get(k)) for k in ("landlock", "pid_namespace", "subreaper", "no_new_privs")},
        )

    def close(self) -> None:
        """Remove the working folder."""
        shutil.rmtree(self._base, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def _killpg(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, chars: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - chars * 4))
            return f.read().decode(errors="replace")[-chars:]
    except OSError:
        return ""
