"""Job result cache: an identical job configuration returns the earlier job's result.

Enabled with ``ForgeConfig(enable_job_caching=True)`` (service classes; folder
``ForgeConfig.job_cache_dir``, default ``~/.nova-forge/cache``) or
``NovaModelCustomizer(enable_job_caching=True)`` (folder ``NOVA_FORGE_JOB_CACHE_DIR``, default
``.cached-nova-jobs``, as the published customizer). Each started job is one JSON file: the
result's ``to_dict()`` plus ``_job_cache_hash`` (SHA-256 of the canonical JSON of every
parameter) and ``_all_parameters`` (those parameters, which the matching reads).

Two jobs match when the parameter groups that ``JobCachingConfig`` includes are equal:

* core (``include_core``): model, method, platform, job kind, data and validation data paths,
  model path, output path, region, RFT lambda, data-mixing config and what the verb adds
  (``param_eval_task`` …);
* recipe (``include_recipe``): recipe path and every override;
* infra (``include_infra``): instance type and count;
* ``include_params``: more names compared (e.g. ``job_name``, not compared otherwise);
* ``exclude_params``: names never compared (``"*"``: compare only ``include_params``).

A matching result is reused only while its job is in ``allowed_statuses`` (one status call);
an unreadable cache file is skipped with a warning.
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

from amzn_nova_forge.core.config import JobCachingConfig
from amzn_nova_forge.errors import NovaForgeError

if TYPE_CHECKING:
    from amzn_nova_forge.manager._base import JobConfig
    from amzn_nova_forge.model._context import CacheSettings, JobContext
    from amzn_nova_forge.model.result._base import BaseJobResult

__all__ = ["INFRA_PARAMS", "RECIPE_PARAMS", "cache_key", "job_parameters", "lookup", "matches", "store"]

logger = logging.getLogger(__name__)

#: Parameters of the recipe group (plus every ``override_<key>``).
RECIPE_PARAMS = ("recipe_path",)
#: Parameters of the infra group.
INFRA_PARAMS = ("instance_type", "instance_count")
#: Parameters compared only when named in ``include_params``.
OPT_IN_PARAMS = ("job_name",)


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
    ctx: JobContext,
    *,
    kind: str,
    method: Any,
    job_config: JobConfig,
    overrides: Mapping[str, Any] | None,
    recipe_path: str | None,
    job_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters that identify a job for the cache (plain JSON data)."""
    infra = ctx.infra
    params: dict[str, Any] = {
        "model": ctx.model.name,
        "method": getattr(method, "value", method),
        "platform": ctx.platform.value,
        "job_kind": kind,
        "data_s3_path": job_config.data_s3_path,
        "validation_data_s3_path": job_config.validation_data_s3_path,
        "model_path": job_config.model_name_or_path,
        "output_s3_path": job_config.output_s3_path,
        "recipe_path": recipe_path,
        "overrides": dict(overrides or {}),
        "instance_type": infra.instance_type,
        "instance_count": infra.instance_count,
        "rft_lambda_arn": job_config.rft_lambda_arn,
        "data_mixing": job_config.data_mixing_config,
        "region": ctx.region,
        "job_name": job_name,
    }
    for key, value in (extra or {}).items():
        params[f"param_{key}"] = value
    return _plain(params)  # type: ignore[no-any-return]


def _flat(params: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` spread into ``override_<key>`` entries (one comparable entry per value)."""
    out = {k: v for k, v in params.items() if k != "overrides"}
    for key, value in (params.get("overrides") or {}).items():
        out[f"override_{key}"] = value
    return out


def matches(config: JobCachingConfig, stored: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """True when ``stored`` and ``current`` parameters agree on every group ``config`` includes.

    Example:
        >>> a = {"model": "NOVA_LITE_2", "overrides": {"lr": 1e-5}, "instance_count": 2}
        >>> matches(JobCachingConfig(), a, {**a, "instance_count": 4})
        True
        >>> matches(JobCachingConfig(include_infra=True), a, {**a, "instance_count": 4})
        False
    """
    s, c = _flat(stored), _flat(current)
    excluded = set(config.exclude_params)
    if any(s.get(p) != c.get(p) for p in config.include_params):
        return False
    if "*" in excluded:
        return True
    keys = set(s) | set(c)
    overrides = {k for k in keys if k.startswith("override_")}
    groups: list[set[str]] = []
    if config.include_core:
        groups.append(keys - overrides - set(RECIPE_PARAMS) - set(INFRA_PARAMS) - set(OPT_IN_PARAMS))
    if config.include_recipe:
        groups.append(set(RECIPE_PARAMS) | overrides)
    if config.include_infra:
        groups.append(set(INFRA_PARAMS))
    return all(s.get(k) == c.get(k) for group in groups for k in group - excluded)


def cache_key(params: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``params``."""
    blob = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _entries(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def lookup(settings: CacheSettings, params: Mapping[str, Any]) -> BaseJobResult | None:
    """The newest cached result matching ``params`` (per ``settings.config``) whose job status is allowed."""
    from amzn_nova_forge.model.result._base import BaseJobResult

    key = cache_key(params)
    allowed = set(settings.config.allowed_statuses)
    for path in _entries(Path(settings.directory)):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            logger.warning("Skipping unreadable job cache file %s (%s).", path, e)
            continue
        if not isinstance(data, dict):
            logger.warning("Skipping job cache file %s: not a JSON object.", path)
            continue
        stored = data.get("_all_parameters")
        if data.get("_job_cache_hash") != key and not (
            isinstance(stored, Mapping) and matches(settings.config, stored, params)
        ):
            continue
        try:
            result = BaseJobResult.from_dict(data)
            status, raw = result.get_job_status()
        except (NovaForgeError, KeyError, ValueError, TypeError) as e:
            logger.warning("Cached job in %s cannot be checked (%s); not reusing it.", path, e)
            continue
        if status in allowed:
            return result
        logger.info("Cached job %s is %s; starting a new job.", result.job_id, raw)
    return None


def store(
    settings: CacheSettings,
    key: str,
    result: BaseJobResult,
    *,
    job_name: str,
    kind: str,
    parameters: Mapping[str, Any],
) -> Path | None:
    """Write ``result`` to the cache (atomic). A cache write failure only logs a warning."""
    from amzn_nova_forge.core.storage import write_text

    directory = Path(settings.directory)
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
