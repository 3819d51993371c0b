"""``NovaModelCustomizer`` at the official module path ``amzn_nova_forge.model.nova_model_customizer``."""

from __future__ import annotations

from amzn_nova_forge.model._customizer import NovaModelCustomizer

__all__ = ["NovaModelCustomizer"]
