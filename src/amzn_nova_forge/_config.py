"""Every ``NOVA_FORGE_*`` environment variable and SDK-wide default, read in one place."""

from __future__ import annotations

import os

__all__ = [
    "DEFAULT_REGION",
    "SUPPORTED_REGIONS",
    "default_region",
    "job_cache_dir",
    "progress_disabled",
]

#: Regions where Nova customization (SageMaker recipes, escrow buckets) is offered.
SUPPORTED_REGIONS: tuple[str, ...] = ("us-east-1", "us-west-2", "eu-west-2")
DEFAULT_REGION = "us-east-1"


def default_region() -> str:
    """The region the SDK uses when none is given: ``AWS_REGION``, ``AWS_DEFAULT_REGION``, then us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def job_cache_dir() -> str:
    """Directory of cached job results (``NOVA_FORGE_JOB_CACHE_DIR``, default ``.cached-nova-jobs``)."""
    return os.path.expanduser(os.environ.get("NOVA_FORGE_JOB_CACHE_DIR", ".cached-nova-jobs"))


def progress_disabled() -> bool:
    """True when ``NOVA_FORGE_DISABLE_PROGRESS_BARS`` is set to a truthy value."""
    return os.environ.get("NOVA_FORGE_DISABLE_PROGRESS_BARS", "").lower() in ("1", "true", "yes", "on")
