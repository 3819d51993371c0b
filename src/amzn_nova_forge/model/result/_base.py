"""``BaseJobResult``: a JSON-serialisable handle on a job, whose live calls go to its runtime.

A result holds only plain data (job id, start time, platform, region, platform
extras and its own fields). ``get_job_status()`` asks the runtime class registered
for its platform, from the :class:`~amzn_nova_forge.manager._base.JobRef` alone, so
``BaseJobResult.load(path)`` returns a working object of the right subclass in a
fresh process.
"""

from __future__ import annotations

import abc
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from amzn_nova_forge.core.enums import JobStatus, Platform
from amzn_nova_forge.errors import ConfigError, JobFailedError, JobTimeoutError
from amzn_nova_forge.manager._base import JobInfo, JobRef

__all__ = ["RESULT_CLASSES", "BaseJobResult"]

logger = logging.getLogger(__name__)

#: ``__class_name__`` -> result class, filled by ``__init_subclass__``.
RESULT_CLASSES: dict[str, type[BaseJobResult]] = {}
#: Modules that define result classes, imported by ``load`` so every class is registered.
_RESULT_MODULES = (
    "amzn_nova_forge.model.result._training",
    "amzn_nova_forge.model.result._evaluation",
    "amzn_nova_forge.model.result._inference",
    "amzn_nova_forge.model.result._single",
)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _parse_dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


class BaseJobResult(abc.ABC):  # noqa: B024 - abstract by intent; subclasses pick the fields
    """Base class of every job result.

    Attributes:
        job_id: The job identifier on its platform.
        started_time: When the job was started (UTC).
        platform: The :class:`Platform` the job runs on.
        region: AWS region of the job (None for local jobs).

    Example:
        >>> result = BaseJobResult.load("./my-job_SMTJ.json")  # doctest: +SKIP
        >>> status, raw = result.get_job_status()  # doctest: +SKIP
    """

    #: The platform of this result class; None for classes that serve several platforms.
    platform_default: ClassVar[Platform | None] = None

    def __init__(
        self,
        job_id: str,
        started_time: datetime | None = None,
        *,
        platform: Platform | str | None = None,
        region: str | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        self.job_id = job_id
        self.started_time = started_time or datetime.now(UTC)
        p = platform if platform is not None else self.platform_default
        if p is None:
            raise ConfigError(f"{type(self).__name__} needs a platform.")
        self.platform = Platform(p)
        self.region = region
        self.extras: dict[str, Any] = dict(extras or {})
        self._final: JobInfo | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        RESULT_CLASSES[cls.__name__] = cls

    # ---- live calls -------------------------------------------------------------------------
    @property
    def ref(self) -> JobRef:
        """The JSON-safe reference the runtime uses to find this job."""
        return JobRef(platform=self.platform, job_id=self.job_id, region=self.region, extras=self.extras)

    def _runtime_class(self) -> Any:
        from amzn_nova_forge.manager._registry import get_runtime_class

        return get_runtime_class(self.platform)

    def status(self) -> JobInfo:
        """One status snapshot (cached once the job is terminal).

        Example:
            >>> info = result.status()  # doctest: +SKIP
            >>> info.status, info.raw_status, info.message  # doctest: +SKIP
        """
        if self._final is not None:
            return self._final
        info: JobInfo = self._runtime_class().job_info(self.ref)
        if info.status.is_terminal:
            self._final = info
        return info

    def get_job_status(self) -> tuple[JobStatus, str]:
        """Return ``(status, raw_status)``.

        Transitional raw statuses such as ``"Stopping"`` are ``IN_PROGRESS``; a raw
        status the SDK does not know is ``UNKNOWN`` (never mapped to FAILED).

        Example:
            >>> status, raw = result.get_job_status()  # doctest: +SKIP
            >>> status == JobStatus.COMPLETED  # doctest: +SKIP
        """
        info = self.status()
        return info.status, info.raw_status

    def wait(
        self,
        *,
        timeout: float | None = None,
        poll_every: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        poll: float | None = None,
    ) -> JobInfo:
        """Poll until the job is terminal; return the final :class:`JobInfo` (does not raise on failure).

        Args:
            timeout: Give up after this many seconds (default: wait for ever).
            poll_every: Seconds between status calls (default 30 for cloud jobs, 1 for local ones).
            sleep: The sleep function (tests pass a fake).
            poll: The official name of ``poll_every`` (``wait(poll=30, timeout=7200)``).

        Raises:
            JobTimeoutError: ``timeout`` seconds passed first.

        Example:
            >>> info = result.wait(timeout=3600, poll_every=60)  # doctest: +SKIP
            >>> result.raise_for_status()  # doctest: +SKIP
        """
        from amzn_nova_forge.core._progress import job_progress

        poll_every = poll if poll_every is None else poll_every
        if poll_every is None:
            poll_every = float(self._runtime_class().capabilities.poll_seconds)
        deadline = None if timeout is None else time.monotonic() + timeout
        data = getattr(self._runtime_class(), "job_status_data", None)  # step/loss where the runtime has them
        with job_progress(self.job_id, (lambda: data(self.ref).get("progress")) if data else None) as show:
            while True:
                info = self.status()
                show(info.raw_status)
                if info.status.is_terminal:
                    return info
                if deadline is not None and time.monotonic() >= deadline:
                    raise JobTimeoutError(
                        f"Job {self.job_id!r} still {info.raw_status} after {timeout:.0f}s.", job_id=self.job_id
                    )
                sleep(poll_every)

    def raise_for_status(self) -> None:
        """Raise :class:`JobFailedError` if the job ended FAILED or STOPPED (its message has the reason).

        Example:
            >>> result.wait(); result.raise_for_status()  # doctest: +SKIP
        """
        info = self.status()
        if info.status in (JobStatus.FAILED, JobStatus.STOPPED):
            raise JobFailedError(
                f"{self.platform.value} job {self.job_id!r} {info.raw_status}: {info.message or 'no reason given'}",
                job_id=self.job_id,
                reason=info.message,
            )

    def enable_job_notifications(
        self,
        emails: list[str],
        output_s3_path: str | None = None,
        region: str | None = "us-east-1",
        **platform_kwargs: Any,
    ) -> None:
        """Email ``emails`` when this job reaches a terminal state (SMTJ and SMHP).

        See :mod:`amzn_nova_forge.notifications` for the infrastructure it creates.

        Raises:
            ValueError: Required parameters are missing or invalid.
            NotificationManagerInfraError: The infrastructure could not be set up.

        Example:
            >>> result.enable_job_notifications(emails=["me@example.com"])  # doctest: +SKIP
        """
        from amzn_nova_forge.notifications import enable_job_notifications

        enable_job_notifications(self, emails, output_s3_path=output_s3_path, region=region, **platform_kwargs)

    # ---- serialisation -----------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        """Subclass fields as plain JSON data (override and extend with ``super()``)."""
        return {}

    @classmethod
    def _from_fields(cls, base: dict[str, Any], data: Mapping[str, Any]) -> BaseJobResult:
        """Build an instance from ``base`` kwargs plus the subclass ``data`` (override)."""
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: no clients, no secrets."""
        d: dict[str, Any] = {
            "__class_name__": type(self).__name__,
            "job_id": self.job_id,
            "started_time": _iso(self.started_time),
            "platform": self.platform.value,
            "region": self.region,
            "extras": dict(self.extras),
        }
        d.update(self._fields())
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaseJobResult:
        """Rebuild a result (of the subclass named in ``__class_name__``) from :meth:`to_dict` data."""
        import importlib

        name = data.get("__class_name__") or cls.__name__
        if name not in RESULT_CLASSES:
            for mod in _RESULT_MODULES:
                try:
                    importlib.import_module(mod)
                except ModuleNotFoundError:  # pragma: no cover - module not written yet
                    continue
        target = RESULT_CLASSES.get(name)
        if target is None:
            raise ConfigError(f"Unknown result class {name!r}; known: {sorted(RESULT_CLASSES)}.")
        base = {
            "job_id": data["job_id"],
            "started_time": _parse_dt(data.get("started_time")),
            "platform": data.get("platform"),
            "region": data.get("region"),
            "extras": data.get("extras") or {},
        }
        return target._from_fields(base, data)

    def dump(self, file_path: str | None = None, file_name: str | None = None) -> Path:
        """Save this result as JSON; returns the file's path.

        Args:
            file_path: Directory to save into (default: the current directory).
            file_name: File name (default: ``<job_id>_<platform>.json``; ``/`` and ``:`` in ARNs become ``-``).

        Example:
            >>> result.dump()  # doctest: +SKIP
            PosixPath('my-job_SMTJ.json')
        """
        from amzn_nova_forge.core.storage import write_text

        if file_name is None:
            safe_id = self.job_id.replace("/", "-").replace(":", "-")
            file_name = f"{safe_id}_{self.platform.value}.json"
        path = Path(file_path or ".") / file_name
        write_text(str(path), json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path

    @classmethod
    def load(cls, file_path: str) -> BaseJobResult:
        """Load a result saved by :meth:`dump` (returns the right subclass).

        Example:
            >>> job_result = BaseJobResult.load("./my_job_result.json")  # doctest: +SKIP
        """
        from amzn_nova_forge.model.result._load import load_result

        return load_result(cls, file_path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(job_id={self.job_id!r}, platform={self.platform.value!r})"

    def _repr_html_(self) -> str:
        from amzn_nova_forge.model.result._html import result_html

        return result_html(self)
