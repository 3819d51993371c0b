"""``ForgeTrainer`` at the official module path ``amzn_nova_forge.trainer.forge_trainer``."""

from __future__ import annotations

from amzn_nova_forge.trainer._trainer import ForgeTrainer

__all__ = ["ForgeTrainer"]
