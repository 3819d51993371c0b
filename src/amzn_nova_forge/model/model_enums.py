"""The published enum module path (``amzn_nova_forge.model.model_enums``)."""

from __future__ import annotations

from amzn_nova_forge.core.enums import (
    DeploymentMode,
    DeployPlatform,
    EnvType,
    EvaluationTask,
    JobStatus,
    Model,
    Platform,
    TrainingMethod,
    Version,
    VFEnvId,
)

__all__ = [
    "DeployPlatform",
    "DeploymentMode",
    "EnvType",
    "EvaluationTask",
    "JobStatus",
    "Model",
    "Platform",
    "TrainingMethod",
    "VFEnvId",
    "Version",
]
