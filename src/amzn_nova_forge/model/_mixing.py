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
from typing import TYPE_CHECKING, Any

from amzn_nova_forge.errors import ConfigError

if TYPE_CHECKING:
    from amzn_nova_forge.model._customizer import NovaModelCustomizer

__all__ = ["DEFAULT_CONFIG", "get_config", "set_config", "train_config"]

logger = logging.getLogger(__name__)

DEFAULT_CONFIG: dict[str, float] = {
    "customer_data_percent": 50,
    "nova_code_percent": 30,
    "nova_general_percent": 70,
}


def _require_enabled(customizer: NovaModelCustomizer) -> None:
    if not customizer.data_mixing_enabled:
        raise ConfigError(
            "Data mixing is not enabled. Create the customizer with data_mixing_enabled=True "
            "(CPT, SFT_LORA or SFT_FULL on SMHPRuntimeManager)."
        )


def get_config(customizer: NovaModelCustomizer) -> dict[str, Any]:
    """The current data mixing configuration (a copy).

    Raises:
        ValueError: Data mixing is not enabled.
    """
    _require_enabled(customizer)
    current = customizer._data_mixing_config
    return dict(current if current is not None else DEFAULT_CONFIG)


def set_config(customizer: NovaModelCustomizer, config: dict[str, Any]) -> None:
    """Validate and set the data mixing configuration.

    Raises:
        ValueError: Data mixing is not enabled, or the configuration is invalid.
    """
    _require_enabled(customizer)
    if not isinstance(config, dict):
        raise ConfigError(f"Data mixing config must be a dict, got {type(config).__name__}.")
    given = dict(config)
    if "dataset_catalog" in given:
        logger.warning("dataset_catalog is system-managed and cannot be set; ignoring it.")
        given.pop("dataset_catalog")
    given = {k: v for k, v in given.items() if v is not None}
    merged: dict[str, Any] = {k: 0 for k in DEFAULT_CONFIG}
    merged.update(given)
    from amzn_nova_forge.recipe import validate_data_mixing

    validated = validate_data_mixing(merged, customizer.platform, customizer.method)
    customizer._data_mixing_config = {k: _int_if_whole(v) for k, v in validated.items()}


def _int_if_whole(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def train_config(customizer: NovaModelCustomizer) -> dict[str, Any] | None:
    """The config to write into the training recipe (None when data mixing is off)."""
    if not customizer.data_mixing_enabled:
        return None
    return get_config(customizer)
