"""Data mixing configuration of a customizer (CPT / SFT on HyperPod and serverless).

The config maps ``customer_data_percent`` and ``nova_<source>_percent`` to percentages.
Defaults: 50% customer data, Nova data split 30% code / 70% general (the published
example). ``set_data_mixing_config`` sets every known field to 0, applies the given
values (``dataset_catalog`` is system-managed and dropped with a warning, ``None`` values
are dropped) and validates with the recipe rules: each 0–100; when customer data is 100%
the Nova percentages sum to 0, otherwise to 100. The recipe builder writes the config into
the recipe's ``data_mixing`` section at train time.
"""

from __future__ import annotations

import logging
from typing import Any

from amzn_nova_forge.core.enums import Platform, TrainingMethod
from amzn_nova_forge.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "normalized", "require_enabled", "validated_config"]

logger = logging.getLogger(__name__)

DEFAULT_CONFIG: dict[str, float] = {
    "customer_data_percent": 50,
    "nova_code_percent": 30,
    "nova_general_percent": 70,
}


def require_enabled(enabled: bool) -> None:
    """Raise unless data mixing was enabled at construction.

    Raises:
        ConfigError: Data mixing is not enabled.
    """
    if not enabled:
        raise ConfigError(
            "Data mixing is not enabled. Create the trainer (or customizer) with data_mixing_enabled=True "
            "(CPT, SFT_LORA or SFT_FULL on SMHPRuntimeManager)."
        )


def validated_config(config: dict[str, Any], platform: Platform, method: TrainingMethod) -> dict[str, Any]:
    """Validate a data mixing configuration; return the full config to store.

    Every known field starts at 0; ``dataset_catalog`` (system-managed) and ``None`` values are
    dropped.

    Raises:
        ConfigError: The configuration is not a dict or is invalid.

    Example:
        >>> validated_config({"customer_data_percent": 100}, Platform.SMHP, TrainingMethod.SFT_LORA)
        {'customer_data_percent': 100, 'nova_code_percent': 0, 'nova_general_percent': 0}
    """
    if not isinstance(config, dict):
        raise ConfigError(f"Data mixing config must be a dict, got {type(config).__name__}.")
    given = dict(config)
    if "dataset_catalog" in given:
        logger.warning("dataset_catalog is system-managed and cannot be set; ignoring it.")
        given.pop("dataset_catalog")
    given = {k: v for k, v in given.items() if v is not None}
    merged: dict[str, Any] = {k: 0 for k in DEFAULT_CONFIG}
    merged.update(given)
    from amzn_nova_forge.recipe._validate import validate_data_mixing

    validated = validate_data_mixing(merged, platform, method)
    return {k: _int_if_whole(v) for k, v in validated.items()}


def _int_if_whole(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def normalized(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the ``nova_*_percent`` values scaled to sum to 100 (customer data kept).

    Raises:
        ConfigError: Not a dict, a non-numeric or negative percentage, or no Nova percentage above 0
            while customer data is below 100.

    Example:
        >>> normalized({"customer_data_percent": 50, "nova_code_percent": 3, "nova_general_percent": 7})
        {'customer_data_percent': 50, 'nova_code_percent': 30, 'nova_general_percent': 70}
    """
    if not isinstance(config, dict):
        raise ConfigError(f"Data mixing config must be a dict, got {type(config).__name__}.")
    nova = {k: v for k, v in config.items() if k.startswith("nova_") and k.endswith("_percent") and v is not None}
    for key, value in nova.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"Data mixing {key} must be a number >= 0, got {value!r}.")
    if config.get("customer_data_percent") == 100:
        return dict(config)
    total = float(sum(nova.values()))
    if total <= 0:
        raise ConfigError("Nothing to normalize: give at least one nova_<source>_percent above 0.")
    out = dict(config)
    for key, value in nova.items():
        out[key] = _int_if_whole(round(value * 100.0 / total, 6))
    return out
