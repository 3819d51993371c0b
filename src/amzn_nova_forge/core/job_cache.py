"""Job-cache settings at the official module path ``amzn_nova_forge.core.job_cache``.

The cache itself (matching, lookup, store) is ``amzn_nova_forge.model._cache``.

Example:
    >>> from amzn_nova_forge.core.job_cache import DEFAULT_JOB_CACHE_DIR, JobCachingConfig
    >>> DEFAULT_JOB_CACHE_DIR
    '~/.nova-forge/cache'
"""

from __future__ import annotations

from amzn_nova_forge.core.config import DEFAULT_JOB_CACHE_DIR, JobCachingConfig

__all__ = ["DEFAULT_JOB_CACHE_DIR", "JobCachingConfig"]
