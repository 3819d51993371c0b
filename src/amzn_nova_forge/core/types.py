"""The shared settings at the official module path ``amzn_nova_forge.core.types``.

Example:
    >>> from amzn_nova_forge.core.types import ForgeConfig, ValidationConfig
    >>> ForgeConfig(validation_config=ValidationConfig(iam=False)).validation.iam
    False
"""

from __future__ import annotations

from amzn_nova_forge.core.config import ForgeConfig, JobCachingConfig, ValidationConfig

__all__ = ["ForgeConfig", "JobCachingConfig", "ValidationConfig"]
