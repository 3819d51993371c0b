"""``ForgeEvaluator`` / ``EvalTaskConfig`` at the official module path ``amzn_nova_forge.evaluator.forge_evaluator``."""

from __future__ import annotations

from amzn_nova_forge.evaluator._evaluator import EvalTaskConfig, ForgeEvaluator

__all__ = ["EvalTaskConfig", "ForgeEvaluator"]
