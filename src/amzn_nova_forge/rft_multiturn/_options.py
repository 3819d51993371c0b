"""Options of :meth:`RFTMultiturnInfrastructure.start_environment`, checked, and their YAML config files.

``start_environment(config_name="fast")`` reads ``configs/fast.yaml`` (or
``<config_path>/fast.yaml``); the file's keys replace the matching arguments. Allowed keys
are the option names below; anything else is an error naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError

__all__ = ["WorkerOptions", "load_config"]

#: Longest wait (s) SQS allows for one long poll.
MAX_SQS_WAIT = 20.0
#: Upper bound on rollouts one worker runs at once (threads).
MAX_CONCURRENT_ROLLOUTS = 1024


@dataclass(frozen=True)
class WorkerOptions:
    """Validated worker settings (the official ``start_environment`` parameters plus ``num_workers``)."""

    vf_env_args: dict[str, Any] = field(default_factory=dict)
    max_concurrent_rollouts: int = 40
    max_rollout_timeout: float = 300.0
    completion_poll_timeout: float = 600.0
    completion_poll_interval: float = 0.5
    rollout_poll_interval: float = 1.0
    log_output_directory: str | None = None
    queue_url: str | None = None
    num_workers: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.vf_env_args, dict):
            raise ConfigError(f"vf_env_args must be a dict of environment arguments, got {self.vf_env_args!r}.")
        for name, low, high in (
            ("num_workers", 1, 256),
            ("max_concurrent_rollouts", 1, MAX_CONCURRENT_ROLLOUTS),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"{name} must be an integer from {low} to {high}, got {value!r}.")
        for name, flow, fhigh in (
            ("max_rollout_timeout", 1.0, 86400.0),
            ("completion_poll_timeout", 1.0, 86400.0),
            ("completion_poll_interval", 0.0, 60.0),
            ("rollout_poll_interval", 0.0, MAX_SQS_WAIT),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not flow <= value <= fhigh:
                raise ConfigError(f"{name} must be a number from {flow:g} to {fhigh:g} seconds, got {value!r}.")
        if self.queue_url is not None and not (
            isinstance(self.queue_url, str) and self.queue_url.startswith("https://sqs.")
        ):
            raise ConfigError(
                f"queue_url must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>), "
                f"got {self.queue_url!r}."
            )
        if self.log_output_directory is not None and not str(self.log_output_directory).strip():
            raise ConfigError("log_output_directory must be a folder path, not an empty string.")

    def with_config(self, config: dict[str, Any]) -> WorkerOptions:
        """These options with the values of a loaded config file applied."""
        return replace(self, **config)

    def worker_args(self) -> list[str]:
        """Command-line flags of the worker process for these options (not the queue/env flags)."""
        args = [
            "--concurrency",
            str(self.max_concurrent_rollouts),
            "--rollout-timeout",
            str(float(self.max_rollout_timeout)),
            "--poll-wait",
            str(float(self.rollout_poll_interval)),
            "--completion-timeout",
            str(float(self.completion_poll_timeout)),
            "--completion-interval",
            str(float(self.completion_poll_interval)),
        ]
        if self.log_output_directory:
            args += ["--log-dir", str(self.log_output_directory)]
        return args


_KEYS = frozenset(f.name for f in fields(WorkerOptions))


def load_config(config_name: str | None, config_path: str | None) -> dict[str, Any]:
    """Read ``<config_path or ./configs>/<config_name>.yaml``; ``{}`` when ``config_name`` is None.

    Raises:
        ConfigError: ``config_path`` without ``config_name``, a missing or unreadable file, a
            file that is not a mapping, or an unknown key (the message names file and key).
    """
    if config_name is None:
        if config_path is not None:
            raise ConfigError("config_path is only used with config_name (the YAML file's name without .yaml).")
        return {}
    if not config_name or "/" in config_name or config_name.startswith("."):
        raise ConfigError(f"config_name must be a file name without folder or extension, got {config_name!r}.")
    import yaml

    folder = Path(config_path).expanduser() if config_path else Path("configs")
    path = folder / f"{config_name.removesuffix('.yaml')}.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as e:
        raise ConfigError(f"Worker config {path} not found (config_name={config_name!r}).") from e
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"Worker config {path} could not be read: {e}") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Worker config {path} must be a mapping of option: value, got {type(data).__name__}.")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise ConfigError(
            f"Worker config {path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}."
        )
    return dict(data)
