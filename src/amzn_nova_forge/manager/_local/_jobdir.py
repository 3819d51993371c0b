"""The local job folder: paths, ``status.json``, the log file and worker liveness (no torch here).

Layout of ``<job_dir>`` (mirrors a SageMaker training job's output)::

    job.json                  what to run (written by the manager, read by the worker)
    status.json               status snapshot (written atomically by the worker and the manager)
    train.log                 log lines; training lines use the SMTJ container format
    worker.out                the worker's raw stdout/stderr (tracebacks of crashes land here)
    checkpoints/final/        the trained model (a complete Hugging Face folder)
    output/output.tar.gz      manifest.json + step_wise_training_metrics.csv (+ eval results)
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "JobDir",
    "default_jobs_root",
    "pid_alive",
    "utc_now",
]

#: Raw statuses the local runtime writes.
PENDING, IN_PROGRESS, COMPLETED, FAILED, STOPPED, STOPPING = (
    "Pending",
    "InProgress",
    "Completed",
    "Failed",
    "Stopped",
    "Stopping",
)
TERMINAL = frozenset({COMPLETED, FAILED, STOPPED})
#: Longest wait for the status lock (a status update holds it for milliseconds).
LOCK_TIMEOUT_S = 30.0


def utc_now() -> str:
    """Current UTC time as ISO-8601 with milliseconds and a ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_jobs_root() -> Path:
    """Where local jobs live by default: ``$NOVA_FORGE_LOCAL_JOBS_DIR`` or ``~/.nova-forge/local-jobs``."""
    return Path(os.path.expanduser(os.environ.get("NOVA_FORGE_LOCAL_JOBS_DIR", "~/.nova-forge/local-jobs")))


def _psutil() -> Any:
    try:
        import psutil
    except ImportError as e:
        from amzn_nova_forge.errors import MissingDependencyError

        raise MissingDependencyError(
            "Checking a local job's worker process needs 'psutil'. Install it with: "
            "pip install 'amzn-nova-forge[local]'",
            extra="local",
        ) from e
    return psutil


def pid_alive(pid: int | None, must_contain: str | None = None) -> bool:
    """True when process ``pid`` is running (zombies count as dead), on any OS (``psutil``).

    Args:
        pid: Process id (None → False).
        must_contain: When given, the process command line must contain it (guards against a
            recycled pid). A process whose command line this user may not read, or that is exiting
            (its command line already gone), counts as alive.

    Raises:
        MissingDependencyError: ``psutil`` (the ``[local]`` extra) is not installed.

    Example:
        >>> import os
        >>> pid_alive(os.getpid()), pid_alive(None)
        (True, False)
    """
    if not pid:
        return False
    psutil = _psutil()
    try:
        proc = psutil.Process(int(pid))
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        if must_contain is None:
            return True
        cmdline = proc.cmdline()
        # an exiting process has already dropped its command line but is not gone yet: still alive
        return not cmdline or must_contain in " ".join(cmdline)
    except (psutil.NoSuchProcess, ProcessLookupError):
        return False
    except psutil.AccessDenied:
        return True


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, default=str)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class JobDir:
    """Paths and state files of one local job.

    Example:
        >>> jd = JobDir("/tmp/jobs/my-job-20260101000000-ab12")  # doctest: +SKIP
        >>> jd.read_status()["status"]  # doctest: +SKIP
        'Completed'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().resolve()

    # ---- paths --------------------------------------------------------------------------------
    @property
    def job_file(self) -> Path:
        return self.path / "job.json"

    @property
    def status_file(self) -> Path:
        return self.path / "status.json"

    @property
    def log_file(self) -> Path:
        return self.path / "train.log"

    @property
    def worker_out(self) -> Path:
        return self.path / "worker.out"

    @property
    def output_dir(self) -> Path:
        return self.path / "output"

    @property
    def archive(self) -> Path:
        return self.output_dir / "output.tar.gz"

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints" / "final"

    @property
    def metrics_csv(self) -> Path:
        return self.output_dir / "step_wise_training_metrics.csv"

    # ---- state ----------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.status_file.exists() or self.job_file.exists()

    def read_job(self) -> dict[str, Any]:
        return dict(json.loads(self.job_file.read_text(encoding="utf-8")))

    def write_job(self, data: dict[str, Any]) -> None:
        _write_json_atomic(self.job_file, data)

    def read_status(self) -> dict[str, Any]:
        """The last status snapshot (``{}`` when the file is missing or being replaced)."""
        for _ in range(3):
            try:
                return dict(json.loads(self.status_file.read_text(encoding="utf-8")))
            except FileNotFoundError:
                return {}
            except (json.JSONDecodeError, OSError):  # pragma: no cover - replaced under us; retry
                time.sleep(0.05)
        return {}

    def update_status(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into ``status.json`` (atomic replace) and return the new snapshot.

        A terminal status is never overwritten by a non-terminal one.
        """
        with self._lock():
            return self._update_status(fields)

    def _lock(self) -> Any:
        """An exclusive lock on ``.status.lock`` (``filelock``: ``fcntl`` on POSIX, ``msvcrt`` on Windows).

        Raises:
            JobError: The lock was not obtained within :data:`LOCK_TIMEOUT_S` seconds.
        """
        try:
            from filelock import FileLock, Timeout
        except ImportError as e:
            from amzn_nova_forge.errors import MissingDependencyError

            raise MissingDependencyError(
                "Updating a local job's status needs 'filelock'. Install it with: pip install 'amzn-nova-forge[local]'",
                extra="local",
            ) from e
        import contextlib

        @contextlib.contextmanager
        def held() -> Iterator[None]:
            self.path.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.path / ".status.lock"))
            try:
                lock.acquire(timeout=LOCK_TIMEOUT_S)
            except Timeout as e:
                from amzn_nova_forge.errors import JobError

                raise JobError(
                    f"Could not lock {self.path / '.status.lock'} within {LOCK_TIMEOUT_S:.0f}s: another process "
                    "holds it. If no local job is running in this folder, delete the lock file.",
                    job_id=self.path.name,
                ) from e
            try:
                yield
            finally:
                lock.release()

        return held()

    def _update_status(self, fields: dict[str, Any]) -> dict[str, Any]:
        current = self.read_status()
        if current.get("status") in TERMINAL and fields.get("status") not in (None, *TERMINAL):
            fields.pop("status")
        outputs = fields.pop("outputs", None)
        current.update(fields)
        if outputs:
            current.setdefault("outputs", {}).update(outputs)
        current["updated_at"] = utc_now()
        _write_json_atomic(self.status_file, current)
        return current

    def log(self, line: str) -> None:
        """Append one line to ``train.log`` with an ISO-8601 UTC timestamp prefix."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "a", encoding="utf-8") as f:
            f.writelines(f"{utc_now()} {part}\n" for part in str(line).splitlines() or [""])

    def tail(self, n: int = 20) -> list[str]:
        """The last ``n`` lines of ``train.log`` and ``worker.out`` (for failure messages)."""
        lines: list[str] = []
        for f in (self.log_file, self.worker_out):
            if f.exists():
                lines.extend(f.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        return lines[-n:]
