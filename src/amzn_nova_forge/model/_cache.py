"""Job result cache: an identical job configuration returns the earlier job's result.

Enabled per customizer with ``enable_job_caching=True``. Each started job is stored as
one JSON file in ``job_cache_dir()`` (``NOVA_FORGE_JOB_CACHE_DIR``, default
``.cached-nova-jobs``; ``~`` is expanded). The file holds the result's ``to_dict()`` plus
``_job_cache_hash`` (SHA-256 of the canonical JSON of the job's parameters) and
``_all_parameters`` (those parameters, for humans).

A cached result is reused only while its job is COMPLETED or IN_PROGRESS (one status
call); a failed or stopped job, or one whose status cannot be read, is not reused.

Parameters that make two jobs different: model, method, platform, job kind, data and
validation data paths, model path, output path, recipe path, every override, instance
type and count, RFT lambda, data-mixing config, and anything the verb adds (eval task …).
The job name is not one of them (as in the published SDK), so re-running a cell with a
new name reuses the job.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amzn_nova_forge._config import job_cache_dir
from amzn_nova_forge.core.enums import JobStatus
from amzn_nova_forge.errors import NovaForgeError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model._customizer import NovaModelCustomizer
    from amzn_nova_forge.model.result._base import BaseJobResult

__all__ = ["ALLOWED_STATUSES", "cache_key", "job_parameters", "lookup", "store"]

logger = logging.getLogger(__name__)

ALLOWED_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.IN_PROGRESS})


def _plain(value: Any) -> Any:
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return getattr(value, "name", None) or value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def job_parameters(
    customizer: NovaModelCustomizer,
    *,
    kind: str,
    method: Any,
    job_config: JobConfig,
    overrides: Mapping[str, Any] | None,
    recipe_path: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters that identify a job for the cache (plain JSON data)."""
    infra = customizer.infra
    params: dict[str, Any] = {
        "model": customizer.model.name,
        "method": getattr(method, "value", method),
        "platform": customizer.platform.value,
        "job_kind": kind,
        "data_s3_path": job_config.data_s3_path,
        "validation_data_s3_path": job_config.validation_data_s3_path,
        "model_path": job_config.model_name_or_path,
        "output_s3_path": job_config.output_s3_path,
        "recipe_path": recipe_path,
        "overrides": dict(overrides or {}),
        "instance_type": getattr(infra, "instance_type", None),
        "instance_count": getattr(infra, "instance_count", None),
        "rft_lambda_arn": job_config.rft_lambda_arn,
        "data_mixing": job_config.data_mixing_config,
        "region": customizer.region,
    }
    for key, value in (extra or {}).items():
        params[f"param_{key}"] = value
    return _plain(params)  # type: ignore[no-any-return]


def cache_key(params: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``params``."""
    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _entries(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def lookup(key: str) -> BaseJobResult | None:
    """The newest cached result with this key whose job is COMPLETED or IN_PROGRESS, else None."""
    from amzn_nova_forge.model.result._base import BaseJobResult

    for path in _entries(Path(job_cache_dir())):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            logger.warning("Ignoring unreadable job cache file %s", path)
            continue
        if data.get("_job_cache_hash") != key:
            continue
        try:
            result = BaseJobResult.from_dict(data)
            status, raw = result.get_job_status()
        except (NovaForgeError, KeyError, ValueError) as e:
            logger.warning("Cached job in %s cannot be checked (%s); not reusing it.", path, e)
            continue
        if status in ALLOWED_STATUSES:
            return result
        logger.info("Cached job %s is %s; starting a new job.", result.job_id, raw)
    return None


def store(
    key: str,
    result: BaseJobResult,
    *,
    job_name: str,
    kind: str,
    parameters: Mapping[str, Any],
) -> Path | None:
    """Write ``result`` to the cache (atomic). A cache write failure only logs a warning."""
    from amzn_nova_forge.core.storage import write_text

    directory = Path(job_cache_dir())
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:-3]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in job_name)
    path = directory / f"{safe}_{kind}_{stamp}.json"
    data = result.to_dict()
    data["_job_cache_hash"] = key
    data["_all_parameters"] = dict(parameters)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_text(str(path), json.dumps(data, indent=2, default=str) + "\n")
    except OSError as e:
        logger.warning("Could not write job cache file %s: %s", path, e)
        with contextlib.suppress(OSError):
            os.unlink(path)
        return None
    return path
